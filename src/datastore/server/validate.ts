// Stateless request checks, as etcd's v3rpc layer makes them before anything touches the
// store (server/etcdserver/api/v3rpc/key.go): empty keys, sort options, ignore_* flags,
// op counts and overlapping writes inside a txn.
import { Errors } from './errors.ts';
import type { DeleteRangeRequest, PutRequest, RangeRequest, RequestOp, TxnRequest } from './proto.ts';

export const DEFAULT_MAX_TXN_OPS = 128;

export function checkRangeRequest(r: RangeRequest): void {
  if (!r.key || r.key.length === 0) throw Errors.emptyKey();
  if (!(r.sort_order >= 0 && r.sort_order <= 2)) throw Errors.invalidSortOption();
  if (!(r.sort_target >= 0 && r.sort_target <= 4)) throw Errors.invalidSortOption();
}

export function checkPutRequest(r: PutRequest): void {
  if (!r.key || r.key.length === 0) throw Errors.emptyKey();
  if (r.ignore_value && r.value.length !== 0) throw Errors.valueProvided();
  if (r.ignore_lease && String(r.lease) !== '0') throw Errors.leaseProvided();
}

export function checkDeleteRequest(r: DeleteRangeRequest): void {
  if (!r.key || r.key.length === 0) throw Errors.emptyKey();
}

export function checkTxnRequest(r: TxnRequest, maxTxnOps: number): void {
  const opc = Math.max(r.compare.length, r.success.length, r.failure.length);
  if (opc > maxTxnOps) throw Errors.tooManyOps();
  for (const c of r.compare) if (!c.key || c.key.length === 0) throw Errors.emptyKey();
  for (const u of r.success) checkRequestOp(u, maxTxnOps - opc);
  for (const u of r.failure) checkRequestOp(u, maxTxnOps - opc);
}

function checkRequestOp(u: RequestOp, maxTxnOps: number): void {
  if (u.request_range) checkRangeRequest(u.request_range);
  else if (u.request_put) checkPutRequest(u.request_put);
  else if (u.request_delete_range) checkDeleteRequest(u.request_delete_range);
  else if (u.request_txn) checkTxnRequest(u.request_txn, maxTxnOps);
  else throw Errors.keyNotFound(); // empty op: etcd answers this way too
}

/**
 * A deleted interval: [start, end) in latin1-string order; a point if end is null. The end is
 * taken literally, as etcd's checkIntervals does: a from-key end ("\0") or an end before the
 * key makes an interval that contains no key, so it conflicts with no put.
 */
interface Interval {
  start: string;
  end: string | null;
}

const L = (b: Buffer) => b.toString('latin1');

function intervalHas(iv: Interval, k: string): boolean {
  if (iv.end === null) return k === iv.start;
  return k >= iv.start && k < iv.end;
}

/** etcd's checkIntervals: no key may be put twice, nor put and deleted, on one txn path. */
export function checkTxnIntervals(r: TxnRequest): void {
  checkIntervals(r.success);
  checkIntervals(r.failure);
}

function checkIntervals(reqs: RequestOp[]): { puts: Set<string>; dels: Interval[] } {
  const dels: Interval[] = [];
  for (const q of reqs) {
    const d = q.request_delete_range;
    if (!d) continue;
    if (d.range_end.length !== 0) {
      dels.push({ start: L(d.key), end: L(d.range_end) });
    } else {
      dels.push({ start: L(d.key), end: null });
    }
  }
  const hits = (k: string) => dels.some((iv) => intervalHas(iv, k));
  const puts = new Set<string>();
  for (const q of reqs) {
    const t = q.request_txn;
    if (!t) continue;
    const a = checkIntervals(t.success);
    const b = checkIntervals(t.failure);
    for (const k of a.puts) {
      if (puts.has(k) || hits(k)) throw Errors.duplicateKey();
      puts.add(k);
    }
    for (const k of b.puts) {
      if (puts.has(k) && !a.puts.has(k)) throw Errors.duplicateKey();
      if (hits(k)) throw Errors.duplicateKey();
      puts.add(k);
    }
    dels.push(...a.dels, ...b.dels);
  }
  for (const q of reqs) {
    const p = q.request_put;
    if (!p) continue;
    const k = L(p.key);
    if (puts.has(k) || hits(k)) throw Errors.duplicateKey();
    puts.add(k);
  }
  return { puts, dels };
}
