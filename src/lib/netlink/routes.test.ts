// NetlinkRoutes.apply logic against an in-memory kernel stand-in (the real kernel is exercised by
// test/e2e/netlink-routes.test.ts): buffer splitting, ack only on each buffer's last message,
// errors mapped back to (op, index) across buffers, refused input, lost replies.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as C from './constants.ts';
import { NetlinkError, NlWriter, splitMessages } from './codec.ts';
import type { NlMessage } from './codec.ts';
import { NetlinkRoutes } from './routes.ts';
import type { NetlinkSocket } from './socket.ts';

/** Processes RTM_NEWROUTE/DELROUTE like rtnetlink: errors always answered, acks on NLM_F_ACK. */
class FakeKernel {
  seq = 100;
  sends: { count: number; ackFlags: boolean[] }[] = [];
  table = new Set<string>();
  queue: NlMessage[][] = [];
  overflow = false;
  private lock: Promise<void> = Promise.resolve();

  nextSeq(): number { return ++this.seq; }
  reserveSeq(n: number): number { const f = this.seq + 1; this.seq += n; return f; }
  exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.lock.then(fn);
    this.lock = run.then(() => undefined, () => undefined);
    return run;
  }
  sendRaw(buf: Buffer, len: number): void {
    const msgs = splitMessages(Buffer.from(buf.subarray(0, len)));
    if (msgs[0]!.type === C.RTM_GETLINK) { // a link dump: this host has no links
      const w = new NlWriter(64);
      w.endMessage(w.beginMessage(C.NLMSG_DONE, C.NLM_F_MULTI, msgs[0]!.seq));
      this.queue.push(splitMessages(w.toBuffer()));
      return;
    }
    this.sends.push({ count: msgs.length, ackFlags: msgs.map((m) => (m.flags & C.NLM_F_ACK) !== 0) });
    const replies = new NlWriter(256);
    for (const m of msgs) {
      const dst = `${m.buf[m.start + 12 + 4]}.${m.buf[m.start + 12 + 5]}.${m.buf[m.start + 12 + 6]}.${m.buf[m.start + 12 + 7]}/${m.buf[m.start + 1]}`;
      let errno = 0;
      if (m.type === C.RTM_NEWROUTE) {
        if (this.table.has(dst) && m.flags & C.NLM_F_EXCL) errno = 17;
        else this.table.add(dst);
      } else if (!this.table.delete(dst)) errno = 3;
      if (errno || m.flags & C.NLM_F_ACK) {
        const at = replies.beginMessage(C.NLMSG_ERROR, C.NLM_F_CAPPED, m.seq);
        replies.i32(-errno);
        replies.u32(m.end - m.start + 16); replies.u16(m.type); replies.u16(m.flags); replies.u32(m.seq); replies.u32(0);
        replies.endMessage(at);
      }
    }
    if (replies.pos) this.queue.push(splitMessages(replies.toBuffer()));
  }
  recvNow(): NlMessage[] | null {
    if (this.overflow) throw new NetlinkError('syscall-failed', 'netlink recv failed: ENOBUFS', 105);
    return this.queue.shift() ?? null;
  }
  recv(): Promise<NlMessage[]> {
    const m = this.queue.shift();
    return m ? Promise.resolve(m) : Promise.reject(new NetlinkError('timeout', 'no netlink reply within 10 ms'));
  }
}

const hosts = (n: number, from = 0) => Array.from({ length: n }, (_, i) => ({ dst: `198.19.${((i + from) >> 8) & 255}.${(i + from) & 255}/32`, gateway: '198.18.0.2' }));
const writer = (k: FakeKernel, bufferBytes = 65536) => new NetlinkRoutes(k as unknown as NetlinkSocket, { bufferBytes, protocol: 80 });

void test('routes are packed many per send; only the last message of each send asks for an ack', async () => {
  const k = new FakeKernel();
  const r = await writer(k, 4096).apply({ add: hosts(1000) });
  assert.deepEqual(r, { ok: 1000, errors: [] });
  assert.equal(k.table.size, 1000);
  assert.ok(k.sends.length > 5 && k.sends.length < 20, `sends: ${k.sends.length}`);
  assert.equal(k.sends.reduce((s, x) => s + x.count, 0), 1000);
  for (const s of k.sends) assert.deepEqual(s.ackFlags.map((f, i) => f === (i === s.count - 1)), s.ackFlags.map(() => true));
});

void test('kernel errors map back to (op, index) across buffers and do not fail the batch', async () => {
  const k = new FakeKernel();
  const w = writer(k, 2048);
  await w.apply({ add: hosts(10, 500) });
  const r = await w.apply({
    del: [...hosts(3, 500), ...hosts(2, 900)], // the last two are absent: ESRCH
    add: hosts(600, 1000).concat(hosts(5, 505)), // 505..509 exist: EEXIST at indexes 600..604
  });
  assert.equal(r.ok, 3 + 600);
  assert.deepEqual(r.errors.map((e) => [e.op, e.index, e.code]), [
    ['del', 3, 'ESRCH'], ['del', 4, 'ESRCH'],
    ['add', 600, 'EEXIST'], ['add', 601, 'EEXIST'], ['add', 602, 'EEXIST'], ['add', 603, 'EEXIST'], ['add', 604, 'EEXIST'],
  ]);
  assert.match(r.errors[2]!.message, /^add route 600 \(198\.19\.1\.249\/32 via 198\.18\.0\.2\): EEXIST$/);
});

void test('input we refuse is reported without being sent; the rest still goes', async () => {
  const k = new FakeKernel();
  const r = await writer(k).apply({ replace: [{ dst: '198.19.0.1/32' }, { dst: 'x' } as never, null as never, { dst: '198.19.0.2/32', dev: 'nope' }, { dst: '198.19.0.3/32' }] });
  assert.equal(r.ok, 2);
  assert.deepEqual(r.errors.map((e) => [e.index, e.code]), [[1, 'invalid-route'], [2, 'invalid-route'], [3, 'invalid-route']]);
  assert.equal(k.sends[0]!.count, 2);
});

void test('lost replies (ENOBUFS) reject the batch with a clear error', async () => {
  const k = new FakeKernel();
  k.overflow = true;
  await assert.rejects(writer(k).apply({ add: hosts(5) }), (e) => e instanceof NetlinkError && /ENOBUFS|overflowed/.test(e.message));
});

void test('an empty batch sends nothing; protocol is validated', async () => {
  const k = new FakeKernel();
  assert.deepEqual(await writer(k).apply({}), { ok: 0, errors: [] });
  assert.equal(k.sends.length, 0);
  assert.throws(() => new NetlinkRoutes(k as unknown as NetlinkSocket, { protocol: 256 }), /protocol 256: expected an integer 0\.\.255/);
});
