// ResourceClient: typed CRUD + watch for every projectcalico.org/v3 kind over a Kv, storing
// resources as Calico's etcdv3 backend does (libcalico-go/lib/backend/etcdv3, lib/clientv3):
//
// - key: /calico/resources/v3/projectcalico.org/<plural>/[<namespace>/]<name> (model.keyFor)
// - value: the resource as JSON (kind, apiVersion, metadata, spec[, status]) WITHOUT
//   metadata.resourceVersion; on every read resourceVersion is set from the key's etcd
//   mod_revision, as a decimal string.
// - create fills metadata.uid (a random UUID) and metadata.creationTimestamp (RFC 3339 UTC,
//   seconds) when absent, and succeeds only if the key does not exist (Txn on version == 0).
// - update needs metadata.resourceVersion and succeeds only if the stored mod_revision still
//   equals it (Txn on mod_revision): a stale resourceVersion is ResourceUpdateConflict.
// - delete may be guarded by a resourceVersion the same way.
// - the four policy kinds also store Calico's `projectcalico.org/metadata` annotation
//   ({"name": ...}) and drop it again on read, so Calico's own tools read our data unchanged.

import { randomUUID } from 'node:crypto';
import {
  API_VERSION,
  IPAM_CONFIG_KEY,
  IPAM_PREFIX,
  POLICY_KINDS,
  blockAffinityKey,
  ipamBlockKey,
  ipamHandleKey,
  keyFor,
  keyPrefix,
  lookupKind,
  parseKey,
  type AnyResource,
  type KindInfo,
  type KindName,
} from '../model/index.ts';
import { parseSelector } from '../selector/index.ts';
import { cidrContainsIP, cidrOf, cidrOrdinal, cidrSize, formatCIDR, formatIP, parseGoDuration, tryParseCIDR, type CIDR, type IPAddr } from '../lib/index.ts';
import {
  DatastoreEntryCorrupt,
  DatastoreRequestError,
  OperationNotSupported,
  ResourceAlreadyExists,
  ResourceNotFound,
  ResourceUpdateConflict,
  resourceId,
} from './errors.ts';
import type { Compare, KeyValue, Kv, KvWatch, TxnOp } from './kv.ts';

export const POLICY_METADATA_ANNOTATION = 'projectcalico.org/metadata';

/**
 * The profile Calico's etcdv3 backend serves without storing it (libcalico-go/lib/resources/
 * static.go): Get always returns it, List of profiles always ends with it, and clientv3
 * refuses to create, update or delete it.
 */
export const DEFAULT_ALLOW_PROFILE = 'projectcalico-default-allow';

function defaultAllowProfile(): AnyResource {
  return {
    apiVersion: API_VERSION,
    kind: 'Profile',
    // no uid or creationTimestamp: Go's zero values, omitted (omitzero) when printed
    metadata: { name: DEFAULT_ALLOW_PROFILE, resourceVersion: '1' },
    spec: { ingress: [{ action: 'Allow' }], egress: [{ action: 'Allow' }] },
  } as AnyResource;
}

/** Tiers that always exist and cannot be deleted (libcalico-go/lib/names ProtectedTierNames). */
export const PROTECTED_TIERS: ReadonlySet<string> = new Set(['default', 'kube-admin', 'kube-baseline']);

/** Policy kinds that live in a tier (their spec.tier; empty means "default"). */
const TIERED_KINDS: readonly KindName[] = ['NetworkPolicy', 'GlobalNetworkPolicy', 'StagedNetworkPolicy', 'StagedGlobalNetworkPolicy'];

export interface ResourceClientOptions {
  /** Clock for creationTimestamp (tests). */
  readonly now?: () => Date;
  /** uid generator (tests). */
  readonly uuid?: () => string;
  /**
   * Validate and default a resource before it is written (create/update/apply); throw to
   * refuse it. calicoctl passes the model's validate + applyDefaults here.
   */
  readonly prepare?: (res: AnyResource) => AnyResource;
}

export interface ListOptions {
  /** Namespaced kinds: one namespace; omit (or '') for all namespaces. */
  readonly namespace?: string;
  /** A Calico label selector on metadata.labels, e.g. `app == "web" && has(tier)`. */
  readonly selector?: string;
  /** Read at this revision. */
  readonly revision?: number;
  /** Only the resource with this name (clientv3 ListOptions.Name), or names starting with it with `prefix`. */
  readonly name?: string;
  readonly prefix?: boolean;
}

export interface ResourceList {
  readonly kind: KindName;
  readonly items: AnyResource[];
  /** Store revision the list was read at (the List's metadata.resourceVersion). */
  readonly revision: number;
}

export interface ResourceWatchEvent {
  readonly type: 'added' | 'modified' | 'deleted';
  /** The resource after the change; for 'deleted', the last value (when known). */
  readonly resource: AnyResource | undefined;
  readonly previous?: AnyResource;
  readonly key: string;
  readonly revision: number;
}

export interface ResourceWatchHandlers {
  onEvents(events: readonly ResourceWatchEvent[]): void;
  onError(err: Error): void;
}

/** RFC 3339 UTC with second precision, as Kubernetes' metav1.Time marshals. */
export function rfc3339(d: Date): string {
  return d.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

function kindInfoOf(kind: string): KindInfo {
  const info = lookupKind(kind);
  if (!info) throw new DatastoreRequestError(`resource type '${kind}' is not supported`);
  if (info.ipam) {
    // In etcd mode Calico keeps IPAM state under /calico/ipam/v2/ in its own (non-v3) JSON.
    throw new DatastoreRequestError(`${info.kind} is IPAM state, stored in Calico's IPAM format under /calico/ipam/v2/: use the IPAM component (or the raw Kv), not the resource client`);
  }
  return info;
}

function idOf(info: KindInfo, name: string, namespace?: string): string {
  return resourceId(info.kind, name, info.namespaced ? (namespace ?? '') : undefined);
}

interface ErroredField {
  readonly name: string;
  /** Omitted: the field is printed without "= 'value'" (Go's nil Value). */
  readonly value?: unknown;
  readonly reason: string;
}

function fieldText(f: ErroredField): string {
  return `${'value' in f ? `${f.name} = '${String(f.value ?? '')}'` : f.name}${f.reason ? ` (${f.reason})` : ''}`;
}

/** Calico's ErrorValidation text: one field on one line, several as a "-  " list. */
function validationError(fields: readonly ErroredField[]): DatastoreRequestError {
  if (fields.length === 1) return new DatastoreRequestError(`error with field ${fieldText(fields[0]!)}`);
  return new DatastoreRequestError(`error with the following fields:\n${fields.map((f) => `-  ${fieldText(f)}\n`).join('')}`);
}

function fieldError(name: string, value: unknown, reason: string): DatastoreRequestError {
  return validationError([{ name, value, reason }]);
}

/** A CIDR string as [family, first address as bigint, prefix length] (for overlap checks). */
function parseCidr(cidr: string): { v6: boolean; base: bigint; bits: number } | undefined {
  const slash = cidr.indexOf('/');
  if (slash < 0) return undefined;
  const ip = cidr.slice(0, slash);
  const bits = Number(cidr.slice(slash + 1));
  if (ip.includes(':')) {
    const [head = '', tail] = ip.split('::');
    const h = head ? head.split(':') : [];
    const t = tail !== undefined && tail !== '' ? tail.split(':') : [];
    if (tail === undefined && h.length !== 8) return undefined;
    const groups = [...h, ...Array<string>(8 - h.length - t.length).fill('0'), ...t];
    let v = 0n;
    for (const g of groups) v = (v << 16n) | BigInt(parseInt(g || '0', 16));
    const width = 128;
    const mask = bits === 0 ? 0n : ((1n << BigInt(bits)) - 1n) << BigInt(width - bits);
    return { v6: true, base: v & mask, bits };
  }
  const parts = ip.split('.').map(Number);
  if (parts.length !== 4) return undefined;
  const v = parts.reduce((a, p) => (a << 8n) | BigInt(p), 0n);
  const mask = bits === 0 ? 0n : ((1n << BigInt(bits)) - 1n) << BigInt(32 - bits);
  return { v6: false, base: v & mask, bits };
}

/**
 * Fields Calico's API declares as metav1.Duration (api/pkg/apis/projectcalico/v3): Go writes
 * them back in its own form (time.Duration.String: "125s" → "2m5s", "3600s" → "1h0m0s").
 */
const DURATION_FIELDS: ReadonlySet<string> = new Set([
  'bpfIPFragTimeout', 'bpfKubeProxyMinSyncPeriod', 'dataplaneWatchdogTimeout', 'debugSimulateCalcGraphHangAfter',
  'debugSimulateDataplaneApplyDelay', 'debugSimulateDataplaneHangAfter', 'endpointReportingDelay', 'etcdV3CompactionPeriod',
  'flowLogsFlushInterval', 'interfaceRefreshInterval', 'ipsetsRefreshInterval', 'iptablesLockProbeInterval',
  'iptablesPostWriteCheckInterval', 'iptablesRefreshInterval', 'keepaliveTime', 'leakGracePeriod',
  'liveMigrationRouteConvergenceTime', 'localSubnetL2ReachabilityRefreshInterval', 'maxRestartTime', 'netlinkTimeout',
  'nftablesRefreshInterval', 'nodeMeshMaxRestartTime', 'reconcilerPeriod', 'reportingInterval', 'reportingTTL',
  'routeRefreshInterval', 'timeout', 'usageReportingInitialDelay', 'usageReportingInterval', 'wireguardKeepAlive',
  'xdpRefreshInterval',
]);
const DURATION_KINDS: ReadonlySet<string> = new Set(['FelixConfiguration', 'BGPConfiguration', 'BGPPeer', 'KubeControllersConfiguration']);

export { parseGoDuration };

/** Go's time.Duration.String. */
export function formatGoDuration(ns: bigint): string {
  const neg = ns < 0n;
  let u = neg ? -ns : ns;
  if (u === 0n) return '0s';
  const frac = (v: bigint, prec: number): [string, bigint] => {
    const p = 10n ** BigInt(prec);
    let digits = (v % p).toString().padStart(prec, '0').replace(/0+$/, '');
    digits = digits ? `.${digits}` : '';
    return [digits, v / p];
  };
  let out: string;
  if (u < 1_000_000_000n) {
    const [prec, unit] = u < 1_000n ? [0, 'ns'] : u < 1_000_000n ? [3, 'µs'] : [6, 'ms'];
    const [f, whole] = prec ? frac(u, prec) : ['', u];
    out = `${whole}${f}${unit}`;
  } else {
    const [f, secs] = frac(u, 9);
    u = secs;
    out = `${u % 60n}${f}s`;
    u /= 60n;
    if (u > 0n) {
      out = `${u % 60n}m${out}`;
      u /= 60n;
      if (u > 0n) out = `${u}h${out}`;
    }
  }
  return neg ? `-${out}` : out;
}

function normalizeDurations(v: unknown): void {
  if (Array.isArray(v)) {
    for (const x of v) normalizeDurations(x);
    return;
  }
  if (v === null || typeof v !== 'object') return;
  const o = v as Record<string, unknown>;
  for (const [k, x] of Object.entries(o)) {
    if (typeof x === 'string' && DURATION_FIELDS.has(k)) {
      const ns = parseGoDuration(x);
      if (ns !== undefined) o[k] = formatGoDuration(ns);
    } else normalizeDurations(x);
  }
}

/**
 * clientv3 workloadEndpoints: the name is made of the spec's identifiers
 * (libcalico-go/lib/names/workloadendpoint.go): node-orchestrator-<pod|containerID|workload>-
 * endpoint, each with "-" doubled; an empty name is assigned, a different one refused. The
 * stored labels always carry projectcalico.org/namespace and projectcalico.org/orchestrator.
 */
function prepareWorkloadEndpoint(res: AnyResource): void {
  const spec = (res.spec ?? {}) as Record<string, unknown>;
  const str = (k: string): string => (typeof spec[k] === 'string' ? (spec[k] as string) : '');
  const node = str('node');
  if (!node) throw validationError([{ name: 'node', reason: 'field should be assigned' }]);
  const orch = str('orchestrator');
  const middle: [string, string] = orch === 'k8s' ? ['pod', str('pod')] : orch === 'cni' ? ['containerID', str('containerID')] : orch === 'libnetwork' ? ['orchestrator', orch] : ['workload', str('workload')];
  const segments: [string, string][] = [['node', node], ['orchestrator', orch], middle, ['endpoint', str('endpoint')]];
  const parts: string[] = [];
  for (const [field, value] of segments) {
    if (!value) throw validationError([{ name: field, value, reason: 'field should be assigned' }]);
    if (value.startsWith('-')) throw validationError([{ name: field, value, reason: "field must not begin with a '-'" }]);
    if (value.endsWith('-')) throw validationError([{ name: field, value, reason: "field must not end with a '-'" }]);
    parts.push(value.replaceAll('-', '--'));
  }
  const expected = parts.join('-');
  if (!res.metadata.name) res.metadata.name = expected;
  else if (res.metadata.name !== expected) {
    throw validationError([{ name: 'Name', value: res.metadata.name, reason: `the WorkloadEndpoint name does not match the primary identifiers assigned in the Spec: expected name ${expected}` }]);
  }
  res.metadata.labels = { ...(res.metadata.labels ?? {}), 'projectcalico.org/namespace': res.metadata.namespace ?? '', 'projectcalico.org/orchestrator': orch };
}

/** Whether two CIDRs share any address (Calico's IsNetOverlap). */
export function cidrsOverlap(a: string, b: string): boolean {
  const x = parseCidr(a);
  const y = parseCidr(b);
  if (!x || !y || x.v6 !== y.v6) return false;
  const width = x.v6 ? 128 : 32;
  const bits = Math.min(x.bits, y.bits);
  const shift = BigInt(width - bits);
  return x.base >> shift === y.base >> shift;
}

function clone<T>(v: T): T {
  return structuredClone(v);
}

/** The JSON stored for a resource (no resourceVersion; Calico's policy-name annotation). */
export function encodeStored(res: AnyResource): string {
  if (DURATION_KINDS.has(res.kind) && res.spec) {
    res = { ...res, spec: structuredClone(res.spec) };
    normalizeDurations(res.spec);
  }
  const meta: Record<string, unknown> = { ...res.metadata };
  delete meta.resourceVersion;
  delete meta.selfLink;
  if (POLICY_KINDS.has(res.kind as KindName)) {
    meta.annotations = { ...(res.metadata.annotations ?? {}), [POLICY_METADATA_ANNOTATION]: JSON.stringify({ name: res.metadata.name }) };
  }
  const out: Record<string, unknown> = { kind: res.kind, apiVersion: API_VERSION, metadata: meta };
  for (const [k, v] of Object.entries(res)) {
    if (k !== 'kind' && k !== 'apiVersion' && k !== 'metadata' && v !== undefined) out[k] = v;
  }
  return JSON.stringify(out);
}

/** A stored value as a JSON object (resources and Calico's raw IPAM objects alike). */
function parseJsonObject<T>(kv: KeyValue): T {
  let v: unknown;
  try {
    v = JSON.parse(kv.value);
  } catch (err) {
    throw new DatastoreEntryCorrupt(kv.key, `value is not JSON: ${(err as Error).message}`);
  }
  if (!v || typeof v !== 'object' || Array.isArray(v)) throw new DatastoreEntryCorrupt(kv.key, 'value is not a JSON object');
  return v as T;
}

/** A stored value back into a resource, resourceVersion from the key's mod revision. */
export function decodeStored(kv: KeyValue, expectedKind?: KindName): AnyResource {
  const res = parseJsonObject<AnyResource>(kv);
  let kind = expectedKind;
  if (!kind) {
    try {
      kind = parseKey(kv.key).kind;
    } catch (err) {
      throw new DatastoreEntryCorrupt(kv.key, (err as Error).message);
    }
  }
  if (res.kind !== undefined && res.kind !== kind) {
    throw new DatastoreEntryCorrupt(kv.key, `value has kind ${String(res.kind)}, key is for ${kind}`);
  }
  res.kind = kind;
  res.apiVersion = API_VERSION;
  const meta = (res.metadata && typeof res.metadata === 'object' ? res.metadata : {}) as AnyResource['metadata'];
  const annotations = meta.annotations;
  if (annotations && POLICY_METADATA_ANNOTATION in annotations) {
    try {
      const stored = JSON.parse(annotations[POLICY_METADATA_ANNOTATION]!) as { name?: string };
      if (stored.name) meta.name = stored.name;
    } catch {
      throw new DatastoreEntryCorrupt(kv.key, `annotation ${POLICY_METADATA_ANNOTATION} is not valid JSON`);
    }
    delete annotations[POLICY_METADATA_ANNOTATION];
    if (Object.keys(annotations).length === 0) delete meta.annotations;
  }
  meta.resourceVersion = String(kv.modRevision);
  // Field order as Calico prints it: apiVersion, kind, metadata, spec, status.
  const { apiVersion, kind: k, metadata: _m, ...rest } = res;
  return { apiVersion, kind: k, metadata: meta, ...rest } as AnyResource;
}

export class ResourceClient {
  private readonly kv: Kv;
  private readonly now: () => Date;
  private readonly uuid: () => string;
  private readonly prepare: (res: AnyResource) => AnyResource;

  constructor(deps: { kv: Kv }, options: ResourceClientOptions = {}) {
    this.kv = deps.kv;
    this.now = options.now ?? (() => new Date());
    this.uuid = options.uuid ?? randomUUID;
    this.prepare = options.prepare ?? ((r) => r);
  }

  private keyOf(info: KindInfo, name: string | undefined, namespace: string | undefined): string {
    if (!name) throw fieldError('Metadata.Name', name, 'field must be set');
    if (info.namespaced && !namespace) {
      throw validationError([{ name: 'Metadata.Namespace', reason: 'namespace is not specified on namespaced resource' }]);
    }
    if (!info.namespaced && namespace) {
      throw new DatastoreRequestError(`namespace should not be specified for a non-namespaced resource. ${info.kind} is not a namespaced resource`);
    }
    try {
      return keyFor(info.kind, name, info.namespaced ? namespace : undefined);
    } catch (err) {
      throw new DatastoreRequestError((err as Error).message);
    }
  }

  /** Creates a resource; ResourceAlreadyExists if its key exists. */
  async create(input: AnyResource): Promise<AnyResource> {
    const { info, key, value, meta } = await this.prepareCreate(input, new Set());
    const r = await this.kv.txn({
      compare: [{ key, target: 'version', op: '=', value: 0 }],
      success: [{ type: 'put', key, value }],
    });
    if (!r.succeeded) throw new ResourceAlreadyExists(idOf(info, meta.name!, meta.namespace));
    return decodeStored({ key, value, modRevision: r.revision, createRevision: r.revision, version: 1, lease: '0' }, info.kind);
  }

  /**
   * Deletes `old` and creates `replacements` in one transaction: all of it or nothing. `old`
   * must be unchanged since it was read (its resourceVersion), and no replacement may exist.
   * Each replacement is checked as create() checks it, except that IP pools may overlap the
   * pool they replace and each other's (calicoctl ipam split's "unsafe create", made atomic).
   */
  async replaceWith(old: AnyResource, replacements: AnyResource[]): Promise<AnyResource[]> {
    const oldInfo = kindInfoOf(old.kind);
    const oldName = old.metadata.name ?? '';
    const oldKey = this.keyOf(oldInfo, oldName, old.metadata.namespace);
    const rv = old.metadata.resourceVersion;
    if (!rv) throw fieldError('Metadata.ResourceVersion', '', 'field must be set for an Update request');
    const names = new Set([oldName, ...replacements.map((r) => r.metadata?.name ?? '')]);
    const prepared = [];
    for (const r of replacements) prepared.push(await this.prepareCreate(r, names));
    const r = await this.kv.txn({
      compare: [{ key: oldKey, target: 'mod', op: '=', value: parseRevision(rv) }, ...prepared.map((p) => ({ key: p.key, target: 'version' as const, op: '=' as const, value: 0 }))],
      success: [{ type: 'delete', key: oldKey }, ...prepared.map((p) => ({ type: 'put' as const, key: p.key, value: p.value }))],
      failure: [{ type: 'get', key: oldKey }, ...prepared.map((p) => ({ type: 'get' as const, key: p.key }))],
    });
    if (!r.succeeded) {
      const got = r.results.map((x) => (x.type === 'get' ? x.kvs[0] : undefined));
      const oldId = idOf(oldInfo, oldName, old.metadata.namespace);
      if (!got[0]) throw new ResourceNotFound(oldId);
      if (got[0].modRevision !== parseRevision(rv)) throw conflict(oldId, rv, got[0].modRevision);
      const i = got.findIndex((kv, j) => j > 0 && kv);
      const p = prepared[Math.max(0, i - 1)]!;
      throw new ResourceAlreadyExists(idOf(p.info, p.meta.name!, p.meta.namespace));
    }
    return prepared.map((p) => decodeStored({ key: p.key, value: p.value, modRevision: r.revision, createRevision: r.revision, version: 1, lease: '0' }, p.info.kind));
  }

  /** create()'s checks and defaults; `peers` are IP pools whose CIDRs a new pool may overlap. */
  private async prepareCreate(input: AnyResource, peers: Set<string>) {
    const info = kindInfoOf(input.kind);
    if (input.metadata?.resourceVersion) {
      throw fieldError('Metadata.ResourceVersion', input.metadata.resourceVersion, 'field must not be set for a Create request');
    }
    if (info.kind === 'Profile' && input.metadata?.name === DEFAULT_ALLOW_PROFILE) {
      throw new ResourceAlreadyExists(
        DEFAULT_ALLOW_PROFILE,
        `${DEFAULT_ALLOW_PROFILE} already exists. The profile "${DEFAULT_ALLOW_PROFILE}" is default provided by Calico`,
      );
    }
    if (TIERED_KINDS.includes(info.kind)) {
      // clientv3: a policy can only be created in an existing tier. The default tier is
      // taken as given (Calico creates it in EnsureInitialized; calicoctl calls
      // ensureInitialized() before writing, components need not).
      const tier = String((input.spec as { tier?: unknown } | undefined)?.tier || 'default');
      if (tier !== 'default' && !(await this.kv.get(keyFor('Tier', tier)))) throw new ResourceNotFound(resourceId('Tier', tier));
    }
    checkSingletonName(info.kind, input.metadata?.name, true);
    const res = this.prepare(clone({ ...input, kind: info.kind, apiVersion: API_VERSION }) as AnyResource);
    const meta = res.metadata;
    if (info.kind === 'WorkloadEndpoint') prepareWorkloadEndpoint(res);
    const key = this.keyOf(info, meta.name, meta.namespace);
    if (info.kind === 'IPPool') await this.checkPoolOverlap(res, peers);
    if (info.kind === 'BGPPeer') await this.checkPeerFilters(res);
    if (!meta.creationTimestamp) meta.creationTimestamp = rfc3339(this.now());
    if (!meta.uid) meta.uid = this.uuid();
    return { info, key, value: encodeStored(res), meta };
  }

  /**
   * Replaces a resource guarded by metadata.resourceVersion (required). uid and
   * creationTimestamp are kept from the stored resource when the input lacks them.
   */
  async update(input: AnyResource): Promise<AnyResource> {
    const info = kindInfoOf(input.kind);
    const rv = input.metadata?.resourceVersion;
    if (info.kind === 'Profile' && input.metadata?.name === DEFAULT_ALLOW_PROFILE) {
      throw new OperationNotSupported('Update', DEFAULT_ALLOW_PROFILE, `The profile "${DEFAULT_ALLOW_PROFILE}" is a default provided by Calico and cannot be updated`);
    }
    if (!rv) throw fieldError('Metadata.ResourceVersion', rv, 'field must be set for an Update request');
    // clientv3 resources.Update: the identity an update keeps must come with it.
    if (info.namespaced && !input.metadata?.namespace) throw validationError([{ name: 'Metadata.Namespace', reason: 'namespace is not specified on namespaced resource' }]);
    if (!input.metadata?.creationTimestamp) throw fieldError('Metadata.CreationTimestamp', '0001-01-01 00:00:00 +0000 UTC', 'field must be set for an Update request');
    if (!input.metadata?.uid) throw fieldError('Metadata.UID', '', 'field must be set for an Update request');
    checkSingletonName(info.kind, input.metadata?.name, false);
    const rev = parseRevision(rv);
    const res = this.prepare(clone({ ...input, kind: info.kind, apiVersion: API_VERSION }) as AnyResource);
    const meta = res.metadata;
    if (info.kind === 'WorkloadEndpoint') prepareWorkloadEndpoint(res);
    const key = this.keyOf(info, meta.name, meta.namespace);
    const id = idOf(info, meta.name!, meta.namespace);
    if (info.kind === 'IPPool') {
      // clientv3 ipPools.Update: the CIDR and block size of a pool cannot change.
      const existing = await this.kv.get(key);
      if (!existing) throw new ResourceNotFound(id);
      const old = decodeStored(existing, info.kind).spec as { cidr?: string; blockSize?: number } | undefined;
      const now = res.spec as { cidr?: string; blockSize?: number } | undefined;
      const errs: ErroredField[] = [];
      if (old?.cidr !== undefined && now?.cidr !== undefined && !sameCidr(old.cidr, now.cidr)) {
        errs.push({ name: 'IPPool.Spec.CIDR', value: now.cidr, reason: 'IPPool CIDR cannot be modified' });
      }
      if (old?.blockSize !== undefined && now?.blockSize !== undefined && old.blockSize !== now.blockSize) {
        errs.push({ name: 'IPPool.Spec.BlockSize', value: now.blockSize, reason: 'IPPool BlockSize cannot be modified' });
      }
      if (errs.length) throw validationError(errs);
    }
    if (info.kind === 'BGPPeer') await this.checkPeerFilters(res);
    const value = encodeStored(res);
    const r = await this.kv.txn({
      compare: [{ key, target: 'mod', op: '=', value: rev }],
      success: [{ type: 'put', key, value }],
      failure: [{ type: 'get', key }],
    });
    if (!r.succeeded) {
      const got = r.results[0];
      const cur = got?.type === 'get' ? got.kvs[0] : undefined;
      if (!cur) throw new ResourceNotFound(id);
      throw conflict(id, rv, cur.modRevision);
    }
    return decodeStored({ key, value, modRevision: r.revision, createRevision: 0, version: 0, lease: '0' }, info.kind);
  }

  /**
   * Creates the resource, or updates it if it exists (keeping the stored uid and
   * creationTimestamp; labels and annotations come from the input). With a
   * resourceVersion in the input, the update is guarded by it.
   */
  async apply(input: AnyResource): Promise<AnyResource> {
    return this.upsert(input, true);
  }

  /**
   * Replaces an existing resource the way calicoctl replace does: like apply, but a missing
   * resource is ResourceNotFound; with a resourceVersion it must be the current one.
   */
  async replace(input: AnyResource): Promise<AnyResource> {
    return this.upsert(input, false);
  }

  private async upsert(input: AnyResource, allowCreate: boolean): Promise<AnyResource> {
    const info = kindInfoOf(input.kind);
    if (info.kind === 'Profile' && input.metadata?.name === DEFAULT_ALLOW_PROFILE) {
      // it always exists, so apply and replace both end in clientv3's refused update
      throw new OperationNotSupported('Update', DEFAULT_ALLOW_PROFILE, `The profile "${DEFAULT_ALLOW_PROFILE}" is a default provided by Calico and cannot be updated`);
    }
    const rv = input.metadata?.resourceVersion;
    for (let attempt = 0; ; attempt++) {
      const key = this.keyOf(info, input.metadata?.name, input.metadata?.namespace);
      const existing = await this.kv.get(key);
      if (!existing) {
        if (!allowCreate) throw new ResourceNotFound(idOf(info, input.metadata.name!, input.metadata.namespace));
        // calicoctl's apply tries a create first, without the resourceVersion: a version
        // only guards the update of a resource that exists.
        const fresh = clone(input);
        delete fresh.metadata.uid;
        delete fresh.metadata.creationTimestamp;
        delete fresh.metadata.resourceVersion;
        try {
          return await this.create(fresh);
        } catch (err) {
          if (err instanceof ResourceAlreadyExists && attempt < 5) continue; // raced with a creator
          throw err;
        }
      }
      const stored = decodeStored(existing, info.kind);
      if (rv && rv !== stored.metadata.resourceVersion) {
        throw conflict(idOf(info, input.metadata.name!, input.metadata.namespace), rv, existing.modRevision);
      }
      const merged = clone(input);
      merged.metadata = {
        ...stored.metadata,
        ...(input.metadata.labels ? { labels: input.metadata.labels } : {}),
        ...(input.metadata.annotations ? { annotations: input.metadata.annotations } : {}),
      };
      if (!input.metadata.labels) delete merged.metadata.labels;
      if (!input.metadata.annotations) delete merged.metadata.annotations;
      try {
        return await this.update(merged);
      } catch (err) {
        if (!rv && (err instanceof ResourceUpdateConflict || err instanceof ResourceNotFound) && attempt < 5) continue;
        throw err;
      }
    }
  }

  /**
   * What Calico's client does before writes (clientv3 EnsureInitialized): make sure the
   * ClusterInformation "default" exists (clusterGUID, datastoreReady) and the default,
   * kube-admin and kube-baseline tiers exist. Existing tiers are left alone; an existing
   * ClusterInformation gets what it lacks (clusterGUID, datastoreReady), the given
   * calicoVersion, and any cluster types it does not list yet (clientv3 client.go).
   */
  async ensureInitialized(options: { calicoVersion?: string; clusterType?: string } = {}): Promise<void> {
    const wanted: AnyResource[] = [
      {
        apiVersion: API_VERSION,
        kind: 'ClusterInformation',
        metadata: { name: 'default' },
        spec: {
          clusterGUID: randomUUID().replaceAll('-', ''),
          datastoreReady: true,
          ...(options.calicoVersion ? { calicoVersion: options.calicoVersion } : {}),
          ...(options.clusterType ? { clusterType: options.clusterType } : {}),
        },
      },
      { apiVersion: API_VERSION, kind: 'Tier', metadata: { name: 'default' }, spec: { order: 1_000_000, defaultAction: 'Deny' } },
      { apiVersion: API_VERSION, kind: 'Tier', metadata: { name: 'kube-admin' }, spec: { order: 1_000, defaultAction: 'Pass' } },
      { apiVersion: API_VERSION, kind: 'Tier', metadata: { name: 'kube-baseline' }, spec: { order: 10_000_000, defaultAction: 'Pass' } },
    ];
    const keys = wanted.map((r) => keyFor(r.kind, r.metadata.name!));
    const r = await this.kv.txn({ compare: [], success: keys.map((key) => ({ type: 'get' as const, key })) });
    const missing = wanted.filter((_, i) => {
      const res = r.results[i];
      return res?.type === 'get' && res.kvs.length === 0;
    });
    for (const res of missing) {
      try {
        await this.create(res);
      } catch (err) {
        if (!(err instanceof ResourceAlreadyExists)) throw err;
      }
    }
    if (missing.some((m) => m.kind === 'ClusterInformation')) return;
    for (let attempt = 0; attempt < 5; attempt++) {
      const ci = await this.get('ClusterInformation', 'default');
      const spec = { ...((ci.spec ?? {}) as Record<string, unknown>) };
      let changed = false;
      if (options.calicoVersion && spec.calicoVersion !== options.calicoVersion) {
        spec.calicoVersion = options.calicoVersion;
        changed = true;
      }
      if (!spec.clusterGUID) {
        spec.clusterGUID = randomUUID().replaceAll('-', '');
        changed = true;
      }
      if (spec.datastoreReady === undefined) {
        spec.datastoreReady = true;
        changed = true;
      }
      if (options.clusterType) {
        const have = String(spec.clusterType ?? '').split(',').filter(Boolean);
        const add = options.clusterType.split(',').filter((t) => t && !have.includes(t));
        if (add.length) {
          spec.clusterType = [...have, ...add].join(',');
          changed = true;
        }
      }
      if (!changed) return;
      try {
        await this.update({ ...ci, spec } as AnyResource);
        return;
      } catch (err) {
        if (!(err instanceof ResourceUpdateConflict)) throw err;
      }
    }
  }

  /** clientv3 bgpPeers.validate: every filter a peer names must exist. */
  private async checkPeerFilters(res: AnyResource): Promise<void> {
    const filters = (res.spec as { filters?: unknown } | undefined)?.filters;
    if (!Array.isArray(filters) || filters.length === 0) return;
    const known = new Set((await this.list('BGPFilter')).items.map((f) => f.metadata.name));
    const missing = filters.map(String).filter((f) => !known.has(f));
    // Go's %v of a []string: [a b]
    if (missing.length) throw validationError([{ name: 'BGPPeer.Spec.Filters', value: `[${missing.join(' ')}]`, reason: 'BGPFilter(s) not found' }]);
  }

  /** clientv3 ipPools.Create: a new pool's CIDR may not overlap any other pool's. */
  private async checkPoolOverlap(res: AnyResource, peers: Set<string>): Promise<void> {
    const cidr = String((res.spec as { cidr?: unknown } | undefined)?.cidr ?? '');
    if (!cidr) return;
    const errs: ErroredField[] = [];
    const pools: AnyResource[] = [];
    let fromKey: string | undefined;
    for (;;) {
      const page = await this.kv.range(keyPrefix('IPPool'), { limit: 1000, ...(fromKey !== undefined ? { fromKey } : {}) });
      for (const kv of page.kvs) {
        try {
          pools.push(decodeStored(kv, 'IPPool'));
        } catch {
          // an unreadable pool is skipped here, as Calico's List skips entries it cannot parse
        }
      }
      if (!page.more || page.kvs.length === 0) break;
      fromKey = page.kvs[page.kvs.length - 1]!.key + '\0';
    }
    for (const other of pools) {
      if (other.metadata.name === res.metadata.name || peers.has(other.metadata.name ?? '')) continue;
      const otherCidr = String((other.spec as { cidr?: unknown } | undefined)?.cidr ?? '');
      if (otherCidr && cidrsOverlap(cidr, otherCidr)) {
        errs.push({ name: 'IPPool.Spec.CIDR', value: cidr, reason: `IPPool(${res.metadata.name}) CIDR overlaps with IPPool(${other.metadata.name}) CIDR ${otherCidr}` });
      }
    }
    if (errs.length) throw validationError(errs);
  }

  async get(kind: string, name: string, namespace?: string, options?: { revision?: number }): Promise<AnyResource> {
    const info = kindInfoOf(kind);
    if (info.kind === 'Profile' && name === DEFAULT_ALLOW_PROFILE) return defaultAllowProfile();
    const key = this.keyOf(info, name, namespace);
    const kv = await this.kv.get(key, options);
    if (!kv) throw new ResourceNotFound(idOf(info, name, namespace));
    return decodeStored(kv, info.kind);
  }

  async list(kind: string, options: ListOptions = {}): Promise<ResourceList> {
    const info = kindInfoOf(kind);
    const match = options.selector !== undefined && options.selector.trim() !== '' ? parseSelector(options.selector) : undefined;
    const prefix = keyPrefix(info.kind, info.namespaced && options.namespace ? options.namespace : undefined);
    const want = options.name ?? '';
    const nameMatches = (n: string | undefined): boolean => !want || (options.prefix ? (n ?? '').startsWith(want) : n === want);
    const items: AnyResource[] = [];
    let revision = options.revision ?? 0;
    let fromKey: string | undefined;
    for (;;) {
      const page = await this.kv.range(prefix, {
        limit: 1000,
        ...(revision ? { revision } : {}),
        ...(fromKey !== undefined ? { fromKey } : {}),
      });
      if (!revision) revision = page.revision;
      for (const kv of page.kvs) {
        const res = decodeStored(kv, info.kind);
        if (match && !match.matches(res.metadata.labels ?? {})) continue;
        if (!nameMatches(res.metadata.name)) continue;
        items.push(res);
      }
      if (!page.more || page.kvs.length === 0) break;
      fromKey = page.kvs[page.kvs.length - 1]!.key + '\0';
    }
    if (info.kind === 'Profile') {
      // Calico's etcdv3 backend always lists its static default-allow profile, last.
      const p = defaultAllowProfile();
      if ((!match || match.matches(p.metadata.labels ?? {})) && nameMatches(p.metadata.name)) items.push(p);
    }
    return { kind: info.kind, items, revision };
  }

  /**
   * Deletes a resource, optionally only if it is still at `resourceVersion`. Returns the last
   * value. Deleting a Node first removes what belongs to it, as clientv3 nodes.Delete does
   * (see cleanUpNode); the resourceVersion guards only the Node itself.
   */
  async delete(kind: string, name: string, namespace?: string, options?: { resourceVersion?: string }): Promise<AnyResource> {
    const info = kindInfoOf(kind);
    if (info.kind === 'Profile' && name === DEFAULT_ALLOW_PROFILE) {
      throw new OperationNotSupported('Delete', DEFAULT_ALLOW_PROFILE, `The profile "${DEFAULT_ALLOW_PROFILE}" is a default provided by Calico and cannot be deleted`);
    }
    if (info.kind === 'Tier') await this.checkTierDeletable(name);
    if (info.kind === 'Node') await this.cleanUpNode(name);
    const key = this.keyOf(info, name, namespace);
    const id = idOf(info, name, namespace);
    const rv = options?.resourceVersion;
    const r = await this.kv.txn({
      compare: rv ? [{ key, target: 'mod', op: '=', value: parseRevision(rv) }] : [],
      success: [{ type: 'delete', key }],
      failure: [{ type: 'get', key }],
    });
    const res = r.results[0];
    if (!r.succeeded) {
      const cur = res?.type === 'get' ? res.kvs[0] : undefined;
      if (!cur) throw new ResourceNotFound(id);
      throw conflict(id, rv!, cur.modRevision);
    }
    if (res?.type !== 'delete' || res.deleted === 0 || !res.prev[0]) throw new ResourceNotFound(id);
    return decodeStored(res.prev[0], info.kind);
  }

  /**
   * clientv3 nodes.Delete (etcd mode), step by step, each step as Calico does it: the first
   * failure stops the deletion (the Node stays, so deleting it again finishes the job), and
   * whatever is already gone is skipped. In order:
   * 1. the addresses of the node's WorkloadEndpoints (names starting with the node's name
   *    prefix and spec.node equal to it) and its IPv4 IPIP, VXLAN and WireGuard tunnel
   *    addresses are released from their IPAM blocks (releaseIPs);
   * 2. those WorkloadEndpoints are deleted;
   * 3. the node's host block affinities are released and its IPAM host key removed
   *    (removeIpamHost);
   * 4. BGPPeers with spec.node = the node, FelixConfiguration and BGPConfiguration
   *    `node.<name>`, and HostEndpoints with spec.node = the node are deleted.
   * Then the caller deletes the Node (which may not exist: the clean-up runs anyway).
   */
  private async cleanUpNode(name: string): Promise<void> {
    const prefix = `${escapeNameSegment('node', name)}-`;
    const weps = (await this.list('WorkloadEndpoint', { name: prefix, prefix: true })).items.filter(
      (w) => (w.spec as { node?: unknown } | undefined)?.node === name,
    );
    const ips: IPAddr[] = [];
    const addAddress = (s: unknown): void => {
      if (typeof s !== 'string' || s === '') return;
      const c = tryParseCIDR(s, { allowBareIP: true });
      if (c) ips.push({ family: c.family, value: c.ip }); // Calico logs and skips an unparsable one
    };
    for (const w of weps) {
      const nets = (w.spec as { ipNetworks?: unknown } | undefined)?.ipNetworks;
      if (Array.isArray(nets)) nets.forEach(addAddress);
    }
    let node: AnyResource | undefined;
    try {
      node = await this.get('Node', name);
    } catch (err) {
      if (!(err instanceof ResourceNotFound)) throw err;
    }
    if (node) {
      const spec = (node.spec ?? {}) as { bgp?: { ipv4IPIPTunnelAddr?: unknown }; ipv4VXLANTunnelAddr?: unknown; wireguard?: { interfaceIPv4Address?: unknown } };
      addAddress(spec.bgp?.ipv4IPIPTunnelAddr);
      addAddress(spec.ipv4VXLANTunnelAddr);
      addAddress(spec.wireguard?.interfaceIPv4Address);
    }
    await ignoreGone(this.releaseIPs(ips));
    for (const w of weps) await ignoreGone(this.delete('WorkloadEndpoint', w.metadata.name!, w.metadata.namespace));
    await ignoreGone(this.removeIpamHost(name));
    for (const p of (await this.list('BGPPeer')).items) {
      if ((p.spec as { node?: unknown } | undefined)?.node === name) await ignoreGone(this.delete('BGPPeer', p.metadata.name!));
    }
    await ignoreGone(this.delete('FelixConfiguration', `node.${name}`));
    await ignoreGone(this.delete('BGPConfiguration', `node.${name}`));
    for (const h of (await this.list('HostEndpoint')).items) {
      if ((h.spec as { node?: unknown } | undefined)?.node === name) await ignoreGone(this.delete('HostEndpoint', h.metadata.name!));
    }
  }

  /** IPAM's config in etcd mode (/calico/ipam/v2/config): only the release cool-down matters here. */
  private async ipamCooldownSeconds(): Promise<number> {
    const kv = await this.kv.get(IPAM_CONFIG_KEY);
    if (!kv) return 0;
    const cfg = parseJsonObject<{ ipCooldownSeconds?: unknown }>(kv);
    return typeof cfg.ipCooldownSeconds === 'number' ? cfg.ipCooldownSeconds : 0;
  }

  /**
   * Calico IPAM's ReleaseIPs for addresses given without handle or sequence number: each
   * address's block is found from the IP pool containing it (its blockSize), or else by
   * scanning the blocks; addresses in no block are already free. Each block is then updated
   * in one transaction together with its handles' counts (see releaseFromBlock).
   */
  private async releaseIPs(ips: readonly IPAddr[]): Promise<void> {
    if (ips.length === 0) return;
    const pools: { cidr: CIDR; blockSize: number }[] = [];
    for (const p of (await this.list('IPPool')).items) {
      const spec = (p.spec ?? {}) as { cidr?: unknown; blockSize?: unknown };
      const cidr = typeof spec.cidr === 'string' ? tryParseCIDR(spec.cidr) : null;
      if (!cidr) continue;
      pools.push({ cidr, blockSize: typeof spec.blockSize === 'number' ? spec.blockSize : cidr.family === 4 ? 26 : 122 });
    }
    const blocksByFamily = new Map<number, CIDR[]>();
    const byBlock = new Map<string, { cidr: CIDR; ips: IPAddr[] }>();
    for (const ip of ips) {
      const pool = pools.find((p) => cidrContainsIP(p.cidr, ip));
      let block: CIDR | undefined = pool ? cidrOf(ip, pool.blockSize) : undefined;
      if (!block) {
        // Not in any pool: find its block by a full scan.
        let blocks = blocksByFamily.get(ip.family);
        if (!blocks) {
          blocks = [];
          for (const kv of await this.rangeAll(`${IPAM_PREFIX}assignment/ipv${ip.family}/block/`)) {
            const c = blockCidrOfKey(kv.key);
            if (c) blocks.push(c);
          }
          blocksByFamily.set(ip.family, blocks);
        }
        block = blocks.find((b) => cidrContainsIP(b, ip));
        if (!block) continue;
      }
      const id = formatCIDR(block);
      const entry = byBlock.get(id) ?? { cidr: block, ips: [] };
      entry.ips.push(ip);
      byBlock.set(id, entry);
    }
    if (byBlock.size === 0) return;
    const cooldown = await this.ipamCooldownSeconds();
    let first: unknown;
    for (const { cidr, ips: inBlock } of byBlock.values()) {
      try {
        await this.releaseFromBlock(cidr, inBlock, cooldown);
      } catch (err) {
        first ??= err; // Calico releases every block, then returns the first error
      }
    }
    if (first !== undefined) throw first;
  }

  /**
   * Frees `ips` in one block (Calico's allocationBlock.release + garbageCollect): an empty
   * block without affinity is deleted, otherwise written back with its sequenceNumber bumped;
   * each handle that held a released address has its count for the block decremented (and is
   * deleted when it holds nothing more). Calico does the handles in separate writes after the
   * block and only logs their failures; here they join the block's transaction when they can be
   * decremented, so a release is never half done. Retried on a concurrent change.
   */
  private async releaseFromBlock(cidr: CIDR, ips: readonly IPAddr[], cooldown: number): Promise<void> {
    const key = ipamBlockKey(formatCIDR(cidr));
    for (let attempt = 0; attempt < IPAM_RETRIES; attempt++) {
      const kv = await this.kv.get(key);
      if (!kv) return; // no block: nothing is allocated
      const block = parseJsonObject<IpamBlock>(kv);
      const now = this.now();
      const counts = releaseInBlock(block, ips, cooldown, now, kv.key);
      if (!counts) return; // none of them was allocated
      const compare: Compare[] = [{ key, target: 'mod', op: '=', value: kv.modRevision }];
      const success: TxnOp[] = [];
      if (blockIsEmpty(block) && (block.affinity ?? null) === null) success.push({ type: 'delete', key });
      else {
        block.sequenceNumber = (typeof block.sequenceNumber === 'number' ? block.sequenceNumber : 0) + 1;
        success.push({ type: 'put', key, value: JSON.stringify(block) });
      }
      const blockId = formatCIDR(cidr);
      for (const [handleID, n] of counts) {
        let hkey: string;
        try {
          hkey = ipamHandleKey(handleID);
        } catch {
          continue;
        }
        const h = await this.kv.get(hkey);
        if (!h) continue; // Calico: "Failed to decrement handle" (a warning)
        let handle: { block?: Record<string, number> };
        try {
          handle = parseJsonObject<{ block?: Record<string, number> }>(h);
        } catch {
          continue;
        }
        const have = handle.block?.[blockId];
        if (typeof have !== 'number' || have - n < 0) continue; // not linked to this block: a warning in Calico
        const blocks = { ...handle.block };
        if (have - n === 0) delete blocks[blockId];
        else blocks[blockId] = have - n;
        compare.push({ key: hkey, target: 'mod', op: '=', value: h.modRevision });
        success.push(Object.keys(blocks).length === 0 ? { type: 'delete', key: hkey } : { type: 'put', key: hkey, value: JSON.stringify({ ...handle, block: blocks }) });
      }
      const r = await this.kv.txn({ compare, success });
      if (r.succeeded) return;
    }
    throw new DatastoreRequestError('Max retries hit - excessive concurrent IPAM requests');
  }

  /**
   * Calico IPAM's RemoveIPAMHost: release every IPv4 and IPv6 block affine to the host (see
   * releaseBlockAffinity; failures are collected and the last one returned after trying every
   * block), then delete the host's own key /calico/ipam/v2/host/<node> if present.
   */
  private async removeIpamHost(name: string): Promise<void> {
    const cooldown = await this.ipamCooldownSeconds();
    let stored: unknown;
    for (const family of [4, 6]) {
      for (const kv of await this.rangeAll(`${IPAM_PREFIX}host/${name}/ipv${family}/block/`)) {
        const cidr = affinityCidrOfKey(kv.key, name);
        if (!cidr) continue;
        for (let attempt = 0; attempt < IPAM_RETRIES; attempt++) {
          const outcome = await this.releaseBlockAffinity(name, cidr, cooldown).catch((err: unknown) => err);
          if (outcome === 'retry') continue;
          if (outcome instanceof Error) stored = outcome;
          break;
        }
      }
    }
    if (stored !== undefined) throw stored;
    const hostKey = `${IPAM_PREFIX}host/${name}`;
    for (let attempt = 0; attempt < IPAM_RETRIES; attempt++) {
      const kv = await this.kv.get(hostKey);
      if (!kv) return;
      const r = await this.kv.txn({ compare: [{ key: hostKey, target: 'mod', op: '=', value: kv.modRevision }], success: [{ type: 'delete', key: hostKey }] });
      if (r.succeeded) return;
    }
    throw new DatastoreRequestError('Max retries hit');
  }

  /**
   * Calico's releaseBlockAffinity (not requiring the block empty): no affinity or no block →
   * nothing to do (Calico leaves an affinity whose block does not exist); a block affine to
   * someone else → the stale affinity is deleted; otherwise an empty block is deleted, a
   * non-empty one loses its affinity (and claim time, sequenceNumber bumped), and the affinity
   * is deleted. Calico takes three compare-and-swap steps (affinity → pendingDeletion, block,
   * affinity); this is one transaction guarded by both revisions, with the same end state.
   */
  private async releaseBlockAffinity(name: string, cidr: CIDR, cooldown: number): Promise<'done' | 'retry'> {
    const affKey = blockAffinityKey(name, formatCIDR(cidr), 'host');
    const blockKey = ipamBlockKey(formatCIDR(cidr));
    const [aff, blk] = await Promise.all([this.kv.get(affKey), this.kv.get(blockKey)]);
    if (!aff || !blk) return 'done';
    const block = parseJsonObject<IpamBlock>(blk);
    garbageCollect(block, cooldown, this.now());
    const affinity = block.affinity ?? null;
    if (affinity !== null && affinity !== `host:${name}`) {
      // claimed by another host: this affinity is stale
      await this.kv.txn({ compare: [{ key: affKey, target: 'mod', op: '=', value: aff.modRevision }], success: [{ type: 'delete', key: affKey }] });
      return 'done';
    }
    const blockOp: TxnOp = blockIsEmpty(block)
      ? { type: 'delete', key: blockKey }
      : (() => {
          block.affinity = null;
          delete block.affinity_claim_time;
          block.sequenceNumber = (typeof block.sequenceNumber === 'number' ? block.sequenceNumber : 0) + 1;
          return { type: 'put', key: blockKey, value: JSON.stringify(block) } as const;
        })();
    const r = await this.kv.txn({
      compare: [
        { key: affKey, target: 'mod', op: '=', value: aff.modRevision },
        { key: blockKey, target: 'mod', op: '=', value: blk.modRevision },
      ],
      success: [blockOp, { type: 'delete', key: affKey }],
    });
    return r.succeeded ? 'done' : 'retry';
  }

  /** Every key under a prefix, paged. */
  private async rangeAll(prefix: string): Promise<KeyValue[]> {
    const out: KeyValue[] = [];
    let fromKey: string | undefined;
    for (;;) {
      const page = await this.kv.range(prefix, { limit: 1000, ...(fromKey !== undefined ? { fromKey } : {}) });
      out.push(...page.kvs);
      if (!page.more || page.kvs.length === 0) return out;
      fromKey = page.kvs[page.kvs.length - 1]!.key + '\0';
    }
  }

  /** clientv3 tiers.Delete: built-in tiers and tiers that still hold policies stay. */
  private async checkTierDeletable(name: string): Promise<void> {
    if (PROTECTED_TIERS.has(name)) throw new OperationNotSupported('Delete', name, `Cannot delete ${name} tier`);
    for (const kind of TIERED_KINDS) {
      for (const p of (await this.list(kind)).items) {
        if (String((p.spec as { tier?: unknown } | undefined)?.tier || 'default') === name) {
          throw new OperationNotSupported('delete', name, 'Cannot delete a non-empty tier');
        }
      }
    }
  }

  /** Watches one kind (optionally one namespace) from a revision (inclusive). */
  watch(
    kind: string,
    options: { namespace?: string; fromRevision?: number },
    handlers: ResourceWatchHandlers,
  ): KvWatch {
    const info = kindInfoOf(kind);
    const prefix = keyPrefix(info.kind, info.namespaced && options.namespace ? options.namespace : undefined);
    let dead = false;
    const w: KvWatch = this.kv.watch(
      prefix,
      { ...(options.fromRevision ? { fromRevision: options.fromRevision } : {}), prevKv: true },
      {
        onEvents: (events) => {
          if (dead) return;
          const out: ResourceWatchEvent[] = [];
          try {
            for (const ev of events) {
              const previous = ev.prev ? decodeStored(ev.prev, info.kind) : undefined;
              if (ev.type === 'delete') {
                out.push({ type: 'deleted', resource: previous, ...(previous ? { previous } : {}), key: ev.kv.key, revision: ev.kv.modRevision });
              } else {
                const resource = decodeStored(ev.kv, info.kind);
                out.push({
                  type: ev.kv.version === 1 ? 'added' : 'modified',
                  resource,
                  ...(previous ? { previous } : {}),
                  key: ev.kv.key,
                  revision: ev.kv.modRevision,
                });
              }
            }
          } catch (err) {
            // A corrupt entry ends the watch like any other error: nothing after onError.
            dead = true;
            w.cancel().then(
              () => handlers.onError(err as Error),
              () => handlers.onError(err as Error),
            );
            return;
          }
          if (out.length) handlers.onEvents(out);
        },
        onError: (err) => {
          if (dead) return;
          dead = true;
          handlers.onError(err);
        },
      },
    );
    return w;
  }
}

// ---- Calico IPAM's stored objects (libcalico-go/lib/backend/model block.go, ipam_handle.go),
// as much of them as releasing addresses and affinities needs. Values are kept as parsed, so
// fields we do not touch are written back unchanged.

const IPAM_RETRIES = 100;
/** Calico's handle for addresses Windows reserves in every block; they do not make a block busy. */
const WINDOWS_RESERVED_HANDLE = 'windows-reserved-ipam-handle';

interface IpamAttribute {
  handle_id?: string | null;
  releasedAt?: string | null;
  [k: string]: unknown;
}

interface IpamBlock {
  cidr?: string;
  affinity?: string | null;
  affinity_claim_time?: string | null;
  allocations?: (number | null)[];
  unallocated?: number[];
  attributes?: IpamAttribute[] | null;
  sequenceNumber?: number;
  sequenceNumberForAllocation?: Record<string, number> | null;
  [k: string]: unknown;
}


/** A block key's CIDR (/calico/ipam/v2/assignment/ipv4/block/10.0.0.0-26). */
function blockCidrOfKey(key: string): CIDR | null {
  try {
    const p = parseKey(key);
    return p.kind === 'IPAMBlock' && p.cidr ? tryParseCIDR(p.cidr) : null;
  } catch {
    return null;
  }
}

function affinityCidrOfKey(key: string, node: string): CIDR | null {
  try {
    const p = parseKey(key);
    return p.kind === 'BlockAffinity' && p.node === node && p.affinityType === 'host' && p.cidr ? tryParseCIDR(p.cidr) : null;
  } catch {
    return null;
  }
}

/** Calico's sanitizeHandle: malformed handles were written with a trailing "\r...". */
function sanitizeHandle(h: string): string {
  return h.split('\r')[0]!;
}

/** Whether no address is in use (Windows' reserved addresses aside). */
function blockIsEmpty(b: IpamBlock): boolean {
  const attrs = b.attributes ?? [];
  for (const idx of b.allocations ?? []) {
    if (idx === null || idx === undefined) continue;
    const h = attrs[idx]?.handle_id;
    if (typeof h !== 'string' || h.toLowerCase() !== WINDOWS_RESERVED_HANDLE) return false;
  }
  return true;
}

/**
 * Calico's garbageCollect: addresses whose cool-down (releasedAt + cooldown seconds) has passed
 * become unallocated, and attributes no allocation refers to any more are dropped (the others
 * renumbered).
 */
function garbageCollect(b: IpamBlock, cooldownSeconds: number, now: Date): void {
  const allocations = b.allocations ?? [];
  const attrs = b.attributes ?? [];
  const threshold = now.getTime() - cooldownSeconds * 1000;
  const used = new Set<number>();
  for (let o = 0; o < allocations.length; o++) {
    const idx = allocations[o];
    if (idx === null || idx === undefined) continue;
    const released = attrs[idx]?.releasedAt;
    let free = typeof released === 'string';
    if (free && cooldownSeconds >= 0) free = Date.parse(released as string) <= threshold;
    if (free) {
      allocations[o] = null;
      (b.unallocated ??= []).push(o);
      if (b.sequenceNumberForAllocation) delete b.sequenceNumberForAllocation[String(o)];
    } else used.add(idx);
  }
  if (used.size === attrs.length) return;
  const renumber = new Map<number, number>();
  const kept: IpamAttribute[] = [];
  attrs.forEach((a, i) => {
    if (used.has(i)) {
      renumber.set(i, kept.length);
      kept.push(a);
    }
  });
  b.attributes = kept;
  for (let o = 0; o < allocations.length; o++) {
    const idx = allocations[o];
    if (idx !== null && idx !== undefined) allocations[o] = renumber.get(idx) ?? null;
  }
}

/**
 * Calico's allocationBlock.release for addresses without handle or sequence number (after the
 * garbage collection blockFromBackend does): allocated addresses are marked released (one
 * cool-down attribute with releasedAt = now) and collected at once when the cool-down is 0.
 * Returns the released count per handle, or undefined when nothing was allocated. An address
 * outside the block is Calico's "IP <ip> not in block <cidr>".
 */
function releaseInBlock(b: IpamBlock, ips: readonly IPAddr[], cooldownSeconds: number, now: Date, key: string): Map<string, number> | undefined {
  garbageCollect(b, cooldownSeconds, now);
  const cidr = typeof b.cidr === 'string' ? tryParseCIDR(b.cidr) : null;
  if (!cidr) throw new DatastoreEntryCorrupt(key, `block has no valid cidr (${JSON.stringify(b.cidr)})`);
  const allocations = b.allocations ?? [];
  const attrs = b.attributes ?? [];
  const seen = new Set<bigint>();
  const ordinals: number[] = [];
  const counts = new Map<string, number>();
  for (const ip of ips) {
    if (seen.has(ip.value)) continue;
    seen.add(ip.value);
    const ord = cidrOrdinal(cidr, ip);
    if (ord < 0n || ord >= cidrSize(cidr)) throw new DatastoreRequestError(`IP ${formatIP(ip)} not in block ${formatCIDR(cidr)}`);
    const o = Number(ord);
    const idx = allocations[o];
    if (idx === null || idx === undefined || typeof attrs[idx]?.releasedAt === 'string') continue;
    ordinals.push(o);
    const h = attrs[idx]?.handle_id;
    if (typeof h === 'string' && h !== '') counts.set(sanitizeHandle(h), (counts.get(sanitizeHandle(h)) ?? 0) + 1);
  }
  if (ordinals.length === 0) return undefined;
  const releaseIdx = attrs.length;
  attrs.push({ releasedAt: rfc3339(now) });
  b.attributes = attrs;
  const seq = typeof b.sequenceNumber === 'number' ? b.sequenceNumber : 0;
  for (const o of ordinals) {
    allocations[o] = releaseIdx;
    (b.sequenceNumberForAllocation ??= {})[String(o)] = seq;
  }
  garbageCollect(b, cooldownSeconds, now);
  return counts;
}

/** calico names.escapeDashes for a WorkloadEndpoint name segment (the node, here). */
function escapeNameSegment(field: string, value: string): string {
  if (value.startsWith('-')) throw validationError([{ name: field, value, reason: "field must not begin with a '-'" }]);
  if (value.endsWith('-')) throw validationError([{ name: field, value, reason: "field must not end with a '-'" }]);
  return value.replaceAll('-', '--');
}

/** clientv3 nodes.Delete goes on past resources that are already gone (or not supported). */
async function ignoreGone(p: Promise<unknown>): Promise<void> {
  try {
    await p;
  } catch (err) {
    if (err instanceof ResourceNotFound || err instanceof OperationNotSupported) return;
    throw err;
  }
}

function parseRevision(rv: string): number {
  if (!/^[0-9]+$/.test(rv)) throw fieldError('Metadata.ResourceVersion', rv, 'expected a decimal etcd revision');
  return Number(rv);
}

function conflict(id: string, rv: string, latest: number): ResourceUpdateConflict {
  // Calico's message is only "update conflict: <id>"; the detail stays on the error.
  return new ResourceUpdateConflict(id, `resource version '${rv}' is out of date (latest: ${latest})`);
}

/**
 * clientv3: ClusterInformation, IPAMConfiguration (create and update) and
 * KubeControllersConfiguration (create) exist only as "default".
 */
function checkSingletonName(kind: string, name: string | undefined, create: boolean): void {
  if (name === 'default') return;
  if (kind === 'IPAMConfiguration') throw new DatastoreRequestError('Cannot create an IPAMConfiguration resource with a name other than "default"');
  if (!create) return;
  if (kind === 'KubeControllersConfiguration') throw new DatastoreRequestError('Cannot create a Kube Controllers Configuration resource with a name other than "default"');
  if (kind === 'ClusterInformation') throw new DatastoreRequestError('Cannot create a Cluster Information resource with a name other than "default"');
}

/** Same network, however written (Calico compares pool CIDRs semantically). */
function sameCidr(a: string, b: string): boolean {
  const x = parseCidr(a);
  const y = parseCidr(b);
  if (!x || !y) return a === b;
  return x.v6 === y.v6 && x.bits === y.bits && x.base === y.base;
}

/** A syncer update for a /calico/resources/v3 key, decoded. */
export interface ResourceUpdate {
  readonly type: 'set' | 'delete';
  readonly key: string;
  readonly kind: KindName;
  readonly name: string;
  readonly namespace?: string;
  /** The resource (with resourceVersion) for a 'set'. */
  readonly resource?: AnyResource;
  readonly revision: number;
}

/**
 * Decodes a raw syncer update of a resource key (throws DatastoreEntryCorrupt for a key or
 * value that is not a Calico v3 resource, so a consumer can log and skip it).
 */
export function decodeSyncUpdate(u: { type: 'set' | 'delete'; key: string; value: string; revision: number }): ResourceUpdate {
  let parsed;
  try {
    parsed = parseKey(u.key);
  } catch (err) {
    throw new DatastoreEntryCorrupt(u.key, (err as Error).message);
  }
  if (lookupKind(parsed.kind)?.ipam) throw new DatastoreEntryCorrupt(u.key, 'IPAM state is not a projectcalico.org/v3 resource');
  const base = { type: u.type, key: u.key, kind: parsed.kind, name: parsed.name, ...(parsed.namespace ? { namespace: parsed.namespace } : {}), revision: u.revision };
  if (u.type === 'delete') return base;
  return {
    ...base,
    resource: decodeStored({ key: u.key, value: u.value, modRevision: u.revision, createRevision: 0, version: 0, lease: '0' }, parsed.kind),
  };
}
