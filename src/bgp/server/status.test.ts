import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatStatusTable, type SpeakerStatus } from './status.ts';

void test("status table has Calico's columns, one section per family", () => {
  const now = new Date('2026-11-24T06:40:00Z');
  const s: SpeakerStatus = {
    routerId: '198.18.0.1',
    asNumber: 64512,
    startedAt: now.toISOString(),
    restarting: false,
    locRibRoutes: 3,
    kernelRoutes: 2,
    kernelLastError: null,
    peers: [
      { address: '198.18.0.2', peerAs: 64512, type: 'node-to-node mesh', state: 'Established', since: '2026-11-24T06:38:36Z', uptimeSeconds: 84, info: 'Established', lastError: null, prefixesReceived: 1, prefixesAccepted: 1, prefixesAdvertised: 1 },
      { address: '198.18.0.3', peerAs: 64513, type: 'global', state: 'Active', since: '2026-11-20T01:00:00Z', uptimeSeconds: 9, info: 'connect to 198.18.0.3:179: Connection refused', lastError: 'x', prefixesReceived: 0, prefixesAccepted: 0, prefixesAdvertised: 0 },
    ],
  };
  const out = formatStatusTable(s, now);
  const lines = out.split('\n');
  assert.equal(lines[0], 'IPv4 BGP status');
  assert.match(lines[2]!, /^\| PEER ADDRESS \| PEER TYPE +\| STATE \| SINCE +\| INFO +\|$/);
  assert.ok(lines.some((l) => /^\| 198\.18\.0\.2 +\| node-to-node mesh \| up +\| \d\d:\d\d:\d\d +\| Established/.test(l)));
  assert.ok(lines.some((l) => /^\| 198\.18\.0\.3 +\| global +\| start \| 2026-11-20 \| connect to 198\.18\.0\.3:179: Connection refused \|$/.test(l)));
  assert.match(out, /IPv6 BGP status\nNo IPv6 peers found\./);
  // Every table row has the same width.
  const rows = lines.filter((l) => l.startsWith('|') || l.startsWith('+'));
  assert.equal(new Set(rows.map((l) => l.length)).size, 1);
});
