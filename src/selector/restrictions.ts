// Necessary conditions on labels for a selector to match (the idea of Calico's
// LabelRestrictions, derived our own way): for each label, whether it must be present, must be
// absent, or must have one of a set of values. Every label map the selector matches satisfies
// all of them, so an index may skip items (or selectors) that do not. `never` means the
// selector matches nothing at all (`!all()`, `a == "x" && a == "y"`, `a in {}`).
import type { SelectorNode } from './ast.ts';

export interface LabelRestriction {
  /** The label must be present. */
  readonly mustBePresent: boolean;
  /** The label must be absent. */
  readonly mustBeAbsent: boolean;
  /** If set, the label's value must be one of these (implies present). */
  readonly values: ReadonlySet<string> | null;
}

export type LabelRestrictions =
  | { readonly never: true }
  | { readonly never: false; readonly labels: ReadonlyMap<string, LabelRestriction> };

type R = Map<string, LabelRestriction> | 'never';

const NONE: R = new Map();

export function labelRestrictionsOf(node: SelectorNode): LabelRestrictions {
  const r = derive(node, false);
  return r === 'never' ? { never: true } : { never: false, labels: r };
}

function one(label: string, r: LabelRestriction): R {
  return new Map([[label, r]]);
}

function valuesOf(label: string, values: readonly string[]): R {
  if (values.length === 0) return 'never';
  return one(label, { mustBePresent: true, mustBeAbsent: false, values: new Set(values) });
}

/** Conditions necessary for `node` (or, with negated, for NOT node) to match. */
function derive(node: SelectorNode, negated: boolean): R {
  switch (node.kind) {
    case 'all':
    case 'global':
      return negated ? 'never' : NONE;
    case 'has':
      return one(node.label, { mustBePresent: !negated, mustBeAbsent: negated, values: null });
    case 'eq':
      return negated ? NONE : valuesOf(node.label, [node.value]);
    case 'ne':
      // NOT (a != v) is a == v.
      return negated ? valuesOf(node.label, [node.value]) : NONE;
    case 'in':
      return negated ? NONE : valuesOf(node.label, node.values);
    case 'notIn':
      return negated ? valuesOf(node.label, node.values) : NONE;
    case 'contains':
    case 'startsWith':
    case 'endsWith':
      return negated ? NONE : one(node.label, { mustBePresent: true, mustBeAbsent: false, values: null });
    case 'not':
      return derive(node.operand, !negated);
    case 'and':
    case 'or': {
      // NOT (x AND y) = NOT x OR NOT y; NOT (x OR y) = NOT x AND NOT y.
      const conj = (node.kind === 'and') !== negated;
      const parts = node.operands.map((o) => derive(o, negated));
      return conj ? conjunction(parts) : disjunction(parts);
    }
  }
}

function conjunction(parts: R[]): R {
  const out = new Map<string, LabelRestriction>();
  for (const p of parts) {
    if (p === 'never') return 'never';
    for (const [k, r] of p) {
      const b = out.get(k);
      if (!b) {
        out.set(k, r);
        continue;
      }
      let values = b.values;
      if (values === null) values = r.values;
      else if (r.values !== null) values = new Set([...values].filter((v) => r.values!.has(v)));
      out.set(k, {
        mustBePresent: b.mustBePresent || r.mustBePresent,
        mustBeAbsent: b.mustBeAbsent || r.mustBeAbsent,
        values,
      });
    }
  }
  for (const r of out.values()) {
    const present = r.mustBePresent || r.values !== null;
    if ((present && r.mustBeAbsent) || (r.values !== null && r.values.size === 0)) return 'never';
  }
  return out;
}

function disjunction(parts: R[]): R {
  const live = parts.filter((p): p is Map<string, LabelRestriction> => p !== 'never');
  if (live.length === 0) return 'never';
  const [first, ...rest] = live as [Map<string, LabelRestriction>, ...Map<string, LabelRestriction>[]];
  const out = new Map<string, LabelRestriction>();
  for (const [k, r0] of first) {
    let present = r0.mustBePresent || r0.values !== null;
    let absent = r0.mustBeAbsent;
    let values: Set<string> | null = r0.values ? new Set(r0.values) : null;
    for (const p of rest) {
      const r = p.get(k);
      if (!r) {
        present = false;
        absent = false;
        values = null;
        break;
      }
      present = present && (r.mustBePresent || r.values !== null);
      absent = absent && r.mustBeAbsent;
      if (values !== null && r.values !== null) for (const v of r.values) values.add(v);
      else values = null;
    }
    if (!present) values = null;
    if (present || absent) out.set(k, { mustBePresent: present, mustBeAbsent: absent, values });
  }
  return out;
}
