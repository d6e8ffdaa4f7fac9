// calico-ts selector language: Calico's label selectors (libcalico-go/lib/selector) —
// parse, canonical text and unique id, compiled matchers, and an incremental label index.
export type { SelectorNode } from './ast.ts';
export { canonicalText, compareUtf8 } from './ast.ts';
export type { LabelSource, Labels } from './compile.ts';
export { SelectorParseError } from './errors.ts';
export type { LabelIndexCallbacks, LabelIndexStats } from './label-index.ts';
export { LabelIndex, LabelIndexReentryError } from './label-index.ts';
export { MAX_NESTING } from './parser.ts';
export type { LabelRestriction, LabelRestrictions } from './restrictions.ts';
export type { Selector } from './selector.ts';
export {
  normaliseSelector,
  parseSelector,
  selectorFromAst,
  selectorUniqueId,
  validateSelector,
} from './selector.ts';
export { MAX_LABEL_LENGTH, isValidLabelName } from './tokenizer.ts';

import { parseSelector } from './selector.ts';

/** The label names a selector mentions (sorted, de-duplicated); throws SelectorParseError. */
export function selectorLabelKeys(text: string): readonly string[] {
  return parseSelector(text).labelKeys;
}
