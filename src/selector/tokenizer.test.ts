import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Tokenizer } from './tokenizer.ts';
import type { TokenKind } from './tokenizer.ts';
import { parseSelector, SelectorParseError } from './index.ts';
import type { Labels, SelectorNode } from './index.ts';

function tokens(input: string): string[] {
  const tz = new Tokenizer(input);
  const out: string[] = [];
  for (;;) {
    const t = tz.next();
    out.push(t.value ? `${t.kind}(${t.value})` : t.kind);
    if (t.kind === 'eof' || t.kind === 'invalid') return out;
  }
}

// The token sequences of Calico's tokenizer tests (kinds renamed to ours).
const table: Array<[string, string[]]> = [
  ['a=="b"', ['label(a)', 'eq', 'string(b)', 'eof']],
  ['a!="b"', ['label(a)', 'ne', 'string(b)', 'eof']],
  ['(a=="b")', ['lparen', 'label(a)', 'eq', 'string(b)', 'rparen', 'eof']],
  ['label contains"value"', ['label(label)', 'contains', 'string(value)', 'eof']],
  ["contains contains 'contains'", ['label(contains)', 'contains', 'string(contains)', 'eof']],
  ['label startswith "value"', ['label(label)', 'startsWith', 'string(value)', 'eof']],
  ['label endswith "value"', ['label(label)', 'endsWith', 'string(value)', 'eof']],
  ['startswith starts with "value"', ['label(startswith)', 'startsWith', 'string(value)', 'eof']],
  ['endswith ends  with "value"', ['label(endswith)', 'endsWith', 'string(value)', 'eof']],
  ['a not in "bar" && !has(foo) || b in c', ['label(a)', 'notIn', 'string(bar)', 'and', 'not', 'has(foo)', 'or', 'label(b)', 'in', 'label(c)', 'eof']],
  ['a  not  in  "bar"  &&  ! has( foo )  ||  b  in  c ', ['label(a)', 'notIn', 'string(bar)', 'and', 'not', 'has(foo)', 'or', 'label(b)', 'in', 'label(c)', 'eof']],
  ['a notin"bar"&&!has(foo)||b in"c"', ['label(a)', 'notIn', 'string(bar)', 'and', 'not', 'has(foo)', 'or', 'label(b)', 'in', 'string(c)', 'eof']],
  ['has(calico/k8s_NS-.1/role)', ['has(calico/k8s_NS-.1/role)', 'eof']],
  ['a not in {"a","B"}', ['label(a)', 'notIn', 'lbrace', 'string(a)', 'comma', 'string(B)', 'rbrace', 'eof']],
  ['global( )', ['global', 'eof']],
  ['all( )', ['all', 'eof']],
  ['a == "b\\"', ['label(a)', 'eq', 'string(b\\)', 'eof']],
];

const rejected = [
  'x'.repeat(513) + ' == "value"',
  'label == "value',
  "label == 'value",
  'label = "value"',
  'all(',
  'global(',
  'has()',
  'has(foo',
  'has( foo ',
  'a == "b" & has(foo)',
  'a == "b" | has(foo)',
  'label starts foo "value"',
  'label inf "value"',
  'label ends foo "value"',
  'label ends withs "value"',
  'label squiggles "value"',
];

void test('tokenizer: Calico token sequences', () => {
  for (const [input, want] of table) assert.deepEqual(tokens(input), want, input);
  for (const input of rejected) {
    const got = tokens(input);
    assert.equal(got[got.length - 1]!.split('(')[0] as TokenKind, 'invalid', `${input}: ${got.join(' ')}`);
    assert.throws(() => parseSelector(input), SelectorParseError);
  }
});

// A deliberately plain reference interpreter for the differential test below.
function reference(n: SelectorNode, l: ReadonlyMap<string, string>): boolean {
  switch (n.kind) {
    case 'all':
    case 'global':
      return true;
    case 'has':
      return l.has(n.label);
    case 'eq':
      return l.get(n.label) === n.value;
    case 'ne':
      return l.get(n.label) !== n.value;
    case 'contains':
      return l.has(n.label) && l.get(n.label)!.includes(n.value);
    case 'startsWith':
      return l.has(n.label) && l.get(n.label)!.startsWith(n.value);
    case 'endsWith':
      return l.has(n.label) && l.get(n.label)!.endsWith(n.value);
    case 'in':
      return l.has(n.label) && n.values.includes(l.get(n.label)!);
    case 'notIn':
      return !l.has(n.label) || !n.values.includes(l.get(n.label)!);
    case 'not':
      return !reference(n.operand, l);
    case 'and':
      return n.operands.every((o) => reference(o, l));
    case 'or':
      return n.operands.some((o) => reference(o, l));
  }
}

function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

void test('compiled matchers agree with a reference interpreter on random selectors', () => {
  const rand = rng(7);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)]!;
  const keys = ['a', 'b', 'c', 'toString'];
  const vals = ['', 'x', 'xy', 'yx', "it's", 'say "hi"', 'ü'];
  const q = (v: string): string => (v.includes('"') ? `'${v}'` : `"${v}"`);
  const gen = (d: number): string => {
    const r = rand();
    const sp = pick(['', ' ', '\t', '  ']);
    if (d < 3 && r < 0.15) return `(${gen(d + 1)}${sp}&&${sp}${gen(d + 1)})`;
    if (d < 3 && r < 0.3) return `${gen(d + 1)}${sp}||${sp}${gen(d + 1)}`;
    if (d < 3 && r < 0.4) return `!${sp}${gen(d + 1)}`;
    const k = pick(keys);
    return pick([
      `${k}${sp}==${sp}${q(pick(vals))}`,
      `${k}${sp}!=${sp}${q(pick(vals))}`,
      `${k} contains ${q(pick(vals))}`,
      `${k} starts with${sp}${q(pick(vals))}`,
      `${k} endswith ${q(pick(vals))}`,
      `${k} in {${[pick(vals), pick(vals), pick(vals), pick(vals), pick(vals)].map(q).join(',')}}`,
      `${k} not in {${q(pick(vals))}}`,
      `has(${sp}${k}${sp})`,
      'all()',
      'global()',
    ]);
  };
  const labelSets: Array<Record<string, string>> = [];
  for (let i = 0; i < 60; i++) {
    const l: Record<string, string> = {};
    for (const k of keys) if (rand() < 0.6) l[k] = pick(vals);
    labelSets.push(l);
  }
  for (let i = 0; i < 1500; i++) {
    const text = gen(0);
    const sel = parseSelector(text);
    const again = parseSelector(sel.canonical);
    for (const l of labelSets) {
      const m = new Map(Object.entries(l));
      const want = reference(sel.ast, m);
      assert.equal(sel.matches(l as Labels), want, `${text} on ${JSON.stringify(l)}`);
      assert.equal(sel.matchesSource(m), want, `${text} (source) on ${JSON.stringify(l)}`);
      assert.equal(again.matches(l as Labels), want, `${sel.canonical} on ${JSON.stringify(l)}`);
    }
  }
});

void test('fuzz: any text either parses or raises SelectorParseError at a position inside it', () => {
  const rand = rng(99);
  const alphabet = ['a', 'b', ' ', '\t', '\n', '=', '!', '&', '|', '(', ')', '{', '}', ',', '"', "'", 'has(', 'all(', 'global(',
    'in', 'not', 'contains', 'starts', 'with', 'ends', '%', 'é', '😀', '==', '!=', '&&', '||', '/', '-', '.'];
  let parsed = 0;
  for (let i = 0; i < 20000; i++) {
    const n = Math.floor(rand() * 12);
    let s = '';
    for (let j = 0; j < n; j++) s += alphabet[Math.floor(rand() * alphabet.length)];
    try {
      const sel = parseSelector(s);
      parsed++;
      assert.equal(parseSelector(sel.canonical).matches({}), sel.matches({}), s);
    } catch (err) {
      assert.ok(err instanceof SelectorParseError, `${JSON.stringify(s)} threw ${String(err)}`);
      assert.ok(err.position >= 0 && err.position <= s.length, `${JSON.stringify(s)} position ${err.position}`);
      assert.ok(err.message.length > 0);
    }
  }
  assert.ok(parsed > 100, `some random texts parse (${parsed})`);
});
