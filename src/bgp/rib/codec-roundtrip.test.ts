// The RIB's outputs through the real codec and back into another RIB: what speaker A advertises
// (packed, encoded, decoded) is exactly what speaker B learns.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeMessage, encodeMessage, endOfRib, isEndOfRib, packAdvertisements, packWithdrawals, parsePrefix } from '../packet/index.ts';
import type { CodecContext, UpdateMessage } from '../packet/index.ts';
import type { RouteAttrs } from './attrs.ts';
import type { Family } from './prefix.ts';
import { familyAfi } from './prefix.ts';
import { Rib } from './rib.ts';
import type { OutboundUpdate } from './rib.ts';
import { ribInputsFromUpdate } from './wire.ts';

const CTX: CodecContext = { fourOctetAs: true };

function encode(ups: readonly OutboundUpdate[]): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (const u of ups) {
    if (u.kind === 'withdraw') out.push(...packWithdrawals(familyAfi(u.family), u.prefixes.map(parsePrefix), CTX));
    else if (u.kind === 'announce') out.push(...packAdvertisements(u.attributes, u.reach, u.prefixes.map(parsePrefix), CTX));
    else out.push(encodeMessage(endOfRib(familyAfi(u.family)), CTX));
  }
  return out;
}

/** Feed encoded messages into `rib` as peer `id`; returns the End-of-RIB families seen. */
function receive(rib: Rib, id: string, msgs: readonly Uint8Array[]): Family[] {
  const eors: Family[] = [];
  for (const m of msgs) {
    const res = decodeMessage(m, CTX);
    assert.equal(res.message.type, 'UPDATE');
    const upd = res.message as UpdateMessage;
    const eor = isEndOfRib(upd);
    if (eor) {
      const f: Family = eor.afi === 2 ? 'ipv6' : 'ipv4';
      eors.push(f);
      rib.endOfRib(id, f, 0);
      continue;
    }
    for (const i of ribInputsFromUpdate(upd, res.treatAsWithdraw)) rib.update(id, i.update);
  }
  return eors;
}

void test('codec round trip: A -> encode -> decode -> B reproduces A\'s Adj-RIB-Out, including withdrawals and End-of-RIB', () => {
  const a = new Rib({ routerId: '198.18.0.1', localAs: 64512 });
  const b = new Rib({ routerId: '198.18.0.2', localAs: 65002 });
  a.addPeer({ id: 'B', address: '198.18.0.2', peerAs: 65002 });
  b.addPeer({ id: 'A', address: '198.18.0.1', peerAs: 64512 });
  a.addPeer({ id: 'UP', address: '198.18.0.9', peerAs: 65009 });
  const fam: Family[] = ['ipv4', 'ipv6'];
  a.peerEstablished('B', { routerId: '198.18.0.2', localAddress: '198.18.0.1', nextHopSelf: { ipv4: '198.18.0.1', ipv6: 'fd00:198:18::1' }, families: fam }, 0);
  a.peerEstablished('UP', { routerId: '198.18.0.9', localAddress: '198.18.0.1', families: fam }, 0);
  b.peerEstablished('A', { routerId: '198.18.0.1', localAddress: '198.18.0.2', families: fam }, 0);

  // A: 3000 local blocks in 3 attribute flavours, IPv6 too, and routes learned upstream.
  for (let i = 0; i < 3000; i++) a.originate(`10.${64 + (i >> 8)}.${i & 255}.0/26`, { attrs: { communities: [(65000 * 65536 + (i % 3)) >>> 0] } });
  for (let i = 0; i < 50; i++) a.originate(`fd00:198:18:${i.toString(16)}::/64`, { attrs: { largeCommunities: [{ globalAdmin: 64512, localData1: 1, localData2: i % 2 }] } });
  const up: RouteAttrs = { origin: 1, asPath: [{ type: 2, asns: [65009, 65100] }, { type: 1, asns: [7, 8] }], nextHop: '198.18.0.9', med: 5 };
  a.update('UP', { announced: Array.from({ length: 500 }, (_, i) => ({ key: `172.16.${i >> 2}.${(i & 3) * 64}/26` })), attrs: up });

  const first = encode(a.takeUpdates('B'));
  assert.ok(first.length >= 8, `${first.length} messages`);
  assert.deepEqual(receive(b, 'A', first), ['ipv4', 'ipv6']);

  const check = () => {
    const out = a.adjRibOut('B');
    const learned = b.adjRibIn('A');
    assert.equal(learned.size, out.size);
    for (const [prefix, attrs] of out) {
      const got = learned.get(prefix)?.attrs;
      assert.ok(got, prefix);
      const { linkLocalNextHop: _ll, ...want } = attrs;
      assert.deepEqual({ ...got }, { ...want }, prefix);
    }
  };
  check();
  const sample = b.best('172.16.0.64/26')!;
  assert.deepEqual(sample.attrs.asPath, [{ type: 2, asns: [64512, 65009, 65100] }, { type: 1, asns: [7, 8] }]);
  assert.equal(sample.attrs.med, undefined, 'foreign MED not passed to a third AS');
  assert.equal(b.best('fd00:198:18:a::/64')?.attrs.nextHop, 'fd00:198:18::1');

  // Changes: withdraw some, change others; only the difference goes over the wire.
  for (let i = 0; i < 100; i++) a.withdrawOriginated(`10.64.${i}.0/26`);
  a.update('UP', { withdrawn: [{ key: '172.16.0.0/26' }] });
  a.originate('10.64.200.0/26', { attrs: { med: 9 } });
  const second = encode(a.takeUpdates('B'));
  assert.ok(second.length <= 3, `${second.length} messages for the delta`);
  receive(b, 'A', second);
  check();
  assert.equal(b.best('10.64.5.0/26'), undefined);
  assert.equal(b.best('10.64.200.0/26')?.attrs.med, 9);
});
