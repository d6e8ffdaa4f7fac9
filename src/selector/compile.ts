// Compile a selector tree to a matcher closure, once; matching then runs no tree walk.
//
// Absent labels: `==`, `in`, `contains`, `starts with`, `ends with` and `has()` need the label;
// `!=` and `not in` match when it is absent. A label counts as present when its value is a
// string (so `has(toString)` on `{}` is false: inherited Object.prototype members are not labels).
import type { SelectorNode } from './ast.ts';

/** Labels as a plain object: label name -> value. */
export type Labels = Readonly<Record<string, string>>;

/**
 * Labels behind a lookup, e.g. an endpoint's own labels over its profiles' (a Map fits).
 * `get` returns undefined for an absent label.
 */
export interface LabelSource {
  get(key: string): string | undefined;
}

export type Matcher<L> = (labels: L) => boolean;

const TRUE = (): boolean => true;
const FALSE = (): boolean => false;

/** Sets this small are checked with === chains; bigger ones with a Set. */
const SMALL_SET = 4;

export function compileForObject(node: SelectorNode): Matcher<Labels> {
  switch (node.kind) {
    case 'all':
    case 'global':
      return TRUE;
    case 'has': {
      const k = node.label;
      return (l) => typeof l[k] === 'string';
    }
    case 'eq': {
      const k = node.label;
      const v = node.value;
      return (l) => l[k] === v;
    }
    case 'ne': {
      const k = node.label;
      const v = node.value;
      return (l) => l[k] !== v;
    }
    case 'contains': {
      const k = node.label;
      const v = node.value;
      return (l) => {
        const x = l[k];
        return typeof x === 'string' && x.includes(v);
      };
    }
    case 'startsWith': {
      const k = node.label;
      const v = node.value;
      return (l) => {
        const x = l[k];
        return typeof x === 'string' && x.startsWith(v);
      };
    }
    case 'endsWith': {
      const k = node.label;
      const v = node.value;
      return (l) => {
        const x = l[k];
        return typeof x === 'string' && x.endsWith(v);
      };
    }
    case 'in':
    case 'notIn': {
      const inSet = setTest(node.values);
      const k = node.label;
      return node.kind === 'in' ? (l) => inSet(l[k]) : (l) => !inSet(l[k]);
    }
    case 'not': {
      const f = compileForObject(node.operand);
      return (l) => !f(l);
    }
    case 'and':
    case 'or':
      return combine(node.kind, node.operands.map(compileForObject));
  }
}

export function compileForSource(node: SelectorNode): Matcher<LabelSource> {
  switch (node.kind) {
    case 'all':
    case 'global':
      return TRUE;
    case 'has': {
      const k = node.label;
      return (l) => typeof l.get(k) === 'string';
    }
    case 'eq': {
      const k = node.label;
      const v = node.value;
      return (l) => l.get(k) === v;
    }
    case 'ne': {
      const k = node.label;
      const v = node.value;
      return (l) => l.get(k) !== v;
    }
    case 'contains': {
      const k = node.label;
      const v = node.value;
      return (l) => {
        const x = l.get(k);
        return typeof x === 'string' && x.includes(v);
      };
    }
    case 'startsWith': {
      const k = node.label;
      const v = node.value;
      return (l) => {
        const x = l.get(k);
        return typeof x === 'string' && x.startsWith(v);
      };
    }
    case 'endsWith': {
      const k = node.label;
      const v = node.value;
      return (l) => {
        const x = l.get(k);
        return typeof x === 'string' && x.endsWith(v);
      };
    }
    case 'in':
    case 'notIn': {
      const inSet = setTest(node.values);
      const k = node.label;
      return node.kind === 'in' ? (l) => inSet(l.get(k)) : (l) => !inSet(l.get(k));
    }
    case 'not': {
      const f = compileForSource(node.operand);
      return (l) => !f(l);
    }
    case 'and':
    case 'or':
      return combine(node.kind, node.operands.map(compileForSource));
  }
}

/** Membership test for a label value (undefined or a non-string is never a member). */
function setTest(values: readonly string[]): (x: unknown) => boolean {
  switch (values.length) {
    case 0:
      return FALSE;
    case 1: {
      const a = values[0];
      return (x) => x === a;
    }
    case 2: {
      const [a, b] = values;
      return (x) => x === a || x === b;
    }
    case 3: {
      const [a, b, c] = values;
      return (x) => x === a || x === b || x === c;
    }
    default: {
      if (values.length <= SMALL_SET) {
        const [a, b, c, d] = values;
        return (x) => x === a || x === b || x === c || x === d;
      }
      const set = new Set<unknown>(values);
      return (x) => set.has(x);
    }
  }
}

function combine<L>(kind: 'and' | 'or', fs: Matcher<L>[]): Matcher<L> {
  if (kind === 'and') {
    switch (fs.length) {
      case 2: {
        const [a, b] = fs as [Matcher<L>, Matcher<L>];
        return (l) => a(l) && b(l);
      }
      case 3: {
        const [a, b, c] = fs as [Matcher<L>, Matcher<L>, Matcher<L>];
        return (l) => a(l) && b(l) && c(l);
      }
      default:
        return (l) => {
          for (let i = 0; i < fs.length; i++) if (!fs[i]!(l)) return false;
          return true;
        };
    }
  }
  switch (fs.length) {
    case 2: {
      const [a, b] = fs as [Matcher<L>, Matcher<L>];
      return (l) => a(l) || b(l);
    }
    case 3: {
      const [a, b, c] = fs as [Matcher<L>, Matcher<L>, Matcher<L>];
      return (l) => a(l) || b(l) || c(l);
    }
    default:
      return (l) => {
        for (let i = 0; i < fs.length; i++) if (fs[i]!(l)) return true;
        return false;
      };
  }
}
