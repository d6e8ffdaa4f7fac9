import { test } from 'node:test';
import assert from 'node:assert/strict';
import { goFloat, joinAndTruncate, renderTable, tabwrite } from './table.ts';
import type { AnyResource } from '../model/index.ts';

const ctx = { asNumber: () => '64512' };
const res = (kind: string, name: string, spec: Record<string, unknown>, namespace?: string): AnyResource =>
  ({ apiVersion: 'projectcalico.org/v3', kind, metadata: { name, ...(namespace ? { namespace } : {}) }, spec }) as AnyResource;

void test('tabwrite: Go tabwriter(minwidth 5, padding 3) with tab-terminated cells', () => {
  // Worked by hand from text/tabwriter's rules: width = max(minwidth, widest cell + padding).
  assert.equal(tabwrite([['NAME', 'A'], ['x', 'longer-value']]), 'NAME   A              \nx      longer-value   \n');
  assert.equal(tabwrite([['ab']]), 'ab   \n', 'minwidth 5 applies');
  assert.equal(tabwrite([['NAME'], []]), 'NAME   \n\n');
});

void test('goFloat prints float64 like Go %v', () => {
  assert.equal(goFloat(1000000), '1e+06');
  assert.equal(goFloat(10000000), '1e+07');
  assert.equal(goFloat(100000), '100000');
  assert.equal(goFloat(1234567), '1.234567e+06');
  assert.equal(goFloat(10), '10');
  assert.equal(goFloat(0.5), '0.5');
  assert.equal(goFloat(0.00001), '1e-05');
});

void test('joinAndTruncate: maps sorted as k=v, truncation with ...', () => {
  assert.equal(joinAndTruncate({ b: '2', a: '1' }, ','), 'a=1,b=2');
  assert.equal(joinAndTruncate(['198.18.0.0/24', '198.18.1.0/24'], ',', 20), '198.18.0.0/24,198...');
  assert.equal(joinAndTruncate(undefined, ','), '');
});

void test('IPPool, Node, BGPPeer, BGPConfiguration, Tier and policy tables as calicoctl prints them', () => {
  const pools = [res('IPPool', 'p1', { cidr: '198.18.0.0/24', nodeSelector: 'all()' })];
  assert.equal(renderTable('IPPool', pools, {}, ctx), 'NAME   CIDR            SELECTOR   \np1     198.18.0.0/24   all()      \n\n');
  const nodes = [res('Node', 'n1', { bgp: { ipv4Address: '198.18.0.1/24' } }), res('Node', 'n2', { bgp: { asNumber: 65001 } }), res('Node', 'n3', {})];
  assert.equal(
    renderTable('Node', nodes, { wide: true }, ctx),
    'NAME   ASN       IPV4            IPV6   \nn1     (64512)   198.18.0.1/24          \nn2     65001                            \nn3                                      \n\n',
  );
  const peers = [res('BGPPeer', 'global', { peerIP: '198.18.0.9', asNumber: 64513 }), res('BGPPeer', 'sel', { peerIP: '198.18.0.8', nodeSelector: 'rr == "true"', asNumber: 64514 })];
  assert.equal(renderTable('BGPPeer', peers, {}, ctx).split('\n')[1], 'global   198.18.0.9   (global)       64513   ');
  assert.equal(renderTable('BGPPeer', peers, {}, ctx).split('\n')[2], 'sel      198.18.0.8   rr == "true"   64514   ');
  assert.equal(renderTable('BGPConfiguration', [res('BGPConfiguration', 'default', { logSeverityScreen: 'Info' })], {}, ctx).split('\n')[1], 'default   Info          -             -          ');
  assert.equal(renderTable('Tier', [res('Tier', 'default', { order: 1000000 })], {}, ctx).split('\n')[1], 'default   1e+06   ');
  const nps = [res('NetworkPolicy', 'allow', { tier: 'default', order: 100, selector: 'app == "web"' }, 'ns1')];
  assert.equal(renderTable('NetworkPolicy', nps, { printNamespace: true }, ctx).split('\n')[0], 'NAMESPACE   NAME    TIER      ');
  assert.equal(renderTable('NetworkPolicy', nps, { wide: true }, ctx).split('\n')[1], 'allow   default   100     app == "web"   ');
  assert.equal(renderTable('GlobalNetworkPolicy', [res('GlobalNetworkPolicy', 'g', { tier: 'default' })], { wide: true, printNamespace: true }, ctx).split('\n')[1], 'g      default   <nil>              ', 'no NAMESPACE column for global kinds; unset order prints <nil>');
  assert.throws(() => renderTable('IPPool', pools, { columns: ['NAME', 'BOGUS'] }, ctx), /unknown heading BOGUS, valid values are: ASSIGNMENTMODE, CIDR, DISABLEBGPEXPORT/);
});
