// calicoctl ipam show (calicoctl/commands/ipam/show.go, libcalico-go ipam GetUtilization and
// GetAssignmentAttributes), over Calico's IPAM objects in the datastore:
// - no flag / --show-blocks: per IP pool (then blocks no pool covers, as "orphaned" blocks
//   shown only with --show-blocks) the total, in-use, reserved (IPReservations) and free
//   addresses, in go-pretty's default table;
// - --ip=A: whether A is allocated, its handle and owner attributes.
import { ipamBlockKey, type AnyResource } from '../model/index.ts';
import { familyBits, formatCIDR, formatIP, maskCIDR, tryParseCIDR, tryParseIP, type CIDR, type IPFamily } from '../lib/index.ts';
import { cause, checkedClient } from './admin-steps.ts';
import { CommandFailed, withSession, type CtlDeps, type CtlIO } from './commands.ts';

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const MAX_INT64 = (1n << 63n) - 1n;

/** Address sets as sorted, merged, inclusive [lo, hi] ranges of one family. */
type Ranges = [bigint, bigint][];

function range(c: CIDR): [bigint, bigint] {
  const m = maskCIDR(c);
  return [m.ip, m.ip + (1n << BigInt(familyBits(c.family) - c.prefix)) - 1n];
}

function merge(rs: Ranges): Ranges {
  const sorted = [...rs].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  const out: Ranges = [];
  for (const [lo, hi] of sorted) {
    const last = out[out.length - 1];
    if (last && lo <= last[1] + 1n) last[1] = hi > last[1] ? hi : last[1];
    else out.push([lo, hi]);
  }
  return out;
}

/** How many addresses of [lo, hi] the ranges cover. */
function covered(rs: Ranges, lo: bigint, hi: bigint): bigint {
  let n = 0n;
  for (const [a, b] of rs) {
    const x = a > lo ? a : lo;
    const y = b < hi ? b : hi;
    if (x <= y) n += y - x + 1n;
  }
  return n;
}

const inRanges = (rs: Ranges, v: bigint): boolean => rs.some(([a, b]) => v >= a && v <= b);
const clamp = (n: bigint): bigint => (n > MAX_INT64 ? MAX_INT64 : n);

/** Go's %.5g. */
function g5(n: number): string {
  if (n === 0) return '0';
  const exp = Math.floor(Math.log10(Math.abs(n)));
  const [mant, e] = n.toExponential(4).split('e') as [string, string];
  const trim = (s: string): string => (s.includes('.') ? s.replace(/0+$/, '').replace(/\.$/, '') : s);
  if (exp < -4 || exp >= 5) {
    const ev = Number(e);
    return `${trim(mant)}e${ev < 0 ? '-' : '+'}${String(Math.abs(ev)).padStart(2, '0')}`;
  }
  return trim(n.toPrecision(5));
}

/** Go's %.f: rounded to an integer, exact halves to even. */
function f0(x: number): string {
  if (!Number.isFinite(x)) return Number.isNaN(x) ? 'NaN' : x > 0 ? '+Inf' : '-Inf';
  const f = Math.floor(x);
  const d = x - f;
  const r = d > 0.5 ? f + 1 : d < 0.5 ? f : f % 2 === 0 ? f : f + 1;
  return String(r);
}

interface Use { name: string; cidr: CIDR | undefined; capacity: bigint; inUse: bigint; reserved: bigint; free: bigint; blocks: Use[] }

/** go-pretty's default table style: +---+ borders, the header under a rule, numbers right-aligned. */
function prettyTable(header: string[], rows: string[][], right: ReadonlySet<number>): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const rule = `+${widths.map((w) => '-'.repeat(w + 2)).join('+')}+\n`;
  const line = (cells: string[], align: boolean): string =>
    `|${cells.map((c, i) => ` ${align && right.has(i) ? c.padStart(widths[i]!) : c.padEnd(widths[i]!)} `).join('|')}|\n`;
  return rule + line(header, false) + rule + rows.map((r) => line(r, true)).join('') + rule;
}

function parseBlock(value: string): { cidr: CIDR; unallocated: number[]; allocations: (number | null)[]; attributes: Obj[] } | undefined {
  let o: unknown;
  try {
    o = JSON.parse(value);
  } catch {
    return undefined;
  }
  if (!isObj(o) || typeof o.cidr !== 'string') return undefined;
  const cidr = tryParseCIDR(o.cidr);
  if (!cidr) return undefined;
  return {
    cidr: maskCIDR(cidr),
    unallocated: Array.isArray(o.unallocated) ? o.unallocated.filter((x): x is number => typeof x === 'number') : [],
    allocations: Array.isArray(o.allocations) ? o.allocations.map((x) => (typeof x === 'number' ? x : null)) : [],
    attributes: Array.isArray(o.attributes) ? o.attributes.filter(isObj) : [],
  };
}

/**
 * show.go's ShowBorrowedDetails: addresses allocated to a node other than their block's owner
 * (or from a block with no owner), and a note counting allocations that name no node.
 */
function borrowed(blocks: string[]): string {
  const rows: string[][] = [];
  let unclassified = 0;
  for (const value of blocks) {
    const b = parseBlock(value);
    if (!b) continue;
    const affinity = (JSON.parse(value) as Obj).affinity;
    const parts = typeof affinity === 'string' ? affinity.split(':') : [];
    const owner = typeof affinity === 'string' ? (parts.length === 2 ? parts[1]! : parts[0]!) : '';
    b.allocations.forEach((idx, ord) => {
      if (idx === null) return;
      const attrs = isObj(b.attributes[idx]?.secondary) ? (b.attributes[idx]!.secondary as Record<string, string>) : {};
      if (attrs.node === undefined) {
        unclassified++;
        return;
      }
      if (attrs.node === owner) return;
      const ns = attrs.namespace ?? '';
      const [type, to] = attrs['vmi-name'] !== undefined ? ['vmi', `${ns}/${attrs['vmi-name']}`] : attrs.pod !== undefined ? ['pod', `${ns}/${attrs.pod}`] : [attrs.type ?? '', ''];
      rows.push([formatIP(b.cidr.ip + BigInt(ord), b.cidr.family), attrs.node, formatCIDR(b.cidr), owner, type, to]);
    });
  }
  const table = prettyTable(['IP', 'BORROWING-NODE', 'BLOCK', 'BLOCK OWNER', 'TYPE', 'ALLOCATED-TO'], rows, new Set());
  return unclassified ? `${table}\nNote: found ${unclassified} IP allocations without an explicit node association. Unable to determine if they are borrowed.\n` : table;
}

export async function runIpamShow(io: CtlIO, deps: CtlDeps, opts: { config?: string; ip?: string; showBlocks?: boolean; showBorrowed?: boolean; showConfiguration?: boolean; allowVersionMismatch?: boolean }): Promise<void> {
  await withSession(io, deps, opts.config, async (session) => {
    const ds = await checkedClient(session, deps, opts);
    const pools: AnyResource[] = [];
    const reservations: AnyResource[] = [];
    let blockKvs;
    try {
      if (opts.ip) {
        const ip = tryParseIP(opts.ip);
        if (!ip) {
          // argutils.ValidateIP prints this and exits 1.
          throw new CommandFailed(`Error executing command: invalid IP address specified: ${opts.ip}`, { stream: 'stdout' });
        }
        const text = formatIP(ip);
        const pool = (await ds.resources.list('IPPool')).items.find((p) => {
          const c = tryParseCIDR(String((p.spec as Obj | undefined)?.cidr ?? ''));
          return c !== null && c.family === ip.family && covered([range(c)], ip.value, ip.value) === 1n;
        });
        const blockSize = Number((pool?.spec as Obj | undefined)?.blockSize ?? (ip.family === 4 ? 26 : 122));
        const block = pool ? await ds.kv.get(ipamBlockKey(formatCIDR(maskCIDR({ family: ip.family, ip: ip.value, prefix: blockSize })))) : undefined;
        const b = block ? parseBlock(block.value) : undefined;
        const idx = b ? b.allocations[Number(ip.value - b.cidr.ip)] : null;
        const attrs = b && idx !== null && idx !== undefined ? b.attributes[idx] : undefined;
        if (!b || idx === null || idx === undefined) {
          io.out(`${text} is not assigned\n`);
          return;
        }
        io.out(`IP ${text} is in use\n`);
        io.out(typeof attrs?.handle_id === 'string' ? `Handle ID: ${attrs.handle_id}\n` : 'Handle ID: <none>\n');
        const owner = (title: string, m: unknown): string => {
          if (!isObj(m) || Object.keys(m).length === 0) return '';
          return `${title}:\n${Object.keys(m).sort().map((k) => `  ${k}: ${String(m[k])}\n`).join('')}`;
        };
        const active = owner('Active Owner Attributes', attrs?.secondary);
        io.out(active || 'No Active Owner attributes defined\n');
        io.out(owner('Alternate Owner Attributes', attrs?.alternateOwnerAttrs));
        return;
      }
      if (opts.showConfiguration) throw new CommandFailed('calicoctl ipam show --show-configuration is not implemented in calico-ts');
      if (opts.showBorrowed) {
        io.out(borrowed((await ds.kv.range('/calico/ipam/v2/assignment/')).kvs.map((kv) => kv.value)));
        return;
      }
      pools.push(...(await ds.resources.list('IPPool')).items);
      reservations.push(...(await ds.resources.list('IPReservation')).items);
      blockKvs = (await ds.kv.range('/calico/ipam/v2/assignment/')).kvs;
    } catch (err) {
      if (err instanceof CommandFailed) throw err;
      throw new CommandFailed(cause(err));
    }
    // Reserved addresses per family (reservedCIDRs: CIDRs or bare IPs; malformed ones ignored).
    const reserved: Record<IPFamily, Ranges> = { 4: [], 6: [] };
    for (const r of reservations) {
      for (const s of ((r.spec as Obj | undefined)?.reservedCIDRs as unknown[] | undefined) ?? []) {
        const c = typeof s === 'string' ? tryParseCIDR(s.trim(), { allowBareIP: true }) : null;
        if (c) reserved[c.family].push(range(c));
      }
    }
    reserved[4] = merge(reserved[4]);
    reserved[6] = merge(reserved[6]);
    const usage: Use[] = pools.map((p) => ({ name: p.metadata.name ?? '', cidr: tryParseCIDR(String((p.spec as Obj | undefined)?.cidr ?? '')) ?? undefined, capacity: 0n, inUse: 0n, reserved: 0n, free: 0n, blocks: [] }));
    const orphans: Use = { name: 'orphaned allocation blocks', cidr: { family: 4, ip: 0n, prefix: 0 }, capacity: 0n, inUse: 0n, reserved: 0n, free: 0n, blocks: [] };
    usage.push(orphans);
    for (const kv of blockKvs) {
      const b = parseBlock(kv.value);
      if (!b) continue;
      const [lo, hi] = range(b.cidr);
      // The first group whose CIDR overlaps the block (IsNetOverlap: one contains the other's address).
      const group = usage.find((u) => u.cidr && u.cidr.family === b.cidr.family && (covered([range(u.cidr)], lo, lo) === 1n || covered([[lo, hi]], maskCIDR(u.cidr).ip, maskCIDR(u.cidr).ip) === 1n));
      if (!group) continue;
      const rs = reserved[b.cidr.family];
      const capacity = hi - lo + 1n;
      const free = BigInt(b.unallocated.filter((o) => !inRanges(rs, lo + BigInt(o))).length);
      group.blocks.push({ name: '', cidr: b.cidr, capacity, inUse: capacity - BigInt(b.unallocated.length), reserved: covered(rs, lo, hi), free, blocks: [] });
    }
    for (const u of usage) {
      if (u === orphans || !u.cidr) continue;
      const [lo, hi] = range(u.cidr);
      const rs = reserved[u.cidr.family];
      const size = hi - lo + 1n;
      const reservedInPool = covered(rs, lo, hi);
      // Assignable addresses outside every block: the pool less its reservations and its blocks.
      const taken = merge([...rs, ...u.blocks.map((b) => range(b.cidr!))]);
      u.capacity = clamp(size);
      u.reserved = clamp(reservedInPool);
      u.inUse = u.blocks.reduce((n, b) => n + b.inUse, 0n);
      u.free = clamp(u.blocks.reduce((n, b) => n + b.free, 0n) + (size - covered(taken, lo, hi)));
    }
    const row = (kind: string, cidr: CIDR, u: Use): string[] => {
      const cap = Number(u.capacity);
      const pct = (n: bigint): string => `${g5(Number(n))} (${f0((100 * Number(n)) / cap)}%)`;
      return [kind, formatCIDR(maskCIDR(cidr)), g5(cap), pct(u.inUse), pct(u.reserved), pct(u.free)];
    };
    const rows: string[][] = [];
    for (const u of usage) {
      if (u !== orphans && u.cidr && u.cidr.prefix > 0) rows.push(row('IP Pool', u.cidr, u));
      if (opts.showBlocks) for (const b of u.blocks) rows.push(row('Block', b.cidr!, b));
    }
    io.out(prettyTable(['GROUPING', 'CIDR', 'IPS TOTAL', 'IPS IN USE', 'IPS RESERVED', 'IPS FREE'], rows, new Set([2, 3, 4, 5])));
  });
}
