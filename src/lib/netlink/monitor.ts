// Route / link / address change events from rtnetlink multicast groups, as an async stream.
// One socket joined to the requested groups; a loop waits for readability with poll() on a
// koffi worker thread (never blocking the event loop), drains every queued datagram and decodes.
// If the kernel drops events because we fell behind (ENOBUFS), an 'overrun' event is delivered:
// the consumer must resync with a dump.
import * as C from './constants.ts';
import { NetlinkError, decodeAddress, decodeLink, decodeRoute } from './codec.ts';
import type { Address, KernelRoute, Link } from './codec.ts';
import { NetlinkSocket } from './socket.ts';

export type NetlinkEvent =
  | { kind: 'route'; action: 'new' | 'del'; route: KernelRoute }
  | { kind: 'link'; action: 'new' | 'del'; link: Link }
  | { kind: 'address'; action: 'new' | 'del'; address: Address }
  | { kind: 'overrun' };

export interface MonitorOptions {
  netns?: string;
  routes?: boolean;
  links?: boolean;
  addresses?: boolean;
  /** IP families for route/address groups (default both). */
  families?: readonly (4 | 6)[];
  /** Poll timeout of the wait loop: upper bound on how long close() takes to finish (default 250 ms). */
  pollMs?: number;
}

export class NetlinkMonitor implements AsyncIterable<NetlinkEvent> {
  readonly socket: NetlinkSocket;
  private readonly queue: NetlinkEvent[] = [];
  private waiter: ((v: void) => void) | null = null;
  private closed = false;
  private failure: Error | null = null;
  private readonly loop: Promise<void>;
  private readonly pollMs: number;

  private constructor(socket: NetlinkSocket, pollMs: number) {
    this.socket = socket;
    this.pollMs = pollMs;
    this.loop = this.run().catch((e: unknown) => {
      this.failure = e instanceof Error ? e : new Error(String(e));
      this.wake();
    });
  }

  static open(opts: MonitorOptions = {}): NetlinkMonitor {
    const fams = opts.families ?? [4, 6];
    const groups: number[] = [];
    if (opts.links ?? true) groups.push(C.RTNLGRP_LINK);
    if (opts.routes ?? true) {
      if (fams.includes(4)) groups.push(C.RTNLGRP_IPV4_ROUTE);
      if (fams.includes(6)) groups.push(C.RTNLGRP_IPV6_ROUTE);
    }
    if (opts.addresses ?? true) {
      if (fams.includes(4)) groups.push(C.RTNLGRP_IPV4_IFADDR);
      if (fams.includes(6)) groups.push(C.RTNLGRP_IPV6_IFADDR);
    }
    const sockOpts: { groups: number[]; netns?: string } = { groups };
    if (opts.netns !== undefined) sockOpts.netns = opts.netns;
    return new NetlinkMonitor(NetlinkSocket.open(sockOpts), opts.pollMs ?? 250);
  }

  private wake(): void {
    const w = this.waiter;
    this.waiter = null;
    w?.();
  }

  private async run(): Promise<void> {
    let burst = 0;
    while (!this.closed) {
      if (++burst >= 64) {
        burst = 0;
        await new Promise<void>((r) => setImmediate(r)); // let consumers run during event storms
      }
      let msgs;
      try {
        msgs = this.socket.recvNow();
      } catch (e) {
        if (e instanceof NetlinkError && e.errno === 105 /* ENOBUFS */) {
          this.queue.push({ kind: 'overrun' });
          this.wake();
          continue;
        }
        throw e;
      }
      if (msgs === null) {
        burst = 0;
        await this.socket.waitReadable(this.pollMs);
        continue;
      }
      for (const m of msgs) {
        const action = m.type === C.RTM_NEWROUTE || m.type === C.RTM_NEWLINK || m.type === C.RTM_NEWADDR ? 'new' : 'del';
        if (m.type === C.RTM_NEWROUTE || m.type === C.RTM_DELROUTE) {
          const route = decodeRoute(m);
          if (route && !(route.flags & C.RTM_F_CLONED)) this.queue.push({ kind: 'route', action, route });
        } else if (m.type === C.RTM_NEWLINK || m.type === C.RTM_DELLINK) {
          this.queue.push({ kind: 'link', action, link: decodeLink(m) });
        } else if (m.type === C.RTM_NEWADDR || m.type === C.RTM_DELADDR) {
          const address = decodeAddress(m);
          if (address) this.queue.push({ kind: 'address', action, address });
        }
      }
      this.wake();
    }
  }

  /** Next event, or null once closed. Rejects if the socket failed. */
  async next(): Promise<NetlinkEvent | null> {
    for (;;) {
      const e = this.queue.shift();
      if (e) return e;
      if (this.failure) throw this.failure;
      if (this.closed) return null;
      await new Promise<void>((r) => { this.waiter = r; });
    }
  }

  async *[Symbol.asyncIterator](): AsyncIterator<NetlinkEvent> {
    for (;;) {
      const e = await this.next();
      if (e === null) return;
      yield e;
    }
  }

  /** Stops the loop (within pollMs) and closes the socket. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.wake();
    await this.loop;
    this.socket.close();
  }
}
