// Structured errors. Every failure to decode or validate a resource is a ModelError with a
// stable `code`; field problems are collected as FieldErrors (all of them, not just the first).

export const FIELD_ERROR_CODES = [
  'unknown-field', // a field Calico's schema does not have
  'type', // wrong JSON type (string where a number is expected, ...)
  'enum', // not one of the allowed values
  'required', // a required field is missing
  'format', // bad CIDR, IP, date-time, selector, name, ...
  'range', // number, length or item count out of bounds
  'pattern', // does not match the schema's pattern
  'duplicate', // a set-list holds the same item twice
  'invalid', // a semantic rule failed (Calico's validator / CRD CEL rules)
  'forbidden', // a field or combination of fields that is not allowed here
] as const;
export type FieldErrorCode = (typeof FIELD_ERROR_CODES)[number];

export interface FieldError {
  /** Path from the resource root, e.g. `spec.ingress[0].protocol`; `` for the whole resource. */
  readonly path: string;
  readonly code: FieldErrorCode;
  /** What is wrong / what was expected, e.g. `expected TCP, UDP, ... or a number 1-255`. */
  readonly message: string;
}

export const MODEL_ERROR_CODES = [
  'syntax', // YAML/JSON does not parse
  'not-an-object', // a document is not a mapping
  'missing-kind', // no `kind`
  'missing-api-version',
  'wrong-api-version', // a Calico kind with another apiVersion
  'not-calico-kind', // a kind that is not projectcalico.org/v3 (Service, Pod, ...)
  'unknown-kind', // a kind nobody knows
  'invalid-resource', // one or more FieldErrors
  'invalid-key', // a datastore key that does not parse
  'invalid-stored-value', // a datastore value that does not parse
  'invalid-argument', // bad arguments to an API call (e.g. keyFor without a namespace)
] as const;
export type ModelErrorCode = (typeof MODEL_ERROR_CODES)[number];

/** Where a resource came from, for messages: `policy.yaml document 3 (GlobalNetworkPolicy allow-dns)`. */
export interface ErrorContext {
  /** File name or other label for the input. */
  source?: string;
  /** 1-based document index within the source. */
  document?: number;
  /** 1-based index of the item within a List document. */
  item?: number;
  kind?: string;
  name?: string;
  namespace?: string;
  /** Verb for the message: `cannot <action> ...`. Default `apply`. */
  action?: string;
}

export function describeResource(ctx: ErrorContext): string {
  const where = [
    ctx.source,
    ctx.document !== undefined ? `document ${ctx.document}` : undefined,
    ctx.item !== undefined ? `item ${ctx.item}` : undefined,
  ].filter(Boolean).join(' ');
  let res = '';
  if (ctx.kind) {
    const id = ctx.name ? (ctx.namespace ? `${ctx.namespace}/${ctx.name}` : ctx.name) : '';
    res = id ? `${ctx.kind} ${id}` : ctx.kind;
  }
  if (where && res) return `${where} (${res})`;
  return where || res || 'resource';
}

export class ModelError extends Error {
  readonly code: ModelErrorCode;
  readonly context: ErrorContext;
  readonly fieldErrors: readonly FieldError[];
  /** The message without the `cannot apply <where>:` head. */
  readonly detail: string;
  constructor(code: ModelErrorCode, detail: string, context: ErrorContext = {}, fieldErrors: readonly FieldError[] = []) {
    super(`cannot ${context.action ?? 'apply'} ${describeResource(context)}: ${detail}`);
    this.name = 'ModelError';
    this.code = code;
    this.context = context;
    this.fieldErrors = fieldErrors;
    this.detail = detail;
  }
}

export function formatFieldError(e: FieldError): string {
  return e.path ? `${e.path}: ${e.message}` : e.message;
}

/** A resource failed validation: one or more field errors, all reported. */
export class ValidationError extends ModelError {
  constructor(fieldErrors: readonly FieldError[], context: ErrorContext = {}) {
    super('invalid-resource', fieldErrors.map(formatFieldError).join('; '), context, fieldErrors);
    this.name = 'ValidationError';
  }
}

/** Collects field errors while walking a resource. */
export class ErrorCollector {
  readonly errors: FieldError[] = [];
  add(path: string, code: FieldErrorCode, message: string): void {
    this.errors.push({ path, code, message });
  }
  get ok(): boolean {
    return this.errors.length === 0;
  }
}

export function joinPath(base: string, key: string | number): string {
  if (typeof key === 'number') return `${base}[${key}]`;
  if (!/^[A-Za-z_][A-Za-z0-9_-]*$/.test(key)) return `${base}[${JSON.stringify(key)}]`;
  return base ? `${base}.${key}` : key;
}
