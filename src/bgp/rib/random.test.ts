// Randomized check: the incrementally maintained Loc-RIB, kernel view and Adj-RIB-Out agree,
// after every operation, with a from-scratch reference written independently from the model of
// what each peer announced.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { AsPathSegment } from '../packet/index.ts';
import type { RouteAttrs } from './attrs.ts';
import type { Family } from './prefix.ts';
import type { KernelRoute } from './rib.ts';
import { LOCAL_AS, ROUTER_ID, fold, mkRib, prng, session } from './testing.ts';

interface PeerDef {
  readonly id: string;
  readonly n: number;
  readonly as: number;
  readonly client?: boolean;
}

const PEERS: PeerDef[] = [
  { id: 'E1', n: 11, as: 65001 },
  { id: 'E2', n: 12, as: 65002 },
  { id: 'E3', n: 13, as: 65001 },
  { id: 'I1', n: 21, as: LOCAL_AS },
  { id: 'I2', n: 22, as: LOCAL_AS },
  { id: 'C1', n: 23, as: LOCAL_AS, client: true },
];
const OBS_E = { id: 'OE', n: 50, as: 65100 };
const OBS_C = { id: 'OC', n: 51, as: LOCAL_AS, client: true };
const PREFIXES = Array.from({ length: 16 }, (_, i) => (i < 12 ? `10.${i}.0.0/16` : `fd00:198:18:${i}::/64`));

interface ModelPath {
  readonly peer: PeerDef | 'local';
  readonly attrs: RouteAttrs;
  stale?: boolean;
}

const GRCAP = { restartTime: 90, families: [{ family: 'ipv4' as const, forwardingState: true }, { family: 'ipv6' as const, forwardingState: true }] };

function pathLen(p: readonly AsPathSegment[] | undefined): number {
  let n = 0;
  for (const s of p ?? []) n += s.type === 2 ? s.asns.length : s.type === 1 ? 1 : 0;
  return n;
}

function ipNum(s: string): number {
  return s.split('.').reduce((a, x) => a * 256 + Number(x), 0);
}

/** Reference selection; returns the winner and the equal-cost group. */
function reference(paths: ModelPath[]): { best: ModelPath | undefined; group: ModelPath[] } {
  if (paths.length === 0) return { best: undefined, group: [] };
  const local = paths.filter((p) => p.peer === 'local');
  if (local.length) return { best: local[0], group: [local[0]!] };
  const info = paths.map((p) => {
    const peer = p.peer as PeerDef;
    const a = p.attrs;
    const first = (a.asPath ?? []).find((s) => s.type === 1 || s.type === 2);
    return {
      p,
      lp: a.localPref ?? 100,
      len: pathLen(a.asPath),
      origin: a.origin ?? 2,
      med: a.med ?? 0,
      nas: first && first.asns.length ? first.asns[0]! : -1,
      ebgp: peer.as !== LOCAL_AS,
      cl: a.clusterList?.length ?? 0,
      rid: a.originatorId !== undefined ? ipNum(a.originatorId) : ipNum(`10.0.0.${peer.n}`),
      addr: peer.n,
    };
  });
  type I = (typeof info)[number];
  let s: I[] = info;
  const keep = (f: (x: I) => number, max: boolean) => {
    const v = max ? Math.max(...s.map(f)) : Math.min(...s.map(f));
    s = s.filter((x) => f(x) === v);
  };
  keep((x) => x.lp, true);
  keep((x) => x.len, false);
  keep((x) => x.origin, false);
  s = s.filter((x) => !s.some((y) => y.nas === x.nas && y.med < x.med));
  if (s.some((x) => x.ebgp)) s = s.filter((x) => x.ebgp);
  const group = s.map((x) => x.p);
  keep((x) => x.cl, false);
  keep((x) => x.rid, false);
  keep((x) => x.addr, false);
  return { best: s[0]!.p, group };
}

function randomAttrs(rnd: () => number, peer: PeerDef, family: Family): RouteAttrs {
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)]!;
  const ebgp = peer.as !== LOCAL_AS;
  const asns: number[] = ebgp ? [peer.as] : [];
  const extra = Math.floor(rnd() * 3);
  for (let i = 0; i < extra; i++) asns.push(pick([65001, 65002, 65003, 65004]));
  const asPath: AsPathSegment[] = asns.length ? [{ type: 2, asns }] : [];
  if (rnd() < 0.15) asPath.push({ type: 1, asns: [65005, 65006] });
  if (rnd() < 0.08) asPath.push({ type: 2, asns: [LOCAL_AS] }); // loop: must be rejected
  const a: { -readonly [K in keyof RouteAttrs]: RouteAttrs[K] } = {
    origin: pick([0, 0, 1, 2] as const),
    asPath,
    nextHop: family === 'ipv4' ? `198.18.0.${peer.n}` : `fd00:198:18::${peer.n}`,
  };
  if (rnd() < 0.5) a.med = pick([0, 1, 2]);
  if (!ebgp && rnd() < 0.6) a.localPref = pick([90, 100, 110]);
  if (rnd() < 0.2) a.originatorId = `10.0.0.${pick([1, 2, 3, 30, 40])}`;
  if (rnd() < 0.2) a.clusterList = pick([['9.9.9.9'], ['9.9.9.9', '8.8.8.8']]);
  return a;
}

/** What the RIB should keep in Adj-RIB-In for an announcement, or null (rejected). */
function imported(peer: PeerDef, a: RouteAttrs): RouteAttrs | null {
  if ((a.asPath ?? []).some((s) => s.asns.includes(LOCAL_AS))) return null;
  if (peer.as !== LOCAL_AS) {
    const { localPref: _l, originatorId: _o, clusterList: _c, ...rest } = a;
    return rest;
  }
  if (a.originatorId === ROUTER_ID) return null;
  if (a.clusterList?.includes(ROUTER_ID)) return null;
  return a;
}

/** `compact`: no observers and peers that are sent nothing, so most prefixes stay in the RIB's compact row form. */
function runRandom(gr: boolean, seeds: number, compact = false): number {
  let checks = 0;
  for (let seed = 1; seed <= seeds; seed++) {
    const rnd = prng(seed);
    const rib = mkRib({ multipath: true });
    const model = new Map<string, Map<string, ModelPath>>(); // prefix -> source id -> path
    const up = new Set<string>();
    for (const p of compact ? PEERS : [...PEERS, OBS_E, OBS_C]) {
      rib.addPeer({ id: p.id, address: `198.18.0.${p.n}`, peerAs: p.as, rrClient: 'client' in p && p.client === true, ...(compact ? { exportDefault: 'reject' as const } : {}) });
      rib.peerEstablished(p.id, session(p.n, ['ipv4', 'ipv6'], gr ? GRCAP : undefined), 0);
      up.add(p.id);
    }
    const deadline = new Map<string, number>();
    const stalePaths = (id: string) => [...model.values()].flatMap((m) => [...m.values()]).filter((x) => x.stale && x.peer !== 'local' && x.peer.id === id);
    const dropStale = (id: string, family?: Family) => {
      for (const [prefix, m] of model) {
        const x = m.get(id);
        if (x?.stale && (family === undefined || prefix.includes(':') === (family === 'ipv6'))) m.delete(id);
      }
    };
    const kernel = new Map<string, KernelRoute>();
    const seenE = new Map<string, RouteAttrs | 'withdrawn'>();
    const seenC = new Map<string, RouteAttrs | 'withdrawn'>();
    const set = (prefix: string, id: string, mp: ModelPath | null) => {
      let m = model.get(prefix);
      if (!m) model.set(prefix, (m = new Map()));
      if (mp) m.set(id, mp);
      else m.delete(id);
    };
    for (let step = 0; step < 400; step++) {
      const t = step * 5000;
      const r = rnd();
      const peer = PEERS[Math.floor(rnd() * PEERS.length)]!;
      const subset = PREFIXES.filter(() => rnd() < 0.3);
      if (r < 0.5 && up.has(peer.id)) {
        for (const family of ['ipv4', 'ipv6'] as const) {
          const ps = subset.filter((p) => p.includes(':') === (family === 'ipv6'));
          if (!ps.length) continue;
          const a = randomAttrs(rnd, peer, family);
          rib.update(peer.id, { announced: ps.map((key) => ({ key })), attrs: a });
          const imp = imported(peer, a);
          for (const p of ps) set(p, peer.id, imp ? { peer, attrs: imp } : null);
        }
      } else if (r < 0.75 && up.has(peer.id)) {
        rib.update(peer.id, { withdrawn: subset.map((key) => ({ key })) });
        for (const p of subset) set(p, peer.id, null);
      } else if (r < 0.85) {
        const p = subset[0];
        if (p) {
          if (rnd() < 0.6) {
            const blackhole = rnd() < 0.5;
            rib.originate(p, { blackhole, attrs: { med: 1 } });
            set(p, 'local', { peer: 'local', attrs: { origin: 0, asPath: [], med: 1, localPref: 2147483647 - 1024, ...(blackhole ? { blackhole: 1 } : {}) } as RouteAttrs });
          } else {
            rib.withdrawOriginated(p);
            set(p, 'local', null);
          }
        }
      } else if (r < 0.92) {
        if (up.has(peer.id)) {
          const graceful = gr && rnd() < 0.7;
          rib.peerDown(peer.id, t, { graceful });
          up.delete(peer.id);
          if (graceful) {
            for (const m of model.values()) {
              const x = m.get(peer.id);
              if (x) x.stale = true;
            }
            if (stalePaths(peer.id).length) deadline.set(peer.id, t + 90_000);
          } else {
            for (const p of PREFIXES) set(p, peer.id, null);
            deadline.delete(peer.id);
          }
        } else {
          rib.peerEstablished(peer.id, session(peer.n, ['ipv4', 'ipv6'], gr ? GRCAP : undefined), t);
          up.add(peer.id);
          if (!gr) dropStale(peer.id);
          if (stalePaths(peer.id).length) deadline.set(peer.id, t + 360_000);
        }
      } else if (r < 0.96 && gr && up.has(peer.id)) {
        const family = rnd() < 0.5 ? 'ipv4' : 'ipv6';
        rib.endOfRib(peer.id, family, t);
        dropStale(peer.id, family);
      }
      rib.tick(t);
      for (const [id, d] of deadline) {
        if (d <= t) {
          dropStale(id);
          deadline.delete(id);
        }
      }
      for (const c of rib.takeKernelChanges()) {
        if (c.kind === 'route') kernel.set(c.prefix, c.route);
        else if (c.kind === 'withdraw') kernel.delete(c.prefix);
      }
      if (!compact) {
        for (const [k, v] of fold(rib.takeUpdates('OE'))) seenE.set(k, v);
        for (const [k, v] of fold(rib.takeUpdates('OC'))) seenC.set(k, v);
      } else for (const p of PEERS) assert.deepEqual(rib.takeUpdates(p.id).filter((u) => u.kind !== 'end-of-rib'), [], `seed ${seed} step ${step}: nothing is exported`);
      if (compact) {
        // Objects only where a prefix has several candidates or a local path.
        let complex = 0;
        for (const m of model.values()) if (m.size > 1 || m.has('local')) complex++;
        assert.ok(rib.objectPrefixCount <= complex, `seed ${seed} step ${step}: ${rib.objectPrefixCount} prefixes in object form, ${complex} need it`);
      }

      for (const prefix of PREFIXES) {
        const paths = [...(model.get(prefix)?.values() ?? [])];
        const { best, group } = reference(paths);
        const got = rib.best(prefix);
        const where = `seed ${seed} step ${step} ${prefix}`;
        checks++;
        if (!best) {
          assert.equal(got, undefined, where);
          assert.equal(kernel.get(prefix), undefined, `${where} kernel`);
          if (compact) continue;
          const e = seenE.get(prefix);
          assert.ok(e === undefined || e === 'withdrawn', `${where} OE`);
          continue;
        }
        assert.equal(got?.from, best.peer === 'local' ? 'local' : best.peer.id, where);
        const { blackhole: bh, ...bestAttrs } = best.attrs as RouteAttrs & { blackhole?: number };
        assert.deepEqual(got?.attrs, bestAttrs, where);
        assert.equal(got?.stale, best.stale === true, `${where} stale`);
        // Kernel: blackhole for local blackholes, nothing for other local routes, else next hops.
        const k = kernel.get(prefix);
        if (best.peer === 'local') {
          if (bh) assert.equal(k?.type, 'blackhole', where);
          else assert.equal(k, undefined, where);
        } else {
          const want = [...new Set([best.attrs.nextHop, ...group.map((g) => g.attrs.nextHop)])];
          assert.deepEqual(k?.nextHops.map((h) => h.address).sort(), want.sort(), `${where} kernel next hops`);
          assert.equal(k?.nextHops[0]?.address, best.attrs.nextHop, `${where} best next hop first`);
        }
        if (compact) {
          const candidates = paths.filter((x) => x.peer === 'local' || up.has(x.peer.id) || x.stale).length;
          assert.equal(got?.candidates, candidates, `${where} candidates`);
          continue;
        }
        // eBGP observer: everything, AS prepended, next hop self, no LOCAL_PREF.
        const e = seenE.get(prefix) as RouteAttrs;
        assert.ok(e && e !== ('withdrawn' as unknown), `${where} OE announced`);
        assert.deepEqual(e.asPath?.flatMap((s) => (s.type === 2 ? s.asns : [-1])).slice(0, 1), [LOCAL_AS], where);
        assert.equal(pathLen(e.asPath), pathLen(best.attrs.asPath) + 1, where);
        assert.equal(e.nextHop, prefix.includes(':') ? 'fd00:198:18::1' : '198.18.0.1', where);
        assert.equal(e.localPref, undefined, where);
        // iBGP client observer: everything (RR), LOCAL_PREF present, RR attributes for iBGP-learned.
        const c = seenC.get(prefix) as RouteAttrs;
        assert.ok(c && c !== ('withdrawn' as unknown), `${where} OC announced`);
        assert.equal(c.localPref, best.attrs.localPref ?? 100, where);
        const src = best.peer;
        if (src === 'local') assert.equal(c.nextHop, prefix.includes(':') ? 'fd00:198:18::1' : '198.18.0.1', where);
        else assert.equal(c.nextHop, best.attrs.nextHop, where);
        if (src !== 'local' && src.as === LOCAL_AS) {
          assert.equal(c.originatorId, best.attrs.originatorId ?? `10.0.0.${src.n}`, where);
          assert.deepEqual(c.clusterList, [ROUTER_ID, ...(best.attrs.clusterList ?? [])], where);
        } else {
          assert.equal(c.clusterList, undefined, where);
        }
      }
    }
  }
  return checks;
}

void test('randomized: Loc-RIB, kernel and Adj-RIB-Out match a from-scratch reference', () => {
  const checks = runRandom(false, 12);
  assert.ok(checks > 50_000, `ran ${checks} checks`);
});

void test('randomized with graceful restart: stale routes, End-of-RIB sweeps and timers match the model', () => {
  const checks = runRandom(true, 12);
  assert.ok(checks > 50_000, `ran ${checks} checks`);
});

void test('randomized, compact rows: nothing exported, so single-candidate prefixes live as rows; same Loc-RIB, kernel and GR results', () => {
  const checks = runRandom(true, 8, true) + runRandom(false, 4, true);
  assert.ok(checks > 50_000, `ran ${checks} checks`);
});
