// The BGP decision process (RFC 4271 §9.1.2.2 with the RFC 4456 tie-breaks), as elimination
// steps over the candidate paths of one prefix. Elimination (not a pairwise comparator) keeps
// the result independent of candidate order even though MED is only compared within a
// neighbouring AS (a pairwise MED comparison is not transitive).

import type { AttrSet } from './attrs.ts';

/** What the decision process needs to know about where a path came from. */
export interface PathSource {
  /** Locally originated (preferred over anything learned, like a weight). */
  readonly local: boolean;
  /** Learned over an eBGP session. */
  readonly ebgp: boolean;
  /** The peer's BGP identifier as a number (our own for local paths). */
  readonly routerIdNum: number;
  /** Orders peer addresses numerically (see addressOrderKey); '' for local paths. */
  readonly addressKey: string;
}

export interface CandidatePath {
  readonly attrs: AttrSet;
  readonly src: PathSource;
  /** RFC 7911 path id (0 without add-path): the last tie-break between paths of one peer. */
  readonly pathId: number;
}

export interface DecisionOptions {
  /** LOCAL_PREF assumed when absent (eBGP-learned routes, after import). Default 100. */
  readonly defaultLocalPref: number;
  /** Compare MED between routes from different neighbouring ASes too. Default false. */
  readonly alwaysCompareMed: boolean;
}

export const DEFAULT_DECISION: DecisionOptions = { defaultLocalPref: 100, alwaysCompareMed: false };

/** The step that decided (for tests, logs and `calicoctl node status`-style explanations). */
export type DecisionStep =
  | 'none'
  | 'only-path'
  | 'local-origin'
  | 'local-pref'
  | 'as-path-length'
  | 'origin'
  | 'med'
  | 'ebgp-over-ibgp'
  | 'cluster-list-length'
  | 'router-id'
  | 'peer-address'
  | 'path-id';

export interface Decision<P extends CandidatePath> {
  readonly best: P | undefined;
  readonly step: DecisionStep;
  /**
   * Paths still equal when only tie-breaks remain (after the eBGP/iBGP step): the candidates
   * for multipath (ECMP) kernel routes, best first. Local paths never merge.
   */
  readonly equalCost: readonly P[];
}

function keepMax<P>(c: P[], f: (p: P) => number): P[] {
  let m = -Infinity;
  for (const p of c) {
    const v = f(p);
    if (v > m) m = v;
  }
  return c.filter((p) => f(p) === m);
}

function keepMin<P>(c: P[], f: (p: P) => number): P[] {
  let m = Infinity;
  for (const p of c) {
    const v = f(p);
    if (v < m) m = v;
  }
  return c.filter((p) => f(p) === m);
}

/** Run the decision process over the candidates of one prefix. */
export function decide<P extends CandidatePath>(paths: readonly P[], opts: DecisionOptions = DEFAULT_DECISION): Decision<P> {
  if (paths.length === 0) return { best: undefined, step: 'none', equalCost: [] };
  if (paths.length === 1) {
    const only = paths[0]!;
    return { best: only, step: 'only-path', equalCost: [only] };
  }
  let c: P[] = [...paths];
  const done = (step: DecisionStep, ecmp?: P[]): Decision<P> => {
    const best = c[0]!;
    const eq = ecmp ? [best, ...ecmp.filter((p) => p !== best)] : [best];
    return { best, step, equalCost: best.src.local ? [best] : eq };
  };

  // Locally originated routes win (weight-like).
  if (c.some((p) => p.src.local)) {
    c = c.filter((p) => p.src.local);
    if (c.length === 1) return done('local-origin');
  }
  const lp = opts.defaultLocalPref;
  c = keepMax(c, (p) => p.attrs.attrs.localPref ?? lp);
  if (c.length === 1) return done('local-pref');
  c = keepMin(c, (p) => p.attrs.asPathLength);
  if (c.length === 1) return done('as-path-length');
  c = keepMin(c, (p) => p.attrs.attrs.origin ?? 2);
  if (c.length === 1) return done('origin');
  // MED: within each neighbouring AS keep only the lowest (missing MED = 0).
  if (opts.alwaysCompareMed) {
    c = keepMin(c, (p) => p.attrs.attrs.med ?? 0);
  } else {
    const minByAs = new Map<number, number>();
    for (const p of c) {
      const m = p.attrs.attrs.med ?? 0;
      const cur = minByAs.get(p.attrs.neighborAs);
      if (cur === undefined || m < cur) minByAs.set(p.attrs.neighborAs, m);
    }
    c = c.filter((p) => (p.attrs.attrs.med ?? 0) === minByAs.get(p.attrs.neighborAs));
  }
  if (c.length === 1) return done('med');
  if (c.some((p) => p.src.ebgp)) c = c.filter((p) => p.src.ebgp);
  if (c.length === 1) return done('ebgp-over-ibgp');
  // (IGP cost to the next hop: not applicable; all next hops are treated as equally near.)
  const ecmp = c;
  c = keepMin(c, (p) => p.attrs.clusterListLength);
  if (c.length === 1) return done('cluster-list-length', ecmp);
  c = keepMin(c, (p) => (p.attrs.originatorId >= 0 ? p.attrs.originatorId : p.src.routerIdNum));
  if (c.length === 1) return done('router-id', ecmp);
  let minAddr: string | undefined;
  for (const p of c) if (minAddr === undefined || p.src.addressKey < minAddr) minAddr = p.src.addressKey;
  c = c.filter((p) => p.src.addressKey === minAddr);
  if (c.length === 1) return done('peer-address', ecmp);
  c = keepMin(c, (p) => p.pathId);
  return done('path-id', ecmp);
}
