// `npm run demo`: until calico-lab exists, this shows the parts of calico-ts that exist today,
// each labelled honestly. Sections register themselves in scripts/demo/*.ts.
import { readdirSync, existsSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';

const dir = path.join(import.meta.dirname, 'demo');
const parts = existsSync(dir) ? readdirSync(dir).filter((f) => f.endsWith('.ts')).sort() : [];
console.log('calico-ts demo — the parts that exist so far (calico-lab, the full cluster demo, is not built yet)\n');
let failed = 0;
for (const f of parts) {
  const mod = (await import(pathToFileURL(path.join(dir, f)).href)) as { title: string; run: () => Promise<void> };
  console.log(`\n### ${mod.title}\n`);
  try {
    await mod.run();
  } catch (err) {
    failed++;
    console.error(`demo part ${f} failed: ${err instanceof Error ? err.message : String(err)}`);
  }
}
process.exit(failed ? 1 : 0);
