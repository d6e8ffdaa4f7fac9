// `npm run bench -- selector [--quick]`
//
// Side by side, in one run:
//  1. matching throughput: our compiled selectors vs a naive AST-walking interpreter
//     (the reference: what evaluating the parse tree per match costs), simple and complex;
//  2. label index: 10k selectors x 100k items with realistic labels — initial load and 1% churn
//     (1,000 items change labels) — vs the naive evaluate-every-pair approach.
// Prints times, evaluation counts and ratios. --quick shrinks part 2 tenfold (for smoke runs).
import { LabelIndex, parseSelector } from '../src/selector/index.ts';
import type { Labels, Selector, SelectorNode } from '../src/selector/index.ts';

const QUICK = process.argv.includes('--quick');
const N_SEL = QUICK ? 1_000 : 10_000;
const N_ITEMS = QUICK ? 10_000 : 100_000;
const N_CHURN = N_ITEMS / 100;

// ---- deterministic randomness -----------------------------------------------------------------
let seed = 0x5eed;
function rand(): number {
  seed = (seed + 0x6d2b79f5) >>> 0;
  let t = seed;
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
}
const int = (n: number): number => Math.floor(rand() * n);
const pick = <T>(xs: readonly T[]): T => xs[int(xs.length)]!;

// ---- the reference: a naive interpreter walking the tree on every match -----------------------
function naiveEval(n: SelectorNode, l: Labels): boolean {
  switch (n.kind) {
    case 'all':
    case 'global':
      return true;
    case 'has':
      return Object.hasOwn(l, n.label);
    case 'eq':
      return Object.hasOwn(l, n.label) && l[n.label] === n.value;
    case 'ne':
      return !Object.hasOwn(l, n.label) || l[n.label] !== n.value;
    case 'contains':
      return Object.hasOwn(l, n.label) && l[n.label]!.includes(n.value);
    case 'startsWith':
      return Object.hasOwn(l, n.label) && l[n.label]!.startsWith(n.value);
    case 'endsWith':
      return Object.hasOwn(l, n.label) && l[n.label]!.endsWith(n.value);
    case 'in':
      return Object.hasOwn(l, n.label) && n.values.includes(l[n.label]!);
    case 'notIn':
      return !Object.hasOwn(l, n.label) || !n.values.includes(l[n.label]!);
    case 'not':
      return !naiveEval(n.operand, l);
    case 'and':
      for (const o of n.operands) if (!naiveEval(o, l)) return false;
      return true;
    case 'or':
      for (const o of n.operands) if (naiveEval(o, l)) return true;
      return false;
  }
}

// ---- realistic labels ------------------------------------------------------------------------
const NAMESPACES = Array.from({ length: 50 }, (_, i) => `ns-${i}`);
const APPS = Array.from({ length: 500 }, (_, i) => `app-${i}`);
const APP_NS = APPS.map(() => pick(NAMESPACES));
const TIERS = ['web', 'api', 'db', 'cache', 'worker'];
const ENVS = ['prod', 'staging', 'dev', 'test'];
const TEAMS = ['red', 'blue', 'green', 'gold'];

function makeItem(): Record<string, string> {
  const a = int(APPS.length);
  const l: Record<string, string> = {
    'projectcalico.org/namespace': APP_NS[a]!,
    app: APPS[a]!,
    tier: pick(TIERS),
    env: pick(ENVS),
    version: `v${1 + int(5)}`,
    'pod-template-hash': Math.floor(rand() * 1e9).toString(36),
  };
  if (rand() < 0.3) l.team = pick(TEAMS);
  if (rand() < 0.1) l.monitoring = 'enabled';
  return l;
}

function churn(l: Record<string, string>): Record<string, string> {
  const out = { ...l };
  const r = rand();
  if (r < 0.5) out.version = `v${1 + int(5)}`; // rollout
  else if (r < 0.7) out.env = pick(ENVS);
  else if (r < 0.85) out['pod-template-hash'] = Math.floor(rand() * 1e9).toString(36);
  else if (r < 0.95) {
    if (out.team) delete out.team;
    else out.team = pick(TEAMS);
  } else out.tier = pick(TIERS);
  return out;
}

function makeSelector(i: number): string {
  if (i < 5) return 'all()';
  const r = rand();
  const ns = pick(NAMESPACES);
  if (r < 0.45) return `app == "${pick(APPS)}" && env in {"prod", "staging"}`;
  if (r < 0.6) return `projectcalico.org/namespace == "${ns}" && tier == "${pick(TIERS)}"`;
  if (r < 0.7) return `app in {"${pick(APPS)}", "${pick(APPS)}", "${pick(APPS)}"} && tier != "db"`;
  if (r < 0.8) return `projectcalico.org/namespace == "${ns}" && has(team)`;
  if (r < 0.85) return `tier == "db" && env == "${pick(ENVS)}" && version starts with "v${1 + int(5)}"`;
  if (r < 0.9) return `has(monitoring) && env != "dev" && team == "${pick(TEAMS)}"`;
  if (r < 0.96) return `app == "${pick(APPS)}" || app == "${pick(APPS)}"`;
  if (r < 0.999) return `projectcalico.org/namespace == "${ns}" && !(app in {"${pick(APPS)}"})`;
  // A few with no required label: evaluated against every item.
  return pick([`tier != "${pick(TIERS)}"`, `!has(team)`, `env not in {"dev", "test"} && version != "v1"`]);
}

// ---- helpers --------------------------------------------------------------------------------
function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}
const fmt = (n: number, d = 1): string => n.toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: d });
const ms = (n: number): string => `${fmt(n, 1)} ms`;

/** Matches per second of fn over the label pool, best-of-time median of 5 runs of ~0.3 s. */
function throughput(fn: (l: Labels) => boolean, pool: Labels[]): number {
  const rates: number[] = [];
  let sink = 0;
  for (let run = 0; run < 6; run++) {
    let n = 0;
    const t0 = performance.now();
    let t = t0;
    while (t - t0 < 300) {
      for (let i = 0; i < pool.length; i++) if (fn(pool[i]!)) sink++;
      n += pool.length;
      t = performance.now();
    }
    if (run > 0) rates.push((n / (t - t0)) * 1000); // first run is warm-up
  }
  if (sink < 0) console.log(sink);
  return median(rates);
}

// ---- part 1 ---------------------------------------------------------------------------------
console.log(`selector benchmark — Node ${process.version}, ${new Date().toISOString()}${QUICK ? ' (--quick)' : ''}\n`);
console.log('1. matching throughput (matches/s, median of 5 x 0.3 s over 1,000 label sets; all cases warmed first,')
console.log('   so the JIT sees many selectors and label shapes, as in felix — a lone selector measured first runs faster)\n');
const pool: Labels[] = Array.from({ length: 1000 }, makeItem);
const cases: Array<[string, string]> = [
  ['simple', 'app == "app-1"'],
  ['simple a == "b"', 'a == "b"'],
  ['complex', 'app == "app-1" && env in {"prod", "staging"} && tier != "db" && has(team)'],
  ['complex or/not', '(projectcalico.org/namespace == "ns-1" || !has(team)) && version starts with "v" && env not in {"dev", "test", "qa", "x", "y"}'],
];
const compiled = cases.map(([, text]) => parseSelector(text));
for (let r = 0; r < 200; r++) {
  for (const sel of compiled) {
    const ast = sel.ast;
    for (const l of pool) {
      sel.matches(l);
      naiveEval(ast, l);
    }
  }
}
console.log(`| case | compiled | naive AST walk | ratio |`);
console.log(`|---|---|---|---|`);
for (const [name, text] of cases) {
  const sel = parseSelector(text);
  const c = throughput(sel.matches, pool);
  const ast = sel.ast;
  const nv = throughput((l) => naiveEval(ast, l), pool);
  for (const l of pool) if (sel.matches(l) !== naiveEval(ast, l)) throw new Error(`compiled and naive disagree on ${text}`);
  console.log(`| ${name}: \`${text}\` | ${fmt(c / 1e6)} M/s | ${fmt(nv / 1e6)} M/s | ${fmt(c / nv, 2)}x |`);
}

// ---- part 2 ---------------------------------------------------------------------------------
console.log(`\n2. label index: ${N_SEL.toLocaleString()} selectors x ${N_ITEMS.toLocaleString()} items, then ${N_CHURN.toLocaleString()} items change labels\n`);
const selTexts = Array.from({ length: N_SEL }, (_, i) => makeSelector(i));
const sels: Selector[] = selTexts.map((t) => parseSelector(t));
const items = Array.from({ length: N_ITEMS }, makeItem);
const churnIds: number[] = [];
{
  const chosen = new Set<number>();
  while (chosen.size < N_CHURN) chosen.add(int(N_ITEMS));
  churnIds.push(...chosen);
}
const churned = churnIds.map((i) => churn(items[i]!));

let started = 0;
let stopped = 0;
const cb = { onMatchStarted: () => void started++, onMatchStopped: () => void stopped++ };

// Naive initial load: every pair. 10^9 evaluations take minutes, so time a sample of items
// against all selectors and scale up; sampled before, between and after the index loads (the
// machine is shared and noisy), median taken.
const SAMPLE = QUICK ? 1000 : 500;
const matchFns = sels.map((s) => s.matches);
let sampleMatches = 0;
function naiveSampleMs(): number {
  sampleMatches = 0;
  const t = performance.now();
  for (let i = 0; i < SAMPLE; i++) {
    const l = items[i]!;
    for (let s = 0; s < N_SEL; s++) if (matchFns[s]!(l)) sampleMatches++;
  }
  return performance.now() - t;
}
const naiveSamples = [naiveSampleMs()];

// Index, load order A: selectors first, then items (exercises the item path).
let idx = new LabelIndex<number, number>(cb);
let t0 = performance.now();
for (let s = 0; s < N_SEL; s++) idx.updateSelector(s, sels[s]!);
for (let i = 0; i < N_ITEMS; i++) idx.updateItem(i, items[i]!);
const loadA = performance.now() - t0;
const evalsA = idx.evaluations;
const matchesA = idx.stats().matches;
idx = new LabelIndex<number, number>(cb);
naiveSamples.push(naiveSampleMs());

// Index, load order B: items first, then selectors (exercises the selector path).
started = 0;
t0 = performance.now();
for (let i = 0; i < N_ITEMS; i++) idx.updateItem(i, items[i]!);
for (let s = 0; s < N_SEL; s++) idx.updateSelector(s, sels[s]!);
const loadB = performance.now() - t0;
const evalsB = idx.evaluations;
const st = idx.stats();
if (st.matches !== matchesA || started !== matchesA) throw new Error(`load orders disagree: ${st.matches} vs ${matchesA}`);
naiveSamples.push(naiveSampleMs());
const naiveSample = median(naiveSamples);
const naiveLoadEst = (naiveSample * N_ITEMS) / SAMPLE;
const naivePairs = N_SEL * N_ITEMS;

// Churn, 5 rounds alternating: the 1,000 items change labels, then change back, ... Each round
// is applied to the index and to the naive approach: for each changed item evaluate every
// selector and diff against its old matches (kept in per-item sets, as a naive implementation
// must to report starts and stops). Both must report the same starts/stops.
const naiveMatches: Array<Set<number>> = churnIds.map((i) => {
  const l = items[i]!;
  const set = new Set<number>();
  for (let s = 0; s < N_SEL; s++) if (matchFns[s]!(l)) set.add(s);
  return set;
});
const ROUNDS = 5;
const churnIdxMs: number[] = [];
const churnNaiveMs: number[] = [];
const churnEvalCounts: number[] = [];
let firstRound = { started: 0, stopped: 0 };
for (let round = 0; round < ROUNDS; round++) {
  const target = (c: number): Record<string, string> => (round % 2 === 0 ? churned[c]! : items[churnIds[c]!]!);
  idx.resetCounters();
  started = 0;
  stopped = 0;
  t0 = performance.now();
  for (let c = 0; c < N_CHURN; c++) idx.updateItem(churnIds[c]!, target(c));
  churnIdxMs.push(performance.now() - t0);
  churnEvalCounts.push(idx.evaluations);
  let nStarted = 0;
  let nStopped = 0;
  t0 = performance.now();
  for (let c = 0; c < N_CHURN; c++) {
    const l = target(c);
    const set = naiveMatches[c]!;
    for (let s = 0; s < N_SEL; s++) {
      const m = matchFns[s]!(l);
      if (m !== set.has(s)) {
        if (m) {
          set.add(s);
          nStarted++;
        } else {
          set.delete(s);
          nStopped++;
        }
      }
    }
  }
  churnNaiveMs.push(performance.now() - t0);
  if (nStarted !== started || nStopped !== stopped) {
    throw new Error(`churn round ${round} disagrees: index +${started}/-${stopped}, naive +${nStarted}/-${nStopped}`);
  }
  for (let c = 0; c < N_CHURN; c++) {
    const got = new Set(idx.selectorsMatching(churnIds[c]!));
    const want = naiveMatches[c]!;
    if (got.size !== want.size || [...want].some((x) => !got.has(x))) throw new Error(`item ${churnIds[c]} matches differ`);
  }
  if (round === 0) firstRound = { started, stopped };
}
const churnIdx = median(churnIdxMs);
const churnNaive = median(churnNaiveMs);
const churnEvals = median(churnEvalCounts);
const churnNaiveEvals = N_CHURN * N_SEL;

console.log(
  `selectors filed by value ${st.selectorsByValue}, by value pair ${st.selectorsByPair}, by presence ${st.selectorsByPresence}, scan-all ${st.selectorsScanAll}, never ${st.selectorsNever}; ` +
    `${st.matches.toLocaleString()} matching pairs (${fmt(st.matches / N_ITEMS)} per item)\n`,
);
console.log('| phase | label index | naive (every pair) | index/naive time | evaluations index / naive |');
console.log('|---|---|---|---|---|');
console.log(
  `| initial load, selectors then items | ${ms(loadA)} | ${ms(naiveLoadEst)} (est.) | ${fmt(loadA / naiveLoadEst, 4)} | ${evalsA.toLocaleString()} / ${naivePairs.toLocaleString()} = ${fmt(evalsA / naivePairs, 5)} |`,
);
console.log(
  `| initial load, items then selectors | ${ms(loadB)} | ${ms(naiveLoadEst)} (est.) | ${fmt(loadB / naiveLoadEst, 4)} | ${evalsB.toLocaleString()} / ${naivePairs.toLocaleString()} = ${fmt(evalsB / naivePairs, 5)} |`,
);
console.log(
  `| churn: ${N_CHURN.toLocaleString()} items change labels (median of ${ROUNDS}) | ${ms(churnIdx)} | ${ms(churnNaive)} | ${fmt(churnIdx / churnNaive, 4)} | ${churnEvals.toLocaleString()} / ${churnNaiveEvals.toLocaleString()} = ${fmt(churnEvals / churnNaiveEvals, 5)} |`,
);
console.log(
  `\nnaive initial load estimated from ${SAMPLE} items x ${N_SEL.toLocaleString()} selectors (median of 3 samples: ${naiveSamples.map((x) => ms(x)).join(', ')}; compiled matchers, no bookkeeping; ${sampleMatches.toLocaleString()} pairs matched) scaled to ${N_ITEMS.toLocaleString()} items.`,
);
console.log(`churn index times ${churnIdxMs.map((x) => ms(x)).join(', ')}; naive ${churnNaiveMs.map((x) => ms(x)).join(', ')}.`);
console.log(`churn round 1: ${firstRound.started} matches started, ${firstRound.stopped} stopped; index and naive agree on every changed item in every round.`);
console.log(`churn evaluations per changed item: index ${fmt(churnEvals / N_CHURN)}, naive ${N_SEL.toLocaleString()}.`);
