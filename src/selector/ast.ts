// Selector syntax tree and its canonical text (Calico's Selector.String()).

export type SelectorNode =
  | { readonly kind: 'all' }
  | { readonly kind: 'global' }
  | { readonly kind: 'has'; readonly label: string }
  | {
      readonly kind: 'eq' | 'ne' | 'contains' | 'startsWith' | 'endsWith';
      readonly label: string;
      readonly value: string;
    }
  /** `values` de-duplicated and sorted by UTF-8 byte order. */
  | { readonly kind: 'in' | 'notIn'; readonly label: string; readonly values: readonly string[] }
  | { readonly kind: 'not'; readonly operand: SelectorNode }
  /** Two or more operands. */
  | { readonly kind: 'and' | 'or'; readonly operands: readonly SelectorNode[] };

const OPS = {
  eq: ' == ',
  ne: ' != ',
  contains: ' contains ',
  startsWith: ' starts with ',
  endsWith: ' ends with ',
} as const;

/** A value in quotes: double quotes unless the value itself contains one. */
export function quote(value: string): string {
  return value.includes('"') ? `'${value}'` : `"${value}"`;
}

/**
 * Calico's canonical text: single spaces around operators, `!` with no space after it,
 * AND/OR groups always in brackets, single operands never, set items as stored (sorted).
 */
export function canonicalText(node: SelectorNode): string {
  const out: string[] = [];
  write(node, out);
  return out.join('');
}

function write(node: SelectorNode, out: string[]): void {
  switch (node.kind) {
    case 'all':
      out.push('all()');
      return;
    case 'global':
      out.push('global()');
      return;
    case 'has':
      out.push('has(', node.label, ')');
      return;
    case 'eq':
    case 'ne':
    case 'contains':
    case 'startsWith':
    case 'endsWith':
      out.push(node.label, OPS[node.kind], quote(node.value));
      return;
    case 'in':
    case 'notIn':
      out.push(node.label, node.kind === 'in' ? ' in {' : ' not in {', node.values.map(quote).join(', '), '}');
      return;
    case 'not':
      out.push('!');
      write(node.operand, out);
      return;
    case 'and':
    case 'or': {
      out.push('(');
      const sep = node.kind === 'and' ? ' && ' : ' || ';
      node.operands.forEach((op, i) => {
        if (i > 0) out.push(sep);
        write(op, out);
      });
      out.push(')');
      return;
    }
  }
}

/** Order of strings by their UTF-8 bytes (= code point order), as Go sorts strings. */
export function compareUtf8(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    let x = a.charCodeAt(i);
    let y = b.charCodeAt(i);
    if (x === y) continue;
    // UTF-16 puts U+E000..U+FFFF above the surrogates; code point order puts them below.
    if (x >= 0xd800) x = x <= 0xdfff ? x + 0x2000 : x - 0x800;
    if (y >= 0xd800) y = y <= 0xdfff ? y + 0x2000 : y - 0x800;
    return x - y;
  }
  return a.length - b.length;
}

/** Sorted (UTF-8 byte order), de-duplicated copy. */
export function sortedSet(values: readonly string[]): string[] {
  const sorted = [...values].sort(compareUtf8);
  const out: string[] = [];
  for (const v of sorted) if (out.length === 0 || out[out.length - 1] !== v) out.push(v);
  return out;
}

/** Every label name the selector mentions, sorted and de-duplicated. */
export function labelKeysOf(node: SelectorNode): string[] {
  const keys = new Set<string>();
  const visit = (n: SelectorNode): void => {
    switch (n.kind) {
      case 'all':
      case 'global':
        return;
      case 'not':
        visit(n.operand);
        return;
      case 'and':
      case 'or':
        for (const o of n.operands) visit(o);
        return;
      default:
        keys.add(n.label);
    }
  };
  visit(node);
  return [...keys].sort(compareUtf8);
}
