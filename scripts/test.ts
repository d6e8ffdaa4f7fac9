// `npm test`: type-check, lint, unit tests, then the end-to-end tests (real kernel, real
// daemons; they need root). Every step runs; the exit code is non-zero if any failed.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';

const root = path.resolve(import.meta.dirname, '..');
const only = process.argv.slice(2); // e.g. `npm test -- unit e2e`

function findTests(dir: string): string[] {
  if (!existsSync(dir)) return [];
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const p = path.join(dir, name);
    if (statSync(p).isDirectory()) out.push(...findTests(p));
    else if (name.endsWith('.test.ts')) out.push(path.relative(root, p));
  }
  return out.sort();
}

const node = process.execPath;
const steps: Array<{ name: string; argv: string[] }> = [
  { name: 'typecheck', argv: [node, path.join(root, 'node_modules/typescript/bin/tsc'), '-p', '.'] },
  { name: 'lint', argv: [node, path.join(root, 'node_modules/eslint/bin/eslint.js'), '.'] },
  { name: 'unit', argv: [node, '--test', '--test-reporter=dot', '--test-concurrency=2', ...findTests(path.join(root, 'src'))] },
  { name: 'e2e', argv: [node, '--test', '--test-reporter=spec', '--test-concurrency=1', ...findTests(path.join(root, 'test/e2e'))] },
];

const results: Array<{ name: string; ok: boolean; seconds: number }> = [];
for (const step of steps) {
  if (only.length && !only.includes(step.name)) continue;
  if (step.argv.length <= 4 && step.argv.includes('--test')) {
    console.log(`\n== ${step.name}: no test files`);
    results.push({ name: step.name, ok: true, seconds: 0 });
    continue;
  }
  console.log(`\n== ${step.name}`);
  const t0 = performance.now();
  const r = spawnSync(step.argv[0]!, step.argv.slice(1), { cwd: root, stdio: 'inherit' });
  results.push({ name: step.name, ok: r.status === 0, seconds: (performance.now() - t0) / 1000 });
}
console.log('\n== summary');
for (const r of results) console.log(`${r.ok ? 'PASS' : 'FAIL'}  ${r.name}  (${r.seconds.toFixed(1)} s)`);
process.exit(results.every((r) => r.ok) ? 0 : 1);
