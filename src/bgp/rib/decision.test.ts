import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AttrTable } from './attrs.ts';
import type { RouteAttrs } from './attrs.ts';
import { decide } from './decision.ts';
import type { CandidatePath, DecisionStep, PathSource } from './decision.ts';
import { addressOrderKey, routerIdToNumber } from './prefix.ts';

const table = new AttrTable();

function src(opts: { local?: boolean; ebgp?: boolean; rid?: string; addr?: string }): PathSource {
  return {
    local: opts.local ?? false,
    ebgp: opts.ebgp ?? false,
    routerIdNum: routerIdToNumber(opts.rid ?? '10.0.0.1'),
    addressKey: opts.local ? '' : addressOrderKey(opts.addr ?? '198.18.0.1'),
  };
}

interface P extends CandidatePath {
  readonly name: string;
}

function path(name: string, attrs: Partial<RouteAttrs>, s: PathSource = src({}), pathId = 0): P {
  return { name, attrs: table.intern({ origin: 0, asPath: [], nextHop: '198.18.0.1', ...attrs }), src: s, pathId };
}

const seq = (...asns: number[]) => ({ type: 2 as const, asns });
const set = (...asns: number[]) => ({ type: 1 as const, asns });
const confed = (...asns: number[]) => ({ type: 3 as const, asns });

interface Case {
  readonly name: string;
  readonly paths: P[];
  readonly best: string;
  readonly step: DecisionStep;
}

const ebgpA = src({ ebgp: true, rid: '10.0.0.9', addr: '198.18.0.9' });
const ebgpB = src({ ebgp: true, rid: '10.0.0.8', addr: '198.18.0.8' });

const cases: Case[] = [
  { name: 'single path', paths: [path('a', {})], best: 'a', step: 'only-path' },
  {
    name: 'local origin beats higher LOCAL_PREF',
    paths: [path('learned', { localPref: 500 }), path('local', { localPref: 1 }, src({ local: true }))],
    best: 'local',
    step: 'local-origin',
  },
  { name: 'higher LOCAL_PREF', paths: [path('a', { localPref: 100 }), path('b', { localPref: 200 })], best: 'b', step: 'local-pref' },
  {
    name: 'missing LOCAL_PREF counts as default 100 (beats 99, loses to 101)',
    paths: [path('none', {}, ebgpA), path('lp99', { localPref: 99 })],
    best: 'none',
    step: 'local-pref',
  },
  {
    name: 'missing LOCAL_PREF loses to 101',
    paths: [path('none', {}, ebgpA), path('lp101', { localPref: 101 })],
    best: 'lp101',
    step: 'local-pref',
  },
  {
    name: 'shorter AS_PATH',
    paths: [path('long', { asPath: [seq(1, 2, 3)] }), path('short', { asPath: [seq(1, 2)] })],
    best: 'short',
    step: 'as-path-length',
  },
  {
    name: 'AS_SET counts as one',
    paths: [path('set', { asPath: [seq(1), set(2, 3, 4, 5)] }), path('seq3', { asPath: [seq(1, 2, 3)] })],
    best: 'set',
    step: 'as-path-length',
  },
  {
    name: 'confederation segments count zero',
    paths: [path('confed', { asPath: [confed(7, 8, 9), seq(1)] }), path('seq2', { asPath: [seq(1, 2)] })],
    best: 'confed',
    step: 'as-path-length',
  },
  { name: 'lowest ORIGIN', paths: [path('inc', { origin: 2 }), path('egp', { origin: 1 })], best: 'egp', step: 'origin' },
  { name: 'IGP over EGP', paths: [path('egp', { origin: 1 }), path('igp', { origin: 0 })], best: 'igp', step: 'origin' },
  {
    name: 'lower MED within the same neighbouring AS',
    paths: [path('m20', { asPath: [seq(65001)], med: 20 }, ebgpA), path('m10', { asPath: [seq(65001)], med: 10 }, ebgpB)],
    best: 'm10',
    step: 'med',
  },
  {
    name: 'missing MED is 0 (beats 5)',
    paths: [path('m5', { asPath: [seq(65001)], med: 5 }, ebgpB), path('none', { asPath: [seq(65001)] }, ebgpA)],
    best: 'none',
    step: 'med',
  },
  {
    name: 'MED not compared across neighbouring ASes: falls to router id',
    paths: [path('as1-m1', { asPath: [seq(65001)], med: 1 }, ebgpA), path('as2-m99', { asPath: [seq(65002)], med: 99 }, ebgpB)],
    best: 'as2-m99',
    step: 'router-id',
  },
  {
    name: 'eBGP over iBGP',
    paths: [path('ibgp', { asPath: [seq(65001)] }, src({ rid: '1.1.1.1' })), path('ebgp', { asPath: [seq(65002)] }, ebgpA)],
    best: 'ebgp',
    step: 'ebgp-over-ibgp',
  },
  {
    name: 'shorter CLUSTER_LIST',
    paths: [
      path('cl2', { clusterList: ['1.1.1.1', '2.2.2.2'] }, src({ rid: '1.0.0.1', addr: '198.18.0.1' })),
      path('cl1', { clusterList: ['3.3.3.3'] }, src({ rid: '9.0.0.9', addr: '198.18.0.9' })),
    ],
    best: 'cl1',
    step: 'cluster-list-length',
  },
  {
    name: 'lowest router id',
    paths: [path('hi', {}, src({ rid: '10.0.0.20', addr: '198.18.0.1' })), path('lo', {}, src({ rid: '10.0.0.3', addr: '198.18.0.2' }))],
    best: 'lo',
    step: 'router-id',
  },
  {
    name: 'router id compared numerically, not as text',
    paths: [path('9', {}, src({ rid: '9.0.0.0', addr: '198.18.0.1' })), path('10', {}, src({ rid: '10.0.0.0', addr: '198.18.0.2' }))],
    best: '9',
    step: 'router-id',
  },
  {
    name: 'ORIGINATOR_ID replaces the router id',
    paths: [
      path('orig-low', { originatorId: '1.0.0.1' }, src({ rid: '10.0.0.99', addr: '198.18.0.1' })),
      path('rid-mid', {}, src({ rid: '5.0.0.0', addr: '198.18.0.2' })),
    ],
    best: 'orig-low',
    step: 'router-id',
  },
  {
    name: 'lowest peer address',
    paths: [path('b', {}, src({ rid: '10.0.0.1', addr: '198.18.0.10' })), path('a', {}, src({ rid: '10.0.0.1', addr: '198.18.0.9' }))],
    best: 'a',
    step: 'peer-address',
  },
  {
    name: 'add-path: lowest path id from the same peer',
    paths: [path('p7', {}, src({}), 7), path('p3', { med: 0 }, src({}), 3)],
    best: 'p3',
    step: 'path-id',
  },
  {
    name: 'LOCAL_PREF decides before AS_PATH length',
    paths: [path('short-lowlp', { localPref: 50, asPath: [] }), path('long-hilp', { localPref: 60, asPath: [seq(1, 2, 3, 4)] })],
    best: 'long-hilp',
    step: 'local-pref',
  },
  {
    name: 'AS_PATH decides before ORIGIN',
    paths: [path('a', { asPath: [seq(1)], origin: 2 }), path('b', { asPath: [seq(1, 2)], origin: 0 })],
    best: 'a',
    step: 'as-path-length',
  },
  {
    name: 'ORIGIN decides before MED',
    paths: [path('a', { asPath: [seq(1)], origin: 1, med: 0 }, ebgpA), path('b', { asPath: [seq(1)], origin: 0, med: 100 }, ebgpB)],
    best: 'b',
    step: 'origin',
  },
  {
    name: 'MED decides before eBGP/iBGP',
    paths: [path('ibgp-m1', { asPath: [seq(1)], med: 1 }, src({})), path('ebgp-m2', { asPath: [seq(1)], med: 2 }, ebgpA)],
    best: 'ibgp-m1',
    step: 'med',
  },
];

for (const c of cases) {
  void test(`decision: ${c.name}`, () => {
    // Every rotation of the candidate order gives the same answer.
    for (let r = 0; r < c.paths.length; r++) {
      const order = [...c.paths.slice(r), ...c.paths.slice(0, r)];
      const d = decide(order);
      assert.equal(d.best?.name, c.best, `rotation ${r}`);
      assert.equal(d.step, c.step, `rotation ${r}`);
    }
  });
}

void test('decision: no candidates', () => {
  const d = decide<P>([]);
  assert.equal(d.best, undefined);
  assert.equal(d.step, 'none');
});

void test('decision: MED elimination is per neighbouring AS and order independent (non-transitive case)', () => {
  // Classic MED cycle: A(AS1,med 10) vs B(AS1,med 5): B; B vs C(AS2): router id; C vs A: ...
  const a = path('A', { asPath: [seq(1)], med: 10 }, src({ ebgp: true, rid: '10.0.0.1', addr: '198.18.0.1' }));
  const b = path('B', { asPath: [seq(1)], med: 5 }, src({ ebgp: true, rid: '10.0.0.3', addr: '198.18.0.3' }));
  const c = path('C', { asPath: [seq(2)], med: 0 }, src({ ebgp: true, rid: '10.0.0.2', addr: '198.18.0.2' }));
  const perms = [
    [a, b, c],
    [a, c, b],
    [b, a, c],
    [b, c, a],
    [c, a, b],
    [c, b, a],
  ];
  for (const p of perms) assert.equal(decide(p).best?.name, 'C', p.map((x) => x.name).join(''));
});

void test('decision: alwaysCompareMed compares across ASes', () => {
  const a = path('as1-m1', { asPath: [seq(65001)], med: 1 }, ebgpA);
  const b = path('as2-m99', { asPath: [seq(65002)], med: 99 }, ebgpB);
  const d = decide([a, b], { defaultLocalPref: 100, alwaysCompareMed: true });
  assert.equal(d.best?.name, 'as1-m1');
  assert.equal(d.step, 'med');
});

void test('decision: defaultLocalPref option', () => {
  const a = path('none', {}, ebgpA);
  const b = path('lp150', { localPref: 150 });
  assert.equal(decide([a, b], { defaultLocalPref: 200, alwaysCompareMed: false }).best?.name, 'none');
  assert.equal(decide([a, b]).best?.name, 'lp150');
});

void test('decision: equalCost holds the paths equal up to the tie-breaks', () => {
  const x = path('x', { asPath: [seq(1)] }, src({ ebgp: true, rid: '10.0.0.2', addr: '198.18.0.2' }));
  const y = path('y', { asPath: [seq(2)] }, src({ ebgp: true, rid: '10.0.0.1', addr: '198.18.0.1' }));
  const z = path('z', { asPath: [seq(1, 2)] }, src({ ebgp: true, rid: '10.0.0.0', addr: '198.18.0.3' }));
  const d = decide([x, y, z]);
  assert.equal(d.best?.name, 'y');
  assert.deepEqual(d.equalCost.map((p) => p.name), ['y', 'x']);
  const loc = path('loc', {}, src({ local: true }));
  assert.deepEqual(decide([x, loc]).equalCost.map((p) => p.name), ['loc']);
});
