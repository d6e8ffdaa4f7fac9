import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  SelectorParseError,
  normaliseSelector,
  parseSelector,
  selectorLabelKeys,
  validateSelector,
  compareUtf8,
  isValidLabelName,
  MAX_NESTING,
  selectorFromAst,
} from './index.ts';

type L = Record<string, string>;

// [selector, labels that match, labels that do not]
const matchTable: Array<[string, L[], L[]]> = [
  ['a == "b"', [{ a: 'b' }, { a: 'b', c: 'd' }], [{}, { a: 'c' }, { c: 'd' }, { a: 'B' }]],
  ['a == "b" && c == "d"', [{ a: 'b', c: 'd' }], [{}, { a: 'b', c: 'e' }, { a: 'c', c: 'd' }, { c: 'd' }, { a: 'b' }]],
  ['a == "b" || c == "d"', [{ a: 'b', c: 'd' }, { a: 'b' }, { c: 'd' }], [{}, { a: 'e', c: 'e' }, { c: 'e' }, { a: 'e' }]],
  [`a in {"'", '"', "c"}`, [{ a: 'c' }, { a: '"' }, { a: "'" }], [{}, { a: 'e' }]],
  [`a not in {"'", '"', "c"}`, [{}, { a: 'e' }], [{ a: 'c' }, { a: '"' }, { a: "'" }]],
  [`a == 'a'`, [{ a: 'a' }], [{ a: 'b' }, {}]],
  ['a != "b"', [{ a: 'a' }, {}, { b: 'b' }], [{ a: 'b' }]],
  ['a != "a"', [{}], [{ a: 'a' }]],
  ['a contains "a"', [{ a: 'a' }, { a: 'bab' }, { a: 'aaa', b: 'c' }], [{}, { a: 'b' }, { b: 'aaa' }]],
  ['a contains ""', [{ a: '' }, { a: 'x' }], [{}, { b: '' }]],
  ['a starts with "a"', [{ a: 'a' }, { a: 'abb' }], [{}, { a: 'b' }, { a: 'baa' }, { b: 'aaa' }]],
  ['a ends with "a"', [{ a: 'a' }, { a: 'bba' }], [{}, { a: 'b' }, { a: 'aab' }, { b: 'aaa' }]],
  ['a in {"a"}', [{ a: 'a' }], [{ a: 'b' }, {}]],
  ['!a in {"a"}', [{ a: 'b' }, {}], [{ a: 'a' }]],
  ['a in {"a", "b"}', [{ a: 'a' }, { a: 'b' }], [{ a: 'c' }, {}]],
  ['a in {"a", "b", "c", "d", "e", "f"}', [{ a: 'a' }, { a: 'f' }], [{ a: 'g' }, {}]],
  ['a not in {"a", "b", "c", "d", "e", "f"}', [{ a: 'g' }, {}], [{ a: 'a' }, { a: 'f' }]],
  ['a in {}', [], [{}, { a: '' }, { a: 'x' }]],
  ['a not in {}', [{}, { a: '' }, { a: 'x' }], []],
  ['a in {"x",}', [{ a: 'x' }], [{}]],
  ['has(a)', [{ a: 'b' }, { a: '' }], [{}, { b: 'a' }]],
  ['!has(a)', [{ b: 'b' }, {}], [{ a: 'b' }]],
  ['', [{}, { a: 'b' }], []],
  [' ', [{}], []],
  ['\t', [{}], []],
  ['all()', [{}, { a: 'b' }], []],
  ['global()', [{}, { a: 'b' }], []],
  ['!all()', [], [{}, { a: 'b' }]],
  ['!!has(b)', [{ b: '' }], [{ a: 'b' }]],
  ['! has(a)', [{}], [{ a: 'b' }]],
  ['!!! has(a)', [{}], [{ a: 'b' }]],
  ['!! ! has(a)', [{}], [{ a: 'b' }]],
  ['! !!has(a)', [{}], [{ a: 'b' }]],
  // Boolean combinations (from Calico's table).
  [`a == 'a1' && b == 'b1'`, [{ a: 'a1', b: 'b1' }], []],
  [`a == 'a1' && b != 'b1'`, [], [{ a: 'a1', b: 'b1' }]],
  [`a != 'a1' && !b == 'b1'`, [{ a: 'x', b: 'x' }], [{ a: 'a1', b: 'b1' }]],
  [`!a == 'a1' && b == 'b1'`, [{ b: 'b1' }], [{ a: 'a1', b: 'b1' }]],
  ['has(a) && !has(b)', [{ a: 'a' }], [{ a: 'a', b: 'b' }, {}]],
  ['!(!has(a) || has(b))', [{ a: 'a' }], [{ a: 'a', b: '' }]],
  [`a != 'a1' || b != 'b1'`, [{ a: 'a1' }], [{ a: 'a1', b: 'b1' }]],
  [`! a == 'a1' || ! b == 'b1'`, [{ a: 'a1' }], [{ a: 'a1', b: 'b1' }]],
  // Precedence: && binds tighter than ||.
  ['a == "1" || b == "1" && c == "1"', [{ a: '1' }, { b: '1', c: '1' }], [{ b: '1' }, { c: '1' }]],
  ['(a == "1" || b == "1") && c == "1"', [{ a: '1', c: '1' }, { b: '1', c: '1' }], [{ a: '1' }, { b: '1' }]],
  ['a == "1" && b == "1" || c == "1"', [{ c: '1' }, { a: '1', b: '1' }], [{ a: '1' }, { b: '1' }]],
  // ! applies to the whole operation, never the bare label.
  ['!a == "x"', [{}, { a: 'y' }], [{ a: 'x' }]],
  ['!a != "x"', [{ a: 'x' }], [{}, { a: 'y' }]],
  ['!(a == "x" && b == "y")', [{ a: 'x' }, {}], [{ a: 'x', b: 'y' }]],
  // Case-sensitive, no escapes.
  ['a == "X"', [{ a: 'X' }], [{ a: 'x' }]],
  ['a == "\\n"', [{ a: '\\n' }], [{ a: '\n' }]],
  // Keywords are label names where a label is expected.
  ['has == "x"', [{ has: 'x' }], [{}]],
  ['all == "x" && global == "y"', [{ all: 'x', global: 'y' }], [{ all: 'x' }]],
  ['in in {"in"}', [{ in: 'in' }], [{}]],
  ['not not in {"x"}', [{ not: 'y' }, {}], [{ not: 'x' }]],
  ['contains contains "contains"', [{ contains: 'xcontainsx' }], [{}]],
  ['startswith starts with "v"', [{ startswith: 'vv' }], [{}]],
  ['calico/k8s_ns == "kube-system" && k8s-app == "kube-dns"', [{ 'calico/k8s_ns': 'kube-system', 'k8s-app': 'kube-dns' }], [{}]],
  ['-a == "x" && 123 == "y"', [{ '-a': 'x', '123': 'y' }], [{ '-a': 'x' }]],
  // Labels that are Object.prototype members are not present unless own properties.
  ['has(toString)', [{ toString: '' }], [{}]],
  ['constructor == "x"', [{ constructor: 'x' }], [{}]],
  ['constructor != "x"', [{}], [{ constructor: 'x' }]],
  ['toString contains ""', [{ toString: 'a' }], [{}]],
  ['__proto__ in {"x"}', [JSON.parse('{"__proto__":"x"}') as L], [{}]],
];

void test('matching: Calico semantics table, for objects, Maps and canonical re-parses', () => {
  for (const [text, yes, no] of matchTable) {
    const sel = parseSelector(text);
    const again = parseSelector(sel.canonical);
    assert.equal(again.canonical, sel.canonical, `canonical round trip of ${text}`);
    for (const labels of yes) {
      assert.equal(sel.matches(labels), true, `${text} should match ${JSON.stringify(labels)}`);
      assert.equal(sel.matchesSource(new Map(Object.entries(labels))), true, `${text} (Map) should match ${JSON.stringify(labels)}`);
      assert.equal(again.matches(labels), true, `${sel.canonical} should match ${JSON.stringify(labels)}`);
    }
    for (const labels of no) {
      assert.equal(sel.matches(labels), false, `${text} should not match ${JSON.stringify(labels)}`);
      assert.equal(sel.matchesSource(new Map(Object.entries(labels))), false, `${text} (Map) should not match ${JSON.stringify(labels)}`);
      assert.equal(again.matches(labels), false, `${sel.canonical} should not match ${JSON.stringify(labels)}`);
    }
  }
});

// [input, canonical, unique id or ''] — ids from Calico's own test table.
const canonicalTable: Array<[string, string, string]> = [
  ['', 'all()', 's:5y5I3VdRZfDU01O--xXAPx2yxCQQqMf0M6IWug'],
  [' all() ', 'all()', 's:5y5I3VdRZfDU01O--xXAPx2yxCQQqMf0M6IWug'],
  [' (all() )', 'all()', 's:5y5I3VdRZfDU01O--xXAPx2yxCQQqMf0M6IWug'],
  ['! (has( b)||! has(a ))', '!(has(b) || !has(a))', 's:Iss0uCleLYv1GSv_pNm7hAO58kE9jAx1NKyG3Q'],
  ['! (a == "b"&&! c != "d")', '!(a == "b" && !c != "d")', 's:lh3haoY1ikTRkd4UZu0nWSaIBknYLPJLX16d-w'],
  [`a == "'"`, `a == "'"`, ''],
  [`a == '"'`, `a == '"'`, ''],
  [`a contains '"'`, `a contains '"'`, ''],
  [`a contains "'"`, `a contains "'"`, ''],
  [`a startswith '"'`, `a starts with '"'`, ''],
  [`a endswith "'"`, `a ends with "'"`, ''],
  [`a!='"'`, `a != '"'`, ''],
  ['a in {"d"}', 'a in {"d"}', ''],
  ['a in {"d", "a", "b"}', 'a in {"a", "b", "d"}', ''],
  ['a in {"z", "z", "x", "y", "x", "a"}', 'a in {"a", "x", "y", "z"}', ''],
  ['a notin{}', 'a not in {}', ''],
  ['a not \t in {"b",}', 'a not in {"b"}', ''],
  ["a in {'x'}", 'a in {"x"}', ''],
  ['global( )', 'global()', ''],
  ['a == "b" && c == "d" && e == "f"', '(a == "b" && c == "d" && e == "f")', ''],
  ['a == "b" || c == "d" && e == "f"', '(a == "b" || (c == "d" && e == "f"))', ''],
  ['(a == "b" && c == "d") && e == "f"', '((a == "b" && c == "d") && e == "f")', ''],
  ['((a == "b"))', 'a == "b"', ''],
  ['!(a == "b")', '!a == "b"', ''],
  ['!!(a == "b")', 'a == "b"', ''],
  ['!(!a == "b")', '!!a == "b"', ''],
  ['!(!(k == "v" && has(t) || all()) && (a in {"b", "c"}))', '!(!((k == "v" && has(t)) || all()) && a in {"b", "c"})', ''],
  // UTF-8 byte order, not UTF-16: U+FF21 (EF BC A1) sorts before U+1F600 (F0 9F 98 80).
  ['a in {"😀", "Ａ", "b", "B"}', 'a in {"B", "b", "Ａ", "😀"}', ''],
];

void test('canonical form and unique id', () => {
  for (const [input, canonical, id] of canonicalTable) {
    const sel = parseSelector(input);
    assert.equal(sel.canonical, canonical, `canonical of ${JSON.stringify(input)}`);
    assert.equal(String(sel), canonical);
    if (id) assert.equal(sel.uniqueId, id, `unique id of ${JSON.stringify(input)}`);
    assert.match(sel.uniqueId, /^s:[A-Za-z0-9_-]{38}$/);
    // Calico prints NOT(NOT x) as "!!x", which re-parses as x: the one unstable form.
    if (!canonical.startsWith('!!')) {
      assert.equal(parseSelector(canonical).uniqueId, sel.uniqueId, `id stable across re-parse of ${canonical}`);
    }
    assert.equal(normaliseSelector(input), canonical);
  }
  assert.notEqual(parseSelector('a == "b"').uniqueId, parseSelector('a == "c"').uniqueId);
});

// Inputs Calico rejects: [input, position of the problem, message fragment]
const badTable: Array<[string, number, string]> = [
  ['b == b', 5, 'expected a quoted string'],
  ['b contains b', 11, 'expected a quoted string'],
  // Calico checks the word boundary after the space that follows "with", so these fail at the operator.
  ['b starts with b', 2, 'expected an operator'],
  ['b ends with b', 2, 'expected an operator'],
  ["'b1' == b", 0, 'expected a label name'],
  ['b', 1, 'expected an operator'],
  ['a ', 2, 'expected an operator'],
  ['a b', 2, 'expected an operator'],
  ['!', 1, 'expected a label name'],
  ['foo == "bar" &', 13, 'use "&&"'],
  ['foo == "bar" |', 13, 'use "||"'],
  ['foo != ||', 7, 'expected a quoted string'],
  ['foo in {"", ||', 12, 'expected a quoted string or "}"'],
  ['foo in ""', 7, 'expected "{"'],
  ['foo in {"a" "b"}', 12, 'expected "," or "}"'],
  ['foo in {,}', 8, 'expected a quoted string or "}"'],
  ['foo in {"a"', 11, 'expected "," or "}"'],
  ['"FOO', 0, 'unterminated string'],
  [`"FOO'`, 0, 'unterminated string'],
  [`'FOO`, 0, 'unterminated string'],
  ['label == "value', 9, 'unterminated string'],
  ['(', 1, 'expected a label name'],
  ['(a == "foo"', 11, 'to close the "(" at position 0'],
  [')', 0, 'expected a label name'],
  ['()', 1, 'expected a label name'],
  ['%', 0, 'unexpected "%"'],
  ['a == "b" && %', 12, 'unexpected "%"'],
  ['a == "b" || %', 12, 'unexpected "%"'],
  ['has(foo) &&', 11, 'unexpected end of selector'],
  ['a == "b" && && c', 12, 'unexpected "&&" at position 12: expected a label name, "has(", "all()", "global()", "!" or "("'],
  ['label = "value"', 6, 'use "=="'],
  ['all(', 4, 'to close "all("'],
  ['global(', 7, 'to close "global("'],
  ['all( x)', 5, 'to close "all("'],
  ['has()', 4, 'expected a label name inside "has(...)"'],
  ['has(foo', 7, 'to close "has("'],
  ['has( foo ', 9, 'to close "has("'],
  ['has(a b)', 6, 'to close "has("'],
  ['has (a)', 4, 'expected an operator'],
  ['all', 3, 'expected an operator'],
  ['a == "b" & has(foo)', 9, 'use "&&"'],
  ['label starts foo "value"', 6, 'expected an operator'],
  ['label inf "value"', 6, 'expected an operator'],
  ['label ends foo "value"', 6, 'expected an operator'],
  ['label ends withs "value"', 6, 'expected an operator'],
  ['label squiggles "value"', 6, 'unexpected "squiggles"'],
  ['a not in x', 2, 'expected an operator'],
  ['b in c', 5, 'expected "{"'],
  ['a == "b")', 8, 'expected "&&", "||" or the end of the selector'],
  ['a == "b" b == "c"', 9, 'expected "&&", "||" or the end of the selector'],
  ['all() all()', 6, 'expected "&&", "||"'],
  ['a == "b"\n', 8, 'newline'],
  ['\na == "b"', 0, 'newline'],
  ['a ==\n"b"', 4, 'newline'],
  ['a == "b"\r', 8, 'carriage return'],
  ['a\u00a0== "b"', 1, 'expected an operator'],
  ['ä == "b"', 0, 'unexpected "ä"'],
  ['😀 == "b"', 0, 'unexpected "😀"'],
  ['a == "b" &&', 11, 'unexpected end of selector'],
  ['a !has(b)', 2, 'expected an operator'],
  ['a has(b)', 2, 'expected an operator'],
  ['== "x"', 0, 'expected a label name'],
  ['a' + 'x'.repeat(512) + ' == "v"', 0, 'too long: 513 characters'],
  ['has(' + 'x'.repeat(513) + ')', 4, 'too long: 513 characters'],
];

void test('bad selectors: SelectorParseError with position and message', () => {
  for (const [input, pos, fragment] of badTable) {
    let caught: unknown;
    try {
      parseSelector(input);
    } catch (err) {
      caught = err;
    }
    assert.ok(caught instanceof SelectorParseError, `${JSON.stringify(input)} should fail with SelectorParseError, got ${String(caught)}`);
    assert.equal(caught.code, 'SELECTOR_PARSE');
    assert.equal(caught.selector, input);
    assert.equal(caught.position, pos, `position for ${JSON.stringify(input)}: ${caught.message}`);
    assert.ok(caught.message.includes(fragment), `message for ${JSON.stringify(input)} was: ${caught.message}`);
    assert.ok(caught.message.includes(`position ${pos}`), `message names the position: ${caught.message}`);
    assert.equal(validateSelector(input), caught.message);
  }
});

void test('whitespace: spaces and tabs anywhere between tokens, nothing else', () => {
  const forms = ['a=="b"', '  a  ==  "b"  ', '\ta\t==\t"b"\t', ' ( a == "b" ) '];
  for (const f of forms) assert.equal(parseSelector(f).canonical, 'a == "b"', JSON.stringify(f));
  assert.equal(parseSelector('a starts  \t with "x"').canonical, 'a starts with "x"');
  assert.equal(parseSelector('a endswith"x"').canonical, 'a ends with "x"');
  assert.equal(parseSelector('a in{"x"}').canonical, 'a in {"x"}');
  assert.equal(parseSelector('a notin"b"||b in{}'.replace('"b"||', '{"b"}||')).canonical, '(a not in {"b"} || b in {})');
  assert.equal(parseSelector('a not in {"b"} && !has(foo) || b in {}').canonical, '((a not in {"b"} && !has(foo)) || b in {})');
  // Normalise trims newlines around the text (as Calico's Normalise); Parse does not.
  assert.equal(normaliseSelector('\n a == "b" \n'), 'a == "b"');
  assert.equal(normaliseSelector(' not valid '), 'not valid');
});

void test('label names: character set and length limit', () => {
  assert.equal(parseSelector('x'.repeat(512) + ' == "v"').labelKeys[0], 'x'.repeat(512));
  assert.equal(parseSelector('has(' + 'x'.repeat(512) + ')').canonical, 'has(' + 'x'.repeat(512) + ')');
  assert.ok(isValidLabelName('calico/k8s_NS-.1/role'));
  assert.ok(!isValidLabelName(''));
  assert.ok(!isValidLabelName('a b'));
  assert.ok(!isValidLabelName('x'.repeat(513)));
});

void test('label keys a selector mentions', () => {
  assert.deepEqual(selectorLabelKeys('all()'), []);
  assert.deepEqual(selectorLabelKeys('b == "x" && (has(a) || !c in {"y"}) && b != "z"'), ['a', 'b', 'c']);
});

void test('nesting: deep but bounded, never a stack overflow', () => {
  const ok = '('.repeat(MAX_NESTING) + 'a == "b"' + ')'.repeat(MAX_NESTING);
  assert.equal(parseSelector(ok).canonical, 'a == "b"');
  const tooDeep = '('.repeat(MAX_NESTING + 1) + 'a == "b"' + ')'.repeat(MAX_NESTING + 1);
  assert.throws(() => parseSelector(tooDeep), (e: unknown) => e instanceof SelectorParseError && e.position === MAX_NESTING);
  const nots = '!'.repeat(100001) + 'has(a)';
  assert.equal(parseSelector(nots).canonical, '!has(a)');
  const longAnd = Array.from({ length: 5000 }, (_, i) => `k${i} == "v"`).join(' && ');
  assert.equal(parseSelector(longAnd).matches({ k0: 'v' }), false);
});

void test('non-string input is a SelectorParseError', () => {
  assert.throws(() => parseSelector(undefined as unknown as string), SelectorParseError);
  assert.equal(typeof validateSelector(42 as unknown as string), 'string');
});

void test('compareUtf8 orders by code point', () => {
  const items = ['😀', 'Ａ', 'b', 'B', '', 'ba', '\u0000'];
  assert.deepEqual([...items].sort(compareUtf8), ['', '\u0000', 'B', 'b', 'ba', 'Ａ', '😀']);
  const bytes = [...items].sort((x, y) => Buffer.compare(Buffer.from(x), Buffer.from(y)));
  assert.deepEqual([...items].sort(compareUtf8), bytes);
});

void test('restrictions: necessary conditions', () => {
  const r = (s: string) => {
    const x = parseSelector(s).restrictions();
    if (x.never) return 'never';
    return Object.fromEntries(
      [...x.labels].map(([k, v]) => [k, { p: v.mustBePresent, a: v.mustBeAbsent, v: v.values ? [...v.values].sort() : null }]),
    );
  };
  assert.deepEqual(r('all()'), {});
  assert.deepEqual(r('a == "x"'), { a: { p: true, a: false, v: ['x'] } });
  assert.deepEqual(r('a != "x"'), {});
  assert.deepEqual(r('!a != "x"'), { a: { p: true, a: false, v: ['x'] } });
  assert.deepEqual(r('a not in {"x"}'), {});
  assert.deepEqual(r('has(a) && a in {"x", "y"} && a in {"y", "z"}'), { a: { p: true, a: false, v: ['y'] } });
  assert.equal(r('a == "x" && a == "y"'), 'never');
  assert.equal(r('has(a) && !has(a)'), 'never');
  assert.equal(r('a in {}'), 'never');
  assert.equal(r('!all()'), 'never');
  assert.deepEqual(r('a == "x" || a == "y"'), { a: { p: true, a: false, v: ['x', 'y'] } });
  assert.deepEqual(r('a == "x" || has(a)'), { a: { p: true, a: false, v: null } });
  assert.deepEqual(r('a == "x" || b == "y"'), {});
  assert.deepEqual(r('!(has(a) || has(b))'), { a: { p: false, a: true, v: null }, b: { p: false, a: true, v: null } });
  assert.deepEqual(r('a in {} || b == "y"'), { b: { p: true, a: false, v: ['y'] } });
  assert.deepEqual(r('app == "x" && env in {"p", "q"} && tier != "db"'), {
    app: { p: true, a: false, v: ['x'] },
    env: { p: true, a: false, v: ['p', 'q'] },
  });
});

void test('selectorFromAst: normalises sets, rejects what the language cannot express', () => {
  const sel = selectorFromAst({
    kind: 'and',
    operands: [
      { kind: 'eq', label: 'projectcalico.org/namespace', value: 'shop' },
      { kind: 'in', label: 'app', values: ['web', 'api', 'web'] },
    ],
  });
  assert.equal(sel.canonical, '(projectcalico.org/namespace == "shop" && app in {"api", "web"})');
  assert.equal(sel.uniqueId, parseSelector(sel.canonical).uniqueId);
  assert.equal(sel.matches({ 'projectcalico.org/namespace': 'shop', app: 'api' }), true);
  assert.throws(() => selectorFromAst({ kind: 'has', label: 'a b' }), SelectorParseError);
  assert.throws(() => selectorFromAst({ kind: 'eq', label: 'a', value: `'"` }), /both quote characters/);
  assert.throws(() => selectorFromAst({ kind: 'or', operands: [{ kind: 'all' }] }), /at least two operands/);
});
