// The parsed, compiled selector and the parse entry points (with a small cache).
import { createHash } from 'node:crypto';
import type { SelectorNode } from './ast.ts';
import { canonicalText, labelKeysOf, sortedSet } from './ast.ts';
import type { LabelSource, Labels, Matcher } from './compile.ts';
import { compileForObject, compileForSource } from './compile.ts';
import { SelectorParseError } from './errors.ts';
import { parseToAst } from './parser.ts';
import { isValidLabelName } from './tokenizer.ts';
import type { LabelRestrictions } from './restrictions.ts';
import { labelRestrictionsOf } from './restrictions.ts';

export interface Selector {
  /** Calico's canonical text (Selector.String()); parsing it gives the same selector. */
  readonly canonical: string;
  /** "s:" + base64url-nopad(SHA-224("s:" + canonical)) — Calico's UniqueID(). */
  readonly uniqueId: string;
  readonly ast: SelectorNode;
  /** Every label name the selector mentions (sorted by UTF-8 bytes, de-duplicated). */
  readonly labelKeys: readonly string[];
  /** Match a plain label object (own string-valued properties are the labels). */
  matches(labels: Labels): boolean;
  /** Match labels behind a lookup (a Map, or own-over-inherited labels). */
  matchesSource(source: LabelSource): boolean;
  /** Necessary conditions for a match, for indexes. */
  restrictions(): LabelRestrictions;
  toString(): string;
}

/** Calico's hash.MakeUniqueID("s", canonical). */
export function selectorUniqueId(canonical: string): string {
  return 's:' + createHash('sha224').update('s:' + canonical, 'utf8').digest('base64url');
}

class CompiledSelector implements Selector {
  readonly canonical: string;
  readonly uniqueId: string;
  readonly ast: SelectorNode;
  readonly labelKeys: readonly string[];
  readonly matches: Matcher<Labels>;
  private sourceMatcher: Matcher<LabelSource> | undefined;
  private restr: LabelRestrictions | undefined;

  constructor(ast: SelectorNode) {
    this.ast = ast;
    this.canonical = canonicalText(ast);
    this.uniqueId = selectorUniqueId(this.canonical);
    this.labelKeys = Object.freeze(labelKeysOf(ast));
    this.matches = compileForObject(ast);
  }

  matchesSource(source: LabelSource): boolean {
    return (this.sourceMatcher ??= compileForSource(this.ast))(source);
  }

  restrictions(): LabelRestrictions {
    return (this.restr ??= labelRestrictionsOf(this.ast));
  }

  toString(): string {
    return this.canonical;
  }
}

const CACHE_SIZE = 2048;
const cache = new Map<string, Selector>();

/**
 * Parse selector text (Calico's selector.Parse). Throws SelectorParseError for bad input and
 * nothing else. Spaces and tabs around and between tokens are ignored; any other whitespace
 * (a newline, even a trailing one) is an error, as in Calico. Empty text is `all()`.
 * Results are cached (most recently used 2048 texts); selectors are immutable.
 */
export function parseSelector(text: string): Selector {
  const hit = cache.get(text);
  if (hit !== undefined) {
    // Refresh recency.
    cache.delete(text);
    cache.set(text, hit);
    return hit;
  }
  const sel = new CompiledSelector(parseToAst(text));
  if (cache.size >= CACHE_SIZE) cache.delete(cache.keys().next().value!);
  cache.set(text, sel);
  return sel;
}

/**
 * Build a selector from a tree assembled by code rather than parsed. Set items are sorted and
 * de-duplicated as the parser would; a label name or value that the selector language cannot
 * express (bad label characters, a value with both quote characters, an and/or with fewer than
 * two operands) is a SelectorParseError naming it.
 */
export function selectorFromAst(ast: SelectorNode): Selector {
  return new CompiledSelector(normalise(ast));
}

function normalise(n: SelectorNode): SelectorNode {
  const bad = (what: string): never => {
    throw new SelectorParseError(canonicalTextSafe(n), 0, `cannot build a selector: ${what}`);
  };
  const label = (l: string): string => (isValidLabelName(l) ? l : bad(`invalid label name ${JSON.stringify(l)}`));
  const value = (v: string): string =>
    v.includes('"') && v.includes("'") ? bad(`value ${JSON.stringify(v)} contains both quote characters`) : v;
  switch (n.kind) {
    case 'all':
    case 'global':
      return n;
    case 'has':
      return { kind: 'has', label: label(n.label) };
    case 'eq':
    case 'ne':
    case 'contains':
    case 'startsWith':
    case 'endsWith':
      return { kind: n.kind, label: label(n.label), value: value(n.value) };
    case 'in':
    case 'notIn':
      return { kind: n.kind, label: label(n.label), values: sortedSet(n.values.map(value)) };
    case 'not':
      return { kind: 'not', operand: normalise(n.operand) };
    case 'and':
    case 'or':
      if (n.operands.length < 2) bad(`"${n.kind}" needs at least two operands`);
      return { kind: n.kind, operands: n.operands.map(normalise) };
  }
}

function canonicalTextSafe(n: SelectorNode): string {
  try {
    return canonicalText(n);
  } catch {
    return '';
  }
}

/** The error message for bad selector text, or undefined if it parses (Calico's Validate). */
export function validateSelector(text: string): string | undefined {
  try {
    parseSelector(text);
    return undefined;
  } catch (err) {
    if (err instanceof SelectorParseError) return err.message;
    throw err;
  }
}

// Go's unicode.IsSpace set, which strings.TrimSpace trims.
const GO_SPACE = /^[\t\n\v\f\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]+|[\t\n\v\f\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]+$/g;

/**
 * Calico's selector.Normalise: trim surrounding whitespace (newlines too), then the canonical
 * text; text that does not parse comes back trimmed but otherwise unchanged.
 */
export function normaliseSelector(text: string): string {
  const trimmed = text.replace(GO_SPACE, '');
  try {
    return parseSelector(trimmed).canonical;
  } catch (err) {
    if (err instanceof SelectorParseError) return trimmed;
    throw err;
  }
}
