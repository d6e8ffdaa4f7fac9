// Cheap IPv4 route counting from /proc/.../net/fib_triestat: the kernel reports per-table
// prefix (alias) counts without walking routes in userspace (1-5 ms at 100k routes, against
// ~130 ms for `ip route show | wc -l`).
import { readFileSync } from 'node:fs';
import { NetlinkError } from './codec.ts';
import { withNetns } from './socket.ts';

/** Prefix counts per table as fib_triestat names them: "Main", "Local", "Id 100", ... */
export function parseFibTrieStat(text: string): Map<string, number> {
  const out = new Map<string, number>();
  let table: string | null = null;
  for (const line of text.split('\n')) {
    const head = /^(\S[^:]*):\s*$/.exec(line);
    if (head) { table = head[1]!; continue; }
    const m = /^\s+Prefixes:\s+(\d+)/.exec(line);
    if (m && table !== null) out.set(table, Number(m[1]));
  }
  return out;
}

/** Name fib_triestat uses for a table id. */
export function fibTableName(table: number): string {
  return table === 254 ? 'Main' : table === 255 ? 'Local' : `Id ${table}`;
}

/**
 * IPv4 prefixes in a table (default main) of a network namespace: `netns` is a netns name/path
 * (we switch the main thread in and out around the read) or a pid whose namespace to read.
 */
export function countIPv4Routes(netns?: string | number, table = 254): number {
  const read = (path: string) => {
    try {
      return readFileSync(path, 'utf8');
    } catch (e) {
      throw new NetlinkError('unsupported', `cannot read ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
    }
  };
  const text = typeof netns === 'number'
    ? read(`/proc/${netns}/net/fib_triestat`)
    : withNetns(netns, () => read('/proc/thread-self/net/fib_triestat'));
  return parseFibTrieStat(text).get(fibTableName(table)) ?? 0;
}
