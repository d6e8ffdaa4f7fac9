import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MemoryKv } from './memory-kv.ts';
import { Syncer, type SyncStatus, type SyncUpdate } from './syncer.ts';

/** A consumer that rebuilds the store from updates and checks the syncer's contract. */
class Consumer {
  readonly state = new Map<string, { value: string; rev: number }>();
  readonly statuses: SyncStatus[] = [];
  readonly updates: SyncUpdate[] = [];
  readonly problems: string[] = [];
  onUpdates = (us: readonly SyncUpdate[]): void => {
    for (const u of us) {
      this.updates.push(u);
      const have = this.state.get(u.key);
      if (u.type === 'set') {
        if (have && have.rev >= u.revision) this.problems.push(`duplicate/out-of-order set ${u.key}@${u.revision} (have ${have.rev})`);
        this.state.set(u.key, { value: u.value, rev: u.revision });
      } else {
        if (!have) this.problems.push(`delete of unknown key ${u.key}`);
        this.state.delete(u.key);
      }
    }
  };
  onStatus = (s: SyncStatus): void => {
    this.statuses.push(s);
  };
}

async function until(what: string, cond: () => boolean | Promise<boolean>, ms = 3000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

async function storeState(kv: MemoryKv, prefix: string): Promise<Map<string, { value: string; rev: number }>> {
  const r = await kv.range(prefix);
  return new Map(r.kvs.map((k) => [k.key, { value: k.value, rev: k.modRevision }]));
}

void test('lists, reports in-sync, then streams watch updates in order', async () => {
  const kv = new MemoryKv();
  await kv.put('/calico/a', '1');
  await kv.put('/calico/b', '2');
  await kv.put('/other/x', 'ignored');
  const c = new Consumer();
  const s = new Syncer({ kv }, c, { prefixes: ['/calico/'] });
  s.start();
  try {
    await until('in-sync', () => c.statuses.includes('in-sync'));
    assert.deepEqual(c.statuses, ['wait-for-datastore', 'in-sync']);
    assert.deepEqual([...c.state.keys()].sort(), ['/calico/a', '/calico/b']);
    await kv.put('/calico/a', '1b');
    await kv.delete('/calico/b');
    await kv.put('/calico/c', '3');
    await until('watch updates', () => c.state.size === 2 && c.state.has('/calico/c'));
    assert.deepEqual(c.updates.slice(2).map((u) => [u.type, u.key]), [['set', '/calico/a'], ['delete', '/calico/b'], ['set', '/calico/c']]);
    assert.deepEqual(c.problems, []);
  } finally {
    await s.stop();
  }
});

void test('lost connection: reconnects with backoff and resumes without loss or duplicates', async () => {
  const kv = new MemoryKv();
  for (let i = 0; i < 5; i++) await kv.put(`/calico/k${i}`, `v${i}`);
  const c = new Consumer();
  const s = new Syncer({ kv }, c, { prefixes: ['/calico/'], initialBackoffMs: 10, maxBackoffMs: 40 });
  s.start();
  try {
    await until('in-sync', () => c.statuses.includes('in-sync'));
    kv.setUnavailable(true);
    await new Promise((r) => setTimeout(r, 50));
    kv.setUnavailable(false);
    // Writes while the syncer is still backing off, then more after it is back.
    await kv.put('/calico/k1', 'changed');
    await kv.delete('/calico/k2');
    await until('resumed', async () => s.stats.watchRestarts >= 2);
    await kv.put('/calico/k9', 'new');
    await until('converged', async () => {
      const want = await storeState(kv, '/calico/');
      return JSON.stringify([...want].sort()) === JSON.stringify([...c.state].sort());
    });
    assert.equal(s.stats.lists, 1, 'no relist needed: the watch resumed from the last delivered revision');
    assert.deepEqual(c.problems, []);
    assert.equal(c.updates.filter((u) => u.key === '/calico/k1' && u.type === 'set').length, 2);
  } finally {
    await s.stop();
  }
});

void test('compaction while disconnected: relists and emits only the difference', async () => {
  const kv = new MemoryKv();
  for (let i = 0; i < 5; i++) await kv.put(`/calico/k${i}`, `v${i}`);
  const c = new Consumer();
  const s = new Syncer({ kv }, c, { prefixes: ['/calico/'], initialBackoffMs: 30, maxBackoffMs: 30 });
  s.start();
  try {
    await until('in-sync', () => c.statuses.includes('in-sync'));
    const before = c.updates.length;
    kv.setUnavailable(true);
    await new Promise((r) => setTimeout(r, 5));
    kv.setUnavailable(false);
    await kv.delete('/calico/k0');
    await kv.put('/calico/k1', 'changed');
    await kv.put('/calico/k5', 'new');
    await kv.compact(await kv.currentRevision());
    await until('relisted', () => s.stats.lists === 2);
    await until('in-sync again', () => c.statuses.at(-1) === 'in-sync');
    const diff = c.updates.slice(before).map((u) => `${u.type} ${u.key}`).sort();
    assert.deepEqual(diff, ['delete /calico/k0', 'set /calico/k1', 'set /calico/k5']);
    assert.deepEqual(c.statuses, ['wait-for-datastore', 'in-sync', 'resync', 'in-sync']);
    assert.deepEqual(c.problems, []);
    await kv.put('/calico/k6', 'after');
    await until('watching again', () => c.state.has('/calico/k6'));
  } finally {
    await s.stop();
  }
});

void test('waits for the datastore at start and pages through large lists', async () => {
  const kv = new MemoryKv();
  for (let i = 0; i < 25; i++) await kv.put(`/calico/${String(i).padStart(2, '0')}`, String(i));
  kv.setUnavailable(true);
  const c = new Consumer();
  const s = new Syncer({ kv }, c, { prefixes: ['/calico/'], initialBackoffMs: 5, maxBackoffMs: 10, pageSize: 7 });
  s.start();
  try {
    await new Promise((r) => setTimeout(r, 40));
    assert.deepEqual(c.statuses, ['wait-for-datastore']);
    kv.setUnavailable(false);
    await until('in-sync', () => c.statuses.includes('in-sync'));
    assert.equal(c.state.size, 25);
    assert.ok((kv.calls.get('range') ?? 0) >= 4, 'listed in pages');
  } finally {
    await s.stop();
  }
});

void test('a consumer that throws is reported through onError and the stream goes on', async () => {
  const kv = new MemoryKv();
  await kv.put('/calico/a', '1');
  const errors: Error[] = [];
  const seen: string[] = [];
  let first = true;
  const s = new Syncer(
    { kv },
    {
      onUpdates: (us) => {
        seen.push(...us.map((u) => u.key));
        if (first) {
          first = false;
          throw new Error('consumer bug');
        }
      },
      onStatus: () => {},
    },
    { prefixes: ['/calico/'], onError: (e) => errors.push(e) },
  );
  s.start();
  try {
    await until('first batch', () => seen.length === 1);
    await kv.put('/calico/b', '2');
    await until('second batch', () => seen.length === 2);
    assert.deepEqual(seen, ['/calico/a', '/calico/b']);
    assert.deepEqual(errors.map((e) => e.message), ['consumer bug']);
    assert.equal(s.stats.lists, 1);
  } finally {
    await s.stop();
  }
});
