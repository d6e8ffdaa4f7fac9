// Real-world capture: bytes GoBGP 3.10 sent to us (recorded by gobgp-interop.test.ts with
// CALICO_TS_WRITE_GOBGP_CAPTURE=<file>), decoded without running GoBGP.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { FrameReader, decodeMessage, encodeMessage, findCapability, openPeerAs } from './index.ts';
import type { OpenMessage, UpdateMessage } from './index.ts';
import { hex, toHex } from './test-helpers.ts';

const capture = JSON.parse(fs.readFileSync(new URL('./testdata/gobgp-capture.json', import.meta.url), 'utf8')) as { source: string; messages: string[] };
const ctx = { fourOctetAs: true };

void test(`capture from ${capture.source}: OPEN with MP, route refresh, 4-octet AS, FQDN, extended next hop`, () => {
  const open = decodeMessage(hex(capture.messages[0]!), ctx).message as OpenMessage;
  assert.equal(open.type, 'OPEN');
  assert.equal(openPeerAs(open), 65001);
  assert.equal(open.bgpId, '198.18.0.10');
  assert.equal(open.holdTime, 30);
  assert.ok(findCapability(open, 'ROUTE_REFRESH'));
  assert.ok(findCapability(open, 'FQDN'));
  assert.deepEqual(findCapability(open, 'EXTENDED_NEXT_HOP')?.entries, [{ afi: 1, safi: 1, nextHopAfi: 2 }]);
  assert.equal(open.capabilities.filter((c) => c.kind === 'UNKNOWN').length, 0, 'every GoBGP capability is known');
  // Re-encoding gives GoBGP's bytes back except for the parameter layout (GoBGP: one parameter
  // per capability; we: one parameter for all), so compare after decoding again.
  assert.deepEqual(decodeMessage(encodeMessage(open, ctx), ctx).message, open);
});

void test(`capture from ${capture.source}: the whole stream frames and decodes with no RFC 7606 problems`, () => {
  const fr = new FrameReader();
  for (const m of capture.messages) fr.push(hex(m));
  const types: string[] = [];
  for (let f = fr.next(); f !== null; f = fr.next()) {
    const r = decodeMessage(f, ctx);
    assert.deepEqual(r.errors, []);
    types.push(r.message.type);
  }
  assert.deepEqual(types, ['OPEN', 'KEEPALIVE', 'UPDATE', 'UPDATE']);
});

void test(`capture from ${capture.source}: IPv4 UPDATE (MED, communities, large communities) and IPv6 MP_REACH_NLRI`, () => {
  const v4 = decodeMessage(hex(capture.messages[2]!), ctx).message as UpdateMessage;
  assert.deepEqual(v4.nlri.map((p) => p.key), ['198.19.0.0/24']);
  assert.equal(v4.attributes.origin, 2);
  assert.deepEqual(v4.attributes.asPath, [{ type: 2, asns: [65001] }]);
  assert.equal(v4.attributes.nextHop, '127.0.0.1');
  assert.equal(v4.attributes.med, 42);
  assert.deepEqual(v4.attributes.communities, [65001 * 65536 + 7]);
  assert.deepEqual(v4.attributes.largeCommunities, [{ globalAdmin: 65001, localData1: 1, localData2: 2 }]);
  const v6 = decodeMessage(hex(capture.messages[3]!), ctx).message as UpdateMessage;
  assert.deepEqual(v6.mpReach?.nlri.map((p) => p.key), ['fd00:198:19::/48']);
  assert.equal(v6.mpReach?.nextHop, 'fd00:198:18::10');
  assert.deepEqual(v6.attributes.communities, [65001 * 65536 + 8]);
  // Our encoder writes MP_REACH_NLRI first (RFC 7606 §5.1); GoBGP wrote it last. Same content.
  const again = decodeMessage(encodeMessage(v6, ctx), ctx).message as UpdateMessage;
  assert.equal(toHex(encodeMessage(again, ctx)), toHex(encodeMessage(v6, ctx)));
  assert.deepEqual(again.mpReach?.nlri.map((p) => p.key), ['fd00:198:19::/48']);
});
