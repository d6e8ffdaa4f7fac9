// -o yaml / -o json as calicoctl prints them. calicoctl marshals YAML through JSON
// (sigs.k8s.io/yaml), so every mapping's keys come out sorted and lists are not indented
// under their key; JSON keeps the Go struct order (kind, apiVersion, metadata, spec, ...),
// indented by two spaces.
import { stringify } from 'yaml';

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

function sortDeep(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(sortDeep);
  if (!isObj(v)) return v;
  const out: Obj = {};
  for (const k of Object.keys(v).sort()) if (v[k] !== undefined) out[k] = sortDeep(v[k]);
  return out;
}

// metav1.ObjectMeta's field order
const META_ORDER = [
  'name', 'generateName', 'namespace', 'selfLink', 'uid', 'resourceVersion', 'generation', 'creationTimestamp',
  'deletionTimestamp', 'deletionGracePeriodSeconds', 'labels', 'annotations', 'ownerReferences', 'finalizers', 'managedFields',
];

function goOrder(v: unknown, depth = 0): unknown {
  if (Array.isArray(v)) return v.map((x) => goOrder(x, depth + 1));
  if (!isObj(v)) return v;
  const out: Obj = {};
  const keys = Object.keys(v);
  const first = depth === 0 || 'apiVersion' in v ? ['kind', 'apiVersion', 'metadata'] : [];
  for (const k of first) if (k in v && v[k] !== undefined) out[k] = k === 'metadata' ? orderMeta(v[k]) : v[k];
  for (const k of keys) if (!(k in out) && v[k] !== undefined) out[k] = goOrder(v[k], depth + 1);
  return out;
}

function orderMeta(m: unknown): unknown {
  if (!isObj(m)) return m;
  const out: Obj = {};
  for (const k of META_ORDER) if (m[k] !== undefined) out[k] = m[k];
  for (const k of Object.keys(m)) if (!(k in out) && m[k] !== undefined) out[k] = m[k];
  return out;
}

/** Go's encoding/json escapes <, >, & and U+2028/U+2029 in strings (HTML-safe output). */
function goJsonEscape(json: string): string {
  return json.replace(/[<>&\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/**
 * The text calicoctl prints. JSON is Go's json.MarshalIndent written as is: HTML-escaped,
 * and with no newline at the end.
 */
export function encodeOutput(value: unknown, format: 'yaml' | 'json'): string {
  if (format === 'json') return goJsonEscape(JSON.stringify(goOrder(value), null, 2));
  // YAML 1.1 rules for quoting, as go-yaml's: strings that 1.1 would read as timestamps or
  // booleans (creationTimestamp, "yes", "on") are quoted.
  return stringify(sortDeep(value), { version: '1.1', indentSeq: false, lineWidth: 0, aliasDuplicateObjects: false });
}
