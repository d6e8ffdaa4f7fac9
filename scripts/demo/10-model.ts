// Demo: the projectcalico.org/v3 model decodes and validates real Calico manifests, applies
// Calico's defaults, and explains what is wrong with a bad one.
import { readFileSync, existsSync } from 'node:fs';
import path from 'node:path';
import { decodeDocumentsDetailed, applyDefaults, encodeYAML, keyForResource, DecodeErrors, decodeDocuments } from '../../src/model/index.ts';

export const title = 'model: projectcalico.org/v3 resources — decode, validate, defaults, datastore keys';

const REF = path.resolve(import.meta.dirname, '../../../shared/calico-reference/manifests');

const BAD = `apiVersion: projectcalico.org/v3
kind: GlobalNetworkPolicy
metadata:
  name: allow-dns
spec:
  selector: role == 'dns'
  ingress:
  - action: Allow
    protocol: dns
    destination:
      ports: [53]
      nets: [10.0.0.1/8]
---
apiVersion: projectcalico.org/v3
kind: IPPool
metadata:
  name: tiny
spec:
  cidr: fd00:198:18::/64
  ipipMode: Always
  blockSize: 64
`;

export async function run(): Promise<void> {
  for (const rel of ['mesh/route-reflector-mesh-enabled/input.yaml', 'bgpfilter/communities_and_operations/input.yaml']) {
    const file = path.join(REF, rel);
    if (!existsSync(file)) {
      console.log(`(skipping ${rel}: the Calico reference manifests are not on this machine)`);
      continue;
    }
    const r = decodeDocumentsDetailed(readFileSync(file, 'utf8'), { source: rel });
    const kinds = new Map<string, number>();
    for (const d of r.resources) kinds.set(d.resource.kind, (kinds.get(d.resource.kind) ?? 0) + 1);
    console.log(`${rel}: ${r.resources.length} resources valid (${[...kinds].map(([k, n]) => `${n} ${k}`).join(', ')}), ${r.errors.length} errors`);
  }
  const pool = decodeDocuments('{"apiVersion":"projectcalico.org/v3","kind":"IPPool","metadata":{"name":"pool-1"},"spec":{"cidr":"198.18.0.0/16"}}', { source: 'pool.json' })[0]!;
  console.log('\nIPPool with Calico defaults applied, stored at', keyForResource(pool));
  console.log(encodeYAML(applyDefaults(pool)));
  console.log('A deliberately bad manifest:');
  try {
    decodeDocuments(BAD, { source: 'bad.yaml' });
    console.log('  unexpectedly accepted!');
  } catch (err) {
    if (!(err instanceof DecodeErrors)) throw err;
    for (const e of err.all) {
      console.log(`  [${e.code}] ${e.message}`);
    }
  }
  await Promise.resolve();
}
