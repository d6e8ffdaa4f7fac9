// A subset of Go's text/template, for `calicoctl get -o go-template=...`:
//   {{.field.path}}  {{.}}  {{$}}  {{$var}}  "strings"  `raw`  numbers  true false nil
//   {{if P}}..{{else if P}}..{{else}}..{{end}}  {{range P}}..{{else}}..{{end}}
//   {{range $i, $v := P}}  {{with P}}..{{end}}  pipelines with |  ( ... )  {{- trim -}}  {{/* comments */}}
//   functions: join joinAndTruncate len index eq ne lt le gt ge not and or print printf println
// Field names match JSON keys case-insensitively, so both Calico's Go field names
// (.ObjectMeta.Name, .Spec.CIDR, .Items) and JSON names (.metadata.name, .items) work; fields of
// metadata are also found directly on the resource (Go's embedded ObjectMeta: .Name). The data
// is what calicoctl passes: the list of printed objects; a field looked up on a one-element list
// is looked up on its element, so `{{range .items}}` works on `get <kind>` output.

import { goFloat, joinAndTruncate } from './table.ts';
import { goSpecZero } from './go-zero.ts';

export class TemplateError extends Error {
  readonly code = 'CALICOCTL_TEMPLATE';
}

type Node =
  | { t: 'text'; s: string }
  | { t: 'out'; p: Pipeline }
  | { t: 'if'; branches: Array<{ cond: Pipeline; body: Node[] }>; else: Node[] }
  | { t: 'range'; p: Pipeline; vars: string[]; body: Node[]; else: Node[] }
  | { t: 'with'; p: Pipeline; body: Node[]; else: Node[] };

type Operand =
  | { o: 'field'; base: 'dot' | string; path: string[] }
  | { o: 'lit'; v: unknown }
  | { o: 'call'; name: string }
  | { o: 'sub'; p: Pipeline; path: string[] };
type Command = Operand[];
interface Pipeline { decl: string[]; cmds: Command[] }

// ---- lexing the action bodies ------------------------------------------------------------

function tokenize(src: string): string[] {
  const out: string[] = [];
  let i = 0;
  while (i < src.length) {
    const c = src[i]!;
    if (c === ' ' || c === '\t' || c === '\n' || c === '\r') { i++; continue; }
    if (c === '"') {
      let j = i + 1;
      while (j < src.length && src[j] !== '"') j += src[j] === '\\' ? 2 : 1;
      if (j >= src.length) throw new TemplateError(`unterminated string in {{${src}}}`);
      out.push(src.slice(i, j + 1));
      i = j + 1;
      continue;
    }
    if (c === '`') {
      const j = src.indexOf('`', i + 1);
      if (j < 0) throw new TemplateError(`unterminated raw string in {{${src}}}`);
      out.push(src.slice(i, j + 1));
      i = j + 1;
      continue;
    }
    if ('()|,'.includes(c)) { out.push(c); i++; continue; }
    if (c === ':' && src[i + 1] === '=') { out.push(':='); i += 2; continue; }
    if (c === '=') { out.push('='); i++; continue; }
    let j = i;
    while (j < src.length && !' \t\n\r()|,"`'.includes(src[j]!) && !(src[j] === ':' && src[j + 1] === '=')) j++;
    out.push(src.slice(i, j));
    i = j;
  }
  return out;
}

function parseOperand(tok: string, rest: string[]): Operand {
  if (tok === '(') {
    const inner: string[] = [];
    let depth = 1;
    while (rest.length) {
      const t = rest.shift()!;
      if (t === '(') depth++;
      if (t === ')' && --depth === 0) {
        const path = rest[0] && rest[0].startsWith('.') && rest[0] !== '.' ? rest.shift()!.slice(1).split('.') : [];
        return { o: 'sub', p: parsePipeline(inner), path };
      }
      inner.push(t);
    }
    throw new TemplateError('unclosed (');
  }
  if (tok.startsWith('"')) return { o: 'lit', v: JSON.parse(tok) };
  if (tok.startsWith('`')) return { o: 'lit', v: tok.slice(1, -1) };
  if (/^-?\d+(\.\d+)?([eE][-+]?\d+)?$/.test(tok)) return { o: 'lit', v: Number(tok) };
  if (tok === 'true' || tok === 'false') return { o: 'lit', v: tok === 'true' };
  if (tok === 'nil') return { o: 'lit', v: null };
  if (tok === '.') return { o: 'field', base: 'dot', path: [] };
  if (tok.startsWith('.')) return { o: 'field', base: 'dot', path: tok.slice(1).split('.') };
  if (tok.startsWith('$')) {
    const [v, ...path] = tok.split('.');
    return { o: 'field', base: v!, path };
  }
  if (/^[A-Za-z_][A-Za-z0-9_]*$/.test(tok)) return { o: 'call', name: tok };
  throw new TemplateError(`unexpected "${tok}" in template`);
}

function parsePipeline(tokens: string[]): Pipeline {
  const toks = [...tokens];
  const decl: string[] = [];
  const assign = toks.indexOf(':=');
  if (assign >= 0) {
    for (const t of toks.slice(0, assign)) if (t !== ',') decl.push(t);
    toks.splice(0, assign + 1);
  }
  const cmds: Command[] = [];
  let cur: Command = [];
  while (toks.length) {
    const t = toks.shift()!;
    if (t === '|') {
      if (!cur.length) throw new TemplateError('missing command before |');
      cmds.push(cur);
      cur = [];
      continue;
    }
    cur.push(parseOperand(t, toks));
  }
  if (!cur.length) throw new TemplateError('missing value in {{ }}');
  cmds.push(cur);
  return { decl, cmds };
}

// ---- parsing the template ------------------------------------------------------------------

interface Action { body: string }

function split(src: string): Array<string | Action> {
  const parts: Array<string | Action> = [];
  let i = 0;
  while (i < src.length) {
    const open = src.indexOf('{{', i);
    if (open < 0) { parts.push(src.slice(i)); break; }
    let text = src.slice(i, open);
    let start = open + 2;
    if (src[start] === '-' && /\s/.test(src[start + 1] ?? '')) { text = text.replace(/\s+$/, ''); start += 2; }
    const close = src.indexOf('}}', start);
    if (close < 0) throw new TemplateError('unclosed action: missing }}');
    let end = close;
    let next = close + 2;
    let trimAfter = false;
    if (src[close - 1] === '-' && /\s/.test(src[close - 2] ?? '')) { end = close - 2; trimAfter = true; }
    if (text) parts.push(text);
    parts.push({ body: src.slice(start, end).trim() });
    if (trimAfter) while (next < src.length && /\s/.test(src[next]!)) next++;
    i = next;
  }
  return parts;
}

function parseControl(word: string, b: string, parts: Array<string | Action>, pos: { i: number }): Node {
  const pipe = parsePipeline(tokenize(b.slice(word.length)));
  const body = parse(parts, pos, ['end', 'else']);
  let elseNodes: Node[] = [];
  if (body.stop === 'else') elseNodes = parse(parts, pos, ['end']).nodes;
  else if (body.stop === 'elseif') {
    // "{{else if P}}" is "{{else}}{{if P}}...{{end}}" sharing the one {{end}}
    const nb = (parts[pos.i++] as Action).body;
    const nw = nb.split(/\s+/)[0]!;
    if (nw !== 'if' && nw !== 'with') throw new TemplateError(`unexpected {{else ${nb}}}`);
    elseNodes = [parseControl(nw, nb, parts, pos)];
  }
  if (word === 'if') return { t: 'if', branches: [{ cond: pipe, body: body.nodes }], else: elseNodes };
  if (word === 'with') return { t: 'with', p: pipe, body: body.nodes, else: elseNodes };
  return { t: 'range', p: { decl: [], cmds: pipe.cmds }, vars: pipe.decl, body: body.nodes, else: elseNodes };
}

function parse(parts: Array<string | Action>, pos: { i: number }, stopAt: readonly string[]): { nodes: Node[]; stop: string } {
  const nodes: Node[] = [];
  while (pos.i < parts.length) {
    const p = parts[pos.i++]!;
    if (typeof p === 'string') { nodes.push({ t: 'text', s: p }); continue; }
    const b = p.body;
    if (b.startsWith('/*')) continue;
    const word = b.split(/\s+/)[0]!;
    if (word === 'end' || word === 'else') {
      if (!stopAt.includes(word)) throw new TemplateError(`unexpected {{${b}}}`);
      if (word === 'else' && b !== 'else') {
        if (!stopAt.includes('end') || !stopAt.includes('else')) throw new TemplateError(`unexpected {{${b}}}`);
        parts[--pos.i] = { body: b.slice(4).trim() };
        return { nodes, stop: 'elseif' };
      }
      return { nodes, stop: word };
    }
    if (word === 'if' || word === 'with' || word === 'range') {
      nodes.push(parseControl(word, b, parts, pos));
      continue;
    }
    nodes.push({ t: 'out', p: parsePipeline(tokenize(b)) });
  }
  if (stopAt.length) throw new TemplateError('unexpected end of template: missing {{end}}');
  return { nodes, stop: '' };
}

// ---- evaluating -----------------------------------------------------------------------------

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

/** spec objects of the resources a template runs over → their kind (for Go zero values). */
const specKinds = new WeakMap<object, string>();

function markSpecs(v: unknown): void {
  if (Array.isArray(v)) {
    for (const x of v) markSpecs(x);
    return;
  }
  if (!isObj(v)) return;
  if (typeof v.kind === 'string' && isObj(v.spec)) specKinds.set(v.spec, v.kind);
  if (Array.isArray(v.items)) markSpecs(v.items);
}

function field(v: unknown, name: string): unknown {
  const got = lookupField(v, name);
  if (got === undefined && isObj(v)) {
    // A Calico spec field the resource does not set: Go's struct would print its zero value.
    const kind = specKinds.get(v);
    if (kind) {
      const zero = goSpecZero(kind, name);
      if (zero.found) return zero.value;
    }
  }
  return got;
}

function lookupField(v: unknown, name: string): unknown {
  if (Array.isArray(v) && v.length === 1) return field(v[0], name);
  if (!isObj(v)) {
    if (v === undefined || v === null) return undefined;
    throw new TemplateError(`can't evaluate field ${name} in type ${Array.isArray(v) ? 'list' : typeof v}`);
  }
  if (name in v) return v[name];
  const lower = name.toLowerCase();
  if (lower === 'objectmeta' || lower === 'listmeta') return v.metadata;
  if (lower === 'typemeta') return v;
  for (const k of Object.keys(v)) if (k.toLowerCase() === lower) return v[k];
  if (isObj(v.metadata)) {
    for (const k of Object.keys(v.metadata)) if (k.toLowerCase() === lower) return v.metadata[k];
  }
  return undefined;
}

export function truthy(v: unknown): boolean {
  if (v === undefined || v === null || v === false || v === 0 || v === '') return false;
  if (Array.isArray(v)) return v.length > 0;
  if (isObj(v)) return Object.keys(v).length > 0;
  return true;
}

/** Go's %v formatting of a value. */
export function goString(v: unknown): string {
  if (v === undefined) return '<no value>';
  if (v === null) return '<nil>';
  if (typeof v === 'number') return Number.isInteger(v) && Math.abs(v) < 1e21 ? String(v) : goFloat(v);
  if (Array.isArray(v)) return `[${v.map(goString).join(' ')}]`;
  if (isObj(v)) return `map[${Object.keys(v).sort().map((k) => `${k}:${goString(v[k])}`).join(' ')}]`;
  return String(v);
}

function sprintf(format: string, args: unknown[]): string {
  let i = 0;
  return format.replace(/%([-+ #0]*\d*(?:\.\d+)?)([vsdqtfgx%])/g, (_m, _flags: string, verb: string) => {
    if (verb === '%') return '%';
    const a = args[i++];
    switch (verb) {
      case 'q': return JSON.stringify(goString(a));
      case 'd': return String(Math.trunc(Number(a)));
      case 'f': return Number(a).toFixed(6);
      case 'x': return typeof a === 'number' ? a.toString(16) : Buffer.from(String(a)).toString('hex');
      default: return goString(a);
    }
  });
}

function cmp(a: unknown, b: unknown): number {
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  const x = goString(a);
  const y = goString(b);
  return x < y ? -1 : x > y ? 1 : 0;
}

const FUNCS: Record<string, (...args: unknown[]) => unknown> = {
  join: (items, sep) => joinAndTruncate(items, String(sep ?? '')),
  joinAndTruncate: (items, sep, max) => joinAndTruncate(items, String(sep ?? ''), Number(max ?? 0)),
  len: (v) => (typeof v === 'string' || Array.isArray(v) ? v.length : isObj(v) ? Object.keys(v).length : 0),
  index: (v, ...keys) => keys.reduce((acc: unknown, k) => (Array.isArray(acc) ? acc[Number(k)] : isObj(acc) ? acc[String(k)] : undefined), v),
  eq: (a, ...bs) => bs.some((b) => cmp(a, b) === 0),
  ne: (a, b) => cmp(a, b) !== 0,
  lt: (a, b) => cmp(a, b) < 0,
  le: (a, b) => cmp(a, b) <= 0,
  gt: (a, b) => cmp(a, b) > 0,
  ge: (a, b) => cmp(a, b) >= 0,
  not: (a) => !truthy(a),
  and: (...xs) => xs.find((x) => !truthy(x)) ?? xs[xs.length - 1],
  or: (...xs) => xs.find((x) => truthy(x)) ?? xs[xs.length - 1],
  print: (...xs) => xs.map(goString).join(''),
  println: (...xs) => xs.map(goString).join(' ') + '\n',
  printf: (f, ...xs) => sprintf(String(f), xs),
};

interface Scope { dot: unknown; vars: Map<string, unknown> }

function evalOperand(op: Operand, s: Scope, args: unknown[] | undefined): unknown {
  switch (op.o) {
    case 'lit': return op.v;
    case 'sub': {
      let v = evalPipeline(op.p, s);
      for (const name of op.path) v = field(v, name);
      return v;
    }
    case 'field': {
      let v: unknown;
      if (op.base === 'dot') v = s.dot;
      else if (s.vars.has(op.base)) v = s.vars.get(op.base);
      else throw new TemplateError(`undefined variable: ${op.base}`);
      for (const name of op.path) v = field(v, name);
      return v;
    }
    case 'call': {
      const f = FUNCS[op.name];
      if (!f) throw new TemplateError(`function "${op.name}" not defined (supported: ${Object.keys(FUNCS).join(', ')})`);
      return f(...(args ?? []));
    }
  }
}

function evalPipeline(p: Pipeline, s: Scope): unknown {
  let prev: unknown;
  let first = true;
  for (const cmd of p.cmds) {
    const [head, ...rest] = cmd;
    const args = rest.map((o) => evalOperand(o, s, undefined));
    if (!first) args.push(prev);
    if (head!.o === 'call') prev = evalOperand(head!, s, args);
    else {
      if (args.length) throw new TemplateError('can\'t give arguments to a non-function value');
      prev = evalOperand(head!, s, undefined);
    }
    first = false;
  }
  for (const d of p.decl) s.vars.set(d, prev);
  return prev;
}

function exec(nodes: Node[], s: Scope, out: string[]): void {
  for (const n of nodes) {
    switch (n.t) {
      case 'text': out.push(n.s); break;
      case 'out': {
        const v = evalPipeline(n.p, s);
        if (!n.p.decl.length) out.push(goString(v));
        break;
      }
      case 'if': {
        const hit = n.branches.find((b) => truthy(evalPipeline(b.cond, s)));
        exec(hit ? hit.body : n.else, s, out);
        break;
      }
      case 'with': {
        const v = evalPipeline(n.p, s);
        if (truthy(v)) exec(n.body, { dot: v, vars: s.vars }, out);
        else exec(n.else, s, out);
        break;
      }
      case 'range': {
        const v = evalPipeline(n.p, s);
        const entries: Array<[unknown, unknown]> = Array.isArray(v)
          ? v.map((x, i) => [i, x])
          : isObj(v) ? Object.keys(v).sort().map((k) => [k, v[k]]) : [];
        if (!entries.length) { exec(n.else, s, out); break; }
        for (const [k, x] of entries) {
          const vars = new Map(s.vars);
          if (n.vars.length === 1) vars.set(n.vars[0]!, x);
          if (n.vars.length === 2) { vars.set(n.vars[0]!, k); vars.set(n.vars[1]!, x); }
          exec(n.body, { dot: x, vars }, out);
        }
        break;
      }
    }
  }
}

/** Parses a template (throws TemplateError on a syntax error). */
export function compileTemplate(src: string): (data: unknown) => string {
  const nodes = parse(split(src), { i: 0 }, []).nodes;
  return (data) => {
    markSpecs(data);
    const out: string[] = [];
    exec(nodes, { dot: data, vars: new Map([['$', data]]) }, out);
    return out.join('');
  };
}
