// Lexer for Calico's selector language (libcalico-go/lib/selector/tokenizer), pulled one token
// at a time by the parser so that the first problem from the left is the one reported.
//
// Rules (all taken from Calico's behaviour):
// - only space and tab separate tokens; any other character that starts no token is an error;
// - strings are '...' or "..." with no escapes; the other quote character may appear inside;
// - label names are runs of [A-Za-z0-9_./-], 1..512 characters, any of them first;
// - right after a label only an operator word may follow: `contains`, `starts with`,
//   `ends with`, `not in`, `in` (multi-word ones allow any run of spaces/tabs, or none, between
//   the words), each ending at a word boundary; `==`, `!=` and punctuation are read as usual;
// - elsewhere `has(`, `all(` and `global(` (bracket immediately after the word) start the
//   function forms; any other word is a label, so keywords can be label names.
// Problems are returned as an `invalid` token (with a reason when there is more to say than
// "unexpected X"); the parser turns it into a SelectorParseError with what it expected there.

export const MAX_LABEL_LENGTH = 512;

export type TokenKind =
  | 'label'
  | 'string'
  | 'lbrace'
  | 'rbrace'
  | 'comma'
  | 'eq'
  | 'ne'
  | 'in'
  | 'notIn'
  | 'contains'
  | 'startsWith'
  | 'endsWith'
  | 'not'
  | 'and'
  | 'or'
  | 'lparen'
  | 'rparen'
  | 'has'
  | 'all'
  | 'global'
  | 'eof'
  | 'invalid';

export interface Token {
  kind: TokenKind;
  /** Label name, string contents or has() label; '' otherwise. */
  value: string;
  /** Offset of the token's first character. */
  pos: number;
  /** Offset just past the token. */
  end: number;
  /** For `invalid` tokens: the full explanation, when "unexpected X" is not enough. */
  reason?: string;
}

const IDENT = new Uint8Array(128);
for (let c = 0; c < 128; c++) {
  const ch = String.fromCharCode(c);
  if (/[A-Za-z0-9_./-]/.test(ch)) IDENT[c] = 1;
}

export function isIdentChar(code: number): boolean {
  return code < 128 && IDENT[code] === 1;
}

/** True if `label` is a valid label name in a selector (as Calico's tokenizer.ValidLabel). */
export function isValidLabelName(label: string): boolean {
  if (label.length === 0 || label.length > MAX_LABEL_LENGTH) return false;
  for (let i = 0; i < label.length; i++) if (!isIdentChar(label.charCodeAt(i))) return false;
  return true;
}

/**
 * The engine's canonical (internalized) copy of a string: property lookups with it as the key
 * hit V8's inline caches instead of hashing a fresh string on every match (a 5-20x difference
 * once a matcher has seen several keys), and === against it can compare pointers.
 */
export function intern(s: string): string {
  return Object.keys({ [s]: 0 })[0] ?? s;
}

const SPACE = 0x20;
const TAB = 0x09;

export class Tokenizer {
  readonly input: string;
  private i = 0;
  private lastKind: TokenKind | 'none' = 'none';

  constructor(input: string) {
    this.input = input;
  }

  private skipWs(at: number): number {
    const s = this.input;
    while (at < s.length) {
      const c = s.charCodeAt(at);
      if (c !== SPACE && c !== TAB) break;
      at++;
    }
    return at;
  }

  private identEnd(at: number): number {
    const s = this.input;
    while (at < s.length && isIdentChar(s.charCodeAt(at))) at++;
    return at;
  }

  /** Word boundary at `at`: end of input or a non-identifier character. */
  private boundary(at: number): boolean {
    return at >= this.input.length || !isIdentChar(this.input.charCodeAt(at));
  }

  /**
   * If the words appear at `at` (spaces/tabs allowed between and after them), the end offset.
   * As in Calico, the word boundary is checked after the trailing spaces: `a starts with b`
   * does not read as an operator.
   */
  private words(at: number, words: readonly string[]): number {
    let p = at;
    for (const w of words) {
      if (!this.input.startsWith(w, p)) return -1;
      p = this.skipWs(p + w.length);
    }
    // Calico checks the boundary after skipping trailing whitespace.
    return this.boundary(p) ? p : -1;
  }

  private tok(kind: TokenKind, pos: number, end: number, value = ''): Token {
    this.i = end;
    this.lastKind = kind;
    return { kind, value, pos, end };
  }

  private invalid(pos: number, end: number, reason?: string): Token {
    this.i = this.input.length; // nothing after an invalid token is read
    this.lastKind = 'invalid';
    const t: Token = { kind: 'invalid', value: this.input.slice(pos, end), pos, end };
    if (reason !== undefined) t.reason = reason;
    return t;
  }

  /** The whole of an unreadable run at `at`: an identifier-ish word, or one character. */
  private junkEnd(at: number): number {
    const e = this.identEnd(at);
    if (e > at) return e;
    const c = this.input.codePointAt(at) ?? 0;
    return at + (c > 0xffff ? 2 : 1);
  }

  next(): Token {
    const s = this.input;
    const start = this.skipWs(this.i);
    if (start >= s.length) return this.tok('eof', s.length, s.length);
    const c = s[start]!;
    switch (c) {
      case '(':
        return this.tok('lparen', start, start + 1);
      case ')':
        return this.tok('rparen', start, start + 1);
      case '{':
        return this.tok('lbrace', start, start + 1);
      case '}':
        return this.tok('rbrace', start, start + 1);
      case ',':
        return this.tok('comma', start, start + 1);
      case '"':
      case "'": {
        const close = s.indexOf(c, start + 1);
        if (close < 0) {
          return this.invalid(
            start,
            s.length,
            `unterminated string starting at position ${start}: no closing ${c} before the end of the selector`,
          );
        }
        return this.tok('string', start, close + 1, intern(s.slice(start + 1, close)));
      }
      case '=':
        if (s.startsWith('==', start)) return this.tok('eq', start, start + 2);
        return this.invalid(start, start + 1, `unexpected "=" at position ${start}: use "==" to compare`);
      case '!':
        if (s.startsWith('!=', start)) return this.tok('ne', start, start + 2);
        return this.tok('not', start, start + 1);
      case '&':
        if (s.startsWith('&&', start)) return this.tok('and', start, start + 2);
        return this.invalid(start, start + 1, `unexpected "&" at position ${start}: use "&&" for AND`);
      case '|':
        if (s.startsWith('||', start)) return this.tok('or', start, start + 2);
        return this.invalid(start, start + 1, `unexpected "|" at position ${start}: use "||" for OR`);
    }
    if (this.lastKind === 'label') {
      // Only an operator word may follow a label.
      let e: number;
      if (s.startsWith('contains', start) && this.boundary(start + 8)) return this.tok('contains', start, start + 8);
      if ((e = this.words(start, ['starts', 'with'])) >= 0) return this.tok('startsWith', start, e);
      if ((e = this.words(start, ['ends', 'with'])) >= 0) return this.tok('endsWith', start, e);
      if ((e = this.words(start, ['not', 'in'])) >= 0) return this.tok('notIn', start, e);
      if (s.startsWith('in', start) && this.boundary(start + 2)) return this.tok('in', start, start + 2);
      return this.invalid(start, this.junkEnd(start));
    }
    if (s.startsWith('has(', start)) {
      const p = this.skipWs(start + 4);
      const e = this.identEnd(p);
      if (e === p) {
        return this.invalid(p, p < s.length ? this.junkEnd(p) : p,
          `${describeAt(s, p)} at position ${p}: expected a label name inside "has(...)"`);
      }
      if (e - p > MAX_LABEL_LENGTH) {
        return this.invalid(p, e, labelTooLong(p, e - p));
      }
      const q = this.skipWs(e);
      if (s[q] !== ')') {
        return this.invalid(q, q < s.length ? this.junkEnd(q) : q,
          `${describeAt(s, q)} at position ${q}: expected ")" to close "has(" at position ${start}`);
      }
      return this.tok('has', start, q + 1, intern(s.slice(p, e)));
    }
    for (const [word, kind] of FUNCS) {
      if (s.startsWith(word, start)) {
        const q = this.skipWs(start + word.length);
        if (s[q] !== ')') {
          return this.invalid(q, q < s.length ? this.junkEnd(q) : q,
            `${describeAt(s, q)} at position ${q}: expected ")" to close "${word}" at position ${start}`);
        }
        return this.tok(kind, start, q + 1);
      }
    }
    const e = this.identEnd(start);
    if (e === start) return this.invalid(start, this.junkEnd(start));
    if (e - start > MAX_LABEL_LENGTH) return this.invalid(start, e, labelTooLong(start, e - start));
    return this.tok('label', start, e, intern(s.slice(start, e)));
  }
}

const FUNCS: ReadonlyArray<readonly [string, TokenKind]> = [
  ['all(', 'all'],
  ['global(', 'global'],
];

function labelTooLong(pos: number, len: number): string {
  return `label name at position ${pos} is too long: ${len} characters, at most ${MAX_LABEL_LENGTH} allowed`;
}

/** "unexpected X" for the text at `at` (used for the tokenizer's own reasons). */
function describeAt(s: string, at: number): string {
  if (at >= s.length) return 'unexpected end of selector';
  const e = (() => {
    let p = at;
    while (p < s.length && isIdentChar(s.charCodeAt(p))) p++;
    if (p > at) return p;
    const c = s.codePointAt(at) ?? 0;
    return at + (c > 0xffff ? 2 : 1);
  })();
  return `unexpected ${describeText(s.slice(at, e))}`;
}

/** How a piece of selector text is shown in an error message. */
export function describeText(text: string): string {
  if (text === '\n') return 'newline (selectors must be on one line)';
  if (text === '\r') return 'carriage return (selectors must be on one line)';
  if (text.length > 40) text = text.slice(0, 37) + '...';
  return JSON.stringify(text);
}

/** Human description of a token for "unexpected X". */
export function describeToken(t: Token, input: string): string {
  if (t.kind === 'eof') return 'end of selector';
  const text = input.slice(t.pos, t.end);
  switch (t.kind) {
    case 'label':
      return `label ${describeText(text)}`;
    case 'string':
      return `string ${describeText(text)}`;
    default:
      return describeText(text);
  }
}
