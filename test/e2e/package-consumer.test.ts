// The library surface as another package sees it: `npm pack` (whose prepack step builds dist/),
// the tarball unpacked into a consumer's node_modules, then a consumer module imports
// `calico-ts/model` and `calico-ts/selector` on Node 26 and a TypeScript consumer type-checks
// against the shipped declarations. Node does not strip types under node_modules, so this is
// what proves the exports work for an installed copy, not just for a checkout.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

const root = path.resolve(import.meta.dirname, '../..');
const node = process.execPath;

await test('calico-ts installs as a package and its model and selector exports work', { timeout: 240_000 }, (t) => {
  const dir = mkdtempSync(path.join(tmpdir(), 'calico-consumer-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const npmEnv = { ...process.env, PATH: `${path.dirname(node)}:${process.env.PATH ?? ''}` };
  const out = execFileSync('npm', ['pack', '--silent', '--pack-destination', dir], { cwd: root, env: npmEnv, encoding: 'utf8' });
  const tarball = path.join(dir, out.trim().split('\n').pop()!);
  const pkgDir = path.join(dir, 'consumer/node_modules/calico-ts');
  mkdirSync(pkgDir, { recursive: true });
  execFileSync('tar', ['-xzf', tarball, '-C', pkgDir, '--strip-components=1']);
  // The tarball holds no tests and no TypeScript-only entry points.
  const shipped = execFileSync('tar', ['-tzf', tarball], { encoding: 'utf8' });
  assert.doesNotMatch(shipped, /\.test\.ts/);
  assert.match(shipped, /package\/dist\/model\/index\.js/);
  // Its dependencies, as an installer would provide them (linked from ours: no network).
  const deps = Object.keys((JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')) as { dependencies: Record<string, string> }).dependencies);
  for (const d of [...deps, '@types/node']) {
    const target = path.join(dir, 'consumer/node_modules', d);
    mkdirSync(path.dirname(target), { recursive: true });
    symlinkSync(path.join(root, 'node_modules', d), target);
  }
  writeFileSync(path.join(dir, 'consumer/package.json'), JSON.stringify({ name: 'consumer', type: 'module', private: true }));
  writeFileSync(
    path.join(dir, 'consumer/main.ts'),
    `import { decodeDocuments, validate, encodeYAML } from 'calico-ts/model';
import { parseSelector, SelectorParseError } from 'calico-ts/selector';
const [pool] = decodeDocuments('apiVersion: projectcalico.org/v3\\nkind: IPPool\\nmetadata: {name: p1}\\nspec: {cidr: 198.19.0.0/16}\\n', { source: 'pool.yaml' });
const issues = validate(pool!);
const sel = parseSelector("app == 'web' && env in {'prod','dev'}");
let position = -1;
try { parseSelector('app == '); } catch (e) { if (e instanceof SelectorParseError) position = e.position; }
console.log(JSON.stringify({ kind: pool!.kind, issues: issues.length, yaml: encodeYAML([pool!]).includes('198.19.0.0/16'),
  canonical: sel.canonical, id: sel.uniqueId, match: sel.matches({ app: 'web', env: 'dev' }), noMatch: sel.matches({ app: 'web' }), position }));
`,
  );
  // Type-check the consumer against the shipped declarations, then run it as plain JS.
  writeFileSync(
    path.join(dir, 'consumer/tsconfig.json'),
    JSON.stringify({ compilerOptions: { module: 'nodenext', moduleResolution: 'nodenext', target: 'esnext', strict: true, noEmit: true, skipLibCheck: true, types: ['node'] }, files: ['main.ts'] }),
  );
  execFileSync(node, [path.join(root, 'node_modules/typescript/bin/tsc'), '-p', '.'], { cwd: path.join(dir, 'consumer'), stdio: 'pipe' });
  const result = JSON.parse(execFileSync(node, ['main.ts'], { cwd: path.join(dir, 'consumer'), encoding: 'utf8' })) as Record<string, unknown>;
  assert.equal(result.kind, 'IPPool');
  assert.equal(result.issues, 0);
  assert.equal(result.yaml, true);
  assert.equal(result.canonical, `(app == "web" && env in {"dev", "prod"})`);
  assert.match(String(result.id), /^s:[A-Za-z0-9_-]{38}$/);
  assert.equal(result.match, true);
  assert.equal(result.noMatch, false);
  assert.equal(result.position, 7);
  // The consumer ran from node_modules (no type stripping there): dist/ JavaScript was used.
  assert.ok(readdirSync(path.join(pkgDir, 'dist/selector')).includes('index.js'));
});
