// An incremental index of which selectors match which labelled items (after the idea of
// Calico's felix/labelindex: InheritIndex + LabelRestrictionIndex + label name/value index).
//
// - Items have their own labels and, optionally, parents (e.g. profiles / namespaces) whose
//   labels they inherit: own labels win, then parents in the order given (first one wins).
// - Each selector is filed under ONE label it requires (the one whose required values, or
//   presence, the fewest current items satisfy): `byValue[k][v]` for `k == v` / `k in {..}`,
//   `byPresence[k]` for `has(k)`-like needs — or, beyond Calico, under a PAIR of required
//   label values (`tier == "db" && env == "prod"`) when each label alone is common but the
//   pair is rare (`byPair[k1,k2][v1,v2]`; items are then also indexed by that pair).
//   Selectors that require no label go in a scan-all set (filed also by every label key they
//   mention); selectors that can never match are filed nowhere.
// - Items are indexed by (key, value) of their effective labels.
// - A new/changed selector is evaluated only against items that have its filed label (or
//   pair; all items for scan-all selectors).
// - A changed item is evaluated only against selectors that (a) are filed under one of its
//   labels (or are scan-all), and (b) mention a label key whose effective value changed.
//   A selector that mentions no changed key cannot change its answer, so it is skipped.
// Callbacks run synchronously, inside the call that caused them, once per change of state:
// onMatchStarted when a (selector, item) pair starts matching, onMatchStopped when it stops
// (including when either side is deleted).
import { compareUtf8 } from './ast.ts';
import type { Labels, Matcher } from './compile.ts';
import type { Selector } from './selector.ts';
import { parseSelector } from './selector.ts';
import { intern } from './tokenizer.ts';

/** A callback called back into the index (not allowed: it would corrupt the update in flight). */
export class LabelIndexReentryError extends Error {
  readonly code = 'LABEL_INDEX_REENTRY' as const;
  constructor(op: string, during: string) {
    super(`LabelIndex.${op} called from a match callback during ${during}: callbacks must not change the index (queue the work instead)`);
    this.name = 'LabelIndexReentryError';
  }
}

export interface LabelIndexCallbacks<S, I> {
  onMatchStarted?: (selectorId: S, itemId: I) => void;
  onMatchStopped?: (selectorId: S, itemId: I) => void;
}

export interface LabelIndexStats {
  selectors: number;
  /** Selectors filed under a required label value. */
  selectorsByValue: number;
  /** Selectors filed under a required pair of label values. */
  selectorsByPair: number;
  /** Selectors filed under a required label's presence. */
  selectorsByPresence: number;
  /** Selectors with no required label (evaluated against every new item). */
  selectorsScanAll: number;
  /** Selectors that can never match. */
  selectorsNever: number;
  items: number;
  parents: number;
  /** (selector, item) pairs currently matching. */
  matches: number;
  /** Selector evaluations performed since construction (or resetCounters()). */
  evaluations: number;
  /** Selectors moved to a better label by reoptimize() since construction. */
  refilings: number;
}

type Bucket = 'value' | 'pair' | 'presence' | 'scan' | 'never';

interface SelRec<S, _I> {
  readonly id: S;
  sel: Selector;
  match: Matcher<Labels>;
  keys: ReadonlySet<string>;
  filing: Filing;
  stamp: number;
}

/** Where a selector is filed; its matching items are always among this filing's candidates. */
interface Filing {
  readonly bucket: Bucket;
  /** value/presence: the label; pair: the first label. */
  readonly key: string;
  /** value: allowed values; pair: allowed values of `key`. */
  readonly values: readonly string[];
  /** pair only: the second label and its allowed values. */
  readonly key2: string;
  readonly values2: readonly string[];
}

const NO_FILING: Filing = { bucket: 'never', key: '', values: [], key2: '', values2: [] };

/** Items indexed by the values of a pair of labels, kept while some selector is filed so. */
interface PairIndex<S, I> {
  readonly k1: string;
  readonly k2: string;
  refs: number;
  readonly items: Map<string, Set<ItemRec<S, I>>>;
  readonly sels: Map<string, Set<SelRec<S, I>>>;
}

/** Collision-free key for a pair of values. */
function pairValue(v1: string, v2: string): string {
  return `${v1.length}:${v1}${v2}`;
}

function comboOf(k1: string, k2: string): string {
  return `${k1.length}:${k1}${k2}`;
}

/** A pair filing is used only if it cuts the candidates at least this much (it costs upkeep). */
const PAIR_GAIN = 0.5;

interface ItemRec<S, I> {
  readonly id: I;
  own: Labels;
  parents: readonly string[];
  eff: Labels;
  sels: Set<SelRec<S, I>>;
  stamp: number;
}

interface ParentRec<S, I> {
  labels: Labels | null;
  children: Set<ItemRec<S, I>>;
}

const EMPTY: Labels = Object.freeze({});

export class LabelIndex<S = string, I = string> {
  private readonly cb: LabelIndexCallbacks<S, I>;
  private readonly sels = new Map<S, SelRec<S, I>>();
  private readonly items = new Map<I, ItemRec<S, I>>();
  private readonly parents = new Map<string, ParentRec<S, I>>();

  private readonly selByValue = new Map<string, Map<string, Set<SelRec<S, I>>>>();
  private readonly selByPresence = new Map<string, Set<SelRec<S, I>>>();
  private readonly selScanAll = new Set<SelRec<S, I>>();
  private readonly selScanAllByKey = new Map<string, Set<SelRec<S, I>>>();

  private readonly pairs = new Map<string, PairIndex<S, I>>();

  private readonly itemsByKV = new Map<string, Map<string, Set<ItemRec<S, I>>>>();
  private readonly itemKeyCount = new Map<string, number>();

  private stamp = 0;
  private matchCount = 0;
  private nextReoptimize = 1024;
  /** Selectors moved to a better filing by reoptimize(). */
  private refilings = 0;
  /** Selector evaluations performed (each call of a compiled matcher on an item). */
  evaluations = 0;
  /** The public mutator running now (callbacks must not start another). */
  private busy: string | null = null;

  constructor(callbacks: LabelIndexCallbacks<S, I> = {}) {
    this.cb = callbacks;
  }

  // ---- public mutators: each runs to completion; callbacks must not call back in --------

  /** Add or replace a selector. Text is parsed (SelectorParseError if bad). */
  updateSelector(id: S, selector: Selector | string): void {
    this.enter('updateSelector');
    try {
      this.doUpdateSelector(id, selector);
    } finally {
      this.busy = null;
    }
  }

  deleteSelector(id: S): void {
    this.enter('deleteSelector');
    try {
      this.doDeleteSelector(id);
    } finally {
      this.busy = null;
    }
  }

  /**
   * Add or replace an item's own labels and its parents (ids of parent label sets, in order of
   * precedence). The labels are copied; values must be strings (TypeError otherwise).
   */
  updateItem(id: I, labels: Labels, parentIds: readonly string[] = []): void {
    this.enter('updateItem');
    try {
      this.doUpdateItem(id, labels, parentIds);
    } finally {
      this.busy = null;
    }
  }

  deleteItem(id: I): void {
    this.enter('deleteItem');
    try {
      this.doDeleteItem(id);
    } finally {
      this.busy = null;
    }
  }

  /** Set the labels of a parent (items naming it inherit them). */
  updateParent(id: string, labels: Labels): void {
    this.enter('updateParent');
    try {
      this.doUpdateParent(id, labels);
    } finally {
      this.busy = null;
    }
  }

  deleteParent(id: string): void {
    this.enter('deleteParent');
    try {
      this.doDeleteParent(id);
    } finally {
      this.busy = null;
    }
  }

  private enter(op: string): void {
    if (this.busy !== null) {
      throw new LabelIndexReentryError(op, this.busy);
    }
    this.busy = op;
  }

  // ---- selectors ---------------------------------------------------------------------------

  private doUpdateSelector(id: S, selector: Selector | string): void {
    const sel = typeof selector === 'string' ? parseSelector(selector) : selector;
    let rec = this.sels.get(id);
    let old: Filing | null = null;
    let held: PairIndex<S, I> | undefined;
    if (rec !== undefined) {
      if (rec.sel.uniqueId === sel.uniqueId) return;
      old = rec.filing;
      // Keep the old pair index alive until the old matches have been looked through it.
      if (old.bucket === 'pair') (held = this.pairs.get(comboOf(old.key, old.key2)))!.refs++;
      this.unfileSelector(rec);
      rec.sel = sel;
      rec.match = sel.matches;
      rec.keys = new Set(sel.labelKeys);
    } else {
      rec = {
        id,
        sel,
        match: sel.matches,
        keys: new Set(sel.labelKeys),
        filing: NO_FILING,
        stamp: 0,
      };
      this.sels.set(id, rec);
    }
    this.fileSelector(rec);
    this.rescanSelector(rec, old);
    if (held !== undefined && --held.refs === 0) this.pairs.delete(comboOf(held.k1, held.k2));
  }

  private doDeleteSelector(id: S): void {
    const rec = this.sels.get(id);
    if (rec === undefined) return;
    const filing = rec.filing;
    // Find its matches through its filing before unfiling (a pair index may go with it).
    const matched: Array<ItemRec<S, I>> = [];
    this.forEachCandidate(filing, (item) => {
      if (item.sels.has(rec)) matched.push(item);
    });
    this.unfileSelector(rec);
    this.sels.delete(id);
    for (const item of matched) this.setMatch(rec, item, false);
  }

  // ---- items -------------------------------------------------------------------------------

  private doUpdateItem(id: I, labels: Labels, parentIds: readonly string[]): void {
    const own = copyLabels(labels, id);
    let rec = this.items.get(id);
    const isNew = rec === undefined;
    if (rec !== undefined) {
      if (sameLabels(rec.own, own) && sameList(rec.parents, parentIds)) return;
      for (const p of rec.parents) if (!parentIds.includes(p)) this.detachParent(p, rec);
    } else {
      rec = { id, own, parents: [], eff: EMPTY, sels: new Set(), stamp: 0 };
      this.items.set(id, rec);
    }
    rec.own = own;
    rec.parents = [...parentIds];
    for (const p of rec.parents) this.parentRec(p).children.add(rec);
    this.refreshItem(rec, isNew);
    if (isNew && this.items.size >= this.nextReoptimize) this.refileAll();
  }

  private doDeleteItem(id: I): void {
    const rec = this.items.get(id);
    if (rec === undefined) return;
    this.items.delete(id);
    for (const p of rec.parents) this.detachParent(p, rec);
    this.reindexItem(rec, rec.eff, EMPTY);
    for (const s of rec.sels) {
      this.matchCount--;
      this.cb.onMatchStopped?.(s.id, rec.id);
    }
    rec.sels.clear();
  }

  private doUpdateParent(id: string, labels: Labels): void {
    const copy = copyLabels(labels, id);
    const p = this.parentRec(id);
    if (p.labels !== null && sameLabels(p.labels, copy)) return;
    p.labels = copy;
    for (const child of p.children) this.refreshItem(child, false);
  }

  private doDeleteParent(id: string): void {
    const p = this.parents.get(id);
    if (p === undefined) return;
    p.labels = null;
    if (p.children.size === 0) this.parents.delete(id);
    for (const child of p.children) this.refreshItem(child, false);
  }

  // ---- queries -----------------------------------------------------------------------------

  /** Ids of the items a selector matches now (a fresh array; scans the selector's candidates). */
  itemsMatching(selectorId: S): I[] {
    const rec = this.sels.get(selectorId);
    const out: I[] = [];
    if (rec !== undefined) {
      this.forEachCandidate(rec.filing, (item) => {
        if (item.sels.has(rec)) out.push(item.id);
      });
    }
    return out;
  }

  /**
   * Ids of the selectors that would match a label set (own labels over the given parents'),
   * without adding it: e.g. "which policies select a pod with these labels?". Evaluates only
   * candidate selectors, like an item update (counted in `evaluations`).
   */
  selectorsMatchingLabels(labels: Labels, parentIds: readonly string[] = []): S[] {
    const own = copyLabels(labels, 'query');
    const probe: ItemRec<S, I> = { id: undefined as I, own, parents: parentIds, eff: EMPTY, sels: new Set(), stamp: 0 };
    const eff = this.effectiveOf(probe);
    const op = ++this.stamp;
    const out: S[] = [];
    const visit = (s: SelRec<S, I>): void => {
      if (s.stamp === op) return;
      s.stamp = op;
      this.evaluations++;
      if (s.match(eff)) out.push(s.id);
    };
    for (const k in eff) {
      this.selByPresence.get(k)?.forEach(visit);
      this.selByValue.get(k)?.get(eff[k]!)?.forEach(visit);
    }
    for (const pi of this.pairs.values()) {
      const pv = pairOf(eff, pi.k1, pi.k2);
      if (pv !== undefined) pi.sels.get(pv)?.forEach(visit);
    }
    this.selScanAll.forEach(visit);
    return out;
  }

  /** Ids of the selectors matching an item now (a fresh array). */
  selectorsMatching(itemId: I): S[] {
    const rec = this.items.get(itemId);
    return rec === undefined ? [] : [...rec.sels].map((s) => s.id);
  }

  isMatch(selectorId: S, itemId: I): boolean {
    const s = this.sels.get(selectorId);
    const i = this.items.get(itemId);
    return s !== undefined && i !== undefined && i.sels.has(s);
  }

  /** An item's effective labels (own over inherited), or undefined if unknown. */
  effectiveLabels(itemId: I): Labels | undefined {
    return this.items.get(itemId)?.eff;
  }

  stats(): LabelIndexStats {
    let byValue = 0;
    let byPair = 0;
    let byPresence = 0;
    let never = 0;
    for (const s of this.sels.values()) {
      const b = s.filing.bucket;
      if (b === 'value') byValue++;
      else if (b === 'pair') byPair++;
      else if (b === 'presence') byPresence++;
      else if (b === 'never') never++;
    }
    return {
      selectors: this.sels.size,
      selectorsByValue: byValue,
      selectorsByPair: byPair,
      selectorsByPresence: byPresence,
      selectorsScanAll: this.selScanAll.size,
      selectorsNever: never,
      items: this.items.size,
      parents: this.parents.size,
      matches: this.matchCount,
      evaluations: this.evaluations,
      refilings: this.refilings,
    };
  }

  resetCounters(): void {
    this.evaluations = 0;
  }

  // ---- selector filing ---------------------------------------------------------------------

  private itemsWith(key: string, value: string): number {
    return this.itemsByKV.get(key)?.get(value)?.size ?? 0;
  }

  /** Choose the label to file a selector under: the one the fewest current items satisfy. */
  private fileSelector(rec: SelRec<S, I>): void {
    this.place(rec, this.chooseFiling(rec));
  }

  /** The best filing for a selector given the current item population. */
  private chooseFiling(rec: SelRec<S, I>): Filing {
    const r = rec.sel.restrictions();
    if (r.never) return NO_FILING;
    let best: { key: string; values: string[] | null; cost: number } | null = null;
    const valued: Array<{ key: string; values: string[]; cost: number }> = [];
    for (const [key, lr] of r.labels) {
      let values: string[] | null = null;
      let cost: number;
      if (lr.values !== null) {
        values = [...lr.values].sort(compareUtf8);
        cost = 0;
        for (const v of values) cost += this.itemsWith(key, v);
        valued.push({ key, values, cost });
      } else if (lr.mustBePresent) {
        cost = this.itemKeyCount.get(key) ?? 0;
      } else {
        continue; // must-be-absent only: no help finding candidates
      }
      if (best === null || better(cost, key, values, best)) best = { key, values, cost };
    }
    if (best === null) return { bucket: 'scan', key: '', values: [], key2: '', values2: [] };
    // A pair of required values, if it is much rarer than the best single label.
    const n = this.items.size;
    if (valued.length >= 2 && n > 0 && best.cost > 0) {
      valued.sort((x, y) => compareUtf8(x.key, y.key));
      let bestPair: { a: (typeof valued)[0]; b: (typeof valued)[0]; cost: number } | null = null;
      for (let i = 0; i < valued.length; i++) {
        for (let j = i + 1; j < valued.length; j++) {
          const a = valued[i]!;
          const b = valued[j]!;
          if (a.values.length * b.values.length > 16) continue;
          const cost = this.pairCost(a.key, a.values, b.key, b.values, (a.cost * b.cost) / n);
          if (bestPair === null || cost < bestPair.cost) bestPair = { a, b, cost };
        }
      }
      if (bestPair !== null && bestPair.cost < best.cost * PAIR_GAIN) {
        const { a, b } = bestPair;
        return { bucket: 'pair', key: a.key, values: a.values, key2: b.key, values2: b.values };
      }
    }
    if (best.values !== null) return { bucket: 'value', key: best.key, values: best.values, key2: '', values2: [] };
    return { bucket: 'presence', key: best.key, values: [], key2: '', values2: [] };
  }

  /** Items having a pair of values: exact if that pair is indexed, else `estimate`. */
  private pairCost(k1: string, v1s: readonly string[], k2: string, v2s: readonly string[], estimate: number): number {
    const pi = this.pairs.get(comboOf(k1, k2));
    if (pi === undefined) return estimate;
    let cost = 0;
    for (const v1 of v1s) for (const v2 of v2s) cost += pi.items.get(pairValue(v1, v2))?.size ?? 0;
    return cost;
  }

  private place(rec: SelRec<S, I>, f: Filing): void {
    rec.filing = f;
    switch (f.bucket) {
      case 'scan':
        this.selScanAll.add(rec);
        for (const k of rec.keys) getOrMake(this.selScanAllByKey, k, newSet).add(rec);
        break;
      case 'value': {
        const byVal = getOrMake(this.selByValue, f.key, newMap<string, Set<SelRec<S, I>>>);
        for (const v of f.values) getOrMake(byVal, v, newSet).add(rec);
        break;
      }
      case 'pair': {
        const pi = this.pairIndex(f.key, f.key2);
        pi.refs++;
        for (const v1 of f.values) for (const v2 of f.values2) getOrMake(pi.sels, pairValue(v1, v2), newSet).add(rec);
        break;
      }
      case 'presence':
        getOrMake(this.selByPresence, f.key, newSet).add(rec);
        break;
      case 'never':
        break;
    }
  }

  /** The index of items by a pair of labels, built from all items on first use. */
  private pairIndex(k1: string, k2: string): PairIndex<S, I> {
    const combo = comboOf(k1, k2);
    let pi = this.pairs.get(combo);
    if (pi === undefined) {
      pi = { k1, k2, refs: 0, items: new Map(), sels: new Map() };
      for (const item of this.items.values()) {
        const pv = pairOf(item.eff, k1, k2);
        if (pv !== undefined) getOrMake(pi.items, pv, newSet<ItemRec<S, I>>).add(item);
      }
      this.pairs.set(combo, pi);
    }
    return pi;
  }

  /**
   * Re-choose every selector's filing for the current item population (a selector filed while
   * there were few items may sit under a label most items have). Matches do not change — any
   * filing's candidates include all matches — so this evaluates nothing. Runs by itself each
   * time the number of items doubles (from 1,024); callable after big changes.
   */
  reoptimize(): void {
    this.enter('reoptimize');
    try {
      this.refileAll();
    } finally {
      this.busy = null;
    }
  }

  private refileAll(): void {
    for (const rec of this.sels.values()) {
      const old = rec.filing;
      if (old.bucket === 'scan' || old.bucket === 'never') continue;
      const f = this.chooseFiling(rec);
      if (sameFiling(f, old)) continue;
      // Hold the new pair index (if any) so unplacing the old filing cannot drop it.
      const hold = f.bucket === 'pair' ? this.pairIndex(f.key, f.key2) : null;
      if (hold) hold.refs++;
      this.unplace(rec, old);
      this.place(rec, f);
      if (hold) hold.refs--;
      this.refilings++;
    }
    this.nextReoptimize = Math.max(1024, this.items.size * 2);
  }

  private unfileSelector(rec: SelRec<S, I>): void {
    this.unplace(rec, rec.filing);
    rec.filing = NO_FILING;
  }

  private unplace(rec: SelRec<S, I>, f: Filing): void {
    switch (f.bucket) {
      case 'scan':
        this.selScanAll.delete(rec);
        for (const k of rec.keys) deleteFrom(this.selScanAllByKey, k, rec);
        break;
      case 'value': {
        const byVal = this.selByValue.get(f.key);
        if (byVal) {
          for (const v of f.values) deleteFrom(byVal, v, rec);
          if (byVal.size === 0) this.selByValue.delete(f.key);
        }
        break;
      }
      case 'pair': {
        const combo = comboOf(f.key, f.key2);
        const pi = this.pairs.get(combo);
        if (pi) {
          for (const v1 of f.values) for (const v2 of f.values2) deleteFrom(pi.sels, pairValue(v1, v2), rec);
          if (--pi.refs === 0) this.pairs.delete(combo);
        }
        break;
      }
      case 'presence':
        deleteFrom(this.selByPresence, f.key, rec);
        break;
      case 'never':
        break;
    }
  }

  /** Call fn for every item a selector filed this way could match. */
  private forEachCandidate(f: Filing, fn: (item: ItemRec<S, I>) => void): void {
    switch (f.bucket) {
      case 'scan':
        this.items.forEach(fn);
        break;
      case 'value': {
        const byVal = this.itemsByKV.get(f.key);
        if (byVal) for (const v of f.values) byVal.get(v)?.forEach(fn);
        break;
      }
      case 'pair': {
        const pi = this.pairs.get(comboOf(f.key, f.key2));
        if (pi) for (const v1 of f.values) for (const v2 of f.values2) pi.items.get(pairValue(v1, v2))?.forEach(fn);
        break;
      }
      case 'presence':
        this.itemsByKV.get(f.key)?.forEach((set) => set.forEach(fn));
        break;
      case 'never':
        break;
    }
  }

  /**
   * Evaluate a (new or changed) selector against its candidate items. The selector keeps no
   * set of its own matches (that costs more than it saves): items it matched under its old
   * filing that are not candidates now are found by scanning the old filing's candidates.
   */
  private rescanSelector(rec: SelRec<S, I>, old: Filing | null): void {
    const op = ++this.stamp;
    const fresh = old === null; // a new selector matches nothing yet: no stops to look for
    this.forEachCandidate(rec.filing, (item) => {
      item.stamp = op;
      this.evaluations++;
      const m = rec.match(item.eff);
      if (m || !fresh) this.setMatch(rec, item, m);
    });
    if (old !== null) {
      this.forEachCandidate(old, (item) => {
        if (item.stamp !== op) this.setMatch(rec, item, false);
      });
    }
  }

  // ---- item processing ---------------------------------------------------------------------

  private parentRec(id: string): ParentRec<S, I> {
    let p = this.parents.get(id);
    if (p === undefined) {
      p = { labels: null, children: new Set() };
      this.parents.set(id, p);
    }
    return p;
  }

  private detachParent(id: string, item: ItemRec<S, I>): void {
    const p = this.parents.get(id);
    if (p === undefined) return;
    p.children.delete(item);
    if (p.children.size === 0 && p.labels === null) this.parents.delete(id);
  }

  private effectiveOf(item: ItemRec<S, I>): Labels {
    // Spread (not Object.assign) so a label named __proto__ stays an ordinary property.
    const layers: Labels[] = [];
    for (let i = item.parents.length - 1; i >= 0; i--) {
      const pl = this.parents.get(item.parents[i]!)?.labels;
      if (pl != null) layers.push(pl);
    }
    if (layers.length === 0) return item.own;
    let out: Labels = {};
    for (const l of layers) out = { ...out, ...l };
    return { ...out, ...item.own };
  }

  /** Recompute an item's effective labels and update its matches. */
  private refreshItem(item: ItemRec<S, I>, fresh: boolean): void {
    const oldEff = item.eff;
    const newEff = this.effectiveOf(item);
    let changed: string[] | null;
    if (fresh) {
      changed = null;
    } else {
      changed = changedKeys(oldEff, newEff);
      if (changed.length === 0) {
        item.eff = newEff;
        return;
      }
    }
    this.reindexItem(item, oldEff, newEff);
    item.eff = newEff;
    this.matchItem(item, changed);
  }

  private reindexItem(item: ItemRec<S, I>, oldEff: Labels, newEff: Labels): void {
    for (const k in oldEff) {
      const v = oldEff[k]!;
      if (newEff[k] === v && Object.hasOwn(newEff, k)) continue;
      const byVal = this.itemsByKV.get(k);
      if (byVal === undefined) continue;
      const set = byVal.get(v);
      if (set !== undefined && set.delete(item)) {
        if (set.size === 0) byVal.delete(v);
        if (byVal.size === 0) this.itemsByKV.delete(k);
        const n = (this.itemKeyCount.get(k) ?? 1) - 1;
        if (n === 0) this.itemKeyCount.delete(k);
        else this.itemKeyCount.set(k, n);
      }
    }
    for (const k in newEff) {
      const v = newEff[k]!;
      if (oldEff[k] === v && Object.hasOwn(oldEff, k)) continue;
      getOrMake(getOrMake(this.itemsByKV, k, newMap<string, Set<ItemRec<S, I>>>), v, newSet<ItemRec<S, I>>).add(item);
      this.itemKeyCount.set(k, (this.itemKeyCount.get(k) ?? 0) + 1);
    }
    for (const pi of this.pairs.values()) {
      const before = pairOf(oldEff, pi.k1, pi.k2);
      const after = pairOf(newEff, pi.k1, pi.k2);
      if (before === after) continue;
      if (before !== undefined) deleteFrom(pi.items, before, item);
      if (after !== undefined) getOrMake(pi.items, after, newSet<ItemRec<S, I>>).add(item);
    }
  }

  /**
   * Evaluate the selectors that could have changed their answer for this item.
   * `changed` null means a new item: every candidate is evaluated.
   */
  private matchItem(item: ItemRec<S, I>, changed: readonly string[] | null): void {
    const op = ++this.stamp;
    const eff = item.eff;
    const visit = (s: SelRec<S, I>): void => {
      if (s.stamp === op) return;
      s.stamp = op;
      if (changed !== null && !mentionsAny(s.keys, changed)) return; // answer cannot change
      this.evaluations++;
      this.setMatch(s, item, s.match(eff));
    };
    for (const k in eff) {
      this.selByPresence.get(k)?.forEach(visit);
      const byVal = this.selByValue.get(k);
      if (byVal !== undefined) byVal.get(eff[k]!)?.forEach(visit);
    }
    for (const pi of this.pairs.values()) {
      const pv = pairOf(eff, pi.k1, pi.k2);
      if (pv !== undefined) pi.sels.get(pv)?.forEach(visit);
    }
    if (changed === null) {
      this.selScanAll.forEach(visit);
    } else {
      for (const k of changed) this.selScanAllByKey.get(k)?.forEach(visit);
    }
    // A filed selector that is not a candidate any more cannot match. (Scan-all selectors
    // that were not visited mention no changed key, so their answer stands.)
    for (const s of item.sels) {
      if (s.stamp !== op && s.filing.bucket !== 'scan') this.setMatch(s, item, false);
    }
  }

  private setMatch(s: SelRec<S, I>, item: ItemRec<S, I>, now: boolean): void {
    if (now) {
      if (item.sels.has(s)) return;
      item.sels.add(s);
      this.matchCount++;
      this.cb.onMatchStarted?.(s.id, item.id);
    } else {
      if (!item.sels.delete(s)) return;
      this.matchCount--;
      this.cb.onMatchStopped?.(s.id, item.id);
    }
  }
}

function better(
  cost: number,
  key: string,
  values: string[] | null,
  best: { key: string; values: string[] | null; cost: number },
): boolean {
  if (cost !== best.cost) return cost < best.cost;
  // Equal cost (e.g. no items yet): values beat presence, fewer values beat more, then name.
  if ((values === null) !== (best.values === null)) return values !== null;
  if (values !== null && best.values !== null && values.length !== best.values.length) {
    return values.length < best.values.length;
  }
  return compareUtf8(key, best.key) < 0;
}

function pairOf(l: Labels, k1: string, k2: string): string | undefined {
  const v1 = l[k1];
  const v2 = l[k2];
  if (typeof v1 !== 'string' || typeof v2 !== 'string') return undefined;
  return pairValue(v1, v2);
}

function sameFiling(a: Filing, b: Filing): boolean {
  return a.bucket === b.bucket && a.key === b.key && a.key2 === b.key2 && sameList(a.values, b.values) && sameList(a.values2, b.values2);
}

function mentionsAny(keys: ReadonlySet<string>, changed: readonly string[]): boolean {
  for (let i = 0; i < changed.length; i++) if (keys.has(changed[i]!)) return true;
  return false;
}

function changedKeys(a: Labels, b: Labels): string[] {
  const out: string[] = [];
  for (const k in a) if (a[k] !== b[k] || !Object.hasOwn(b, k)) out.push(k);
  for (const k in b) if (!Object.hasOwn(a, k)) out.push(k);
  return out;
}

function sameLabels(a: Labels, b: Labels): boolean {
  let n = 0;
  for (const k in a) {
    if (a[k] !== b[k] || !Object.hasOwn(b, k)) return false;
    n++;
  }
  for (const _ in b) n--;
  return n === 0;
}

function sameList(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

function copyLabels(labels: Labels, owner: unknown): Labels {
  if (labels === null || typeof labels !== 'object' || labels instanceof Map || Array.isArray(labels)) {
    const got = labels === null ? 'null' : labels instanceof Map ? 'a Map' : Array.isArray(labels) ? 'an array' : typeof labels;
    throw new TypeError(`labels of ${String(owner)} must be a plain object of strings, got ${got}`);
  }
  const out: Record<string, string> = {};
  for (const k of Object.keys(labels)) {
    const v = labels[k];
    if (typeof v !== 'string') {
      throw new TypeError(`label ${JSON.stringify(k)} of ${String(owner)} must be a string, got ${typeof v}`);
    }
    // Interned values: a selector's `==` then compares pointers, not the (cold) string bytes.
    const iv = intern(v);
    if (k === '__proto__') Object.defineProperty(out, k, { value: iv, enumerable: true, writable: true, configurable: true });
    else out[k] = iv;
  }
  return out;
}

function newSet<T>(): Set<T> {
  return new Set<T>();
}

function newMap<K, V>(): Map<K, V> {
  return new Map<K, V>();
}

function getOrMake<K, V>(m: Map<K, V>, k: K, make: () => V): V {
  let v = m.get(k);
  if (v === undefined) {
    v = make();
    m.set(k, v);
  }
  return v;
}

function deleteFrom<K, T>(m: Map<K, Set<T>>, k: K, item: T): void {
  const set = m.get(k);
  if (set === undefined) return;
  set.delete(item);
  if (set.size === 0) m.delete(k);
}
