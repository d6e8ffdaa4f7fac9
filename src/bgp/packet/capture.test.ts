// Real-world captures, decoded without running the peers: bytes GoBGP 3.10 sent to us (recorded
// by gobgp-interop.test.ts with CALICO_TS_WRITE_GOBGP_CAPTURE=<file>) and bytes BIRD 2.0.12 sent
// over a session between two network namespaces (recorded by testdata/capture-bird.ts, as root).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { AS_TRANS, FrameReader, decodeMessage, encodeMessage, findCapability, isEndOfRib, openPeerAs } from './index.ts';
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

const bird = JSON.parse(fs.readFileSync(new URL('./testdata/bird-capture.json', import.meta.url), 'utf8')) as { source: string; messages: string[] };

void test(`capture from ${bird.source}: stream of OPEN, KEEPALIVE, UPDATEs and End-of-RIB markers`, () => {
  const fr = new FrameReader();
  for (const m of bird.messages) fr.push(hex(m));
  const got: string[] = [];
  for (let f = fr.next(); f !== null; f = fr.next()) {
    const r = decodeMessage(f, { fourOctetAs: true, ebgp: true });
    assert.deepEqual(r.errors, []);
    const eor = r.message.type === 'UPDATE' ? isEndOfRib(r.message) : null;
    got.push(eor ? `EoR ${eor.afi}/${eor.safi}` : r.message.type);
  }
  assert.deepEqual(got, ['OPEN', 'KEEPALIVE', 'UPDATE', 'EoR 1/1', 'UPDATE', 'EoR 2/1', 'KEEPALIVE']);
});

void test(`capture from ${bird.source}: OPEN from a 4-octet AS (AS_TRANS), GR, enhanced route refresh, unknown LLGR`, () => {
  const open = decodeMessage(hex(bird.messages[0]!), ctx).message as OpenMessage;
  assert.equal(open.myAs, AS_TRANS);
  assert.equal(openPeerAs(open), 4200000030);
  assert.equal(open.bgpId, '198.18.250.1');
  assert.deepEqual(findCapability(open, 'GRACEFUL_RESTART'), { kind: 'GRACEFUL_RESTART', restartState: false, notification: false, restartTime: 120, families: [] });
  assert.ok(findCapability(open, 'ENHANCED_ROUTE_REFRESH'));
  // Long-lived graceful restart (71) is not decoded: kept opaque.
  assert.deepEqual(open.capabilities.filter((c) => c.kind === 'UNKNOWN').map((c) => (c.kind === 'UNKNOWN' ? c.code : 0)), [71]);
  assert.equal(toHex(encodeMessage({ ...open, myAs: 4200000030 }, ctx)), bird.messages[0]);
});

void test(`capture from ${bird.source}: IPv4 UPDATE with 4-octet AS path and communities; IPv6 with a link-local next hop`, () => {
  const v4 = decodeMessage(hex(bird.messages[2]!), { fourOctetAs: true, ebgp: true }).message as UpdateMessage;
  assert.deepEqual(v4.nlri.map((p) => p.key), ['198.19.7.0/24', '198.19.8.0/22']);
  assert.deepEqual(v4.attributes.asPath, [{ type: 2, asns: [4200000030] }]);
  assert.equal(v4.attributes.nextHop, '198.18.250.1');
  assert.deepEqual(v4.attributes.communities, [65001 * 65536 + 77]);
  assert.deepEqual(v4.attributes.largeCommunities, [{ globalAdmin: 4200000030, localData1: 1, localData2: 2 }]);
  // BIRD's attribute layout is the canonical one: our encoder reproduces it byte for byte.
  assert.equal(toHex(encodeMessage(v4, ctx)), bird.messages[2]);
  const v6 = decodeMessage(hex(bird.messages[4]!), ctx).message as UpdateMessage;
  assert.deepEqual(v6.mpReach?.nlri.map((p) => p.key), ['fd00:198:21::/48']);
  assert.equal(v6.mpReach?.nextHop, 'fd00:198:18:250::1');
  assert.match(v6.mpReach?.linkLocalNextHop ?? '', /^fe80::/);
  // Same content; BIRD used the extended-length form for MP_REACH_NLRI, we use the short one.
  assert.deepEqual(decodeMessage(encodeMessage(v6, ctx), ctx).message, v6);
});
