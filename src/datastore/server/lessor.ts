// Lease deadlines. Grants persist in the store; deadlines live in memory (like etcd without
// checkpointing, a restart gives every lease its full TTL again). Every 500 ms expired leases
// are revoked through the committer: each revocation deletes the lease's keys as one revision.
import { randomBytes } from 'node:crypto';
import type { Committer } from './committer.ts';

export class Lessor {
  private readonly deadlines = new Map<string, number>();
  private readonly committer: Committer;
  private timer: NodeJS.Timeout | null = null;
  private readonly now: () => number;
  private readonly revoking = new Set<string>();
  onRevoked: (id: string, err: Error | null) => void = () => {};

  constructor(committer: Committer, now: () => number = Date.now) {
    this.committer = committer;
    this.now = now;
    for (const [id, ttl] of committer.store.leases) this.deadlines.set(id, now() + ttl * 1000);
  }

  start(intervalMs = 500): void {
    this.timer = setInterval(() => this.tick(), intervalMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  /** A fresh lease id: positive, random, not in use. */
  newId(): string {
    for (;;) {
      const id = (randomBytes(8).readBigUInt64BE() >> 1n).toString();
      if (id !== '0' && !this.committer.store.leases.has(id)) return id;
    }
  }

  track(id: string, ttl: number): void {
    this.deadlines.set(id, this.now() + ttl * 1000);
  }

  forget(id: string): void {
    this.deadlines.delete(id);
  }

  /** Renews a lease; returns its TTL, or 0 if it does not exist (or has just expired). */
  renew(id: string): number {
    const ttl = this.committer.store.leases.get(id);
    if (ttl === undefined || this.revoking.has(id)) return 0;
    const dl = this.deadlines.get(id);
    if (dl !== undefined && dl <= this.now()) return 0;
    this.deadlines.set(id, this.now() + ttl * 1000);
    return ttl;
  }

  /** Remaining whole seconds, or -1 if the lease does not exist. */
  remaining(id: string): number {
    if (!this.committer.store.leases.has(id)) return -1;
    const dl = this.deadlines.get(id) ?? this.now();
    return Math.max(0, Math.trunc((dl - this.now()) / 1000));
  }

  /** Every granted lease, soonest deadline first (ties in grant order). */
  byExpiry(): string[] {
    const ids = [...this.committer.store.leases.keys()];
    const dl = (id: string) => this.deadlines.get(id) ?? Infinity;
    return ids.sort((a, b) => dl(a) - dl(b));
  }

  tick(): void {
    const store = this.committer.store;
    const now = this.now();
    // Leases restored by a rolled-back batch get a deadline; forgotten ones lose theirs.
    for (const [id, ttl] of store.leases) if (!this.deadlines.has(id)) this.deadlines.set(id, now + ttl * 1000);
    for (const [id, dl] of this.deadlines) {
      if (!store.leases.has(id)) {
        this.deadlines.delete(id);
        continue;
      }
      if (dl > now || this.revoking.has(id)) continue;
      this.revoking.add(id);
      this.committer.write(
        (ctx) => {
          if (store.leases.has(id)) store.revokeLease(ctx, id);
        },
        (err) => {
          this.revoking.delete(id);
          if (!err) this.deadlines.delete(id);
          this.onRevoked(id, err);
        },
      );
    }
  }
}
