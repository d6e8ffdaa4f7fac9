// Calico's etcd v3 key layout (libcalico-go/lib/backend/model):
//   /calico/resources/v3/projectcalico.org/<plural>/[<namespace>/]<name>
// and, for IPAM state as Calico's IPAM writes it in etcd mode:
//   /calico/ipam/v2/assignment/ipv<4|6>/block/<cidr with / as ->      IPAMBlock
//   /calico/ipam/v2/<host|virtual>/<node>/ipv<4|6>/block/<cidr-len>    BlockAffinity
//   /calico/ipam/v2/handle/<handle id>                                  IPAMHandle
//   /calico/ipam/v2/config                                              IPAM's own config
import { tryParseCIDR, maskCIDR, formatCIDR, type CIDR } from '../lib/index.ts';
import { ModelError } from './errors.ts';
import { KINDS, kindByPlural, lookupKind, type KindInfo, type KindName } from './kinds.ts';

export const RESOURCE_PREFIX = '/calico/resources/v3/projectcalico.org/';
export const IPAM_PREFIX = '/calico/ipam/v2/';
/** Where Calico's IPAM keeps its config (strict affinity, auto-allocate) in etcd mode. */
export const IPAM_CONFIG_KEY = '/calico/ipam/v2/config';

export type BlockAffinityType = 'host' | 'virtual';

export interface ParsedKey {
  kind: KindName;
  name: string;
  namespace?: string;
  /** IPAMBlock / BlockAffinity: the block CIDR (canonical, masked). */
  cidr?: string;
  /** BlockAffinity: the node (or virtual owner) and the affinity type. */
  node?: string;
  affinityType?: BlockAffinityType;
}

function kindInfo(kind: string): KindInfo {
  const info = lookupKind(kind);
  if (!info) throw new ModelError('invalid-argument', `unknown resource kind ${JSON.stringify(kind)}`, { kind });
  return info;
}

function checkSegment(what: string, s: string, kind: string): void {
  if (!s || s.includes('/')) {
    throw new ModelError('invalid-argument', `${what} ${JSON.stringify(s)} cannot be used in a datastore key (empty or contains "/")`, { kind });
  }
}

/** Calico's resource name for a block CIDR (names.CIDRToName): `10.0.0.0/26` → `10-0-0-0-26`. */
export function cidrToName(cidr: string): string {
  return cidr.replaceAll('.', '-').replaceAll(':', '-').replace('/', '-');
}

/** Inverse of cidrToName; also accepts a plain CIDR. Returns the canonical masked CIDR or null. */
export function nameToCIDR(name: string): CIDR | null {
  const direct = tryParseCIDR(name);
  if (direct) return maskCIDR(direct);
  const dash = name.lastIndexOf('-');
  if (dash < 0) return null;
  const addr = name.slice(0, dash);
  const len = name.slice(dash + 1);
  const parts = addr.split('-');
  const v4 = parts.length === 4 && parts.every((p) => /^[0-9]+$/.test(p)) ? tryParseCIDR(`${parts.join('.')}/${len}`) : null;
  const c = v4 ?? tryParseCIDR(`${addr.replaceAll('-', ':')}/${len}`);
  return c ? maskCIDR(c) : null;
}

function blockPath(cidr: CIDR): string {
  return `ipv${cidr.family}/block/${formatCIDR(cidr).replace('/', '-')}`;
}

/** Key of an IPAM block by CIDR. */
export function ipamBlockKey(cidr: string): string {
  const c = nameToCIDR(cidr);
  if (!c) throw new ModelError('invalid-argument', `IPAM block ${JSON.stringify(cidr)} is not a CIDR`, { kind: 'IPAMBlock' });
  return `${IPAM_PREFIX}assignment/${blockPath(c)}`;
}

/** Key of a block affinity: node + block CIDR (+ affinity type, default host). */
export function blockAffinityKey(node: string, cidr: string, affinityType: BlockAffinityType = 'host'): string {
  checkSegment('node', node, 'BlockAffinity');
  const c = nameToCIDR(cidr);
  if (!c) throw new ModelError('invalid-argument', `block affinity CIDR ${JSON.stringify(cidr)} is not a CIDR`, { kind: 'BlockAffinity' });
  return `${IPAM_PREFIX}${affinityType}/${node}/${blockPath(c)}`;
}

export function ipamHandleKey(handleID: string): string {
  checkSegment('handle', handleID, 'IPAMHandle');
  return `${IPAM_PREFIX}handle/${handleID}`;
}

/**
 * The datastore key for a resource. Namespaced kinds need `namespace`. IPAMBlock takes its
 * CIDR (or Calico's name for it, `10-0-0-0-26`) as the name; IPAMHandle its handle id;
 * BlockAffinity cannot be keyed by name alone (use keyForResource or blockAffinityKey).
 */
export function keyFor(kind: KindName | string, name: string, namespace?: string): string {
  const info = kindInfo(kind);
  switch (info.kind) {
    case 'IPAMBlock':
      return ipamBlockKey(name);
    case 'IPAMHandle':
      return ipamHandleKey(name);
    case 'BlockAffinity':
      throw new ModelError('invalid-argument', 'a BlockAffinity key needs its node and CIDR: use keyForResource or blockAffinityKey', { kind: info.kind, name });
    default:
      break;
  }
  checkSegment('name', name, info.kind);
  if (info.namespaced) {
    if (!namespace) throw new ModelError('invalid-argument', `${info.kind} is namespaced: a namespace is required`, { kind: info.kind, name });
    checkSegment('namespace', namespace, info.kind);
    return `${RESOURCE_PREFIX}${info.plural}/${namespace}/${name}`;
  }
  return `${RESOURCE_PREFIX}${info.plural}/${name}`;
}

interface KeyedResource {
  kind: string;
  metadata?: { name?: string; namespace?: string };
  spec?: Record<string, unknown>;
}

/** The key for a whole resource (uses the spec for IPAM kinds). */
export function keyForResource(r: KeyedResource): string {
  const info = kindInfo(r.kind);
  const spec = r.spec ?? {};
  if (info.kind === 'BlockAffinity') {
    const type = spec.type === 'virtual' ? 'virtual' : 'host';
    return blockAffinityKey(String(spec.node ?? ''), String(spec.cidr ?? ''), type);
  }
  if (info.kind === 'IPAMBlock' && typeof spec.cidr === 'string') return ipamBlockKey(spec.cidr);
  if (info.kind === 'IPAMHandle' && typeof spec.handleID === 'string') return ipamHandleKey(spec.handleID);
  return keyFor(info.kind, r.metadata?.name ?? '', r.metadata?.namespace);
}

/**
 * Prefix for listing a kind (optionally one namespace), ending in `/`. For IPAM kinds:
 * IPAMBlock → /calico/ipam/v2/assignment/, IPAMHandle → /calico/ipam/v2/handle/,
 * BlockAffinity → /calico/ipam/v2/host/ (host affinities; virtual ones under /virtual/).
 */
export function keyPrefix(kind: KindName | string, namespace?: string): string {
  const info = kindInfo(kind);
  switch (info.kind) {
    case 'IPAMBlock':
      return `${IPAM_PREFIX}assignment/`;
    case 'IPAMHandle':
      return `${IPAM_PREFIX}handle/`;
    case 'BlockAffinity':
      return `${IPAM_PREFIX}host/`;
    default:
      break;
  }
  if (info.namespaced && namespace) {
    checkSegment('namespace', namespace, info.kind);
    return `${RESOURCE_PREFIX}${info.plural}/${namespace}/`;
  }
  return `${RESOURCE_PREFIX}${info.plural}/`;
}

const RE_BLOCK = /^\/calico\/ipam\/v2\/assignment\/ipv([46])\/block\/([^/]+)$/;
const RE_AFFINITY = /^\/calico\/ipam\/v2\/(host|virtual)\/([^/]+)\/ipv([46])\/block\/([^/]+)$/;
const RE_HANDLE = /^\/calico\/ipam\/v2\/handle\/([^/]+)$/;

function badKey(key: string, why: string): ModelError {
  return new ModelError('invalid-key', `datastore key ${JSON.stringify(key)}: ${why}`, { action: 'parse' });
}

function blockCIDR(key: string, family: string, seg: string): string {
  const dash = seg.lastIndexOf('-');
  const c = dash > 0 ? tryParseCIDR(`${seg.slice(0, dash)}/${seg.slice(dash + 1)}`) : null;
  if (!c || String(c.family) !== family) throw badKey(key, `${JSON.stringify(seg)} is not an IPv${family} block`);
  return formatCIDR(maskCIDR(c));
}

/** Parse a Calico datastore key back into kind, name and namespace (and IPAM details). */
export function parseKey(key: string): ParsedKey {
  if (key.startsWith(RESOURCE_PREFIX)) {
    const parts = key.slice(RESOURCE_PREFIX.length).split('/');
    const info = kindByPlural(parts[0] ?? '');
    if (!info) throw badKey(key, `unknown resource type ${JSON.stringify(parts[0])}`);
    const want = info.namespaced ? 3 : 2;
    if (parts.length !== want || parts.slice(1).some((p) => p === '')) {
      throw badKey(key, `expected ${RESOURCE_PREFIX}${info.plural}/${info.namespaced ? '<namespace>/' : ''}<name>`);
    }
    return info.namespaced ? { kind: info.kind, namespace: parts[1]!, name: parts[2]! } : { kind: info.kind, name: parts[1]! };
  }
  let m = RE_BLOCK.exec(key);
  if (m) {
    const cidr = blockCIDR(key, m[1]!, m[2]!);
    return { kind: 'IPAMBlock', name: cidrToName(cidr), cidr };
  }
  m = RE_AFFINITY.exec(key);
  if (m) {
    const cidr = blockCIDR(key, m[3]!, m[4]!);
    const affinityType = m[1] as BlockAffinityType;
    return { kind: 'BlockAffinity', name: `${m[2]!}-${cidrToName(cidr)}`, cidr, node: m[2]!, affinityType };
  }
  m = RE_HANDLE.exec(key);
  if (m) return { kind: 'IPAMHandle', name: m[1]!, };
  throw badKey(key, 'not a Calico resource or IPAM key');
}

export function isNamespaced(kind: KindName): boolean {
  return KINDS[kind].namespaced;
}

/**
 * The name Calico reports for a policy read from the datastore: a default-tier policy stored
 * under a legacy `default.`-prefixed name is returned without the prefix.
 */
export function policyNameFromStorage(name: string, tier: string | undefined): string {
  return !tier || tier === 'default' ? name.replace(/^default\./, '') : name;
}
