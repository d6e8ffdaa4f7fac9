// One NETLINK_ROUTE socket, optionally bound to another network namespace. Thin I/O shell over
// libc: send a buffer of requests, drain replies without blocking the event loop.
//
// rtnetlink processes a request buffer synchronously inside send(): when send returns, every
// message in it has been handled and its acks/errors are queued on our socket. Receives use
// MSG_DONTWAIT; when nothing is queued yet (dumps, multicast) we wait with poll() run on a
// koffi worker thread, so the event loop never blocks on the kernel.
import { closeSync, openSync } from 'node:fs';
import * as C from './constants.ts';
import { NetlinkError, NlWriter, decodeError, splitMessages } from './codec.ts';
import type { NlMessage } from './codec.ts';
import { check, libc } from './libc.ts';

export interface NetlinkSocketOptions {
  /** Network namespace: a name under /run/netns, or a path (/run/netns/x, /proc/<pid>/ns/net). */
  netns?: string;
  /** Multicast groups (RTNLGRP_*) to join. */
  groups?: readonly number[];
  /** Socket buffer sizes in bytes (SO_*BUFFORCE when permitted). Default 4 MiB send, 8 MiB receive. */
  sndbuf?: number;
  rcvbuf?: number;
}

/** Resolves a netns name or path to a path. */
export function netnsPath(netns: string): string {
  if (netns.startsWith('/')) return netns;
  if (!/^[A-Za-z0-9_.-]+$/.test(netns) || netns === '.' || netns === '..') {
    throw new NetlinkError('netns-failed', `netns "${netns}": expected a name under /run/netns or an absolute path`);
  }
  return `/run/netns/${netns}`;
}

/**
 * Runs fn with the calling OS thread (Node's main thread) switched into netns, then switches
 * back. fn must be synchronous: nothing else runs on this thread meanwhile. Sockets created in
 * fn stay in the target namespace.
 */
export function withNetns<T>(netns: string | undefined, fn: () => T): T {
  if (netns === undefined) return fn();
  const path = netnsPath(netns);
  const lc = libc();
  let target: number;
  try {
    target = openSync(path, 'r');
  } catch (e) {
    throw new NetlinkError('netns-failed', `cannot open netns ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  let self: number;
  try {
    self = openSync('/proc/thread-self/ns/net', 'r');
  } catch (e) {
    closeSync(target);
    throw new NetlinkError('netns-failed', `cannot open /proc/thread-self/ns/net: ${(e as Error).message}`);
  }
  try {
    if (lc.setns(target, C.CLONE_NEWNET) < 0) {
      const err = lc.errno();
      throw new NetlinkError('netns-failed', `setns into ${path} failed: ${C.errnoName(err)}`, err);
    }
    try {
      return fn();
    } finally {
      if (lc.setns(self, C.CLONE_NEWNET) < 0) {
        // The main thread would be left in the wrong namespace: nothing sane can continue.
        process.stderr.write(`netlink: FATAL: cannot return from netns ${path}: ${C.errnoName(lc.errno())}\n`);
        process.abort();
      }
    }
  } finally {
    closeSync(target);
    closeSync(self);
  }
}

const RECV_BUF = 1 << 20;

export class NetlinkSocket {
  readonly fd: number;
  readonly netns: string | undefined;
  /** Our port id (nl_pid) as assigned by the kernel. */
  readonly portId: number;
  private seq: number;
  private closed = false;
  private readonly rbuf = Buffer.allocUnsafe(RECV_BUF);
  private lock: Promise<void> = Promise.resolve();

  private constructor(fd: number, netns: string | undefined, portId: number) {
    this.fd = fd;
    this.netns = netns;
    this.portId = portId;
    this.seq = (Date.now() & 0x3fffffff) >>> 0;
  }

  static open(opts: NetlinkSocketOptions = {}): NetlinkSocket {
    const lc = libc();
    const fd = withNetns(opts.netns, () => check(lc.socket(C.AF_NETLINK, C.SOCK_RAW | C.SOCK_CLOEXEC, C.NETLINK_ROUTE), 'socket(AF_NETLINK)'));
    try {
      const int = (v: number) => { const b = Buffer.alloc(4); b.writeInt32LE(v, 0); return b; };
      const setBuf = (force: number, plain: number, size: number, what: string) => {
        if (lc.setsockopt(fd, C.SOL_SOCKET, force, int(size), 4) < 0) check(lc.setsockopt(fd, C.SOL_SOCKET, plain, int(size), 4), what);
      };
      setBuf(C.SO_SNDBUFFORCE, C.SO_SNDBUF, opts.sndbuf ?? 4 << 20, 'setsockopt(SO_SNDBUF)');
      setBuf(C.SO_RCVBUFFORCE, C.SO_RCVBUF, opts.rcvbuf ?? 8 << 20, 'setsockopt(SO_RCVBUF)');
      // Best effort: older kernels lack these; errors then come without text / with the request echoed.
      lc.setsockopt(fd, C.SOL_NETLINK, C.NETLINK_EXT_ACK, int(1), 4);
      lc.setsockopt(fd, C.SOL_NETLINK, C.NETLINK_CAP_ACK, int(1), 4);
      lc.setsockopt(fd, C.SOL_NETLINK, C.NETLINK_GET_STRICT_CHK, int(1), 4);
      const sa = Buffer.alloc(12);
      sa.writeUInt16LE(C.AF_NETLINK, 0);
      check(lc.bind(fd, sa, 12), 'bind(AF_NETLINK)');
      for (const g of opts.groups ?? []) check(lc.setsockopt(fd, C.SOL_NETLINK, C.NETLINK_ADD_MEMBERSHIP, int(g), 4), `join netlink group ${g}`);
      const len = Buffer.alloc(4); len.writeUInt32LE(12, 0);
      check(lc.getsockname(fd, sa, len), 'getsockname(AF_NETLINK)');
      return new NetlinkSocket(fd, opts.netns, sa.readUInt32LE(4));
    } catch (e) {
      lc.close(fd);
      throw e;
    }
  }

  nextSeq(): number {
    this.seq = (this.seq + 1) >>> 0;
    if (this.seq === 0) this.seq = 1;
    return this.seq;
  }
  /** Reserves n consecutive sequence numbers; returns the first. */
  reserveSeq(n: number): number {
    if (this.seq + n >= 0xffffffff) this.seq = 0;
    const first = this.seq + 1;
    this.seq += n;
    return first;
  }

  /** Serializes async operations on this socket (one conversation at a time). */
  exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.lock.then(fn);
    this.lock = run.then(() => undefined, () => undefined);
    return run;
  }

  private ensureOpen(): void {
    if (this.closed) throw new NetlinkError('closed', 'netlink socket is closed');
  }

  /** Sends len bytes of buf (one or more complete messages). */
  sendRaw(buf: Buffer, len: number): void {
    this.ensureOpen();
    const lc = libc();
    for (;;) {
      const n = lc.send(this.fd, buf, len, 0);
      if (n >= 0) {
        if (n !== len) throw new NetlinkError('syscall-failed', `netlink send: short write ${n} of ${len} bytes`);
        return;
      }
      const e = lc.errno();
      if (e === 4 /* EINTR */) continue;
      throw new NetlinkError('syscall-failed', `netlink send of ${len} bytes failed: ${C.errnoName(e)}`, e);
    }
  }

  /**
   * Receives one datagram without blocking and returns its messages, or null when nothing is
   * queued. ENOBUFS (replies were dropped because our receive buffer overflowed) throws.
   */
  recvNow(): NlMessage[] | null {
    this.ensureOpen();
    const lc = libc();
    for (;;) {
      const n = lc.recv(this.fd, this.rbuf, RECV_BUF, C.MSG_DONTWAIT);
      if (n >= 0) {
        // Copy out: the receive buffer is reused by the next call.
        return splitMessages(Buffer.from(this.rbuf.subarray(0, n)), n);
      }
      const e = lc.errno();
      if (e === 11 /* EAGAIN */) return null;
      if (e === 4) continue;
      throw new NetlinkError('syscall-failed', `netlink recv failed: ${C.errnoName(e)}`, e);
    }
  }

  /** Waits (off the event loop) until the socket is readable or timeoutMs passes. */
  async waitReadable(timeoutMs: number): Promise<boolean> {
    this.ensureOpen();
    const r = await libc().pollInAsync(this.fd, timeoutMs);
    return r > 0;
  }

  /** Receives the next datagram, waiting up to timeoutMs. */
  async recv(timeoutMs = 10_000): Promise<NlMessage[]> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const m = this.recvNow();
      if (m) return m;
      const left = deadline - Date.now();
      if (left <= 0) throw new NetlinkError('timeout', `no netlink reply within ${timeoutMs} ms`);
      await this.waitReadable(Math.min(left, 1000));
    }
  }

  /**
   * Sends one request built by build(w, seq) with NLM_F_ACK set by the encoder, and waits for
   * its ack. A kernel error rejects with NetlinkError('kernel-error', ..., errno).
   */
  request(what: string, build: (w: NlWriter, seq: number) => void, timeoutMs = 10_000): Promise<void> {
    return this.exclusive(async () => {
      const w = new NlWriter(1024);
      const seq = this.nextSeq();
      build(w, seq);
      this.sendRaw(w.buf, w.pos);
      for (;;) {
        for (const m of await this.recv(timeoutMs)) {
          if (m.seq !== seq || m.type !== C.NLMSG_ERROR) continue;
          const info = decodeError(m);
          if (info.errno === 0) return;
          throw new NetlinkError('kernel-error', `${what}: ${C.errnoName(info.errno)}${info.extMessage ? ` (${info.extMessage})` : ''}`, info.errno);
        }
      }
    });
  }

  /** Sends a dump request and collects decode(m) of every reply message until NLMSG_DONE. */
  dump<T>(what: string, build: (w: NlWriter, seq: number) => void, decode: (m: NlMessage) => T | null, timeoutMs = 30_000): Promise<T[]> {
    return this.exclusive(async () => {
      const w = new NlWriter(256);
      const seq = this.nextSeq();
      build(w, seq);
      this.sendRaw(w.buf, w.pos);
      const out: T[] = [];
      for (;;) {
        for (const m of await this.recv(timeoutMs)) {
          if (m.seq !== seq) continue;
          if (m.type === C.NLMSG_DONE) {
            if (m.flags & C.NLM_F_DUMP_INTR) throw new NetlinkError('kernel-error', `${what}: dump interrupted by concurrent changes; retry`, 4);
            return out;
          }
          if (m.type === C.NLMSG_ERROR) {
            const info = decodeError(m);
            if (info.errno === 0) continue;
            throw new NetlinkError('kernel-error', `${what}: ${C.errnoName(info.errno)}${info.extMessage ? ` (${info.extMessage})` : ''}`, info.errno);
          }
          const v = decode(m);
          if (v !== null) out.push(v);
        }
      }
    });
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    libc().close(this.fd);
  }
}
