// validate(resource) and applyDefaults(resource): structural checks against the kind's
// schema, Calico's defaults (CRD defaults plus the Go client's), then the semantic rules.
import { canonicalCIDR, tryParseCIDR, isMasked } from '../lib/index.ts';
import { ErrorCollector, ValidationError, type ErrorContext, type FieldError } from './errors.ts';
import { KINDS, isKindName, type KindName } from './kinds.ts';
import { SCHEMAS } from './registry.ts';
import { cloneJSON, walk, type SchemaNode } from './schema.ts';
import type { AnyResource, ResourceByKind } from './types.ts';
import { checkAnnotations, checkLabels, isSubdomainName, isLabelName } from './checks.ts';
import { checkPolicyName, checkPolicySpec, checkProfile, checkStagedDelete, checkTier } from './validate-policy.ts';
import {
  checkBGPConfiguration, checkBGPFilter, checkBGPPeer, checkBlockAffinity, checkCalicoNodeStatus, checkFelixConfiguration,
  checkHostEndpoint, checkIPAMBlock, checkIPAMConfiguration, checkIPPool, checkIPReservation, checkKubeControllers, checkNetworkSet,
  checkNode, checkWorkloadEndpoint,
} from './validate-network.ts';

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

const str: SchemaNode = { type: 'string' };
/** Kubernetes ObjectMeta as calicoctl accepts it. */
export const METADATA_SCHEMA: SchemaNode = {
  type: 'object',
  properties: {
    name: str, generateName: str, namespace: str, selfLink: str, uid: str, resourceVersion: str,
    generation: { type: 'integer' },
    creationTimestamp: { type: 'string', format: 'date-time', nullable: true },
    deletionTimestamp: { type: 'string', format: 'date-time', nullable: true },
    deletionGracePeriodSeconds: { type: 'integer' },
    labels: { type: 'object', additionalProperties: str },
    annotations: { type: 'object', additionalProperties: str },
    ownerReferences: { type: 'array', items: { type: 'object', preserveUnknown: true, properties: {} } },
    finalizers: { type: 'array', items: str },
    managedFields: { type: 'array', items: { type: 'object', preserveUnknown: true, properties: {} } },
  },
};

export const TIER_LABEL = 'projectcalico.org/tier';
const POLICY_LIKE = new Set<KindName>(['GlobalNetworkPolicy', 'NetworkPolicy', 'StagedGlobalNetworkPolicy', 'StagedNetworkPolicy']);

/**
 * Structural check of a whole resource (top-level fields, metadata, spec, status against the
 * kind's schema). With `defaults`, fills schema defaults in place. Returns the field errors.
 */
export function checkStructure(res: Obj, kind: KindName, defaults: boolean, decodeOnly = false): FieldError[] {
  const errs = new ErrorCollector();
  const schema = SCHEMAS[kind];
  for (const key of Object.keys(res)) {
    if (key === 'apiVersion' || key === 'kind') continue;
    if (key === 'metadata') {
      if (res.metadata === null) delete res.metadata;
      else walk(METADATA_SCHEMA, res.metadata, 'metadata', errs, { defaults: false, decodeOnly });
      continue;
    }
    const sub = schema.properties?.[key];
    if (!sub) {
      errs.add(key, 'unknown-field', `unknown field "${key}"`);
      continue;
    }
    if (res[key] === null) {
      delete res[key];
      continue;
    }
    res[key] = walk(sub, res[key], key, errs, { defaults, decodeOnly });
  }
  if (defaults && res.spec === undefined && schema.properties?.spec) {
    res.spec = {};
    walk(schema.properties.spec, res.spec, 'spec', errs, { defaults });
  }
  return errs.errors;
}

function defaultPolicyTypes(spec: Obj): void {
  if (Array.isArray(spec.types) && spec.types.length > 0) return;
  const ing = Array.isArray(spec.ingress) && spec.ingress.length > 0;
  const eg = Array.isArray(spec.egress) && spec.egress.length > 0;
  spec.types = !eg ? ['Ingress'] : !ing ? ['Egress'] : ['Ingress', 'Egress'];
}

/** Calico's Go-side defaults, applied after the CRD defaults. Mutates `res`. */
function applyGoDefaults(res: AnyResource): void {
  res.spec ??= {};
  if (!isObj(res.spec) || !isObj(res.metadata)) return; // a type error, already reported
  const spec = res.spec;
  const kind = res.kind;
  if (POLICY_LIKE.has(kind)) {
    if (spec.stagedAction !== 'Delete') defaultPolicyTypes(spec);
    const tier = typeof spec.tier === 'string' && spec.tier !== '' ? spec.tier : 'default';
    res.metadata.labels = { ...(res.metadata.labels ?? {}), [TIER_LABEL]: tier };
  }
  switch (kind) {
    case 'IPPool': {
      const c = typeof spec.cidr === 'string' ? tryParseCIDR(spec.cidr) : null;
      if (c && isMasked(c)) spec.cidr = canonicalCIDR(spec.cidr as string)!;
      if (!spec.blockSize && c) spec.blockSize = c.family === 4 ? 26 : 122;
      if (!spec.nodeSelector) spec.nodeSelector = 'all()';
      if (!spec.ipipMode) spec.ipipMode = 'Never';
      if (!spec.vxlanMode) spec.vxlanMode = 'Never';
      if (!Array.isArray(spec.allowedUses) || spec.allowedUses.length === 0) spec.allowedUses = ['Workload', 'Tunnel'];
      if (!spec.assignmentMode) spec.assignmentMode = 'Automatic';
      break;
    }
    case 'Tier':
      if (spec.order === undefined) spec.order = 1_000_000;
      if (spec.defaultAction === undefined) spec.defaultAction = 'Deny';
      break;
    case 'KubeControllersConfiguration': {
      if (spec.prometheusMetricsPort === undefined) spec.prometheusMetricsPort = 9094;
      const ctl = isObj(spec.controllers) ? spec.controllers : undefined;
      if (ctl && isObj(ctl.node)) {
        if (ctl.node.leakGracePeriod === undefined) ctl.node.leakGracePeriod = '15m0s';
        const hep = ctl.node.hostEndpoint;
        if (isObj(hep) && Array.isArray(hep.templates)) {
          for (const t of hep.templates) if (isObj(t) && !t.nodeSelector) t.nodeSelector = 'all()';
        }
      }
      if (ctl && isObj(ctl.loadBalancer) && !ctl.loadBalancer.assignIPs) ctl.loadBalancer.assignIPs = 'AllServices';
      break;
    }
    case 'FelixConfiguration':
      if (spec.floatingIPs === undefined) spec.floatingIPs = 'Disabled';
      if (spec.bpfConnectTimeLoadBalancing === undefined) spec.bpfConnectTimeLoadBalancing = 'TCP';
      if (spec.bpfHostNetworkedNATWithoutCTLB === undefined) spec.bpfHostNetworkedNATWithoutCTLB = 'Enabled';
      if (spec.bpfConnectTimeLoadBalancingEnabled !== undefined) {
        spec.bpfHostNetworkedNATWithoutCTLB = 'Disabled';
        spec.bpfConnectTimeLoadBalancing = spec.bpfConnectTimeLoadBalancingEnabled === true ? 'Enabled' : 'Disabled';
      }
      break;
    default:
      break;
  }
}

/**
 * A copy of `res` with Calico's defaults applied: CRD schema defaults (Tier defaultAction,
 * policy tier, IPAMConfiguration autoAllocateBlocks, ...) and the Go client's (policy `types`
 * from ingress/egress, the projectcalico.org/tier label, IPPool blockSize 26/122, ipipMode and
 * vxlanMode Never, nodeSelector all(), allowedUses, Tier order, FelixConfiguration BPF modes).
 */
export function applyDefaults<R extends AnyResource>(res: R): R {
  const copy = cloneJSON(res);
  if (!isObj(copy) || !isKindName(copy.kind)) return copy;
  copy.metadata ??= {};
  checkStructure(copy as unknown as Obj, copy.kind, true);
  applyGoDefaults(copy);
  return copy;
}

function checkMetadata(errs: ErrorCollector, kind: KindName, meta: Obj): void {
  const name = typeof meta.name === 'string' ? meta.name : '';
  if (name === '' && !meta.generateName) errs.add('metadata.name', 'required', 'a name is required');
  else if (name !== '') {
    if (name.length > 253) errs.add('metadata.name', 'range', `name is too long by ${name.length - 253} bytes (at most 253)`);
    else if (!isSubdomainName(name)) {
      errs.add('metadata.name', 'format', `invalid name ${JSON.stringify(name)}: expected lower case alphanumeric characters, '-' or '.', starting and ending with an alphanumeric character`);
    }
  }
  const ns = meta.namespace;
  if (KINDS[kind].namespaced) {
    if (typeof ns === 'string' && ns !== '' && !isLabelName(ns)) errs.add('metadata.namespace', 'format', `invalid namespace ${JSON.stringify(ns)}: expected a DNS label`);
  } else if (typeof ns === 'string' && ns !== '') {
    errs.add('metadata.namespace', 'forbidden', `${kind} is not namespaced: remove metadata.namespace`);
  }
  checkLabels(errs, 'metadata.labels', meta.labels);
  checkAnnotations(errs, 'metadata.annotations', meta.annotations);
}

function checkSemantics(errs: ErrorCollector, res: AnyResource): void {
  if (!isObj(res.metadata)) return;
  const name = typeof res.metadata.name === 'string' ? res.metadata.name : '';
  checkMetadata(errs, res.kind, res.metadata as Obj);
  if (!isObj(res.spec)) return; // a type error, already reported
  const spec = res.spec;
  switch (res.kind) {
    case 'GlobalNetworkPolicy':
      checkPolicyName(errs, name, true);
      checkPolicySpec(errs, spec, true);
      break;
    case 'NetworkPolicy':
      checkPolicyName(errs, name, false);
      checkPolicySpec(errs, spec, false);
      break;
    case 'StagedGlobalNetworkPolicy':
      checkPolicyName(errs, name, true);
      if (!checkStagedDelete(errs, spec, ['tier'])) checkPolicySpec(errs, spec, true);
      break;
    case 'StagedNetworkPolicy':
      checkPolicyName(errs, name, false);
      if (!checkStagedDelete(errs, spec, ['tier'])) checkPolicySpec(errs, spec, false);
      break;
    case 'StagedKubernetesNetworkPolicy':
      checkStagedDelete(errs, spec, []);
      break;
    case 'Tier':
      checkTier(errs, name, spec);
      break;
    case 'Profile':
      checkProfile(errs, spec);
      break;
    case 'GlobalNetworkSet':
    case 'NetworkSet':
      checkNetworkSet(errs, spec, res.metadata.labels);
      break;
    case 'HostEndpoint':
      checkHostEndpoint(errs, spec);
      break;
    case 'WorkloadEndpoint':
      checkWorkloadEndpoint(errs, spec);
      break;
    case 'IPPool':
      checkIPPool(errs, spec);
      break;
    case 'IPReservation':
      checkIPReservation(errs, spec);
      break;
    case 'BGPPeer':
      checkBGPPeer(errs, spec);
      break;
    case 'BGPConfiguration':
      checkBGPConfiguration(errs, name, spec);
      break;
    case 'BGPFilter':
      checkBGPFilter(errs, spec);
      break;
    case 'Node':
      checkNode(errs, spec, res.status);
      break;
    case 'FelixConfiguration':
      checkFelixConfiguration(errs, name, spec);
      break;
    case 'IPAMConfiguration':
      checkIPAMConfiguration(errs, spec);
      break;
    case 'BlockAffinity':
      checkBlockAffinity(errs, spec);
      break;
    case 'IPAMBlock':
      checkIPAMBlock(errs, spec);
      break;
    case 'CalicoNodeStatus':
      checkCalicoNodeStatus(errs, spec);
      break;
    case 'KubeControllersConfiguration':
      checkKubeControllers(errs, spec);
      break;
    default:
      break;
  }
}

/** One error per path and code: the schema and the semantic pass can both notice a bad CIDR. */
function dedupe(errors: FieldError[]): FieldError[] {
  const seen = new Set<string>();
  return errors.filter((e) => {
    const k = `${e.path}\u0000${e.code}`;
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}

/**
 * All field errors of a resource, as Calico would report them on create/apply: schema
 * (unknown fields, types, enums, bounds, formats), then — on a defaulted copy — Calico's
 * semantic rules. An empty list means valid.
 */
export function validate(res: AnyResource): FieldError[] {
  if (!isObj(res) || typeof res.kind !== 'string' || !isKindName(res.kind)) {
    return [{ path: 'kind', code: 'enum', message: `unknown kind ${JSON.stringify((res as { kind?: unknown } | null)?.kind)}` }];
  }
  const copy = cloneJSON(res) as AnyResource;
  if (copy.metadata === undefined || copy.metadata === null) copy.metadata = {};
  const structural = checkStructure(copy as unknown as Obj, copy.kind, true);
  if (!isObj(copy.metadata)) copy.metadata = {}; // (its type error is in `structural`)
  applyGoDefaults(copy);
  const errs = new ErrorCollector();
  checkSemantics(errs, copy);
  return dedupe([...structural, ...errs.errors]);
}

/** validate() that throws a ValidationError naming the resource and every failing field. */
export function assertValid(res: AnyResource, ctx: ErrorContext = {}): void {
  const errors = validate(res);
  if (errors.length) {
    throw new ValidationError(errors, { kind: res.kind, name: res.metadata?.name, namespace: res.metadata?.namespace, ...ctx });
  }
}

/** Type guard: narrow a decoded resource to its kind's type. */
export function isKind<K extends KindName>(res: { kind: string }, kind: K): res is ResourceByKind[K] {
  return res.kind === kind;
}
