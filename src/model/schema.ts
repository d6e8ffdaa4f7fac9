// Structural schemas (the shape of Calico's CRD OpenAPI schemas, facts only) and one generic
// walker that checks types, enums, bounds, formats and unknown fields, and applies defaults.
import { tryParseCIDR } from '../lib/index.ts';
import { type ErrorCollector, joinPath } from './errors.ts';

export interface SchemaNode {
  readonly type?: 'string' | 'integer' | 'number' | 'boolean' | 'object' | 'array';
  /** Kubernetes int-or-string: an integer or a string. */
  readonly intOrString?: boolean;
  readonly enum?: readonly unknown[];
  readonly format?: string;
  readonly default?: unknown;
  readonly pattern?: string;
  readonly minimum?: number;
  readonly maximum?: number;
  readonly maxLength?: number;
  readonly minLength?: number;
  readonly maxItems?: number;
  readonly minItems?: number;
  readonly maxProperties?: number;
  readonly nullable?: boolean;
  readonly preserveUnknown?: boolean;
  readonly listType?: string;
  readonly listMapKeys?: readonly string[];
  /** Number of CEL rules Calico attaches here (implemented by hand in validate-*.ts). */
  readonly cel?: number;
  readonly properties?: Readonly<Record<string, SchemaNode>>;
  readonly required?: readonly string[];
  /** For maps: the schema of every value. */
  readonly additionalProperties?: SchemaNode;
  readonly items?: SchemaNode;
}

export interface WalkOptions {
  /** Fill in schema defaults for absent fields (inside objects that are present). */
  defaults: boolean;
  /**
   * Only what Go's strict decoder checks (JSON types, unknown fields); skip enums, formats,
   * patterns, bounds and required fields (those are validation).
   */
  decodeOnly?: boolean;
}

const patternCache = new Map<string, RegExp | null>();
/** Compile a Go RE2 pattern as a JS RegExp: a leading `(?i)` becomes the `i` flag. */
function compiled(p: string): RegExp | null {
  let re = patternCache.get(p);
  if (re === undefined) {
    const ci = p.replace(/^\^\(\?i\)/, '^').replace(/^\(\?i\)/, '');
    try {
      re = new RegExp(ci, ci !== p ? 'i' : '');
    } catch {
      re = null; // a construct JS lacks: leave the value to the semantic checks
    }
    patternCache.set(p, re);
  }
  return re;
}

const RFC3339 = /^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$/;

/** Deep copy of plain JSON data (much faster than structuredClone for resources). */
export function cloneJSON<T>(v: T): T {
  return v === undefined ? v : (JSON.parse(JSON.stringify(v)) as T);
}

export function jsonType(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  if (typeof v === 'number') return Number.isInteger(v) ? 'integer' : 'number';
  return typeof v;
}

function describeType(s: SchemaNode): string {
  if (s.intOrString) return 'an integer or a string';
  switch (s.type) {
    case 'string': return 'a string';
    case 'integer': return 'an integer';
    case 'number': return 'a number';
    case 'boolean': return 'true or false';
    case 'array': return 'a list';
    case 'object': return s.additionalProperties ? 'a map' : 'an object';
    default: return 'a value';
  }
}

function describeValue(v: unknown): string {
  const t = jsonType(v);
  if (t === 'string') return `string ${JSON.stringify(v)}`;
  if (t === 'integer' || t === 'number' || t === 'boolean') return `${String(v)}`;
  if (t === 'array') return 'a list';
  if (t === 'object') return 'an object';
  return t;
}

export function formatEnum(values: readonly unknown[]): string {
  const parts = values.map((v) => String(v));
  if (parts.length <= 1) return parts.join('');
  return `${parts.slice(0, -1).join(', ')} or ${parts[parts.length - 1]}`;
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Fields whose names the walker leaves to its caller (metadata is checked separately). */
export interface WalkHooks {
  skip?: ReadonlySet<string>;
}

/**
 * Check `value` against `schema`, recording problems in `errs`; with `opts.defaults` fill in
 * schema defaults (mutating `value`). Returns the (possibly replaced) value.
 */
export function walk(schema: SchemaNode, value: unknown, path: string, errs: ErrorCollector, opts: WalkOptions): unknown {
  if (opts.decodeOnly) {
    const add = errs.add.bind(errs);
    const filtered = Object.create(errs) as ErrorCollector;
    filtered.add = (p, code, msg) => {
      if (code === 'type' || code === 'unknown-field') add(p, code, msg);
    };
    return walkInner(schema, value, path, filtered, opts);
  }
  return walkInner(schema, value, path, errs, opts);
}

function walkInner(schema: SchemaNode, value: unknown, path: string, errs: ErrorCollector, opts: WalkOptions): unknown {
  if (value === null) {
    return value;
  }
  if (schema.intOrString) {
    if (typeof value === 'number' && Number.isInteger(value)) return value;
    if (typeof value === 'string') return value;
    errs.add(path, 'type', `expected ${describeType(schema)}, got ${describeValue(value)}`);
    return value;
  }
  switch (schema.type) {
    case 'string': {
      // Calico decodes YAML through sigs.k8s.io/yaml, which turns a scalar into its text when
      // the target is a string (a label `routeReflector: true` becomes "true").
      if (typeof value === 'number' || typeof value === 'boolean') value = String(value);
      if (typeof value !== 'string') {
        errs.add(path, 'type', `expected ${describeType(schema)}, got ${describeValue(value)}`);
        return value;
      }
      // Go's omitempty drops "" before Calico's CRD checks run, so "" passes enums.
      if (schema.enum && value !== '' && !schema.enum.includes(value)) {
        errs.add(path, 'enum', `expected ${formatEnum(schema.enum)}, got ${JSON.stringify(value)}`);
      }
      const len = [...value].length;
      if (schema.maxLength !== undefined && len > schema.maxLength) {
        errs.add(path, 'range', `must be at most ${schema.maxLength} characters long (got ${len})`);
      }
      if (schema.minLength !== undefined && len < schema.minLength) {
        errs.add(path, 'range', `must be at least ${schema.minLength} characters long`);
      }
      if (schema.pattern && value !== '' && compiled(schema.pattern)?.test(value) === false) {
        errs.add(path, 'pattern', `${JSON.stringify(value)} does not match the pattern ${schema.pattern}`);
      }
      if (value !== '' && schema.format === 'cidr' && !tryParseCIDR(value)) {
        errs.add(path, 'format', `expected a CIDR like 10.0.0.0/16 or fd00::/64, got ${JSON.stringify(value)}`);
      }
      if (value !== '' && schema.format === 'date-time' && !RFC3339.test(value)) {
        errs.add(path, 'format', `expected an RFC 3339 date-time like 2026-01-02T15:04:05Z, got ${JSON.stringify(value)}`);
      }
      return value;
    }
    case 'integer':
    case 'number': {
      if (typeof value !== 'number' || !Number.isFinite(value) || (schema.type === 'integer' && !Number.isInteger(value))) {
        errs.add(path, 'type', `expected ${describeType(schema)}, got ${describeValue(value)}`);
        return value;
      }
      if (schema.enum && !schema.enum.includes(value)) errs.add(path, 'enum', `expected ${formatEnum(schema.enum)}, got ${value}`);
      let min = schema.minimum;
      let max = schema.maximum;
      if (schema.format === 'int32') {
        min = Math.max(min ?? -2147483648, -2147483648);
        max = Math.min(max ?? 2147483647, 2147483647);
      }
      if ((min !== undefined && value < min) || (max !== undefined && value > max)) {
        const range = min !== undefined && max !== undefined ? `between ${min} and ${max}` : min !== undefined ? `at least ${min}` : `at most ${max}`;
        errs.add(path, 'range', `must be ${range}, got ${value}`);
      }
      return value;
    }
    case 'boolean':
      if (typeof value !== 'boolean') errs.add(path, 'type', `expected ${describeType(schema)}, got ${describeValue(value)}`);
      return value;
    case 'array': {
      if (!Array.isArray(value)) {
        errs.add(path, 'type', `expected ${describeType(schema)}, got ${describeValue(value)}`);
        return value;
      }
      if (schema.maxItems !== undefined && value.length > schema.maxItems) {
        errs.add(path, 'range', `must have at most ${schema.maxItems} items (got ${value.length})`);
      }
      if (schema.minItems !== undefined && value.length < schema.minItems) {
        errs.add(path, 'range', `must have at least ${schema.minItems} item${schema.minItems === 1 ? '' : 's'}`);
      }
      if (schema.items) {
        for (let i = 0; i < value.length; i++) {
          if (value[i] === null && !schema.items.nullable) {
            errs.add(joinPath(path, i), 'type', `expected ${describeType(schema.items)}, got null`);
            continue;
          }
          value[i] = walkInner(schema.items, value[i], joinPath(path, i), errs, opts);
        }
      }
      if (schema.listType === 'set') {
        const seen = new Set<string>();
        value.forEach((v, i) => {
          const key = JSON.stringify(v);
          if (seen.has(key)) errs.add(joinPath(path, i), 'duplicate', `duplicate value ${key}`);
          seen.add(key);
        });
      }
      return value;
    }
    case 'object': {
      if (!isPlainObject(value)) {
        errs.add(path, 'type', `expected ${describeType(schema)}, got ${describeValue(value)}`);
        return value;
      }
      if (schema.maxProperties !== undefined && Object.keys(value).length > schema.maxProperties) {
        errs.add(path, 'range', `must have at most ${schema.maxProperties} entries`);
      }
      if (schema.properties) {
        for (const k0 of Object.keys(value)) {
          let key = k0;
          let sub = schema.properties[key];
          if (!sub && !schema.additionalProperties) {
            // Go's encoding/json (behind Calico's strict YAML decoder) matches field names
            // case-insensitively when there is no exact match: `Order: 100` sets order.
            const folded = Object.keys(schema.properties).find((k) => k.toLowerCase() === key.toLowerCase());
            if (folded !== undefined && !(folded in value)) {
              value[folded] = value[key];
              delete value[key];
              key = folded;
              sub = schema.properties[key];
            }
          }
          const p = joinPath(path, key);
          if (!sub) {
            if (schema.additionalProperties) {
              value[key] = walkInner(schema.additionalProperties, value[key], p, errs, opts);
            } else if (!schema.preserveUnknown) {
              errs.add(p, 'unknown-field', `unknown field "${key}"`);
            }
            continue;
          }
          if (value[key] === null && !sub.nullable) {
            // Go's decoder and Kubernetes both treat null as "not set".
            delete value[key];
            continue;
          }
          value[key] = walkInner(sub, value[key], p, errs, opts);
        }
        if (opts.defaults) applyDefaultsHere(schema, value);
        for (const r of schema.required ?? []) {
          if (value[r] !== undefined) continue;
          const t = schema.properties[r]?.type;
          // Go always serializes struct and bool fields, so Calico never sees these missing.
          if (t === 'object' || t === 'boolean') {
            if (opts.defaults) value[r] = t === 'object' ? {} : false;
            continue;
          }
          errs.add(joinPath(path, r), 'required', 'required field is missing');
        }
      } else if (schema.additionalProperties) {
        for (const key of Object.keys(value)) {
          if (value[key] === null && !schema.additionalProperties.nullable) {
            delete value[key];
            continue;
          }
          value[key] = walkInner(schema.additionalProperties, value[key], joinPath(path, key), errs, opts);
        }
      }
      return value;
    }
    default:
      return value;
  }
}

function applyDefaultsHere(schema: SchemaNode, obj: Record<string, unknown>): void {
  for (const [key, sub] of Object.entries(schema.properties ?? {})) {
    if (sub.default === undefined) continue;
    const cur = obj[key];
    // "" counts as unset: Go's omitempty drops it before Calico's defaulting.
    if (cur === undefined || (cur === '' && sub.type === 'string')) obj[key] = typeof sub.default === 'object' && sub.default !== null ? cloneJSON(sub.default) : sub.default;
  }
}

/** Look up the schema at a dotted path of property names (`spec.ingress` → the rule list). */
export function schemaAt(schema: SchemaNode, ...names: string[]): SchemaNode | undefined {
  let cur: SchemaNode | undefined = schema;
  for (const n of names) {
    if (!cur) return undefined;
    if (n === '[]') cur = cur.items;
    else cur = cur.properties?.[n] ?? cur.additionalProperties;
  }
  return cur;
}
