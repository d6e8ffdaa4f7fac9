// How resources are stored in etcd, as Calico's etcd v3 backend and clientv3 store them:
// - the value is the resource's JSON without metadata.resourceVersion and selfLink; the
//   resourceVersion a reader sees is the key's etcd mod revision;
// - policies (GNP, NP, staged GNP/NP) carry their v3 name in the annotation
//   `projectcalico.org/metadata` = {"name": ...}, removed again on read;
// - create stamps metadata.uid and metadata.creationTimestamp; update requires them and the
//   resourceVersion;
// - IPAM kinds under /calico/ipam/v2 hold IPAM's own JSON (AllocationBlock, {state,deleted},
//   {block,deleted}), converted here to and from the v3 IPAMBlock/BlockAffinity/IPAMHandle shape.
import { randomUUID } from 'node:crypto';
import { ModelError, type FieldError } from './errors.ts';
import { cloneJSON } from './schema.ts';
import { API_VERSION, KINDS, POLICY_KINDS, isKindName } from './kinds.ts';
import { keyForResource, parseKey, policyNameFromStorage } from './keys.ts';
import type { AnyResource, ObjectMeta } from './types.ts';

export const POLICY_NAME_ANNOTATION = 'projectcalico.org/metadata';

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

export interface StoredKV {
  key: string;
  value: string;
}

/** Kubernetes metav1.Time text: RFC 3339, UTC, whole seconds. */
export function formatTimestamp(d: Date): string {
  return d.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** Metadata problems that make a Create fail in Calico (clientv3 resources.Create). */
export function checkCreateMetadata(res: AnyResource): FieldError[] {
  const out: FieldError[] = [];
  const m = res.metadata ?? {};
  if (!m.name) out.push({ path: 'metadata.name', code: 'required', message: 'field must be set for a Create request' });
  if (m.resourceVersion) out.push({ path: 'metadata.resourceVersion', code: 'forbidden', message: 'field must not be set for a Create request' });
  if (isKindName(res.kind) && KINDS[res.kind].namespaced && !m.namespace) {
    out.push({ path: 'metadata.namespace', code: 'required', message: 'namespace is not specified on namespaced resource' });
  }
  return out;
}

/** Metadata problems that make an Update fail in Calico. */
export function checkUpdateMetadata(res: AnyResource): FieldError[] {
  const out: FieldError[] = [];
  const m = res.metadata ?? {};
  if (!m.resourceVersion) out.push({ path: 'metadata.resourceVersion', code: 'required', message: 'field must be set for an Update request' });
  if (!m.creationTimestamp) out.push({ path: 'metadata.creationTimestamp', code: 'required', message: 'field must be set for an Update request' });
  if (!m.uid) out.push({ path: 'metadata.uid', code: 'required', message: 'field must be set for an Update request' });
  if (isKindName(res.kind) && KINDS[res.kind].namespaced && !m.namespace) {
    out.push({ path: 'metadata.namespace', code: 'required', message: 'namespace is not specified on namespaced resource' });
  }
  return out;
}

/** A copy with uid and creationTimestamp filled in when missing, as Calico does on Create. */
export function stampCreate<R extends AnyResource>(res: R, opts: { now?: Date; uid?: string } = {}): R {
  const copy = cloneJSON(res);
  copy.metadata ??= {};
  if (!copy.metadata.creationTimestamp) copy.metadata.creationTimestamp = formatTimestamp(opts.now ?? new Date());
  if (!copy.metadata.uid) copy.metadata.uid = opts.uid ?? randomUUID();
  return copy;
}

/** Metadata a calicoctl user may set on create (calicoctl keeps only these). */
export function userMetadata(meta: ObjectMeta): ObjectMeta {
  const out: ObjectMeta = {};
  if (meta.name !== undefined) out.name = meta.name;
  if (meta.namespace !== undefined) out.namespace = meta.namespace;
  if (meta.resourceVersion !== undefined) out.resourceVersion = meta.resourceVersion;
  if (meta.labels !== undefined) out.labels = meta.labels;
  if (meta.annotations !== undefined) out.annotations = meta.annotations;
  return out;
}

function ipamValue(res: AnyResource): Obj {
  const spec = (res.spec ?? {}) as Obj;
  switch (res.kind) {
    case 'IPAMBlock': {
      const v: Obj = {
        cidr: spec.cidr,
        affinity: spec.affinity ?? null,
        allocations: spec.allocations ?? [],
        unallocated: spec.unallocated ?? [],
        attributes: spec.attributes ?? [],
        sequenceNumber: spec.sequenceNumber ?? 0,
        sequenceNumberForAllocation: spec.sequenceNumberForAllocation ?? null,
        deleted: spec.deleted ?? false,
      };
      if (spec.affinityClaimTime !== undefined) v.affinity_claim_time = spec.affinityClaimTime;
      return v;
    }
    case 'BlockAffinity':
      return { state: spec.state ?? '', deleted: spec.deleted ?? false };
    case 'IPAMHandle':
      return { block: spec.block ?? {}, deleted: spec.deleted ?? false };
    default:
      throw new ModelError('invalid-argument', `${res.kind} is not an IPAM kind`, { kind: res.kind });
  }
}

/**
 * Key and JSON value to write for a resource (Create or Update). The resource should already
 * be defaulted, validated and (for Create) stamped.
 */
export function toStorage(res: AnyResource): StoredKV {
  const key = keyForResource(res);
  if (isKindName(res.kind) && KINDS[res.kind].ipam) return { key, value: JSON.stringify(ipamValue(res)) };
  const copy = cloneJSON(res) as AnyResource;
  copy.apiVersion = API_VERSION;
  copy.metadata = { ...(copy.metadata ?? {}) };
  delete copy.metadata.resourceVersion;
  delete copy.metadata.selfLink;
  if (POLICY_KINDS.has(copy.kind)) {
    copy.metadata.annotations = { ...(copy.metadata.annotations ?? {}), [POLICY_NAME_ANNOTATION]: JSON.stringify({ name: copy.metadata.name }) };
  }
  return { key, value: JSON.stringify(copy) };
}

function parseJSON(key: string, value: string | Uint8Array): unknown {
  const text = typeof value === 'string' ? value : new TextDecoder().decode(value);
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new ModelError('invalid-stored-value', `datastore value at ${key} is not JSON: ${err instanceof Error ? err.message : String(err)}`, { action: 'read' });
  }
}

/**
 * The resource a reader sees for a stored key/value: resourceVersion = the etcd mod revision,
 * policy names restored from their annotation, IPAM values in v3 shape.
 */
export function fromStorage(key: string, value: string | Uint8Array, modRevision: string | number | bigint): AnyResource {
  const parsed = parseKey(key);
  const raw = parseJSON(key, value);
  if (!isObj(raw)) throw new ModelError('invalid-stored-value', `datastore value at ${key} is not an object`, { action: 'read', kind: parsed.kind, name: parsed.name });
  const rv = String(modRevision);
  if (KINDS[parsed.kind].ipam) {
    const metadata: ObjectMeta = { name: parsed.name, resourceVersion: rv };
    let spec: Obj;
    if (parsed.kind === 'IPAMBlock') {
      spec = {
        cidr: raw.cidr ?? parsed.cidr,
        ...(raw.affinity != null ? { affinity: raw.affinity } : {}),
        ...(raw.affinity_claim_time != null ? { affinityClaimTime: raw.affinity_claim_time } : {}),
        strictAffinity: false,
        allocations: raw.allocations ?? [],
        unallocated: raw.unallocated ?? [],
        attributes: raw.attributes ?? [],
        sequenceNumber: raw.sequenceNumber ?? 0,
        ...(isObj(raw.sequenceNumberForAllocation) ? { sequenceNumberForAllocation: raw.sequenceNumberForAllocation } : {}),
        deleted: raw.deleted === true,
      };
    } else if (parsed.kind === 'BlockAffinity') {
      spec = { state: raw.state ?? '', node: parsed.node, type: parsed.affinityType, cidr: parsed.cidr, deleted: raw.deleted === true || raw.deleted === 'true' };
    } else {
      spec = { handleID: parsed.name, block: isObj(raw.block) ? raw.block : {}, deleted: raw.deleted === true };
    }
    return { apiVersion: API_VERSION, kind: parsed.kind, metadata, spec } as AnyResource;
  }
  const res = raw as unknown as AnyResource;
  res.apiVersion = API_VERSION;
  res.kind = parsed.kind;
  res.metadata = isObj(res.metadata) ? res.metadata : {};
  res.metadata.resourceVersion = rv;
  delete res.metadata.selfLink;
  if (POLICY_KINDS.has(parsed.kind)) {
    const ann = res.metadata.annotations;
    const stored = ann?.[POLICY_NAME_ANNOTATION];
    let name = res.metadata.name ?? parsed.name;
    if (stored !== undefined) {
      const meta = parseJSON(`${key} (annotation ${POLICY_NAME_ANNOTATION})`, stored);
      if (isObj(meta) && typeof meta.name === 'string') name = meta.name;
      delete ann![POLICY_NAME_ANNOTATION];
      if (Object.keys(ann!).length === 0) delete res.metadata.annotations;
    } else {
      name = policyNameFromStorage(name, (res.spec as Obj | undefined)?.tier as string | undefined);
    }
    res.metadata.name = name;
  } else if (res.metadata.name === undefined) {
    res.metadata.name = parsed.name;
  }
  if (KINDS[parsed.kind].namespaced && res.metadata.namespace === undefined && parsed.namespace) res.metadata.namespace = parsed.namespace;
  return res;
}

