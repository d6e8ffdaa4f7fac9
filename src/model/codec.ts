// YAML/JSON codecs: multi-document YAML or JSON, Calico List kinds and plain arrays in,
// typed resources out; encode back to YAML or JSON with a stable field order.
import { parseAllDocuments, stringify, type ScalarTag } from 'yaml';
import { ModelError, ValidationError, type ErrorContext, type FieldError } from './errors.ts';
import { API_VERSION, KINDS, isKindName, kindForList, lookupKind } from './kinds.ts';
import type { AnyResource } from './types.ts';
import { checkStructure, validate } from './validate.ts';

export interface DecodeOptions {
  /** Name of the input for messages (file name, "stdin"). */
  source?: string;
  /** Verb for messages: "cannot <action> ...". Default "apply". */
  action?: string;
  /**
   * Validate as Calico does on create/apply (default true). With false, only what Go's strict
   * decoder checks (JSON types, unknown fields): what calicoctl delete/get need.
   */
  validate?: boolean;
}

export interface DecodedResource {
  resource: AnyResource;
  /** 1-based document index in the input. */
  document: number;
  /** 1-based index inside a List document or top-level array. */
  item?: number;
}

export interface DecodeResult {
  resources: DecodedResource[];
  errors: ModelError[];
}

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * YAML 1.1 booleans (yes/no/on/off/y/n), as Calico's YAML decoder (go-yaml v2 under
 * sigs.k8s.io/yaml) reads them; everything else follows YAML 1.2 (so `80:90` stays a string).
 */
const YAML11_BOOL: ScalarTag = {
  identify: (v) => typeof v === 'boolean',
  default: true,
  tag: 'tag:yaml.org,2002:bool',
  test: /^(?:y|Y|yes|Yes|YES|n|N|no|No|NO|on|On|ON|off|Off|OFF)$/,
  resolve: (s: string) => /^(?:y|Y|yes|Yes|YES|on|On|ON)$/.test(s),
};

/** Kinds people put in Kubernetes manifests, to say clearly what they are. */
const KNOWN_K8S_GROUPS: Readonly<Record<string, string>> = {
  v1: 'Kubernetes core/v1',
  'discovery.k8s.io/v1': 'Kubernetes discovery.k8s.io/v1',
  'networking.k8s.io/v1': 'Kubernetes networking.k8s.io/v1',
  'apps/v1': 'Kubernetes apps/v1',
  'crd.projectcalico.org/v1': "Calico's internal CRD (crd.projectcalico.org/v1)",
};

function decodeOne(raw: unknown, ctx: ErrorContext, opts: DecodeOptions, out: DecodeResult, document: number, item?: number): void {
  const base: ErrorContext = { source: opts.source, action: opts.action, document, item };
  if (!isObj(raw)) {
    out.errors.push(new ModelError('not-an-object', `expected a resource (a mapping with apiVersion, kind, metadata and spec), got ${Array.isArray(raw) ? 'a list' : JSON.stringify(raw)}`, base));
    return;
  }
  const kind = raw.kind;
  const apiVersion = raw.apiVersion;
  const meta = isObj(raw.metadata) ? raw.metadata : {};
  const named: ErrorContext = {
    ...base,
    kind: typeof kind === 'string' ? kind : undefined,
    name: typeof meta.name === 'string' ? meta.name : undefined,
    namespace: typeof meta.namespace === 'string' ? meta.namespace : undefined,
  };
  if (typeof kind !== 'string' || kind === '') {
    out.errors.push(new ModelError('missing-kind', 'kind: required field is missing (e.g. kind: GlobalNetworkPolicy)', named));
    return;
  }
  // List kinds (IPPoolList, ...) and the generic "List".
  const listOf = kindForList(kind);
  if (listOf || kind === 'List') {
    if (apiVersion !== API_VERSION && !(kind === 'List' && apiVersion === 'v1')) {
      out.errors.push(new ModelError('wrong-api-version', `apiVersion: expected ${API_VERSION} for ${kind}, got ${JSON.stringify(apiVersion)}`, named));
      return;
    }
    const items = raw.items;
    if (items !== undefined && items !== null && !Array.isArray(items)) {
      out.errors.push(new ModelError('invalid-resource', 'items: expected a list of resources', named));
      return;
    }
    (Array.isArray(items) ? items : []).forEach((it, i) => {
      const child = isObj(it) && listOf && it.kind === undefined ? { apiVersion: API_VERSION, kind: listOf.kind, ...it } : it;
      decodeOne(child, ctx, opts, out, document, i + 1);
    });
    return;
  }
  if (!isKindName(kind)) {
    const alias = lookupKind(kind);
    if (apiVersion !== API_VERSION) {
      const what = typeof apiVersion === 'string' && KNOWN_K8S_GROUPS[apiVersion] ? `a ${KNOWN_K8S_GROUPS[apiVersion]} resource` : `apiVersion ${JSON.stringify(apiVersion)}`;
      out.errors.push(new ModelError('not-calico-kind', `kind ${kind} (${what}) is not a ${API_VERSION} resource; calicoctl manages only Calico resources (use kubectl for Kubernetes kinds)`, named));
    } else {
      const hint = alias ? ` (did you mean ${alias.kind}?)` : '';
      out.errors.push(new ModelError('unknown-kind', `kind: unknown ${API_VERSION} kind ${JSON.stringify(kind)}${hint}`, named));
    }
    return;
  }
  if (apiVersion === undefined || apiVersion === null || apiVersion === '') {
    out.errors.push(new ModelError('missing-api-version', `apiVersion: required field is missing (expected ${API_VERSION})`, named));
    return;
  }
  if (apiVersion !== API_VERSION) {
    const hint = apiVersion === 'crd.projectcalico.org/v1' ? " (crd.projectcalico.org/v1 is Calico's internal storage API; manifests use projectcalico.org/v3)" : '';
    out.errors.push(new ModelError('wrong-api-version', `apiVersion: expected ${API_VERSION} for ${kind}, got ${JSON.stringify(apiVersion)}${hint}`, named));
    return;
  }
  // Normalize shape: metadata always present; field order apiVersion, kind, metadata, spec, status.
  const res: Obj = { apiVersion: API_VERSION, kind, metadata: raw.metadata ?? {} };
  for (const [k, v] of Object.entries(raw)) if (!(k in res)) res[k] = v;
  // The structural pass also normalizes (null = unset, YAML scalars in string fields as text).
  let fieldErrors: FieldError[] = checkStructure(res, kind, false, opts.validate === false);
  if (opts.validate !== false) fieldErrors = validate(res as unknown as AnyResource);
  if (fieldErrors.length) {
    out.errors.push(new ValidationError(fieldErrors, named));
    return;
  }
  out.resources.push({ resource: res as unknown as AnyResource, document, ...(item !== undefined ? { item } : {}) });
}

/** decodeOne, with anything unexpected (e.g. a self-referencing YAML alias) labelled too. */
function safeDecodeOne(raw: unknown, ctx: ErrorContext, opts: DecodeOptions, out: DecodeResult, document: number, item?: number): void {
  try {
    decodeOne(raw, ctx, opts, out, document, item);
  } catch (err) {
    if (err instanceof ModelError) {
      out.errors.push(err);
      return;
    }
    const meta = isObj(raw) && isObj(raw.metadata) ? raw.metadata : {};
    out.errors.push(
      new ModelError('invalid-resource', `cannot be processed: ${err instanceof Error ? err.message : String(err)}`, {
        source: opts.source, action: opts.action, document, item,
        kind: isObj(raw) && typeof raw.kind === 'string' ? raw.kind : undefined,
        name: typeof meta.name === 'string' ? meta.name : undefined,
      }),
    );
  }
}

/** Decode every document, collecting all errors (one ModelError per failing document/item). */
export function decodeDocumentsDetailed(text: string, opts: DecodeOptions = {}): DecodeResult {
  const out: DecodeResult = { resources: [], errors: [] };
  const ctx: ErrorContext = { source: opts.source, action: opts.action };
  // Fast path for JSON (one value: a resource, a List or an array); anything JSON.parse
  // rejects goes through the YAML parser, which also reports the error position.
  const trimmed = text.trimStart();
  if (trimmed.startsWith('{') || trimmed.startsWith('[')) {
    let value: unknown;
    let ok = false;
    try {
      value = JSON.parse(text);
      ok = true;
    } catch {
      // fall through to YAML
    }
    if (ok) {
      if (Array.isArray(value)) value.forEach((v, j) => safeDecodeOne(v, ctx, opts, out, 1, j + 1));
      else safeDecodeOne(value, ctx, opts, out, 1);
      return out;
    }
  }
  let docs;
  try {
    docs = parseAllDocuments(text, { prettyErrors: true, uniqueKeys: true, customTags: [YAML11_BOOL] });
  } catch (err) {
    out.errors.push(new ModelError('syntax', err instanceof Error ? err.message : String(err), ctx));
    return out;
  }
  const list = Array.isArray(docs) ? docs : [docs];
  list.forEach((doc, i) => {
    const document = i + 1;
    if (doc.errors.length) {
      const e = doc.errors[0]!;
      out.errors.push(new ModelError('syntax', `${doc.errors.length > 1 ? `${doc.errors.length} syntax errors, first: ` : ''}${e.message.split('\n')[0]}`, { ...ctx, document }));
      return;
    }
    let value: unknown;
    try {
      value = doc.toJS({ maxAliasCount: 100 });
    } catch (err) {
      out.errors.push(new ModelError('syntax', err instanceof Error ? err.message : String(err), { ...ctx, document }));
      return;
    }
    if (value === null || value === undefined) return; // empty document (comments only)
    if (Array.isArray(value)) value.forEach((v, j) => safeDecodeOne(v, ctx, opts, out, document, j + 1));
    else safeDecodeOne(value, ctx, opts, out, document);
  });
  return out;
}

/** All errors of a decode, thrown as one: the first error, with `.all` holding every one. */
export class DecodeErrors extends ModelError {
  readonly all: readonly ModelError[];
  constructor(all: readonly ModelError[]) {
    const first = all[0]!;
    super(first.code, all.length === 1 ? first.detail : `${first.detail} (and ${all.length - 1} more error${all.length > 2 ? 's' : ''})`, first.context, first.fieldErrors);
    this.name = 'DecodeErrors';
    this.all = all;
    if (all.length > 1) this.message = all.map((e) => e.message).join('\n');
  }
}

/**
 * Decode multi-document YAML or JSON (single resources, `<Kind>List` documents, arrays) into
 * resources, checking structure and (unless `validate: false`) Calico's rules. Throws a
 * DecodeErrors (a ModelError) listing every failing document; nothing is returned partially.
 */
export function decodeDocuments(text: string, opts: DecodeOptions = {}): AnyResource[] {
  const r = decodeDocumentsDetailed(text, opts);
  if (r.errors.length) throw new DecodeErrors(r.errors);
  return r.resources.map((d) => d.resource);
}

/** Decode exactly one resource. */
export function decodeResource(text: string, opts: DecodeOptions = {}): AnyResource {
  const rs = decodeDocuments(text, opts);
  if (rs.length !== 1) throw new ModelError('invalid-resource', `expected exactly one resource, found ${rs.length}`, { source: opts.source, action: opts.action });
  return rs[0]!;
}

function ordered(r: AnyResource): Obj {
  const out: Obj = { apiVersion: r.apiVersion ?? API_VERSION, kind: r.kind, metadata: r.metadata ?? {} };
  if (r.spec !== undefined) out.spec = r.spec;
  for (const [k, v] of Object.entries(r)) if (!(k in out) && v !== undefined) out[k] = v;
  return out;
}

/** YAML, one document per resource separated by `---`. */
export function encodeYAML(resources: AnyResource | readonly AnyResource[]): string {
  const list = Array.isArray(resources) ? resources : [resources as AnyResource];
  return list.map((r) => stringify(ordered(r), { lineWidth: 0, aliasDuplicateObjects: false, customTags: [YAML11_BOOL] })).join('---\n');
}

/** JSON: an object for one resource, an array for several. */
export function encodeJSON(resources: AnyResource | readonly AnyResource[], indent = 2): string {
  const v = Array.isArray(resources) ? resources.map(ordered) : ordered(resources as AnyResource);
  return JSON.stringify(v, null, indent) + '\n';
}

/** A `<Kind>List` object as calicoctl prints for `get -o yaml|json` of many resources. */
export function toList(kind: string, items: readonly AnyResource[], resourceVersion?: string): Obj {
  const info = lookupKind(kind);
  return {
    apiVersion: API_VERSION,
    kind: info ? KINDS[info.kind].listKind : `${kind}List`,
    metadata: resourceVersion ? { resourceVersion } : {},
    items: items.map(ordered),
  };
}
