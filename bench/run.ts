// `npm run bench -- <name> [args]`: runs bench/<name>.ts (or bench/<name>/index.ts).
import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';

const [name, ...rest] = process.argv.slice(2);
const dir = import.meta.dirname;
const available = readdirSync(dir)
  .filter((f) => f !== 'run.ts' && (f.endsWith('.ts') || existsSync(path.join(dir, f, 'index.ts'))))
  .map((f) => f.replace(/\.ts$/, ''));
if (!name || !available.includes(name)) {
  console.error(`usage: npm run bench -- <name>\navailable: ${available.join(', ')}`);
  process.exit(2);
}
const file = existsSync(path.join(dir, `${name}.ts`)) ? path.join(dir, `${name}.ts`) : path.join(dir, name, 'index.ts');
process.argv = [process.argv[0]!, file, ...rest];
await import(pathToFileURL(file).href);
