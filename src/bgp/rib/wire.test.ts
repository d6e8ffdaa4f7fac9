import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Prefix, UpdateMessage } from '../packet/index.ts';
import { ribInputsFromUpdate } from './wire.ts';
import { addUp, mkRib } from './testing.ts';

// Prefix objects as the codec produces them (built by hand: only `key`/`pathId` matter here).
function pfx(key: string, pathId?: number): Prefix {
  const afi = key.includes(':') ? 2 : 1;
  return { afi, len: Number(key.split('/')[1]), key, addr: new Uint8Array(afi === 1 ? 4 : 16), ...(pathId !== undefined ? { pathId } : {}) };
}

const base = { origin: 0 as const, asPath: [{ type: 2 as const, asns: [65001] }] };

void test('wire: IPv4 body NLRI/withdrawn and MP_REACH/MP_UNREACH split per family', () => {
  const msg: UpdateMessage = {
    type: 'UPDATE',
    withdrawn: [pfx('10.9.0.0/16')],
    attributes: { ...base, nextHop: '198.18.0.11', med: 3 },
    nlri: [pfx('10.1.0.0/16'), pfx('10.2.0.0/16')],
    mpReach: { afi: 2, safi: 1, nextHop: 'fd00:198:18::11', linkLocalNextHop: 'fe80::11', nlri: [pfx('fd00:1::/64')] },
    mpUnreach: { afi: 2, safi: 1, withdrawn: [pfx('fd00:9::/64')] },
  };
  const out = ribInputsFromUpdate(msg);
  assert.deepEqual(
    out.map((i) => i.family),
    ['ipv4', 'ipv6', 'ipv6'],
  );
  const v4 = out[0]!.update;
  assert.deepEqual(v4.withdrawn?.map((p) => p.key), ['10.9.0.0/16']);
  assert.deepEqual(v4.announced?.map((p) => p.key), ['10.1.0.0/16', '10.2.0.0/16']);
  assert.equal(v4.attrs?.nextHop, '198.18.0.11');
  assert.equal(v4.attrs?.med, 3);
  assert.deepEqual(out[1]!.update, { withdrawn: [pfx('fd00:9::/64')] });
  const v6 = out[2]!.update;
  assert.equal(v6.attrs?.nextHop, 'fd00:198:18::11');
  assert.equal(v6.attrs?.linkLocalNextHop, 'fe80::11');
  assert.equal(v6.attrs?.med, 3, 'shared attributes apply to MP NLRI too');
});

void test('wire: treat-as-withdraw turns announcements into withdrawals; other SAFIs are skipped', () => {
  const msg: UpdateMessage = {
    type: 'UPDATE',
    withdrawn: [],
    attributes: { ...base, nextHop: '198.18.0.11' },
    nlri: [pfx('10.1.0.0/16')],
    mpReach: { afi: 1, safi: 2, nextHop: '198.18.0.11', nlri: [pfx('10.5.0.0/16')] },
  };
  assert.deepEqual(ribInputsFromUpdate(msg, true), [{ family: 'ipv4', update: { withdrawn: [pfx('10.1.0.0/16')] } }]);
  const eor: UpdateMessage = { type: 'UPDATE', withdrawn: [], attributes: {}, nlri: [] };
  assert.deepEqual(ribInputsFromUpdate(eor), []);
});

void test('wire: add-path path ids keep separate paths in Adj-RIB-In', () => {
  const rib = mkRib();
  addUp(rib, { id: 'E', n: 11, peerAs: 65001 });
  const msg: UpdateMessage = {
    type: 'UPDATE',
    withdrawn: [],
    attributes: { ...base, nextHop: '198.18.0.11' },
    nlri: [pfx('10.1.0.0/16', 1), pfx('10.1.0.0/16', 2)],
  };
  for (const i of ribInputsFromUpdate(msg)) rib.update('E', i.update);
  assert.deepEqual([...rib.adjRibIn('E').keys()].sort(), ['10.1.0.0/16#1', '10.1.0.0/16#2']);
  assert.equal(rib.best('10.1.0.0/16')?.candidates, 2);
  assert.equal(rib.best('10.1.0.0/16')?.step, 'path-id');
  rib.update('E', { withdrawn: [pfx('10.1.0.0/16', 1)] });
  assert.deepEqual([...rib.adjRibIn('E').keys()], ['10.1.0.0/16#2']);
});
