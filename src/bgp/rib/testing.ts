// Helpers shared by the RIB's unit tests (not part of the public surface).

import type { AsPathSegment } from '../packet/index.ts';
import type { RouteAttrs } from './attrs.ts';
import type { Family } from './prefix.ts';
import { Rib } from './rib.ts';
import type { OutboundUpdate, PeerConfig, RibOptions, RouteKey, SessionInfo } from './rib.ts';

export const LOCAL_AS = 64512;
export const ROUTER_ID = '198.18.0.1';

export const seq = (...asns: number[]): AsPathSegment => ({ type: 2, asns });

export function mkRib(opts: Partial<RibOptions> = {}): Rib {
  return new Rib({ routerId: ROUTER_ID, localAs: LOCAL_AS, ...opts });
}

export interface PeerSpec extends Partial<PeerConfig> {
  readonly id: string;
  /** Last octet of 198.18.0.x used for address, router id and local address. */
  readonly n: number;
  readonly families?: readonly Family[];
  readonly gr?: SessionInfo['gracefulRestart'];
}

/** Add a peer and bring its session up. */
export function addUp(rib: Rib, spec: PeerSpec, now = 0): void {
  const { n, families, gr, ...cfg } = spec;
  rib.addPeer({ address: `198.18.0.${n}`, peerAs: LOCAL_AS, ...cfg });
  rib.peerEstablished(spec.id, session(n, families, gr), now);
}

export function session(n: number, families: readonly Family[] = ['ipv4', 'ipv6'], gr?: SessionInfo['gracefulRestart']): SessionInfo {
  return {
    routerId: `10.0.0.${n}`,
    localAddress: '198.18.0.1',
    nextHopSelf: { ipv4: '198.18.0.1', ipv6: 'fd00:198:18::1' },
    families,
    ...(gr ? { gracefulRestart: gr } : {}),
  };
}

export function keys(...prefixes: string[]): RouteKey[] {
  return prefixes.map((key) => ({ key }));
}

export function attrs(over: Partial<RouteAttrs> = {}): RouteAttrs {
  return { origin: 0, asPath: [], nextHop: '198.18.0.200', ...over };
}

/** What a peer was told, folded: prefix -> full attributes (next hop included), or 'withdrawn'. */
export function fold(updates: readonly OutboundUpdate[]): Map<string, RouteAttrs | 'withdrawn'> {
  const m = new Map<string, RouteAttrs | 'withdrawn'>();
  for (const u of updates) {
    if (u.kind === 'withdraw') for (const p of u.prefixes) m.set(p, 'withdrawn');
    else if (u.kind === 'announce') {
      const full: RouteAttrs = { ...u.attributes, nextHop: u.reach.nextHop, ...(u.reach.linkLocalNextHop ? { linkLocalNextHop: u.reach.linkLocalNextHop } : {}) };
      for (const p of u.prefixes) m.set(p, full);
    }
  }
  return m;
}

/** Drain a peer and fold. */
export function drain(rib: Rib, id: string): Map<string, RouteAttrs | 'withdrawn'> {
  return fold(rib.takeUpdates(id));
}

/** Deterministic PRNG (mulberry32). */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
