// Links and addresses over rtnetlink: dumps (names, ifindex, addresses, connected subnets) and
// the few changes the CNI plugin and tests need (veth pairs, up/down, move to a netns, addresses).
import { closeSync, openSync } from 'node:fs';
import * as C from './constants.ts';
import {
  NetlinkError, decodeAddress, decodeLink, encodeAddrDump, encodeAddress, encodeLinkDel, encodeLinkDump,
  encodeLinkSet, encodeVethAdd, networkOf,
} from './codec.ts';
import type { Address, AddressSpec, Family, Link, LinkChange, VethSpec } from './codec.ts';
import { NetlinkSocket, netnsPath } from './socket.ts';
import type { NetlinkSocketOptions } from './socket.ts';

export interface ConnectedSubnet {
  /** Network CIDR, host bits cleared (198.18.0.0/24). */
  cidr: string;
  /** Our address in it. */
  address: string;
  ifindex: number;
  dev: string;
}

export interface VethOptions extends Omit<VethSpec, 'peerNetnsFd'> {
  /** Create the peer directly in this netns (name under /run/netns or a path). */
  peerNetns?: string;
}

export class NetlinkLinks {
  readonly socket: NetlinkSocket;

  constructor(socket: NetlinkSocket) {
    this.socket = socket;
  }

  static open(opts: NetlinkSocketOptions = {}): NetlinkLinks {
    return new NetlinkLinks(NetlinkSocket.open(opts));
  }

  close(): void {
    this.socket.close();
  }

  links(): Promise<Link[]> {
    return this.socket.dump('link dump', (w, seq) => encodeLinkDump(w, seq), (m) => (m.type === C.RTM_NEWLINK ? decodeLink(m) : null));
  }

  async link(name: string): Promise<Link> {
    const l = (await this.links()).find((x) => x.name === name);
    if (!l) throw new NetlinkError('unknown-device', `no interface named "${name}"${this.socket.netns ? ` in netns ${this.socket.netns}` : ''}`);
    return l;
  }

  addresses(family?: Family): Promise<Address[]> {
    return this.socket.dump('address dump', (w, seq) => encodeAddrDump(w, seq, family ?? 0), (m) => (m.type === C.RTM_NEWADDR ? decodeAddress(m) : null));
  }

  /**
   * Subnets directly connected through our interfaces (universe/site/link scope addresses;
   * host-scope ones such as 127.0.0.1/8 are left out), for deciding on-link next hops.
   */
  async connectedSubnets(family?: Family): Promise<ConnectedSubnet[]> {
    const [links, addrs] = [await this.links(), await this.addresses(family)];
    const names = new Map(links.map((l) => [l.ifindex, l.name]));
    const out: ConnectedSubnet[] = [];
    for (const a of addrs) {
      if (a.scope === C.RT_SCOPE_HOST) continue;
      out.push({ cidr: networkOf(a.peer ?? a.address, a.prefixLen), address: a.address, ifindex: a.ifindex, dev: names.get(a.ifindex) ?? `if${a.ifindex}` });
    }
    return out;
  }

  /** Creates a veth pair; the peer can be created straight inside another netns. */
  async addVeth(v: VethOptions): Promise<void> {
    let fd: number | undefined;
    try {
      if (v.peerNetns !== undefined) {
        const p = netnsPath(v.peerNetns);
        try { fd = openSync(p, 'r'); } catch (e) {
          throw new NetlinkError('netns-failed', `cannot open netns ${p}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
        }
      }
      const spec: VethSpec = { name: v.name, peerName: v.peerName };
      if (v.mtu !== undefined) spec.mtu = v.mtu;
      if (v.mac !== undefined) spec.mac = v.mac;
      if (v.peerMac !== undefined) spec.peerMac = v.peerMac;
      if (fd !== undefined) spec.peerNetnsFd = fd;
      await this.socket.request(`add veth ${v.name}/${v.peerName}`, (w, seq) => encodeVethAdd(w, spec, seq));
    } finally {
      if (fd !== undefined) closeSync(fd);
    }
  }

  private async index(link: string | number): Promise<number> {
    return typeof link === 'number' ? link : (await this.link(link)).ifindex;
  }

  /** Changes a link: up/down, mtu, name, mac, or moves it into another netns (`netns`). */
  async setLink(link: string | number, ch: Omit<LinkChange, 'netnsFd'> & { netns?: string }): Promise<void> {
    const ifindex = await this.index(link);
    let fd: number | undefined;
    try {
      const change: LinkChange = {};
      if (ch.up !== undefined) change.up = ch.up;
      if (ch.mtu !== undefined) change.mtu = ch.mtu;
      if (ch.name !== undefined) change.name = ch.name;
      if (ch.mac !== undefined) change.mac = ch.mac;
      if (ch.netns !== undefined) {
        const p = netnsPath(ch.netns);
        try { fd = openSync(p, 'r'); } catch (e) {
          throw new NetlinkError('netns-failed', `cannot open netns ${p}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
        }
        change.netnsFd = fd;
      }
      await this.socket.request(`set link ${link}`, (w, seq) => encodeLinkSet(w, ifindex, change, seq));
    } finally {
      if (fd !== undefined) closeSync(fd);
    }
  }

  async delLink(link: string | number): Promise<void> {
    const ifindex = await this.index(link);
    await this.socket.request(`delete link ${link}`, (w, seq) => encodeLinkDel(w, ifindex, seq));
  }

  async addAddress(link: string | number, cidr: string, opts: Omit<AddressSpec, 'ifindex' | 'cidr'> & { replace?: boolean } = {}): Promise<void> {
    const ifindex = await this.index(link);
    const spec: AddressSpec = { ifindex, cidr, ...opts };
    await this.socket.request(`add address ${cidr} on ${link}`, (w, seq) => encodeAddress(w, opts.replace ? 'replace' : 'add', spec, seq));
  }

  async delAddress(link: string | number, cidr: string): Promise<void> {
    const ifindex = await this.index(link);
    await this.socket.request(`delete address ${cidr} on ${link}`, (w, seq) => encodeAddress(w, 'del', { ifindex, cidr }, seq));
  }
}
