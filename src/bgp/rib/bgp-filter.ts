// Calico BGPFilter (projectcalico.org/v3) as a RIB policy. Semantics follow what Calico renders
// into BIRD: filters apply in the BGPPeer's `filters` order, rules in order; every condition of
// a rule must hold; the first matching rule is terminal (Accept after its operations, or Reject);
// no match falls through to the next filter and then to the chain's default.

import type { RouteAttrs } from './attrs.ts';
import { BIRD_INT_MAX, flatAsPath, hasLargeCommunity, parseCommunity, prependAs, withCommunity } from './attrs.ts';
import type { ParsedCommunity } from './attrs.ts';
import { RIB_ERROR, RibError } from './errors.ts';
import type { Family, NumPrefix } from './prefix.ts';
import { prefixEquals, prefixWithin, tryParseNumPrefix } from './prefix.ts';
import type { PolicyRoute, PolicyVerdict, RoutePolicy } from './policy.ts';
import { NEXT, REJECT, ACCEPT, globMatch } from './policy.ts';

export type BGPFilterAction = 'Accept' | 'Reject';
export type BGPFilterMatchOperator = 'Equal' | 'NotEqual' | 'In' | 'NotIn';

export type BGPFilterOperation =
  | { readonly addCommunity: { readonly value: string } }
  | { readonly prependASPath: { readonly prefix: readonly number[] } }
  | { readonly setPriority: { readonly value: number } };

/** One rule of spec.importV4/exportV4/importV6/exportV6, as in the resource. */
export interface BGPFilterRule {
  readonly action: BGPFilterAction;
  readonly cidr?: string;
  readonly matchOperator?: BGPFilterMatchOperator;
  readonly prefixLength?: { readonly min?: number; readonly max?: number };
  readonly source?: 'RemotePeers';
  readonly interface?: string;
  readonly communities?: { readonly values: readonly string[] };
  readonly asPathPrefix?: readonly number[];
  readonly priority?: number;
  readonly peerType?: 'eBGP' | 'iBGP';
  readonly operations?: readonly BGPFilterOperation[];
}

export interface BGPFilterSpec {
  readonly importV4?: readonly BGPFilterRule[];
  readonly exportV4?: readonly BGPFilterRule[];
  readonly importV6?: readonly BGPFilterRule[];
  readonly exportV6?: readonly BGPFilterRule[];
}

export interface BGPFilterInput {
  readonly name: string;
  readonly spec: BGPFilterSpec;
}

type Op =
  | { readonly kind: 'community'; readonly c: ParsedCommunity }
  | { readonly kind: 'prepend'; readonly asns: readonly number[] }
  | { readonly kind: 'priority'; readonly localPref: number };

interface CompiledRule {
  readonly accept: boolean;
  readonly net?: NumPrefix;
  readonly op?: BGPFilterMatchOperator;
  readonly minLen: number;
  readonly maxLen: number;
  readonly remoteOnly: boolean;
  readonly iface?: string;
  readonly community?: ParsedCommunity;
  readonly asPathPrefix?: readonly number[];
  readonly localPref?: number;
  readonly peerType?: 'eBGP' | 'iBGP';
  readonly ops: readonly Op[];
}

export interface CompiledBGPFilter {
  readonly name: string;
  readonly import: { readonly ipv4: readonly CompiledRule[]; readonly ipv6: readonly CompiledRule[] };
  readonly export: { readonly ipv4: readonly CompiledRule[]; readonly ipv6: readonly CompiledRule[] };
}

const OPERATORS: readonly string[] = ['Equal', 'NotEqual', 'In', 'NotIn'];

function fail(where: string, msg: string): never {
  throw new RibError(RIB_ERROR.INVALID_POLICY, `${where}: ${msg}`);
}

function isAsn(n: unknown): n is number {
  return typeof n === 'number' && Number.isInteger(n) && n >= 0 && n <= 0xffffffff;
}

function isPriority(n: unknown): n is number {
  return typeof n === 'number' && Number.isInteger(n) && n >= 1 && n <= 2147483646;
}

function compileRule(r: BGPFilterRule, family: Family, where: string): CompiledRule {
  if (r === null || typeof r !== 'object') fail(where, 'expected a rule object');
  if (r.action !== 'Accept' && r.action !== 'Reject') fail(`${where}.action`, `${JSON.stringify(r.action)} is not Accept or Reject`);
  const famMax = family === 'ipv4' ? 32 : 128;
  const hasCidr = r.cidr !== undefined && r.cidr !== '';
  const hasOp = r.matchOperator !== undefined && (r.matchOperator as string) !== '';
  if (hasCidr !== hasOp) fail(where, 'cidr and matchOperator must both be set or both be empty');
  if (r.prefixLength && !hasCidr) fail(`${where}.prefixLength`, 'cidr is required when prefixLength is set');
  let net: NumPrefix | undefined;
  let minLen = 0;
  let maxLen = famMax;
  if (hasCidr) {
    const p = tryParseNumPrefix(r.cidr!);
    if (!p || p.family !== family) fail(`${where}.cidr`, `${JSON.stringify(r.cidr)} is not an ${family === 'ipv4' ? 'IPv4' : 'IPv6'} CIDR`);
    if (!OPERATORS.includes(r.matchOperator!)) fail(`${where}.matchOperator`, `${JSON.stringify(r.matchOperator)} is not one of Equal, NotEqual, In, NotIn`);
    net = p;
    minLen = p.len;
    const pl = r.prefixLength;
    if (pl) {
      for (const k of ['min', 'max'] as const) {
        const v = pl[k];
        if (v !== undefined && (!Number.isInteger(v) || v < 0 || v > famMax)) fail(`${where}.prefixLength.${k}`, `${JSON.stringify(v)} is not an integer 0-${famMax}`);
      }
      if (pl.min !== undefined) minLen = Math.max(minLen, pl.min);
      if (pl.max !== undefined) maxLen = Math.min(maxLen, pl.max);
    }
  }
  if (r.source !== undefined && r.source !== 'RemotePeers') fail(`${where}.source`, `${JSON.stringify(r.source)} is not RemotePeers`);
  if (r.interface !== undefined && (typeof r.interface !== 'string' || r.interface === '' || r.interface.length > 15)) {
    fail(`${where}.interface`, 'expected an interface name or glob of 1-15 characters');
  }
  let community: ParsedCommunity | undefined;
  if (r.communities !== undefined) {
    const vals = r.communities.values;
    if (!Array.isArray(vals) || vals.length !== 1) fail(`${where}.communities.values`, 'exactly one community value is required');
    community = parseCommunity(vals[0] as string, `${where}.communities.values[0]`);
  }
  if (r.asPathPrefix !== undefined) {
    if (!Array.isArray(r.asPathPrefix)) fail(`${where}.asPathPrefix`, 'expected a list of AS numbers');
    r.asPathPrefix.forEach((a, i) => {
      if (!isAsn(a)) fail(`${where}.asPathPrefix[${i}]`, `${JSON.stringify(a)} is not an AS number`);
    });
  }
  if (r.priority !== undefined && !isPriority(r.priority)) fail(`${where}.priority`, `${JSON.stringify(r.priority)} is not an integer 1-2147483646`);
  if (r.peerType !== undefined && r.peerType !== 'eBGP' && r.peerType !== 'iBGP') fail(`${where}.peerType`, `${JSON.stringify(r.peerType)} is not eBGP or iBGP`);
  const ops: Op[] = [];
  if (r.operations !== undefined) {
    if (!Array.isArray(r.operations)) fail(`${where}.operations`, 'expected a list');
    if (r.operations.length > 0 && r.action !== 'Accept') fail(`${where}.operations`, 'operations may only be used with action Accept');
    r.operations.forEach((o, i) => {
      const w = `${where}.operations[${i}]`;
      const keys = o && typeof o === 'object' ? Object.keys(o) : [];
      if (keys.length !== 1) fail(w, 'exactly one of addCommunity, prependASPath, setPriority must be set');
      if ('addCommunity' in o) ops.push({ kind: 'community', c: parseCommunity(o.addCommunity?.value, `${w}.addCommunity.value`) });
      else if ('prependASPath' in o) {
        const pre = o.prependASPath?.prefix;
        if (!Array.isArray(pre) || pre.length < 1 || pre.length > 10) fail(`${w}.prependASPath.prefix`, 'expected 1-10 AS numbers');
        pre.forEach((a, j) => {
          if (!isAsn(a)) fail(`${w}.prependASPath.prefix[${j}]`, `${JSON.stringify(a)} is not an AS number`);
        });
        ops.push({ kind: 'prepend', asns: [...pre] });
      } else if ('setPriority' in o) {
        const v = o.setPriority?.value;
        if (!isPriority(v)) fail(`${w}.setPriority.value`, `${JSON.stringify(v)} is not an integer 1-2147483646`);
        ops.push({ kind: 'priority', localPref: BIRD_INT_MAX - v });
      } else fail(w, `unknown operation ${JSON.stringify(keys[0])}`);
    });
  }
  return {
    accept: r.action === 'Accept',
    net,
    op: hasCidr ? r.matchOperator : undefined,
    minLen,
    maxLen,
    remoteOnly: r.source === 'RemotePeers',
    iface: r.interface,
    community,
    asPathPrefix: r.asPathPrefix && r.asPathPrefix.length > 0 ? [...r.asPathPrefix] : undefined,
    localPref: r.priority !== undefined ? BIRD_INT_MAX - r.priority : undefined,
    peerType: r.peerType,
    ops,
  };
}

/** Validate and compile a BGPFilter. Throws RibError naming the filter and field. */
export function compileBGPFilter(f: BGPFilterInput): CompiledBGPFilter {
  const name = f?.name;
  if (typeof name !== 'string' || name === '') throw new RibError(RIB_ERROR.INVALID_POLICY, 'BGPFilter: metadata.name is required');
  const spec = f.spec ?? {};
  const list = (key: keyof BGPFilterSpec, family: Family): CompiledRule[] => {
    const rules = spec[key];
    if (rules === undefined || rules === null) return [];
    if (!Array.isArray(rules)) fail(`BGPFilter ${name}: spec.${key}`, 'expected a list of rules');
    return rules.map((r, i) => compileRule(r, family, `BGPFilter ${name}: spec.${key}[${i}]`));
  };
  return {
    name,
    import: { ipv4: list('importV4', 'ipv4'), ipv6: list('importV6', 'ipv6') },
    export: { ipv4: list('exportV4', 'ipv4'), ipv6: list('exportV6', 'ipv6') },
  };
}

function matches(rule: CompiledRule, route: PolicyRoute, ibgp: boolean, net: () => NumPrefix | null): boolean {
  if (rule.peerType !== undefined && (rule.peerType === 'iBGP') !== ibgp) return false;
  if (rule.net) {
    const p = net();
    if (!p) return false;
    let inside: boolean;
    if (rule.op === 'Equal' || rule.op === 'NotEqual') inside = prefixEquals(p, rule.net);
    else inside = prefixWithin(p, rule.net) && p.len >= rule.minLen && p.len <= rule.maxLen;
    if (rule.op === 'NotEqual' || rule.op === 'NotIn') inside = !inside;
    if (!inside) return false;
  }
  if (rule.remoteOnly && route.source === 'local') return false;
  if (rule.iface !== undefined && (route.iface === undefined || !globMatch(rule.iface, route.iface))) return false;
  const a = route.attrs;
  if (rule.community) {
    const c = rule.community;
    if (c.kind === 'standard' ? !(a.communities ?? []).includes(c.value) : !hasLargeCommunity(a.largeCommunities, c.value)) return false;
  }
  if (rule.asPathPrefix) {
    const flat = flatAsPath(a.asPath);
    if (flat.length < rule.asPathPrefix.length) return false;
    for (let i = 0; i < rule.asPathPrefix.length; i++) if (flat[i] !== rule.asPathPrefix[i]) return false;
  }
  if (rule.localPref !== undefined && a.localPref !== rule.localPref) return false;
  return true;
}

function applyOps(attrs: RouteAttrs, ops: readonly Op[]): RouteAttrs {
  let a = attrs;
  for (const op of ops) {
    if (op.kind === 'community') a = withCommunity(a, op.c);
    else if (op.kind === 'prepend') a = { ...a, asPath: prependAs(a.asPath, op.asns) };
    else a = { ...a, localPref: op.localPref };
  }
  return a;
}

/**
 * The policy for one direction of a peer's `filters` (in that order). Returns `next` when no
 * rule matched, so Calico's own rules (export) or the default accept (import) decide.
 */
export function bgpFilterPolicy(filters: readonly (CompiledBGPFilter | BGPFilterInput)[], direction: 'import' | 'export'): RoutePolicy {
  const compiled = filters.map((f) => ('import' in f && 'export' in f ? (f as CompiledBGPFilter) : compileBGPFilter(f as BGPFilterInput)));
  const names = compiled.map((f) => f.name).join(',');
  return {
    name: `bgpfilter-${direction}:${names}`,
    evaluate(route, peer): PolicyVerdict {
      let parsed: NumPrefix | null | undefined = route.net;
      const net = () => (parsed === undefined ? (parsed = tryParseNumPrefix(route.prefix)) : parsed);
      for (const f of compiled) {
        const rules = f[direction][route.family];
        for (const rule of rules) {
          if (!matches(rule, route, peer.ibgp, net)) continue;
          if (!rule.accept) return REJECT;
          if (rule.ops.length === 0) return ACCEPT;
          return { kind: 'accept', attrs: applyOps(route.attrs, rule.ops) };
        }
      }
      return NEXT;
    },
  };
}
