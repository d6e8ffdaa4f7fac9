// Recursive-descent parser for Calico's selector grammar (libcalico-go/lib/selector/parser):
//
//   selector  := <empty> | or EOF
//   or        := and ( "||" and )*                     ("&&" binds tighter than "||")
//   and       := operation ( "&&" operation )*
//   operation := "!"* ( "has(" label ")" | "all()" | "global()" | "(" or ")"
//                      | label ( "==" | "!=" | "contains" | "starts with" | "ends with" ) string
//                      | label ( "in" | "not in" ) "{" [ string ( "," string )* [","] ] "}" )
//
// Leading "!"s cancel in pairs; an odd number negates the whole operation (never a bare label).
// A bracketed group is its contents (no node of its own); a single operand is never wrapped
// in an and/or node. Set items are de-duplicated and sorted by UTF-8 byte order.
import type { SelectorNode } from './ast.ts';
import { sortedSet } from './ast.ts';
import { SelectorParseError } from './errors.ts';
import type { Token } from './tokenizer.ts';
import { Tokenizer, describeToken } from './tokenizer.ts';

/**
 * Deepest nesting of brackets accepted. Calico has no limit; ours keeps parsing, compiling
 * and printing within the JavaScript stack. Real selectors nest a handful of levels.
 */
export const MAX_NESTING = 256;

const EXPECT_OPERAND = 'expected a label name, "has(", "all()", "global()", "!" or "("';
const EXPECT_OPERATOR =
  'expected an operator after the label: "==", "!=", "in", "not in", "contains", "starts with" or "ends with"';
const EXPECT_STRING = 'expected a quoted string';

class Parser {
  private readonly tz: Tokenizer;
  private cur: Token;
  private depth = 0;
  private readonly input: string;

  constructor(input: string) {
    this.input = input;
    this.tz = new Tokenizer(input);
    this.cur = this.tz.next();
  }

  /** Kind of the current token (a method, so narrowing does not survive advance()). */
  private kind(): Token['kind'] {
    return this.cur.kind;
  }

  private advance(): void {
    this.cur = this.tz.next();
  }

  private fail(expected: string, t: Token = this.cur): never {
    if (t.kind === 'invalid' && t.reason !== undefined) {
      throw new SelectorParseError(this.input, t.pos, t.reason);
    }
    throw new SelectorParseError(
      this.input,
      t.pos,
      `unexpected ${describeToken(t, this.input)} at position ${t.pos}: ${expected}`,
    );
  }

  parseRoot(): SelectorNode {
    if (this.kind() === 'eof') return { kind: 'all' };
    const node = this.parseOr();
    if (this.kind() !== 'eof') this.fail('expected "&&", "||" or the end of the selector');
    return node;
  }

  private parseOr(): SelectorNode {
    const first = this.parseAnd();
    if (this.kind() !== 'or') return first;
    const operands = [first];
    while (this.kind() === 'or') {
      this.advance();
      operands.push(this.parseAnd());
    }
    return { kind: 'or', operands };
  }

  private parseAnd(): SelectorNode {
    const first = this.parseOperation();
    if (this.kind() !== 'and') return first;
    const operands = [first];
    while (this.kind() === 'and') {
      this.advance();
      operands.push(this.parseOperation());
    }
    return { kind: 'and', operands };
  }

  private parseOperation(): SelectorNode {
    let negated = false;
    while (this.kind() === 'not') {
      negated = !negated;
      this.advance();
    }
    const node = this.parsePositive();
    return negated ? { kind: 'not', operand: node } : node;
  }

  private parsePositive(): SelectorNode {
    const t = this.cur;
    switch (t.kind) {
      case 'has':
        this.advance();
        return { kind: 'has', label: t.value };
      case 'all':
        this.advance();
        return { kind: 'all' };
      case 'global':
        this.advance();
        return { kind: 'global' };
      case 'lparen': {
        if (++this.depth > MAX_NESTING) {
          throw new SelectorParseError(
            this.input,
            t.pos,
            `"(" at position ${t.pos} nests deeper than ${MAX_NESTING} levels`,
          );
        }
        this.advance();
        const inner = this.parseOr();
        if (this.kind() !== 'rparen') {
          this.fail(`expected "&&", "||" or ")" to close the "(" at position ${t.pos}`);
        }
        this.advance();
        this.depth--;
        return inner;
      }
      case 'label':
        return this.parseLabelOp(t);
      default:
        return this.fail(EXPECT_OPERAND);
    }
  }

  private parseLabelOp(labelTok: Token): SelectorNode {
    const label = labelTok.value;
    this.advance();
    const op = this.cur;
    switch (op.kind) {
      case 'eq':
      case 'ne':
      case 'contains':
      case 'startsWith':
      case 'endsWith': {
        this.advance();
        const v = this.cur;
        if (v.kind !== 'string') this.fail(EXPECT_STRING);
        this.advance();
        return { kind: op.kind, label, value: v.value };
      }
      case 'in':
      case 'notIn': {
        this.advance();
        if (this.kind() !== 'lbrace') this.fail('expected "{" to start a set of quoted strings');
        this.advance();
        const values: string[] = [];
        let afterString = false;
        while (this.kind() === 'string') {
          values.push(this.cur.value);
          this.advance();
          afterString = true;
          if (this.kind() !== 'comma') break;
          this.advance();
          afterString = false;
        }
        if (this.kind() !== 'rbrace') {
          this.fail(afterString ? 'expected "," or "}"' : 'expected a quoted string or "}"');
        }
        this.advance();
        return { kind: op.kind, label, values: sortedSet(values) };
      }
      default:
        return this.fail(EXPECT_OPERATOR);
    }
  }
}

/** Parse selector text to its tree; throws SelectorParseError. Empty text is all(). */
export function parseToAst(input: string): SelectorNode {
  if (typeof input !== 'string') {
    throw new SelectorParseError(String(input), 0, `a selector must be a string, got ${typeof input}`);
  }
  return new Parser(input).parseRoot();
}
