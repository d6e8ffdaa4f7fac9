// The BGP speaker: composes per-peer sessions (src/bgp/fsm), the RIB (src/bgp/rib) and the
// kernel writer. Sessions push events in synchronously; the RIB queues outbound work; one pump
// (scheduled per event-loop turn, so a burst of UPDATEs is handled as one batch) drains the RIB
// into UPDATE messages per peer and into the kernel reconciler (which itself batches writes).
import net from 'node:net';
import {
  encodeMessage,
  packAdvertisements,
  packWithdrawals,
  endOfRib,
  isEndOfRib,
  parsePrefix,
  familyKey,
  type Capability,
  type OpenMessage,
  type Prefix,
  type UpdateMessage,
  type DecodeResult,
} from '../packet/index.ts';
import { Session, Md5Listener, CEASE, type EstablishedInfo, type DownCause, type FsmState } from '../fsm/index.ts';
import { Rib, PrefixIndex, calicoExportPolicy, calicoKernelPolicy, bgpFilterPolicy, compileBGPFilter, ribInputsFromUpdate, RibError, type Family, type KernelChange, type KernelRoute as RibKernelRoute, type OutboundUpdate, type RoutePolicy, type BGPFilterInput, type CompiledBGPFilter, type KernelPolicy } from '../rib/index.ts';
import { NetlinkLinks, NetlinkRoutes } from '../../lib/netlink/index.ts';
import { tryParseCIDR, tryParseIP, cidrContainsIP } from '../../lib/index.ts';
import { canonicalCidr, type SpeakerConfig, type PeerConfig } from './config.ts';
import { KernelSync, IpBatchKernel, NetlinkKernel, type KernelRoutes, type KernelRoute, type KernelRouteSpec } from './kernel.ts';
import { WorkerKernel } from './kernel-worker.ts';
import { keepLargeAllocationsMapped, releaseMemory } from './heap.ts';
import { StatusServer, writeStatusFile, type PeerStatus, type SpeakerStatus, type RouteStatus } from './status.ts';

export interface Logger {
  debug(msg: string): void;
  info(msg: string): void;
  warn(msg: string): void;
  error(msg: string): void;
}

export const silentLogger: Logger = { debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined };

export interface SpeakerDeps {
  /** Kernel writer; default netlink (or `ip -batch` if netlink cannot open). */
  kernel?: KernelRoutes;
  logger?: Logger;
  /** Connected subnets of this host (decides which next hops are directly reachable); default from netlink. */
  connectedSubnets?: () => Promise<string[]>;
}

export class SpeakerError extends Error {
  readonly code: 'bgp-speaker-not-started' | 'bgp-speaker-listen-failed' | 'bgp-reconfigure-unsupported';
  constructor(code: SpeakerError['code'], message: string) {
    super(message);
    this.name = 'SpeakerError';
    this.code = code;
  }
}

interface PeerRuntime {
  id: string;
  cfg: PeerConfig;
  session: Session;
  family: Family;
  lastError: string | null;
  grState: 'none' | 'helper-stale';
  /** Established at least once since start (for the restarting R bit). */
  everUp: boolean;
}

const AFI: Record<Family, 1 | 2> = { ipv4: 1, ipv6: 2 };
/** A burst this large (prefixes) is followed by a memory-reducing GC once quiet. */
const BURST_PREFIXES = 10_000;
const RELEASE_AFTER_MS = 1000;

function peerId(address: string): string {
  return `Peer_${address.replace(/[.:]/g, '_')}`;
}

function cidrHas(cidr: string, addr: string): boolean {
  const c = tryParseCIDR(cidr);
  const a = tryParseIP(addr);
  return !!c && !!a && cidrContainsIP(c, a);
}

function familyOfAddress(a: string): Family {
  // Validated by the config; not net.isIPv6 (its first call costs ~8 ms CPU of every start).
  return a.includes(':') ? 'ipv6' : 'ipv4';
}

function routerIdNum(id: string): number {
  const p = id.split('.').map(Number);
  return (((p[0]! << 24) >>> 0) + (p[1]! << 16) + (p[2]! << 8) + p[3]!) >>> 0;
}

/** Same session settings (reachableBy is a route beside the session: changing it resets nothing). */
function samePeerConfig(a: PeerConfig, b: PeerConfig): boolean {
  return JSON.stringify({ ...a, reachableBy: undefined }) === JSON.stringify({ ...b, reachableBy: undefined });
}

/** The AS we use on a session: the peer's localAsNumber (BIRD `local as`) or the speaker's. */
function localAsOf(c: SpeakerConfig, p: PeerConfig): number {
  return p.localAsNumber ?? c.asNumber;
}

/** Host routes to peers via their reachableBy gateway (Calico's static `route <peer>/32 via <gw>`). */
function staticRoutesOf(c: SpeakerConfig): Map<string, string> {
  const out = new Map<string, string>();
  for (const p of c.peers) if (p.reachableBy) out.set(canonicalCidr(`${p.address}/${p.address.includes(':') ? 128 : 32}`)!, p.reachableBy);
  return out;
}

export class Speaker {
  private cfg: SpeakerConfig;
  private readonly log: Logger;
  private readonly deps: SpeakerDeps;
  private rib!: Rib;
  private kernel!: KernelRoutes;
  private ksync!: KernelSync;
  private readonly peers = new Map<string, PeerRuntime>();
  private readonly byAddress = new Map<string, PeerRuntime>();
  private listeners: Md5Listener[] = [];
  private statusServer: StatusServer | null = null;
  private pumpScheduled = false;
  private ribTimer: NodeJS.Timeout | null = null;
  private statusTimer: NodeJS.Timeout | null = null;
  private started = false;
  private stopping = false;
  private restarting = false;
  private readonly startedAt = new Date();
  private prefixCache = new Map<string, Prefix>();
  private connectedTimer: NodeJS.Timeout | null = null;
  /** Prefixes received or changed since the last memory release, and its debounce timer. */
  private burst = 0;
  private burstTimer: NodeJS.Timeout | null = null;
  private specCache = new WeakMap<RibKernelRoute, KernelRouteSpec | null>();
  /** Static host routes (peer → reachableBy gateway), keyed by canonical prefix; they win over BGP routes. */
  private statics = new Map<string, string>();
  /** Static gateways by peer address, for next hops that resolve through them (BIRD `gateway recursive`). */
  private staticVia = new Map<string, string>();
  /** Connected subnets with their interfaces (route status). */
  private connected: Array<{ cidr: string; dev?: string }> = [];

  constructor(cfg: SpeakerConfig, deps: SpeakerDeps = {}) {
    this.cfg = cfg;
    this.deps = deps;
    this.log = deps.logger ?? silentLogger;
  }

  get config(): SpeakerConfig {
    return this.cfg;
  }

  /** Where we listen (after start), e.g. for tests that use port 0. */
  get listenPorts(): number[] {
    return this.listeners.map((l) => {
      const a = l.server.address();
      return typeof a === 'object' && a ? a.port : l.port;
    });
  }

  async start(): Promise<void> {
    const c = this.cfg;
    this.kernel = this.deps.kernel ?? this.openKernel();
    // Route batches and the prefix index's columns are large, short-lived malloc blocks: keep them
    // in mappings the OS gets back (heap.ts; process-wide).
    keepLargeAllocationsMapped();
    // One prefix index for the RIB and the reconciler: a prefix is one row in both (saves a second
    // key table, ~0.7 MiB per 100k prefixes).
    const prefixIndex = new PrefixIndex();
    this.ksync = new KernelSync(this.kernel, (m) => this.log.warn(`kernel: ${m}`), { index: prefixIndex });
    let preserved: KernelRoute[] = [];
    if (c.kernel.install) {
      try {
        preserved = await this.kernel.list();
      } catch (err) {
        this.log.warn(`cannot list existing routes of protocol ${c.kernel.protocol}: ${(err as Error).message}`);
      }
    }
    this.ksync.adopt(preserved);
    this.restarting = c.gracefulRestart.enabled && preserved.length > 0;
    if (preserved.length) {
      this.log.info(
        this.restarting
          ? `graceful restart: keeping ${preserved.length} routes of protocol ${c.kernel.protocol} until peers resync`
          : `removing ${preserved.length} leftover routes of protocol ${c.kernel.protocol} (graceful restart disabled)`,
      );
    }
    this.rib = new Rib({
      routerId: c.routerId,
      localAs: c.asNumber,
      clusterId: c.routeReflectorClusterId,
      stalePathTime: c.gracefulRestart.staleTime,
      restarting: this.restarting ? { deferralTime: c.gracefulRestart.deferralTime, now: Date.now() } : undefined,
      kernelPolicy: this.kernelPolicy(c),
      prefixIndex,
    });
    await this.refreshConnectedSubnets();
    this.setStatics(staticRoutesOf(c));
    for (const p of c.prefixes) this.rib.originate(p, { blackhole: c.kernel.blackholeOriginated });
    for (const p of c.peers) this.addPeer(p);
    if (c.listen) this.openListeners();
    if (c.statusSocket) this.statusServer = new StatusServer(c.statusSocket, () => this.status());
    this.started = true;
    for (const p of this.peers.values()) p.session.start();
    this.connectedTimer = setInterval(() => void this.refreshConnectedSubnets().then(() => this.schedulePump()), 30_000);
    this.connectedTimer.unref();
    this.schedulePump();
    this.log.info(`BGP speaker started: AS ${c.asNumber}, router id ${c.routerId}, ${c.peers.length} peer(s), listening ${this.listenPorts.join(',') || 'off'}`);
  }

  /**
   * Stops the speaker. `graceful` (RFC 4724 restarting speaker): sessions are dropped without a
   * NOTIFICATION and kernel routes are kept, so peers and the kernel keep forwarding while we
   * restart. Otherwise peers get a Cease NOTIFICATION and our kernel routes are removed.
   */
  async stop(opts: { graceful: boolean } = { graceful: false }): Promise<void> {
    if (!this.started || this.stopping) return;
    this.stopping = true;
    const graceful = opts.graceful && this.cfg.gracefulRestart.enabled;
    for (const l of this.listeners) l.close();
    this.listeners = [];
    if (this.ribTimer) clearTimeout(this.ribTimer);
    if (this.connectedTimer) clearInterval(this.connectedTimer);
    if (this.statusTimer) clearTimeout(this.statusTimer);
    if (this.burstTimer) clearTimeout(this.burstTimer);
    for (const p of this.peers.values()) {
      if (graceful) p.session.abortForRestart();
      else p.session.stop(CEASE.AdministrativeShutdown);
    }
    if (graceful) {
      this.log.info(`graceful stop: keeping ${this.ksync.programmedSize} kernel routes for the restart`);
      await this.ksync.close();
    } else {
      await this.ksync.removeAll();
      await this.ksync.close();
      // Give the Cease NOTIFICATIONs a moment to leave.
      await new Promise((r) => setTimeout(r, 100));
    }
    await this.kernel.close();
    this.statusServer?.close();
    this.statusServer = null;
    this.started = false;
  }

  /**
   * Applies a new configuration without resetting sessions it does not affect: peers are
   * diffed by address (added, removed, or changed → only that session restarts), originated
   * prefixes and pools are diffed. Changing the AS, router id, cluster id or listen address
   * needs a restart (reported as an error; nothing is changed).
   */
  reconfigure(next: SpeakerConfig): { added: string[]; removed: string[]; changed: string[] } {
    if (!this.started) throw new SpeakerError('bgp-speaker-not-started', 'reconfigure: the speaker is not running');
    const cur = this.cfg;
    for (const k of ['asNumber', 'routerId', 'routeReflectorClusterId', 'listenAddress', 'listenPort', 'listen'] as const) {
      if (cur[k] !== next[k]) throw new SpeakerError('bgp-reconfigure-unsupported', `reconfigure: changing ${k} (${String(cur[k])} → ${String(next[k])}) needs a restart of the speaker`);
    }
    if (JSON.stringify(cur.kernel) !== JSON.stringify(next.kernel)) throw new SpeakerError('bgp-reconfigure-unsupported', 'reconfigure: changing kernel settings needs a restart of the speaker');
    this.cfg = next;
    const res = { added: [] as string[], removed: [] as string[], changed: [] as string[] };
    const nextByAddr = new Map(next.peers.map((p) => [p.address, p]));
    for (const [addr, pr] of [...this.byAddress]) {
      const n = nextByAddr.get(addr);
      if (!n) {
        this.removePeer(pr, CEASE.PeerDeconfigured);
        res.removed.push(addr);
      } else if (!samePeerConfig(pr.cfg, n)) {
        this.removePeer(pr, CEASE.OtherConfigurationChange);
        this.addPeer(n).session.start();
        res.changed.push(addr);
      } else pr.cfg = n;
    }
    for (const [addr, p] of nextByAddr) {
      if (!this.byAddress.has(addr)) {
        this.addPeer(p).session.start();
        res.added.push(addr);
      }
    }
    const curP = new Set(cur.prefixes);
    const nextP = new Set(next.prefixes);
    for (const p of curP) if (!nextP.has(p)) this.rib.withdrawOriginated(p);
    for (const p of nextP) if (!curP.has(p)) this.rib.originate(p, { blackhole: next.kernel.blackholeOriginated });
    this.setStatics(staticRoutesOf(next));
    const filtersChanged = JSON.stringify(cur.bgpFilters ?? []) !== JSON.stringify(next.bgpFilters ?? []);
    const exportChanged = JSON.stringify([cur.ipPools, cur.prefixes, cur.prefixAdvertisements ?? []]) !== JSON.stringify([next.ipPools, next.prefixes, next.prefixAdvertisements ?? []]);
    if (filtersChanged || exportChanged) {
      for (const pr of this.peers.values()) {
        if (res.added.includes(pr.cfg.address) || res.changed.includes(pr.cfg.address)) continue;
        const pol = filtersChanged ? { importPolicies: this.importPolicy(pr.cfg), exportPolicies: this.exportPolicy(pr.cfg) } : { exportPolicies: this.exportPolicy(pr.cfg) };
        const { routeRefreshNeeded } = this.rib.setPeerPolicies(pr.id, pol);
        // New import rules apply to routes the peer sends again: ask for them (RFC 2918).
        if (routeRefreshNeeded && !(pr.session.establishedInfo?.routeRefresh && pr.session.sendRouteRefresh(AFI[pr.family], 1))) {
          this.log.warn(`peer ${pr.cfg.address}: import filters changed but the peer does not support ROUTE-REFRESH; they apply to routes it sends from now on`);
        }
      }
    }
    if (JSON.stringify(cur.kernelPolicy) !== JSON.stringify(next.kernelPolicy)) this.rib.setKernelPolicy(this.kernelPolicy(next));
    this.schedulePump();
    this.log.info(`reconfigured: +${res.added.length} -${res.removed.length} ~${res.changed.length} peers`);
    return res;
  }

  status(): SpeakerStatus {
    const peers: PeerStatus[] = [];
    for (const pr of this.peers.values()) {
      const st = pr.session.stats();
      const ribStats = this.rib.hasPeer(pr.id) ? this.rib.peerStats(pr.id) : null;
      const est = st.established;
      const ibgp = pr.cfg.asNumber === localAsOf(this.cfg, pr.cfg);
      peers.push({
        address: pr.cfg.address,
        peerAs: pr.cfg.asNumber,
        type: pr.cfg.description ?? (pr.cfg.routeReflectorClient ? 'rr client' : ibgp ? 'internal' : 'external'),
        state: st.state,
        since: new Date(st.since).toISOString(),
        uptimeSeconds: Math.round((Date.now() - st.since) / 1000),
        info: st.state === 'Established' ? 'Established' : (st.lastError ?? st.state),
        lastError: st.lastError,
        prefixesReceived: ribStats?.received ?? 0,
        prefixesAccepted: ribStats?.received ?? 0,
        prefixesAdvertised: ribStats?.advertised ?? 0,
        routerId: est?.peerId,
        holdTime: est?.holdTime,
        gracefulRestart: (ribStats?.stale ?? 0) > 0 ? 'helper-stale' : 'none',
      });
    }
    return {
      routerId: this.cfg.routerId,
      asNumber: this.cfg.asNumber,
      startedAt: this.startedAt.toISOString(),
      restarting: this.rib ? this.rib.isDeferring : this.restarting,
      locRibRoutes: this.rib ? this.rib.prefixCount : 0,
      kernelRoutes: this.ksync?.size ?? 0,
      kernelLastError: this.ksync?.lastError ?? null,
      peers,
    };
  }

  /** Resolves once all kernel writes recorded so far are done (tests, benchmarks). */
  async kernelIdle(): Promise<void> {
    await new Promise((r) => setImmediate(r));
    await this.ksync.idle();
  }

  // ---------------------------------------------------------------------------------------------

  private openKernel(): KernelRoutes {
    const k = this.cfg.kernel;
    if (!k.install) {
      return { apply: () => Promise.resolve({ failed: [] }), list: () => Promise.resolve([]), close: () => Promise.resolve() };
    }
    try {
      if (k.writer === 'ip') return new IpBatchKernel({ table: k.table, protocol: k.protocol });
      if (k.writer === 'worker') return new WorkerKernel({ table: k.table, protocol: k.protocol });
      return new NetlinkKernel({ table: k.table, protocol: k.protocol });
    } catch (err) {
      this.log.warn(`netlink unavailable (${(err as Error).message}); falling back to ip -batch`);
      return new IpBatchKernel({ table: k.table, protocol: k.protocol });
    }
  }

  private async refreshConnectedSubnets(): Promise<void> {
    try {
      let subnets: string[];
      if (this.deps.connectedSubnets) subnets = await this.deps.connectedSubnets();
      else {
        const links = NetlinkLinks.open();
        try {
          const cs = await links.connectedSubnets();
          this.connected = cs.map((x) => ({ cidr: x.cidr, dev: x.dev }));
          subnets = cs.map((x) => x.cidr);
        } finally {
          links.close();
        }
      }
      if (this.deps.connectedSubnets) this.connected = subnets.map((cidr) => ({ cidr }));
      this.rib.setConnectedSubnets(subnets);
    } catch (err) {
      this.log.debug(`cannot read connected subnets: ${(err as Error).message}`);
    }
  }

  /**
   * Calico's export filter: the peer's BGPFilters (an Accept there skips the rest, communities
   * included, as in BIRD), then calico_export_to_bgp_peers: prefixAdvertisements' communities,
   * our originated prefixes, routes inside the IP pools. Originated routes are accepted by source
   * (acceptLocal, O(1)) rather than listed as localBlocks, which are matched by scanning.
   */
  private exportPolicy(p: PeerConfig): RoutePolicy[] {
    const filters = this.filtersOf(p);
    const calico = calicoExportPolicy({ pools: this.cfg.ipPools.map((cidr) => ({ cidr })), prefixAdvertisements: this.cfg.prefixAdvertisements ?? [], acceptLocal: true });
    return [...(filters.length ? [bgpFilterPolicy(filters, 'export')] : []), calico];
  }

  /** The peer's BGPFilters (import rules), then the default accept. */
  private importPolicy(p: PeerConfig): RoutePolicy[] {
    const filters = this.filtersOf(p);
    return filters.length ? [bgpFilterPolicy(filters, 'import')] : [];
  }

  /** Compiled BGPFilters named by the peer, in its order (names are checked by parseConfig). */
  private filtersOf(p: PeerConfig): CompiledBGPFilter[] {
    if (!p.filters?.length) return [];
    const byName = new Map((this.cfg.bgpFilters ?? []).map((f) => [f.name, f]));
    const out: CompiledBGPFilter[] = [];
    for (const name of p.filters) {
      const f = byName.get(name);
      if (f) out.push(compileBGPFilter(f as BGPFilterInput));
      else this.log.warn(`peer ${p.address}: no BGPFilter named ${name}; ignored`);
    }
    return out;
  }

  private kernelPolicy(c: SpeakerConfig): KernelPolicy | undefined {
    return c.kernelPolicy ? calicoKernelPolicy(c.kernelPolicy) : undefined;
  }

  private ourOpen(pr: PeerRuntime): OpenMessage {
    const c = this.cfg;
    const localAs = localAsOf(c, pr.cfg);
    const caps: Capability[] = [
      { kind: 'MULTIPROTOCOL', afi: AFI[pr.family], safi: 1 },
      { kind: 'ROUTE_REFRESH' },
      { kind: 'FOUR_OCTET_AS', asn: localAs },
    ];
    if (c.gracefulRestart.enabled && pr.cfg.gracefulRestart) {
      caps.push({
        kind: 'GRACEFUL_RESTART',
        // R bit: we restarted and have not yet completed a session with this peer.
        restartState: this.restarting && !pr.everUp,
        notification: false,
        restartTime: c.gracefulRestart.restartTime,
        // F bit: our forwarding state (kernel routes) survives our restarts.
        families: [{ afi: AFI[pr.family], safi: 1, forwardingState: true }],
      });
    }
    return { type: 'OPEN', version: 4, myAs: localAs, holdTime: pr.cfg.holdTime ?? c.holdTime, bgpId: c.routerId, capabilities: caps };
  }

  private addPeer(p: PeerConfig): PeerRuntime {
    const c = this.cfg;
    const id = peerId(p.address);
    const family = familyOfAddress(p.address);
    this.rib.addPeer({
      id,
      address: p.address,
      peerAs: p.asNumber,
      ...(p.localAsNumber !== undefined ? { localAs: p.localAsNumber } : {}),
      ...(p.numAllowedLocalAs ? { numAllowedLocalAs: p.numAllowedLocalAs } : {}),
      rrClient: p.routeReflectorClient,
      nextHopMode: p.nextHopSelf ? 'Self' : p.keepOriginalNextHop ? 'Keep' : 'Auto',
      importPolicies: this.importPolicy(p),
      exportPolicies: this.exportPolicy(p),
      // No local cap on the restart time the peer advertises (BIRD's helper uses the peer's time);
      // gracefulRestart.restartTime is the time WE advertise (Calico's BGPPeer maxRestartTime).
    });
    const pr: PeerRuntime = { id, cfg: p, family, lastError: null, grState: 'none', everUp: false, session: null as unknown as Session };
    pr.session = new Session(
      {
        name: p.address,
        peerAddress: p.address,
        peerPort: p.port,
        localAddress: p.sourceAddress,
        password: p.password,
        ...(p.ttlSecurity ? { ttlSecurity: p.ttlSecurity } : {}),
        open: () => this.ourOpen(pr),
        fsm: {
          localAs: localAsOf(c, p),
          localId: routerIdNum(c.routerId),
          peerAs: p.asNumber,
          holdTime: p.holdTime ?? c.holdTime,
          keepaliveTime: p.keepaliveTime ?? c.keepaliveTime,
          connectRetryTime: p.connectRetryTime ?? c.connectRetryTime,
          idleHoldTime: c.idleHoldTime,
          passive: p.passive,
          autoRestart: true,
        },
      },
      {
        onEstablished: (info) => this.onEstablished(pr, info),
        onUpdate: (res) => this.onUpdate(pr, res),
        onRouteRefresh: (m) => {
          const f = m.afi === 2 ? 'ipv6' : 'ipv4';
          this.rib.routeRefresh(pr.id, f);
          this.schedulePump();
        },
        onDown: (reason, cause) => this.onDown(pr, reason, cause),
        onStateChange: (s: FsmState, prev: FsmState) => {
          this.log.debug(`peer ${p.address}: ${prev} → ${s}`);
          this.statusChanged();
        },
        log: (level, msg) => this.log[level](`peer ${msg}`),
      },
    );
    this.peers.set(id, pr);
    this.byAddress.set(p.address, pr);
    for (const l of this.listeners) if (p.password && familyOfAddress(l.address) === family) this.setKey(l, p.address, p.password);
    return pr;
  }

  private removePeer(pr: PeerRuntime, subcode: number): void {
    pr.session.stop(subcode);
    this.rib.removePeer(pr.id);
    this.peers.delete(pr.id);
    this.byAddress.delete(pr.cfg.address);
    for (const l of this.listeners) if (pr.cfg.password && familyOfAddress(l.address) === pr.family) this.setKey(l, pr.cfg.address, null);
    this.schedulePump();
  }

  private setKey(l: Md5Listener, addr: string, key: string | null): void {
    try {
      l.setKey(addr, key);
    } catch (err) {
      this.log.error(`TCP MD5 for ${addr}: ${(err as Error).message}`);
    }
  }

  private openListeners(): void {
    const c = this.cfg;
    const addrs = c.listenAddress ? [c.listenAddress] : ['0.0.0.0', '::'];
    for (const address of addrs) {
      const fam = familyOfAddress(address);
      const md5 = new Map<string, string>();
      for (const p of c.peers) if (p.password && familyOfAddress(p.address) === fam) md5.set(p.address, p.password);
      try {
        const l = new Md5Listener({ address, port: c.listenPort }, (sock) => this.onIncoming(sock));
        for (const [a, k] of md5) this.setKey(l, a, k);
        l.server.on('error', (err) => this.log.error(`listener ${address}:${c.listenPort}: ${err.message}`));
        this.listeners.push(l);
      } catch (err) {
        if (!c.listenAddress && address === '::') {
          this.log.warn(`not listening on IPv6: ${(err as Error).message}`);
          continue;
        }
        throw new SpeakerError('bgp-speaker-listen-failed', (err as Error).message);
      }
    }
  }

  private onIncoming(sock: net.Socket): void {
    let addr = sock.remoteAddress ?? '';
    if (addr.startsWith('::ffff:') && addr.includes('.')) addr = addr.slice(7);
    const pr = this.byAddress.get(addr);
    if (!pr) {
      this.log.info(`rejecting connection from unconfigured address ${addr}`);
      sock.destroy();
      return;
    }
    pr.session.accept(sock);
  }

  private onEstablished(pr: PeerRuntime, info: EstablishedInfo): void {
    pr.everUp = true;
    const families: Family[] = [];
    if (info.families.has(familyKey(1, 1))) families.push('ipv4');
    if (info.families.has(familyKey(2, 1))) families.push('ipv6');
    const gr = info.peerGracefulRestart;
    const ourGr = this.cfg.gracefulRestart.enabled && pr.cfg.gracefulRestart;
    try {
      this.rib.peerEstablished(
        pr.id,
        {
          routerId: info.peerId,
          localAddress: info.localAddress,
          families,
          gracefulRestart:
            gr && ourGr
              ? {
                  restartTime: gr.restartTime,
                  restartState: gr.restartState,
                  families: gr.families.filter((f) => f.safi === 1 && (f.afi === 1 || f.afi === 2)).map((f) => ({ family: f.afi === 2 ? 'ipv6' : 'ipv4', forwardingState: f.forwardingState })),
                }
              : undefined,
        },
        Date.now(),
      );
    } catch (err) {
      this.log.error(`peer ${pr.cfg.address}: RIB refused established session: ${(err as Error).message}`);
    }
    this.log.info(`peer ${pr.cfg.address} (AS ${info.peerAs}, id ${info.peerId}) Established; families ${families.join(',')}`);
    this.schedulePump();
  }

  private onUpdate(pr: PeerRuntime, res: DecodeResult<UpdateMessage>): void {
    const msg = res.message;
    if (res.errors.length) {
      for (const e of res.errors) this.log.warn(`peer ${pr.cfg.address}: UPDATE attribute ${e.typeCode}: ${e.reason} (${e.action}, RFC 7606)`);
    }
    try {
      const eor = isEndOfRib(msg);
      if (eor) {
        const f = eor.afi === 2 ? 'ipv6' : 'ipv4';
        this.log.debug(`peer ${pr.cfg.address}: End-of-RIB ${f}`);
        this.rib.endOfRib(pr.id, f, Date.now());
      } else {
        for (const input of ribInputsFromUpdate(msg, res.treatAsWithdraw)) {
          this.rib.update(pr.id, input.update);
          this.burst += (input.update.announced?.length ?? 0) + (input.update.withdrawn?.length ?? 0);
        }
      }
    } catch (err) {
      if (err instanceof RibError) this.log.warn(`peer ${pr.cfg.address}: UPDATE ignored: ${err.message}`);
      else throw err; // the session resets itself (Cease/8) and logs it
    }
    this.schedulePump();
  }

  private onDown(pr: PeerRuntime, reason: string, cause: DownCause): void {
    const graceful = cause === 'transport' && this.cfg.gracefulRestart.enabled && pr.cfg.gracefulRestart;
    this.log.info(`peer ${pr.cfg.address} down: ${reason}${graceful ? ' (keeping its routes as stale: graceful restart helper)' : ''}`);
    pr.lastError = reason;
    if (this.rib.hasPeer(pr.id)) this.rib.peerDown(pr.id, Date.now(), { graceful });
    this.schedulePump();
  }

  private statusChanged(): void {
    const f = this.cfg.statusFile;
    if (!f || this.statusTimer) return;
    this.statusTimer = setTimeout(() => {
      this.statusTimer = null;
      try {
        writeStatusFile(f, this.status());
      } catch (err) {
        this.log.warn(`cannot write status file ${f}: ${(err as Error).message}`);
      }
    }, 200);
    this.statusTimer.unref();
  }

  private schedulePump(): void {
    if (this.pumpScheduled) return;
    this.pumpScheduled = true;
    setImmediate(() => {
      this.pumpScheduled = false;
      try {
        this.pump();
      } catch (err) {
        // A bug must not kill the speaker (and with it every session); log and carry on.
        this.log.error(`internal error in the route pump: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
      }
    });
  }

  private prefix(key: string): Prefix {
    let p = this.prefixCache.get(key);
    if (!p) {
      p = parsePrefix(key);
      if (this.prefixCache.size > 200_000) this.prefixCache.clear();
      this.prefixCache.set(key, p);
    }
    return p;
  }

  private encodeOut(pr: PeerRuntime, ups: readonly OutboundUpdate[]): Uint8Array[] {
    const codec = pr.session.establishedInfo?.codec ?? { fourOctetAs: true };
    const out: Uint8Array[] = [];
    for (const u of ups) {
      if (u.kind === 'withdraw') out.push(...packWithdrawals(AFI[u.family], u.prefixes.map((k) => this.prefix(k)), codec));
      else if (u.kind === 'announce') {
        out.push(
          ...packAdvertisements(
            u.attributes,
            { afi: u.reach.afi, nextHop: u.reach.nextHop, linkLocalNextHop: u.reach.linkLocalNextHop },
            u.prefixes.map((k) => this.prefix(k)),
            codec,
          ),
        );
      } else out.push(encodeMessage(endOfRib(AFI[u.family]), codec));
    }
    return out;
  }

  private pump(): void {
    if (!this.started && !this.rib) return;
    const now = Date.now();
    this.rib.tick(now);
    for (const id of this.rib.peersWithPendingUpdates()) {
      const pr = this.peers.get(id);
      const ups = this.rib.takeUpdates(id);
      if (!pr || !ups.length) continue;
      try {
        const msgs = this.encodeOut(pr, ups);
        if (!pr.session.sendUpdates(msgs)) this.log.debug(`peer ${pr.cfg.address}: dropped ${msgs.length} UPDATEs (not established)`);
      } catch (err) {
        this.log.error(`peer ${pr.cfg.address}: cannot encode UPDATE: ${(err as Error).message}`);
      }
    }
    if (this.cfg.kernel.install) {
      for (const ch of this.rib.takeKernelChanges()) this.applyKernelChange(ch);
    } else this.rib.takeKernelChanges();
    if (this.ribTimer) clearTimeout(this.ribTimer);
    this.ribTimer = null;
    const next = this.rib.nextDeadline();
    if (next !== undefined && this.started) {
      this.ribTimer = setTimeout(() => this.schedulePump(), Math.max(1, next - Date.now()));
      this.ribTimer.unref();
    }
    this.statusChanged();
    if (this.burst >= BURST_PREFIXES) this.armRelease();
  }

  /**
   * After a burst of at least BURST_PREFIXES prefixes, once things have been quiet for
   * RELEASE_AFTER_MS (no pump with kernel work pending), hand the GC headroom back (heap.ts).
   */
  private armRelease(): void {
    if (this.burstTimer) clearTimeout(this.burstTimer);
    this.burstTimer = setTimeout(() => {
      this.burstTimer = null;
      if (!this.started || this.stopping) return;
      if (this.pumpScheduled || this.ksync.size !== this.ksync.programmedSize) {
        this.armRelease();
        return;
      }
      const t0 = performance.now();
      const n = this.burst;
      this.burst = 0;
      if (releaseMemory()) this.log.debug(`released GC headroom after ${n} prefix changes (${Math.round(performance.now() - t0)} ms)`);
    }, RELEASE_AFTER_MS);
    this.burstTimer.unref();
  }

  /**
   * Installs the host routes to reachableBy peers (ours, protocol 81, in our table) and removes
   * the ones no longer configured, giving the prefix back to BGP. Routes whose next hop resolves
   * through a changed static route are programmed again.
   */
  private setStatics(next: Map<string, string>): void {
    const cur = this.statics;
    const changed = new Set<string>();
    for (const [prefix, gw] of next) if (cur.get(prefix) !== gw) changed.add(prefix);
    for (const prefix of cur.keys()) if (!next.has(prefix)) changed.add(prefix);
    if (!changed.size) return;
    this.statics = next;
    const host = (prefix: string): string => prefix.slice(0, prefix.lastIndexOf('/'));
    this.staticVia = new Map([...next].map(([prefix, gw]) => [host(prefix), gw]));
    for (const prefix of changed) {
      const gw = next.get(prefix);
      if (gw !== undefined) this.ksync.setRoute(prefix, { type: 'unicast', nextHops: [{ gateway: gw }] });
      else this.ksync.delete(prefix);
    }
    // Rare (a BGPPeer's reachableBy changed): programme again the BGP routes that resolve
    // differently now, and give unmasked prefixes back to BGP. During our restart deferral the
    // RIB hands everything over when it ends (through the fresh spec cache).
    this.specCache = new WeakMap();
    if (this.rib.isDeferring || !this.cfg.kernel.install) return;
    const hosts = new Set([...changed].map(host));
    for (const [prefix, route] of this.rib.kernelRoutes()) {
      const unmasked = changed.has(prefix) && !next.has(prefix);
      if (unmasked || route.nextHops.some((h) => hosts.has(h.address))) this.applyKernelChange({ kind: 'route', prefix, family: prefix.includes(':') ? 'ipv6' : 'ipv4', route });
    }
  }

  /**
   * The routes this speaker knows, as Calico's CalicoNodeStatus lists BIRD's table: every BGP
   * path (the best one `FIB`, the others `RIB`), our originated prefixes, static host routes and
   * connected subnets. Gateway and interface as BIRD shows them (`N/A` for blackholes and device
   * routes).
   */
  async routes(): Promise<RouteStatus[]> {
    const out = this.ribRoutes();
    // BIRD's kernel protocol (`learn`) also holds the host's other routes ("alien": not the
    // kernel's own device routes, not ours); only when we program a real kernel.
    if (this.deps.kernel || !this.cfg.kernel.install || !this.rib) return out;
    try {
      const taken = new Set(out.map((r) => r.destination));
      for (const r of await this.alienKernelRoutes()) out.push(taken.has(r.destination) ? { ...r, type: 'RIB' } : r);
    } catch (err) {
      this.log.debug(`route status: cannot read kernel routes: ${(err as Error).message}`);
    }
    return out;
  }

  /** Routes of our table made by others (not protocol `kernel`, not ours), as BIRD's `Kernel` routes. */
  private async alienKernelRoutes(): Promise<RouteStatus[]> {
    const RTPROT_KERNEL = 2;
    const links = NetlinkLinks.open();
    const nl = NetlinkRoutes.open();
    try {
      const names = new Map((await links.links()).map((l) => [l.ifindex, l.name]));
      const out: RouteStatus[] = [];
      for (const r of await nl.dump({ table: this.cfg.kernel.table })) {
        if (r.protocol === RTPROT_KERNEL || r.protocol === this.cfg.kernel.protocol) continue;
        if (r.type !== 'unicast' && r.type !== 'blackhole' && r.type !== 'unreachable') continue;
        const dst = r.dst.includes('/') ? r.dst : `${r.dst}/${r.family === 6 ? 128 : 32}`;
        const hop = r.multipath?.[0];
        const gateway = r.gateway ?? hop?.gateway;
        const dev = r.type === 'unicast' ? (names.get(r.ifindex ?? hop?.ifindex ?? -1) ?? '') : r.type;
        out.push({ type: 'FIB', destination: dst, gateway: gateway ?? 'N/A', interface: dev, source: 'kernel' });
      }
      return out;
    } finally {
      nl.close();
      links.close();
    }
  }

  private ribRoutes(): RouteStatus[] {
    const out: RouteStatus[] = [];
    if (!this.rib) return out;
    const devOf = (addr: string): string => {
      for (const c of this.connected) if (c.dev && cidrHas(c.cidr, addr)) return c.dev;
      return '';
    };
    const bestFrom = new Map<string, string>();
    for (const b of this.rib.locRib()) bestFrom.set(b.prefix, b.from);
    for (const prefix of this.rib.originatedPrefixes()) {
      // Calico's BIRD holds a node's blocks as static blackhole routes.
      out.push({ type: bestFrom.get(prefix) === 'local' ? 'FIB' : 'RIB', destination: prefix, gateway: 'N/A', interface: 'blackhole', source: 'static' });
    }
    for (const [prefix, gw] of this.statics) out.push({ type: 'FIB', destination: prefix, gateway: gw, interface: devOf(gw), source: 'static' });
    // Connected subnets (BIRD's direct protocol; it skips link-scope addresses). They win over BGP.
    const direct = new Set<string>();
    for (const c of this.connected) {
      if (!c.dev || /^fe[89ab]/i.test(c.cidr)) continue;
      direct.add(c.cidr);
      out.push({ type: 'FIB', destination: c.cidr, gateway: 'N/A', interface: c.dev, source: 'direct' });
    }
    for (const pr of this.peers.values()) {
      if (!this.rib.hasPeer(pr.id)) continue;
      for (const [key, r] of this.rib.adjRibIn(pr.id)) {
        const prefix = key.includes('#') ? key.slice(0, key.indexOf('#')) : key;
        const nh = r.attrs.nextHop ?? '';
        const gw = this.staticVia.get(nh) ?? nh;
        const primary = bestFrom.get(prefix) === pr.id && !this.statics.has(prefix) && !direct.has(prefix);
        out.push({ type: primary ? 'FIB' : 'RIB', destination: prefix, gateway: gw, interface: devOf(gw), source: 'bgp', peer: pr.cfg.address });
      }
    }
    return out;
  }

  private applyKernelChange(ch: KernelChange): void {
    if (ch.kind === 'synced') {
      if (this.restarting) this.log.info('graceful restart: all peers resynced; sweeping stale kernel routes');
      this.restarting = false;
      this.ksync.sweep();
      return;
    }
    // A static route (reachableBy) wins over a BGP route for the same prefix, as BIRD's static
    // protocol (preference 200) does over BGP (100).
    if (this.statics.has(ch.prefix)) return;
    if (ch.kind === 'withdraw') {
      this.ksync.delete(ch.prefix);
      return;
    }
    const r = ch.route;
    // One spec per RIB kernel route object (the RIB shares those between prefixes with the same
    // next hops): 100k routes via one peer hold one spec, by reference.
    let spec = this.specCache.get(r);
    if (spec === undefined) {
      if (r.type === 'blackhole') spec = { type: 'blackhole', nextHops: [], metric: r.metric || undefined };
      else {
        // A next hop that is a peer reached via reachableBy resolves through its static route.
        const hops = r.nextHops.map((h) => (r.tunnel ? { gateway: h.address, dev: r.tunnel, onlink: true } : { gateway: this.staticVia.get(h.address) ?? h.address }));
        spec = hops.length ? { type: 'unicast', nextHops: hops, metric: r.metric || undefined } : null;
      }
      this.specCache.set(r, spec);
    }
    if (spec) this.ksync.setRoute(ch.prefix, spec);
  }
}
