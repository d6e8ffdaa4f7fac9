// WatchHub/WatchSession with the real store and committer, and a sink that can stall like a
// client that stops reading its stream.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, it } from 'node:test';
import { Committer } from './committer.ts';
import type { Event } from './proto.ts';
import { MvccStore } from './store.ts';
import { WatchHub, WatchSession, type WatchCreateRequest } from './watch-hub.ts';

const dirs: string[] = [];
after(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

interface Msg {
  watch_id: number;
  created?: boolean;
  canceled?: boolean;
  compact_revision?: number;
  events?: Event[];
}

/** A sink that accepts while `open`, and says "pause" (false) for every write while not. */
class StallingSink {
  msgs: Msg[] = [];
  open = true;
  private onDrain: (() => void) | null = null;
  write(msg: object): boolean {
    this.msgs.push(msg as Msg);
    return this.open;
  }
  on(_event: 'drain', fn: () => void): void {
    this.onDrain = fn;
  }
  drain(): void {
    this.open = true;
    this.onDrain!();
  }
  revisions(): number[] {
    return this.msgs.flatMap((m) => (m.events ?? []).map((e) => e.kv.mod_revision));
  }
}

function setup() {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'ct-watch-'));
  dirs.push(dir);
  const store = new MvccStore({ file: path.join(dir, 'db') });
  let hub: WatchHub | null = null;
  const com = new Committer(store, { onCommitted: (evs, rev) => hub!.dispatch(evs, rev), onCommitFailed: () => {}, onFatal: (e) => { throw e; } });
  hub = new WatchHub({ store, header: (revision) => ({ revision }), whenIdle: (fn) => com.read(fn) }, 0);
  const idle = () => new Promise<void>((r) => com.read(r));
  /** n puts, each its own revision (batches of up to 50 writes). */
  const puts = async (n: number, prefix = '/w/') => {
    for (let i = 0; i < n; i++) {
      com.write((ctx) => store.put(ctx, { key: Buffer.from(`${prefix}${i % 200}`), value: Buffer.from(`v${i}`), lease: '0', prev_kv: false, ignore_value: false, ignore_lease: false }), (err) => assert.equal(err, null));
      if (i % 50 === 49) await idle();
    }
    await idle();
  };
  const watch = (session: WatchSession, start = 0) => {
    const c: WatchCreateRequest = { key: Buffer.from('/w/'), range_end: Buffer.from('/w0'), start_revision: start, progress_notify: false, filters: [], prev_kv: false, watch_id: 0, fragment: false };
    session.handle({ create_request: c });
    return idle();
  };
  const turn = () => new Promise((r) => setImmediate(r));
  return { store, com, hub, puts, watch, idle, turn };
}

const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);

void it('a stalled stream is sent nothing more; once drained it catches up from history, then goes live, with no gap or duplicate', async () => {
  const { store, hub, puts, watch, idle, turn } = setup();
  const sink = new StallingSink();
  const session = new WatchSession(hub, sink);
  await watch(session);
  const first = store.rev + 1;
  await puts(5);
  assert.deepEqual(sink.revisions(), range(first, first + 4));
  sink.open = false;
  await puts(1); // its response is queued, and the sink asks to pause
  const before = sink.msgs.length;
  await puts(2500);
  assert.equal(sink.msgs.length, before, 'nothing sent while the sink is stalled');
  sink.drain();
  await turn();
  await idle();
  // catch-up in responses of at most 1000 revisions
  const catchUp = sink.msgs.slice(before);
  assert.equal(catchUp.length, 3);
  assert.ok(catchUp.every((m) => m.events!.length <= 1000));
  await puts(3); // live again
  assert.deepEqual(sink.revisions(), range(first, store.rev));
});

void it('a stream that stalls again during catch-up stops after a whole response and goes on at the next drain', async () => {
  const { store, hub, puts, watch, idle, turn } = setup();
  const sink = new StallingSink();
  const session = new WatchSession(hub, sink);
  await watch(session);
  const first = store.rev + 1;
  sink.open = false;
  await puts(2600);
  assert.equal(sink.revisions().length, 1, 'one response went out, then the batch waits');
  // drain, but stall again at the first catch-up response
  sink.drain();
  sink.open = false;
  await turn();
  await idle();
  assert.equal(sink.revisions().length, 1 + 1000);
  sink.drain();
  await turn();
  await idle();
  assert.deepEqual(sink.revisions(), range(first, store.rev));
});

void it('a watcher left behind past a compaction is cancelled with the compact revision, as etcd does', async () => {
  const { store, com, hub, puts, watch, idle, turn } = setup();
  const sink = new StallingSink();
  const session = new WatchSession(hub, sink);
  await watch(session);
  sink.open = false;
  await puts(20);
  com.write(() => store.compact(store.rev - 2), (err) => assert.equal(err, null));
  await idle();
  sink.drain();
  await turn();
  await idle();
  const last = sink.msgs[sink.msgs.length - 1]!;
  assert.equal(last.canceled, true);
  assert.equal(last.compact_revision, store.compactRev);
  await puts(2);
  assert.equal(sink.msgs[sink.msgs.length - 1], last, 'nothing after the cancel');
});

void it('a watch created with a start revision on a stalled stream catches up only as far as the sink allows', async () => {
  const { store, hub, puts, watch, idle, turn } = setup();
  const first = store.rev + 1;
  await puts(2500);
  const sink = new StallingSink();
  sink.open = false; // the created response already asks to pause
  const session = new WatchSession(hub, sink);
  await watch(session, first);
  assert.equal(sink.revisions().length, 1000, 'one catch-up response, then it waits');
  sink.drain();
  await turn();
  await idle();
  assert.deepEqual(sink.revisions(), range(first, store.rev));
});
