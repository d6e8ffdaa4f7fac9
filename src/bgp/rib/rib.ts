// The RIB of the built-in speaker: Adj-RIB-In per peer (after import policy), the Loc-RIB with
// the decision process, Adj-RIB-Out per peer (after export rules, policy and attribute
// rewriting), graceful restart (helper and restarting speaker) and the two outputs: per-peer
// UPDATE work grouped by attribute set, and kernel route changes.
//
// Pure and synchronous: no sockets, no timers, no clock. Callers pass `now` (ms) in and read
// `nextDeadline()` out. See docs/design/bgp-rib.md for the contract.

import type { PathAttributes } from '../packet/index.ts';
import type { AttrSet, RouteAttrs } from './attrs.ts';
import { AttrTable, BIRD_INT_MAX, NO_ADVERTISE, NO_EXPORT, NO_EXPORT_SUBCONFED, countAs, prependAs } from './attrs.ts';
import type { CandidatePath, DecisionOptions, DecisionStep, PathSource } from './decision.ts';
import { decide } from './decision.ts';
import { RIB_ERROR, RibError } from './errors.ts';
import type { DefaultAction, KernelPolicy, KernelPolicyRoute, PolicyPeer, RoutePolicy, RouteSource } from './policy.ts';
import { KERNEL_INSTALL, runPolicies } from './policy.ts';
import type { Family, NumPrefix } from './prefix.ts';
import { FAMILIES, addressOrderKey, addressWithin, canonicalPrefix, familyAfi, isAddress, parseNumPrefix, routerIdToNumber, tryParseNumPrefix } from './prefix.ts';
import { PrefixIndex } from './prefix-index.ts';

// ---------------------------------------------------------------------------------------------
// Public types
// ---------------------------------------------------------------------------------------------

export type NextHopMode = 'Auto' | 'Self' | 'Keep';

export interface RibOptions {
  /** Our BGP identifier (dotted quad). */
  readonly routerId: string;
  /** Our AS (BGPConfiguration / Node asNumber). */
  readonly localAs: number;
  /** RFC 4456 cluster id when we reflect routes (any peer with rrClient). Default: routerId. */
  readonly clusterId?: string;
  /** Default 100. */
  readonly defaultLocalPref?: number;
  /** Default false. */
  readonly alwaysCompareMed?: boolean;
  /** Calico's normal route priority (metric), IPv4NormalRoutePriority. Default 1024. */
  readonly normalRoutePriority?: number;
  /** Equal-cost learned paths become one multipath kernel route (BIRD `merge paths on`). Default true. */
  readonly multipath?: boolean;
  /** Seconds to keep a re-established GR peer's stale routes while waiting for its End-of-RIB. Default 360. */
  readonly stalePathTime?: number;
  /**
   * We are a restarting speaker (RFC 4724 §4.1): kernel routes of our protocol were preserved.
   * Best paths are not handed to the kernel nor advertised until every configured peer has sent
   * End-of-RIB (or established without GR) or `deferralTime` seconds pass.
   */
  readonly restarting?: { readonly deferralTime: number; readonly now: number };
  /** Decides which best routes reach the kernel (and with which tunnel). Default: all. */
  readonly kernelPolicy?: KernelPolicy;
  /**
   * A prefix index shared with the kernel reconciler (KernelSync's `index` option): one record
   * per prefix for both. Default: the RIB's own.
   */
  readonly prefixIndex?: PrefixIndex;
}

export interface PeerConfig {
  /** Unique, stable name (e.g. Calico's "Mesh_198_18_0_2" or "Node_...", "Global_..."). */
  readonly id: string;
  readonly address: string;
  readonly peerAs: number;
  /** BGPPeer localASNumber; default RibOptions.localAs. */
  readonly localAs?: number;
  /** This peer is our route-reflector client. */
  readonly rrClient?: boolean;
  /** BGPPeer nextHopMode (keepOriginalNextHop on an eBGP peer = Keep). Default Auto. */
  readonly nextHopMode?: NextHopMode;
  /** BGPPeer numAllowedLocalASNumbers. Default 0. */
  readonly numAllowedLocalAs?: number;
  readonly importPolicies?: readonly RoutePolicy[];
  readonly exportPolicies?: readonly RoutePolicy[];
  /** Default accept. */
  readonly importDefault?: DefaultAction;
  /** Default accept. Calico's chain ends in calicoExportPolicy, whose own default is reject. */
  readonly exportDefault?: DefaultAction;
  /**
   * Local cap on the restart time the peer advertises, seconds. Default none (4095, the field's
   * maximum), like BIRD, whose helper uses the peer's time. Note: Calico's BGPPeer maxRestartTime
   * is the restart time WE advertise (BIRD `graceful restart time`), which is the speaker's OPEN.
   */
  readonly maxRestartTime?: number;
}

export interface GracefulRestartInfo {
  /** Seconds, from the peer's GR capability. */
  readonly restartTime: number;
  /** R bit: the peer is restarting too; our restart deferral does not wait for its End-of-RIB. */
  readonly restartState?: boolean;
  readonly families: readonly { readonly family: Family; readonly forwardingState: boolean }[];
}

/** Facts of an established session (from both OPENs). */
export interface SessionInfo {
  /** The peer's BGP identifier. */
  readonly routerId: string;
  /** Our address on this session: the default next-hop-self address. */
  readonly localAddress: string;
  /** Next-hop-self addresses per family when they differ from localAddress. */
  readonly nextHopSelf?: { readonly ipv4?: string; readonly ipv6?: string; readonly ipv6LinkLocal?: string };
  /** Families negotiated (both sides advertised them). */
  readonly families: readonly Family[];
  /** The peer's Graceful Restart capability, if it sent one (and we advertised ours). */
  readonly gracefulRestart?: GracefulRestartInfo;
}

/**
 * A prefix as the codec gives it (its Prefix type fits; for IPv4 the RIB reads the codec's
 * integer `value`/`len` and never the key text).
 */
export interface RouteKey {
  readonly key: string;
  readonly pathId?: number;
}

export interface PeerUpdate {
  readonly withdrawn?: readonly RouteKey[];
  readonly announced?: readonly RouteKey[];
  /** Required with `announced`. `nextHop` is the route next hop of the prefixes' family. */
  readonly attrs?: RouteAttrs;
}

export interface OriginateOptions {
  /** Extra attributes (communities, MED, ...). ORIGIN defaults to IGP, AS_PATH to empty. */
  readonly attrs?: Partial<RouteAttrs>;
  /** Route priority (metric) in Calico's sense; sets LOCAL_PREF = 2^31-1 - priority. Default normalRoutePriority. */
  readonly priority?: number;
  /** Install as a kernel blackhole route (Calico's block routes). Default false. */
  readonly blackhole?: boolean;
  /** Interface the route points at, for policies that match `interface`. */
  readonly iface?: string;
}

export interface ReachInfo {
  readonly afi: 1 | 2;
  readonly nextHop: string;
  readonly linkLocalNextHop?: string;
}

/** One unit of UPDATE work for a peer; the codec packs each into as many messages as needed. */
export type OutboundUpdate =
  | { readonly kind: 'withdraw'; readonly family: Family; readonly prefixes: string[] }
  | {
      readonly kind: 'announce';
      readonly family: Family;
      /** Attributes without next hop (it is in `reach`): pass to packAdvertisements. */
      readonly attributes: PathAttributes;
      readonly reach: ReachInfo;
      readonly prefixes: string[];
      /** Interned attribute-set id (equal ids = identical attributes). */
      readonly attrsId: number;
    }
  | { readonly kind: 'end-of-rib'; readonly family: Family };

export interface KernelNextHop {
  readonly address: string;
  /** The next hop is inside a connected subnet (install directly; otherwise resolve / onlink). */
  readonly directlyConnected: boolean;
  readonly linkLocal?: string;
}

export interface KernelRoute {
  readonly type: 'unicast' | 'blackhole';
  /** Unicast: one or more (multipath). Blackhole: empty. */
  readonly nextHops: readonly KernelNextHop[];
  /** Calico: 2^31-1 - LOCAL_PREF for learned routes with LOCAL_PREF, else normalRoutePriority; 0 for blackholes (kernel default). */
  readonly metric: number;
  /** metric < normalRoutePriority: should override a local workload route (BIRD preference 200). */
  readonly elevated: boolean;
  /** Tunnel device (IPIP) chosen by the kernel policy. */
  readonly tunnel?: string;
}

export type KernelChange =
  | { readonly kind: 'route'; readonly prefix: string; readonly family: Family; readonly route: KernelRoute }
  | { readonly kind: 'withdraw'; readonly prefix: string; readonly family: Family }
  /**
   * Everything the kernel should hold has now been delivered: routes of our protocol not set
   * since start may be removed. Emitted once (after restart deferral, or on the first take).
   */
  | { readonly kind: 'synced' };

export interface BestRouteInfo {
  readonly prefix: string;
  readonly attrs: RouteAttrs;
  /** Peer id, or 'local'. */
  readonly from: string;
  readonly source: RouteSource;
  readonly step: DecisionStep;
  readonly stale: boolean;
  readonly candidates: number;
}

export interface PeerStats {
  readonly established: boolean;
  readonly received: number;
  readonly advertised: number;
  readonly stale: number;
  readonly pendingUpdates: number;
}

// ---------------------------------------------------------------------------------------------
// Internal state
//
// Every prefix is a row of a PrefixIndex (IPv4 keyed by integers, no string per prefix). The
// common case - one candidate path, from a peer, without add-path id, advertised to nobody - is
// stored in typed-array columns only (peer slot + interned attribute-set id): no object at all.
// A prefix gets a Dest object (candidate paths linked through Path.next, best path, Adj-RIB-Out
// slots, peer queues) only while it needs one: several candidates, a local path, an add-path id
// or an Adj-RIB-Out entry. The desired kernel route (an interned id) is a column of every row;
// what was delivered before is kept in the kernel queue while the row is queued.
// ---------------------------------------------------------------------------------------------

const LOCAL_ID = 'local';

interface LocalInfo {
  readonly blackhole: boolean;
  readonly iface?: string;
}

class Path implements CandidatePath {
  attrs: AttrSet;
  stale = false;
  readonly src: PeerState | LocalSource;
  readonly pathId: number;
  /** Next candidate of the same Dest (a singly linked list: no array per prefix). */
  next: Path | undefined = undefined;
  constructor(src: PeerState | LocalSource, attrs: AttrSet, pathId: number) {
    this.src = src;
    this.attrs = attrs;
    this.pathId = pathId;
  }
}

/** A locally originated path (src is the LocalSource). */
class LocalPath extends Path {
  local: LocalInfo;
  constructor(src: LocalSource, attrs: AttrSet, local: LocalInfo) {
    super(src, attrs, 0);
    this.local = local;
  }
}

/** Marks a queued Adj-RIB-Out entry whose peer state is unknown (route refresh): always send. */
const UNKNOWN: unique symbol = Symbol('unknown');
type Held = AttrSet | null | typeof UNKNOWN;

/** Row flags. */
const STALE = 1; // the compact path is stale (GR helper)
const KQUEUED = 2; // the row is in the kernel queue
const FAM6 = 4; // IPv6 row

/** The object form of a prefix (see above). */
class Dest {
  readonly row: number;
  /** Candidate paths, linked through Path.next. */
  head: Path | undefined = undefined;
  best: Path | undefined = undefined;
  bestAttrs: AttrSet | undefined = undefined;
  /**
   * Per peer slot s: adj[2s] = Adj-RIB-Out entry; adj[2s+1] = queued for that peer, holding what
   * the peer had when first queued (undefined = not queued). One exact-size array per prefix.
   */
  adj: (AttrSet | Held | undefined)[] | null = null;
  /** Peer queues holding this Dest: the row stays while any does. */
  queued = 0;
  /** Parsed prefix, cached for policies. */
  net: NumPrefix | undefined = undefined;
  /** Prefix text, cached once formatted for a peer's UPDATE. */
  key: string | undefined = undefined;
  constructor(row: number) {
    this.row = row;
  }
}

class LocalSource implements PathSource {
  readonly id = LOCAL_ID;
  readonly local = true;
  readonly ebgp = false;
  readonly ibgp = false;
  readonly routerIdNum: number;
  readonly routerId: string;
  readonly addressKey = '';
  readonly rrClient = false;
  constructor(routerId: string) {
    this.routerId = routerId;
    this.routerIdNum = routerIdToNumber(routerId);
  }
}

class PeerState implements PathSource, PolicyPeer {
  readonly local = false;
  readonly id: string;
  readonly slot: number;
  readonly address: string;
  readonly addressKey: string;
  readonly peerAs: number;
  readonly localAs: number;
  readonly ibgp: boolean;
  readonly ebgp: boolean;
  readonly rrClient: boolean;
  readonly nextHopMode: NextHopMode;
  readonly numAllowedLocalAs: number;
  readonly maxRestartTime: number;
  importPolicies: readonly RoutePolicy[];
  exportPolicies: readonly RoutePolicy[];
  importDefault: DefaultAction;
  exportDefault: DefaultAction;
  routerIdNum = 0;
  routerId = '0.0.0.0';
  established = false;
  session: SessionInfo | undefined = undefined;
  families = new Set<Family>();
  /** Paths received (Adj-RIB-In size). */
  received = 0;
  /** Prefixes in the Adj-RIB-Out. */
  advertised = 0;
  /** Dests queued for this peer. */
  pending: Dest[] = [];
  readonly pendingEor = new Set<Family>();
  readonly eorReceived = new Set<Family>();
  /** Shared outbound rewrite cache of the peers that rewrite alike (set while established). */
  profile: RewriteProfile | undefined = undefined;
  // Graceful restart helper state.
  readonly staleFamilies = new Set<Family>();
  staleCount = 0;
  grDeadline: number | undefined = undefined;
  staleDeadline: number | undefined = undefined;

  constructor(cfg: PeerConfig, ribLocalAs: number, slot: number) {
    this.id = cfg.id;
    this.slot = slot;
    this.address = cfg.address;
    this.addressKey = addressOrderKey(cfg.address, `peer ${cfg.id}: address`);
    this.peerAs = cfg.peerAs;
    this.localAs = cfg.localAs ?? ribLocalAs;
    this.ibgp = this.peerAs === this.localAs;
    this.ebgp = !this.ibgp;
    this.rrClient = cfg.rrClient === true;
    this.nextHopMode = cfg.nextHopMode ?? 'Auto';
    this.numAllowedLocalAs = cfg.numAllowedLocalAs ?? 0;
    this.maxRestartTime = cfg.maxRestartTime ?? 4095;
    this.importPolicies = cfg.importPolicies ?? [];
    this.exportPolicies = cfg.exportPolicies ?? [];
    this.importDefault = cfg.importDefault ?? 'accept';
    this.exportDefault = cfg.exportDefault ?? 'accept';
  }
}

/**
 * Peers whose outbound attribute rewriting is identical (same eBGP/iBGP kind, local AS, next-hop
 * mode and next-hop-self addresses) share one cache: RR clients and mesh peers all land in one.
 * The rewrite of (inbound attribute set, source class, family) never changes, so entries are only
 * dropped by the attribute sweep.
 */
class RewriteProfile {
  /** ((AttrSet id * 4 + source class) * 2 + family bit) -> outbound set (null: not sendable). */
  readonly cache = new Map<number, AttrSet | null>();
  /** Reflection without ORIGINATOR_ID also depends on the source's router id. */
  readonly byRouterId = new Map<number, Map<number, AttrSet | null>>();
  memoSrc: PathSource | undefined = undefined;
  memoKey = -1;
  memoOut: AttrSet | null = null;
  clear(): void {
    this.cache.clear();
    this.byRouterId.clear();
    this.memoSrc = undefined;
  }
}

/** What a kernel policy sees; the prefix text is only formatted if the policy reads it. */
class KernelQuery implements KernelPolicyRoute {
  readonly family: Family;
  readonly source: RouteSource;
  readonly nextHop: string | undefined;
  readonly net: NumPrefix | undefined;
  private readonly index: PrefixIndex;
  private readonly row: number;
  constructor(index: PrefixIndex, row: number, family: Family, source: RouteSource, nextHop: string | undefined, net: NumPrefix | undefined) {
    this.index = index;
    this.row = row;
    this.family = family;
    this.source = source;
    this.nextHop = nextHop;
    this.net = net;
  }
  get prefix(): string {
    return this.index.keyOf(this.row);
  }
}

function pathList(d: Dest): Path[] {
  const out: Path[] = [];
  for (let p = d.head; p; p = p.next) out.push(p);
  return out;
}

function countPaths(d: Dest): number {
  let n = 0;
  for (let p = d.head; p; p = p.next) n++;
  return n;
}

function isAsn(n: unknown): boolean {
  return typeof n === 'number' && Number.isInteger(n) && n >= 1 && n <= 0xffffffff;
}

/** A RouteKey as the codec's Prefix carries it: IPv4 value and length read without the key text. */
interface WireKey extends RouteKey {
  readonly afi?: number;
  readonly value?: number;
  readonly len?: number;
}

// ---------------------------------------------------------------------------------------------
// The RIB
// ---------------------------------------------------------------------------------------------

export class Rib {
  readonly routerId: string;
  readonly localAs: number;
  readonly clusterId: string;
  private readonly decision: DecisionOptions;
  private readonly normalPriority: number;
  private readonly multipath: boolean;
  private readonly stalePathMs: number;
  private kernelPolicy: KernelPolicy | undefined;
  private readonly attrTable = new AttrTable();
  private sweepAt = 4096;
  private readonly localSrc: LocalSource;
  private readonly peers = new Map<string, PeerState>();
  private readonly slots: (PeerState | undefined)[] = [];
  private readonly established = new Set<PeerState>();
  // Per-prefix rows and their columns.
  private readonly index: PrefixIndex;
  /** Compact path: peer slot + 1 (0: none). */
  private cSrc = new Uint16Array(64);
  /** Compact path: interned attribute-set id. */
  private cAttr = new Uint32Array(64);
  private rflags = new Uint8Array(64);
  /** Desired kernel route id (0: none). Equals what takeKernelChanges last handed out unless the row is queued. */
  private kWant = new Uint32Array(64);
  private readonly dests: (Dest | undefined)[] = [];
  private readonly profiles = new Map<string, RewriteProfile>();
  /** Outbound attribute sets split for the codec (shared by every peer sent the same set). */
  private readonly wire = new Map<AttrSet, { attributes: PathAttributes; reach: ReachInfo }>();
  private bestCount = 0;
  private readonly localPaths = new Map<string, LocalPath>();
  /** Pairs (row, kernel route id handed out before the row was queued). */
  private kernelQueue: number[] = [];
  /** Interned kernel routes: id <-> route (id 0 = no route). Equal routes have equal ids. */
  private readonly kernelIds = new Map<string, number>();
  private kernelById: (KernelRoute | null)[] = [null];
  private kernelSweepAt = 4096;
  /** Single-path kernel routes without tunnel, by best AttrSet. */
  private readonly kernelByAttrs = new Map<AttrSet, number>();
  private connected: NumPrefix[] = [];
  private readonly connectedCache = new Map<string, boolean>();
  private syncedSent = false;
  private deferring: boolean;
  private deferralDeadline: number | undefined;

  constructor(options: RibOptions) {
    if (!isAsn(options.localAs)) throw new RibError(RIB_ERROR.INVALID_CONFIG, `RIB: localAs ${JSON.stringify(options.localAs)} is not an AS number 1-4294967295`);
    this.routerId = options.routerId;
    this.localSrc = new LocalSource(options.routerId);
    this.localAs = options.localAs;
    this.clusterId = options.clusterId ?? options.routerId;
    routerIdToNumber(this.clusterId, 'RIB: clusterId');
    this.decision = { defaultLocalPref: options.defaultLocalPref ?? 100, alwaysCompareMed: options.alwaysCompareMed ?? false };
    this.normalPriority = options.normalRoutePriority ?? 1024;
    this.multipath = options.multipath ?? true;
    this.stalePathMs = (options.stalePathTime ?? 360) * 1000;
    this.kernelPolicy = options.kernelPolicy;
    this.deferring = options.restarting !== undefined;
    this.deferralDeadline = options.restarting ? options.restarting.now + options.restarting.deferralTime * 1000 : undefined;
    this.index = options.prefixIndex ?? new PrefixIndex();
    this.index.onGrow((cap) => this.growColumns(cap));
  }

  private growColumns(cap: number): void {
    if (cap <= this.cSrc.length) return;
    const u16 = new Uint16Array(cap);
    u16.set(this.cSrc);
    this.cSrc = u16;
    const grow32 = (a: Uint32Array<ArrayBuffer>): Uint32Array<ArrayBuffer> => {
      const b = new Uint32Array(cap);
      b.set(a);
      return b;
    };
    this.cAttr = grow32(this.cAttr);
    this.kWant = grow32(this.kWant);
    const f = new Uint8Array(cap);
    f.set(this.rflags);
    this.rflags = f;
  }

  // ------------------------------------------------------------------ peers

  addPeer(cfg: PeerConfig): void {
    if (typeof cfg.id !== 'string' || cfg.id === '' || cfg.id === LOCAL_ID) {
      throw new RibError(RIB_ERROR.INVALID_CONFIG, `peer id ${JSON.stringify(cfg.id)}: expected a non-empty name other than "${LOCAL_ID}"`);
    }
    if (this.peers.has(cfg.id)) throw new RibError(RIB_ERROR.DUPLICATE_PEER, `peer ${cfg.id} is already configured`);
    if (!isAsn(cfg.peerAs)) throw new RibError(RIB_ERROR.INVALID_CONFIG, `peer ${cfg.id}: peerAs ${JSON.stringify(cfg.peerAs)} is not an AS number 1-4294967295`);
    if (cfg.localAs !== undefined && !isAsn(cfg.localAs)) throw new RibError(RIB_ERROR.INVALID_CONFIG, `peer ${cfg.id}: localAs ${JSON.stringify(cfg.localAs)} is not an AS number`);
    let slot = this.slots.indexOf(undefined);
    if (slot < 0) slot = this.slots.length;
    if (slot >= 0xffff) throw new RibError(RIB_ERROR.INVALID_CONFIG, `peer ${cfg.id}: too many peers (at most 65534)`);
    const p = new PeerState(cfg, this.localAs, slot);
    if (p.rrClient && p.ebgp) throw new RibError(RIB_ERROR.INVALID_CONFIG, `peer ${cfg.id}: a route-reflector client must be an iBGP peer (peerAs ${p.peerAs}, local AS ${p.localAs})`);
    this.slots[slot] = p;
    this.peers.set(cfg.id, p);
  }

  /** Replace a peer's policies. Export changes take effect at once; import changes need a ROUTE-REFRESH (returned true). */
  setPeerPolicies(
    id: string,
    pol: { importPolicies?: readonly RoutePolicy[]; exportPolicies?: readonly RoutePolicy[]; importDefault?: DefaultAction; exportDefault?: DefaultAction },
  ): { routeRefreshNeeded: boolean } {
    const p = this.peer(id);
    let importChanged = false;
    if (pol.importPolicies !== undefined && pol.importPolicies !== p.importPolicies) {
      p.importPolicies = pol.importPolicies;
      importChanged = true;
    }
    if (pol.importDefault !== undefined && pol.importDefault !== p.importDefault) {
      p.importDefault = pol.importDefault;
      importChanged = true;
    }
    if (pol.exportPolicies !== undefined) p.exportPolicies = pol.exportPolicies;
    if (pol.exportDefault !== undefined) p.exportDefault = pol.exportDefault;
    if (pol.exportPolicies !== undefined || pol.exportDefault !== undefined) {
      if (p.established && !this.deferring) this.exportAll(p);
    }
    return { routeRefreshNeeded: importChanged && p.established };
  }

  removePeer(id: string): void {
    const p = this.peer(id);
    this.dropSession(p);
    this.removePaths(p, () => true);
    this.peers.delete(id);
    this.slots[p.slot] = undefined;
    for (const prof of this.profiles.values()) if (prof.memoSrc === p) prof.memoSrc = undefined;
    this.checkDeferral();
  }

  hasPeer(id: string): boolean {
    return this.peers.has(id);
  }

  /** The session reached Established. Sends the full table (+ End-of-RIB) unless deferring. */
  peerEstablished(id: string, session: SessionInfo, now: number): void {
    const p = this.peer(id);
    const ridNum = routerIdToNumber(session.routerId, `peer ${id}: session.routerId`);
    if (!isAddress(session.localAddress)) throw new RibError(RIB_ERROR.INVALID_ADDRESS, `peer ${id}: session.localAddress ${JSON.stringify(session.localAddress)} is not an IP address`);
    if (p.established) this.dropSession(p);
    p.routerId = session.routerId;
    p.routerIdNum = ridNum;
    p.session = session;
    p.families = new Set(session.families);
    p.established = true;
    p.eorReceived.clear();
    p.grDeadline = undefined;
    this.established.add(p);
    p.profile = this.profileFor(p, session);
    // The memo identifies sources by object: a re-established source may have a new router id.
    for (const prof of this.profiles.values()) if (prof.memoSrc === p) prof.memoSrc = undefined;
    // RFC 4724 §4.2: stale routes of families the peer no longer preserves go now.
    if (p.staleFamilies.size > 0) {
      const gr = session.gracefulRestart;
      for (const f of [...p.staleFamilies]) {
        const kept = gr?.families.find((x) => x.family === f);
        if (!kept || !kept.forwardingState || !p.families.has(f)) this.sweepStale(p, f);
      }
      if (p.staleFamilies.size > 0) p.staleDeadline = now + this.stalePathMs;
    }
    if (!this.deferring) this.fullExport(p);
    this.checkDeferral();
  }

  /**
   * The session left Established. `graceful`: keep the peer's routes as stale (RFC 4724 helper)
   * if it advertised Graceful Restart — pass true for transport failures / hold timer expiry and
   * for NOTIFICATIONs covered by RFC 8538, false for an administrative or hard reset.
   */
  peerDown(id: string, now: number, opts: { graceful: boolean }): void {
    const p = this.peer(id);
    if (!p.established) return;
    const gr = p.session?.gracefulRestart;
    this.dropSession(p);
    const time = gr ? Math.min(gr.restartTime, p.maxRestartTime) : 0;
    if (!opts.graceful || !gr || time <= 0) {
      p.staleFamilies.clear();
      p.grDeadline = undefined;
      p.staleDeadline = undefined;
      this.removePaths(p, () => true);
      return;
    }
    const keep = new Set(gr.families.map((f) => f.family));
    this.removePaths(p, (_stale, family) => !keep.has(family));
    for (const f of keep) p.staleFamilies.add(f);
    p.staleCount = 0;
    const s1 = p.slot + 1;
    const ix = this.index;
    for (let r = 0; r < ix.top; r++) {
      if (!ix.isUsed(r)) continue;
      const d = this.dests[r];
      if (d === undefined) {
        if (this.cSrc[r] === s1) {
          this.rflags[r] = this.rflags[r]! | STALE;
          p.staleCount++;
        }
        continue;
      }
      for (let path = d.head; path; path = path.next) {
        if (path.src !== p) continue;
        path.stale = true;
        p.staleCount++;
      }
    }
    if (p.staleCount === 0) p.staleFamilies.clear();
    p.grDeadline = p.staleFamilies.size > 0 ? now + time * 1000 : undefined;
    p.staleDeadline = undefined;
  }

  // ------------------------------------------------------------------ routes in

  /** Routes received from a peer (one UPDATE's worth, one family per call is typical). */
  update(id: string, upd: PeerUpdate): void {
    const p = this.peer(id);
    if (!p.established) throw new RibError(RIB_ERROR.PEER_NOT_ESTABLISHED, `peer ${id}: routes received while the session is not established`);
    if (upd.withdrawn) for (const r of upd.withdrawn) this.removePathOf(p, r);
    const ann = upd.announced;
    if (ann && ann.length > 0) {
      if (!upd.attrs) throw new RibError(RIB_ERROR.INVALID_CONFIG, `peer ${id}: announced prefixes without attributes`);
      const base = this.importAttrs(p, upd.attrs);
      if (base === null) {
        // Loop or RR check failed: treat as withdraw.
        for (const r of ann) this.removePathOf(p, r);
      } else {
        const pols = p.importPolicies;
        const withPolicy = pols.length > 0 || p.importDefault === 'reject';
        const source: RouteSource = p.ibgp ? 'ibgp' : 'ebgp';
        const fams = p.families;
        const v4ok = fams.has('ipv4');
        for (const r of ann as readonly WireKey[]) {
          const pathId = r.pathId ?? 0;
          let row: number;
          if (r.afi === 1 && r.value !== undefined && r.len !== undefined) {
            if (!v4ok) continue;
            if (withPolicy) {
              const family: Family = 'ipv4';
              const out = runPolicies(pols, { prefix: r.key, family, attrs: base.attrs, source, net: { family, len: r.len, v4: r.value, v6: 0n } }, p, p.importDefault);
              if (out === null) {
                this.removePathOf(p, r);
                continue;
              }
              row = this.index.add4(r.value, r.len);
              this.upsertPath(p, row, out !== base.attrs ? this.attrTable.intern(out) : base, pathId);
              continue;
            }
            row = this.index.add4(r.value, r.len);
          } else {
            const prefix = r.key;
            const family: Family = prefix.includes(':') ? 'ipv6' : 'ipv4';
            if (!fams.has(family)) continue;
            if (withPolicy) {
              const out = runPolicies(pols, { prefix, family, attrs: base.attrs, source }, p, p.importDefault);
              if (out === null) {
                this.removePathOf(p, r);
                continue;
              }
              row = this.rowFor(prefix);
              this.upsertPath(p, row, out !== base.attrs ? this.attrTable.intern(out) : base, pathId);
              continue;
            }
            row = this.rowFor(prefix);
          }
          this.upsertPath(p, row, base, pathId);
        }
      }
    }
    this.maybeSweepAttrs();
  }

  /** End-of-RIB received from a peer for a family. */
  endOfRib(id: string, family: Family, _now: number): void {
    const p = this.peer(id);
    p.eorReceived.add(family);
    if (p.staleFamilies.has(family)) this.sweepStale(p, family);
    this.checkDeferral();
  }

  /** The peer asked for our routes again (ROUTE-REFRESH): its whole Adj-RIB-Out is queued. */
  routeRefresh(id: string, family: Family): void {
    const p = this.peer(id);
    if (!p.established || this.deferring) return;
    const s = p.slot;
    for (const d of this.dests) {
      if (d === undefined || !d.adj || d.adj[2 * s] === undefined || this.famOf(d.row) !== family) continue;
      this.queueFor(p, d, UNKNOWN, true);
    }
  }

  // ------------------------------------------------------------------ local routes

  originate(prefix: string, opts: OriginateOptions = {}): void {
    const key = canonicalPrefix(prefix, 'originate');
    if (opts.priority !== undefined && (!Number.isInteger(opts.priority) || opts.priority < 0 || opts.priority > BIRD_INT_MAX)) {
      throw new RibError(RIB_ERROR.INVALID_CONFIG, `originate ${key}: priority ${JSON.stringify(opts.priority)} is not an integer 0-${BIRD_INT_MAX}`);
    }
    const given = opts.attrs ?? {};
    const attrs: RouteAttrs = {
      origin: 0,
      asPath: [],
      ...given,
      localPref: given.localPref ?? BIRD_INT_MAX - (opts.priority ?? this.normalPriority),
    };
    const set = this.attrTable.intern(attrs);
    const local: LocalInfo = { blackhole: opts.blackhole === true, iface: opts.iface };
    const cur = this.localPaths.get(key);
    if (cur) {
      if (cur.attrs === set && cur.local.blackhole === local.blackhole && cur.local.iface === local.iface) return;
      const dest = this.dests[this.index.findKey(key)]!;
      const attrsChanged = cur.attrs !== set;
      cur.attrs = set;
      cur.local = local;
      this.recompute(dest);
      // Same attributes, new interface: export policies may decide differently.
      if (!attrsChanged && dest.best === cur && !this.deferring) for (const q of this.established) this.exportTo(q, dest);
      return;
    }
    const dest = this.inflate(this.rowFor(key));
    const path = new LocalPath(this.localSrc, set, local);
    path.next = dest.head;
    dest.head = path;
    this.localPaths.set(key, path);
    this.recompute(dest);
  }

  withdrawOriginated(prefix: string): void {
    this.removeLocal(canonicalPrefix(prefix, 'withdrawOriginated'));
  }

  originatedPrefixes(): string[] {
    return [...this.localPaths.keys()];
  }

  // ------------------------------------------------------------------ kernel inputs

  /** Connected subnets (interface addresses' networks): decides `directlyConnected` of next hops. */
  setConnectedSubnets(cidrs: readonly string[]): void {
    this.connected = cidrs.map((c, i) => parseNumPrefix(c, `connected subnets[${i}]`));
    this.connectedCache.clear();
    this.refreshKernel();
  }

  setKernelPolicy(policy: KernelPolicy | undefined): void {
    this.kernelPolicy = policy;
    this.refreshKernel();
  }

  // ------------------------------------------------------------------ time

  /** Run expired timers (GR restart / stale-path timers, restart deferral). */
  tick(now: number): void {
    for (const p of this.peers.values()) {
      if (p.grDeadline !== undefined && p.grDeadline <= now) {
        p.grDeadline = undefined;
        for (const f of [...p.staleFamilies]) this.sweepStale(p, f);
      }
      if (p.staleDeadline !== undefined && p.staleDeadline <= now) {
        p.staleDeadline = undefined;
        for (const f of [...p.staleFamilies]) this.sweepStale(p, f);
      }
    }
    if (this.deferring && this.deferralDeadline !== undefined && this.deferralDeadline <= now) this.endDeferral();
    else this.checkDeferral(); // e.g. no peers configured at all
  }

  /** Earliest time (ms) at which tick() has work, or undefined. */
  nextDeadline(): number | undefined {
    let d = this.deferring ? this.deferralDeadline : undefined;
    for (const p of this.peers.values()) {
      for (const t of [p.grDeadline, p.staleDeadline]) if (t !== undefined && (d === undefined || t < d)) d = t;
    }
    return d;
  }

  /** True while we are a restarting speaker waiting for End-of-RIBs. */
  get isDeferring(): boolean {
    return this.deferring;
  }

  // ------------------------------------------------------------------ outputs

  /** Peers with UPDATE work queued. */
  peersWithPendingUpdates(): string[] {
    const out: string[] = [];
    for (const p of this.established) if (p.pending.length > 0 || p.pendingEor.size > 0) out.push(p.id);
    return out;
  }

  /**
   * Drain a peer's queued UPDATE work: withdrawals, then announcements grouped by identical
   * attributes, then End-of-RIB markers. Coalesced: a prefix appears once, with its latest state,
   * and not at all when it is back to what the peer already has.
   */
  takeUpdates(id: string): OutboundUpdate[] {
    const p = this.peer(id);
    const out: OutboundUpdate[] = [];
    const s = p.slot;
    const pending = p.pending;
    p.pending = [];
    const withdraw4: string[] = [];
    const withdraw6: string[] = [];
    const groups4 = new Map<AttrSet, string[]>();
    const groups6 = new Map<AttrSet, string[]>();
    for (const d of pending) {
      const adj = d.adj!;
      const held = adj[2 * s + 1];
      adj[2 * s + 1] = undefined;
      d.queued--;
      const a = adj[2 * s] as AttrSet | undefined;
      const row = d.row;
      const v6 = (this.rflags[row]! & FAM6) !== 0;
      const skip = held !== UNKNOWN && a === (held ?? undefined); // back where the peer already is
      const key = skip ? '' : (d.key ??= this.index.keyOf(row));
      this.settle(d);
      if (skip) continue;
      if (a === undefined) {
        (v6 ? withdraw6 : withdraw4).push(key);
      } else {
        const groups = v6 ? groups6 : groups4;
        const g = groups.get(a);
        if (g) g.push(key);
        else groups.set(a, [key]);
      }
    }
    if (!p.established) {
      p.pendingEor.clear();
      return [];
    }
    if (withdraw4.length) out.push({ kind: 'withdraw', family: 'ipv4', prefixes: withdraw4 });
    if (withdraw6.length) out.push({ kind: 'withdraw', family: 'ipv6', prefixes: withdraw6 });
    for (const [family, groups] of [['ipv4', groups4], ['ipv6', groups6]] as const) {
      for (const [a, prefixes] of groups) {
        const w = this.wireOf(a, family);
        out.push({ kind: 'announce', family, attributes: w.attributes, reach: w.reach, prefixes, attrsId: a.id });
      }
    }
    for (const f of FAMILIES) if (p.pendingEor.has(f)) out.push({ kind: 'end-of-rib', family: f });
    p.pendingEor.clear();
    return out;
  }

  /** Drain kernel route changes (nothing while deferring after a restart). */
  takeKernelChanges(): KernelChange[] {
    if (this.deferring) return [];
    const out: KernelChange[] = [];
    const q = this.kernelQueue;
    this.kernelQueue = [];
    const flags = this.rflags;
    for (let i = 0; i < q.length; i += 2) {
      const row = q[i]!;
      flags[row] = flags[row]! & ~KQUEUED;
      const want = this.kWant[row]!;
      if (want !== q[i + 1]) {
        const prefix = this.index.keyOf(row);
        const family: Family = flags[row]! & FAM6 ? 'ipv6' : 'ipv4';
        out.push(want !== 0 ? { kind: 'route', prefix, family, route: this.kernelById[want]! } : { kind: 'withdraw', prefix, family });
      }
      this.maybeFree(row);
    }
    if (!this.syncedSent) {
      this.syncedSent = true;
      out.push({ kind: 'synced' });
    }
    if (this.kernelById.length > this.kernelSweepAt) this.sweepKernelIds();
    return out;
  }

  // ------------------------------------------------------------------ introspection

  best(prefix: string): BestRouteInfo | undefined {
    const row = this.index.findKey(prefix);
    if (row < 0) return undefined;
    return this.bestOfRow(row, prefix);
  }

  private bestOfRow(row: number, prefix: string): BestRouteInfo | undefined {
    const d = this.dests[row];
    if (d === undefined) {
      const s1 = this.cSrc[row]!;
      if (s1 === 0) return undefined;
      const src = this.slots[s1 - 1]!;
      return { prefix, attrs: this.attrOf(this.cAttr[row]!).attrs, from: src.id, source: src.ibgp ? 'ibgp' : 'ebgp', step: 'only-path', stale: (this.rflags[row]! & STALE) !== 0, candidates: 1 };
    }
    const b = d.best;
    if (!b) return undefined;
    return {
      prefix,
      attrs: b.attrs.attrs,
      from: b.src.local ? LOCAL_ID : (b.src as PeerState).id,
      source: b.src.local ? 'local' : (b.src as PeerState).ibgp ? 'ibgp' : 'ebgp',
      step: d.head && d.head.next ? decide(pathList(d), this.decision).step : 'only-path',
      stale: b.stale,
      candidates: countPaths(d),
    };
  }

  /** Loc-RIB: every prefix with a best path. */
  *locRib(): Generator<BestRouteInfo> {
    const ix = this.index;
    for (let r = 0; r < ix.top; r++) {
      if (!ix.isUsed(r)) continue;
      const b = this.bestOfRow(r, ix.keyOf(r));
      if (b) yield b;
    }
  }

  /** Adj-RIB-In of a peer (post-policy): prefix key (with #pathId under add-path) -> attributes. */
  adjRibIn(id: string): Map<string, { attrs: RouteAttrs; stale: boolean }> {
    const p = this.peer(id);
    const out = new Map<string, { attrs: RouteAttrs; stale: boolean }>();
    const ix = this.index;
    const s1 = p.slot + 1;
    for (let r = 0; r < ix.top; r++) {
      if (!ix.isUsed(r)) continue;
      const d = this.dests[r];
      if (d === undefined) {
        if (this.cSrc[r] === s1) out.set(ix.keyOf(r), { attrs: this.attrOf(this.cAttr[r]!).attrs, stale: (this.rflags[r]! & STALE) !== 0 });
        continue;
      }
      for (let path = d.head; path; path = path.next) {
        if (path.src === p) out.set(path.pathId ? `${ix.keyOf(r)}#${path.pathId}` : ix.keyOf(r), { attrs: path.attrs.attrs, stale: path.stale });
      }
    }
    return out;
  }

  /** Adj-RIB-Out of a peer: what it has been (or is about to be) sent. */
  adjRibOut(id: string): Map<string, RouteAttrs> {
    const s = this.peer(id).slot;
    const out = new Map<string, RouteAttrs>();
    for (const d of this.dests) {
      const a = d?.adj ? (d.adj[2 * s] as AttrSet | undefined) : undefined;
      if (a) out.set(this.index.keyOf(d!.row), a.attrs);
    }
    return out;
  }

  /** Kernel routes as currently desired (after all queued changes). */
  kernelRoutes(): Map<string, KernelRoute> {
    const out = new Map<string, KernelRoute>();
    const ix = this.index;
    for (let r = 0; r < ix.top; r++) {
      if (ix.isUsed(r) && this.kWant[r] !== 0) out.set(ix.keyOf(r), this.kernelById[this.kWant[r]!]!);
    }
    return out;
  }

  peerStats(id: string): PeerStats {
    const p = this.peer(id);
    return { established: p.established, received: p.received, advertised: p.advertised, stale: p.staleCount, pendingUpdates: p.pending.length };
  }

  /** Prefixes with a best path. */
  get prefixCount(): number {
    return this.bestCount;
  }

  get attrSetCount(): number {
    return this.attrTable.size;
  }

  /** Prefixes held in object form (several candidates, local, add-path or advertised); for tests and memory checks. */
  get objectPrefixCount(): number {
    let n = 0;
    for (const d of this.dests) if (d !== undefined) n++;
    return n;
  }

  // ------------------------------------------------------------------ internals: rows

  private peer(id: string): PeerState {
    const p = this.peers.get(id);
    if (!p) throw new RibError(RIB_ERROR.UNKNOWN_PEER, `peer ${JSON.stringify(id)} is not configured`);
    return p;
  }

  private famOf(row: number): Family {
    return this.rflags[row]! & FAM6 ? 'ipv6' : 'ipv4';
  }

  private attrOf(id: number): AttrSet {
    return this.attrTable.byId(id)!;
  }

  /** The row of a prefix key, created if absent. */
  private rowFor(key: string): number {
    const row = this.index.addKey(key);
    if (!this.index.isV4(row) && key.includes(':')) this.rflags[row] = this.rflags[row]! | FAM6;
    return row;
  }

  private findRow(r: RouteKey): number {
    const w = r as WireKey;
    if (w.afi === 1 && w.value !== undefined && w.len !== undefined) return this.index.find4(w.value, w.len);
    return this.index.findKey(r.key);
  }

  /** The Dest of a row, made from its compact path if it has none yet. */
  private inflate(row: number): Dest {
    let d = this.dests[row];
    if (d !== undefined) return d;
    d = new Dest(row);
    const s1 = this.cSrc[row]!;
    if (s1 !== 0) {
      const path = new Path(this.slots[s1 - 1]!, this.attrOf(this.cAttr[row]!), 0);
      path.stale = (this.rflags[row]! & STALE) !== 0;
      d.head = path;
      d.best = path;
      d.bestAttrs = path.attrs;
      this.cSrc[row] = 0;
      this.cAttr[row] = 0;
      this.rflags[row] = this.rflags[row]! & ~STALE;
    }
    this.dests[row] = d;
    return d;
  }

  /**
   * Back to the compact form when a Dest no longer needs its object: one path, from a peer,
   * without path id, in no peer queue and no Adj-RIB-Out. Only at points where no caller
   * iterates the Dest's paths.
   */
  private settle(d: Dest): void {
    if (d.queued !== 0 || this.dests[d.row] !== d) return;
    const h = d.head;
    if (h === undefined) {
      this.maybeFree(d.row);
      return;
    }
    if (h.next !== undefined || h.src.local || h.pathId !== 0) return;
    if (d.adj) for (const x of d.adj) if (x !== undefined) return;
    const row = d.row;
    this.dests[row] = undefined;
    this.cSrc[row] = (h.src as PeerState).slot + 1;
    this.cAttr[row] = h.attrs.id;
    if (h.stale) this.rflags[row] = this.rflags[row]! | STALE;
  }

  /** Drop a row nobody needs any more (no path, no queue). */
  private maybeFree(row: number): void {
    if (this.cSrc[row] !== 0 || this.rflags[row]! & KQUEUED) return;
    const d = this.dests[row];
    if (d !== undefined && (d.head !== undefined || d.queued !== 0)) return;
    this.dests[row] = undefined;
    this.cAttr[row] = 0;
    this.rflags[row] = 0;
    this.kWant[row] = 0;
    this.index.remove(row);
  }

  private upsertPath(p: PeerState, row: number, a: AttrSet, pathId: number): void {
    let dest = this.dests[row];
    if (dest === undefined) {
      const s1 = this.cSrc[row]!;
      if (pathId === 0 && (s1 === 0 || s1 === p.slot + 1)) {
        const prevAttr = this.cAttr[row]!;
        if (s1 !== 0) {
          const f = this.rflags[row]!;
          if (f & STALE) {
            this.rflags[row] = f & ~STALE;
            p.staleCount--;
          }
          if (prevAttr === a.id) return;
        } else p.received++;
        this.cSrc[row] = p.slot + 1;
        this.cAttr[row] = a.id;
        this.recomputeCompact(row, s1, prevAttr, p, a);
        return;
      }
      dest = this.inflate(row);
    }
    for (let path = dest.head; path; path = path.next) {
      if (path.src !== p || path.pathId !== pathId) continue;
      if (path.stale) {
        path.stale = false;
        p.staleCount--;
        if (path.attrs === a) return;
      } else if (path.attrs === a) return;
      path.attrs = a;
      this.recompute(dest);
      this.settle(dest);
      return;
    }
    const np = new Path(p, a, pathId);
    np.next = dest.head;
    dest.head = np;
    p.received++;
    this.recompute(dest);
  }

  private removePathOf(p: PeerState, r: RouteKey): void {
    const row = this.findRow(r);
    if (row < 0) return;
    const pathId = r.pathId ?? 0;
    const dest = this.dests[row];
    if (dest === undefined) {
      if (pathId !== 0 || this.cSrc[row] !== p.slot + 1) return;
      this.removeCompact(p, row);
      return;
    }
    for (let path = dest.head; path; path = path.next) {
      if (path.src !== p || path.pathId !== pathId) continue;
      this.detach(dest, path);
      this.settle(dest);
      return;
    }
  }

  private removeCompact(p: PeerState, row: number): void {
    const prevAttr = this.cAttr[row]!;
    p.received--;
    if (this.rflags[row]! & STALE) {
      p.staleCount--;
      this.rflags[row] = this.rflags[row]! & ~STALE;
    }
    this.cSrc[row] = 0;
    this.cAttr[row] = 0;
    this.recomputeCompact(row, p.slot + 1, prevAttr, undefined, undefined);
  }

  /** Remove a path from its Dest and re-run selection. */
  private detach(dest: Dest, path: Path): void {
    if (dest.head === path) dest.head = path.next;
    else {
      let q = dest.head;
      while (q && q.next !== path) q = q.next;
      if (q) q.next = path.next;
    }
    path.next = undefined;
    const src = path.src;
    if (!src.local) {
      (src as PeerState).received--;
      if (path.stale) (src as PeerState).staleCount--;
    }
    this.recompute(dest);
  }

  /** Remove the paths of `p` for which pred(stale, family) holds. */
  private removePaths(p: PeerState, pred: (stale: boolean, family: Family) => boolean): void {
    const ix = this.index;
    const s1 = p.slot + 1;
    for (let r = 0; r < ix.top; r++) {
      if (!ix.isUsed(r)) continue;
      const d = this.dests[r];
      if (d === undefined) {
        if (this.cSrc[r] === s1 && pred((this.rflags[r]! & STALE) !== 0, this.famOf(r))) this.removeCompact(p, r);
        continue;
      }
      let hit = false;
      for (let path = d.head; path; ) {
        const next = path.next;
        if (path.src === p && pred(path.stale, this.famOf(r))) {
          this.detach(d, path);
          hit = true;
        }
        path = next;
      }
      if (hit) this.settle(d);
    }
  }

  private removeLocal(key: string): void {
    const path = this.localPaths.get(key);
    if (!path) return;
    const dest = this.dests[this.index.findKey(key)];
    if (!dest) return;
    this.localPaths.delete(key);
    this.detach(dest, path);
    this.settle(dest);
  }

  private sweepStale(p: PeerState, family: Family): void {
    p.staleFamilies.delete(family);
    this.removePaths(p, (stale, f) => stale && f === family);
    if (p.staleFamilies.size === 0) {
      p.grDeadline = undefined;
      p.staleDeadline = undefined;
    }
  }

  private dropSession(p: PeerState): void {
    p.established = false;
    this.established.delete(p);
    const s = p.slot;
    const pending = p.pending;
    p.pending = [];
    for (const d of pending) {
      d.adj![2 * s + 1] = undefined;
      d.queued--;
    }
    for (const d of this.dests) {
      if (d === undefined) continue;
      if (d.adj && d.adj[2 * s] !== undefined) d.adj[2 * s] = undefined;
      this.settle(d);
    }
    p.advertised = 0;
    p.pendingEor.clear();
    p.profile = undefined;
  }

  private wireOf(a: AttrSet, family: Family): { attributes: PathAttributes; reach: ReachInfo } {
    let w = this.wire.get(a);
    if (!w || w.reach.afi !== familyAfi(family)) {
      const { nextHop, linkLocalNextHop, ...attributes } = a.attrs;
      const afi = familyAfi(family);
      const reach: ReachInfo = linkLocalNextHop ? { afi, nextHop: nextHop!, linkLocalNextHop } : { afi, nextHop: nextHop! };
      w = { attributes, reach };
      this.wire.set(a, w);
    }
    return w;
  }

  private profileFor(p: PeerState, s: SessionInfo): RewriteProfile {
    const nh = s.nextHopSelf;
    const key = `${p.ebgp ? 'e' : 'i'}|${p.localAs}|${p.nextHopMode}|${s.localAddress}|${nh?.ipv4 ?? ''}|${nh?.ipv6 ?? ''}|${nh?.ipv6LinkLocal ?? ''}`;
    let prof = this.profiles.get(key);
    if (!prof) {
      prof = new RewriteProfile();
      this.profiles.set(key, prof);
    }
    return prof;
  }

  // ------------------------------------------------------------------ internals: Loc-RIB

  /** Selection for a compact row after its path changed from (prevS1, prevAttr). */
  private recomputeCompact(row: number, prevS1: number, prevAttr: number, src: PeerState | undefined, a: AttrSet | undefined): void {
    const s1 = this.cSrc[row]!;
    if (prevS1 === 0 && s1 !== 0) this.bestCount++;
    else if (prevS1 !== 0 && s1 === 0) this.bestCount--;
    if (src === undefined || a === undefined) {
      this.updateKernel(row, 0);
      // No peer holds a compact row (no Adj-RIB-Out): nothing to withdraw.
      this.maybeFree(row);
      return;
    }
    this.updateKernel(row, this.kernelRouteFor(row, undefined, src, a, undefined, null));
    if ((s1 !== prevS1 || a.id !== prevAttr) && !this.deferring) {
      for (const q of this.established) {
        const d = this.dests[row];
        if (d !== undefined) this.exportTo(q, d);
        else if (this.computeOut(q, row, undefined, src, a, undefined) !== undefined) this.exportTo(q, this.inflate(row));
      }
    }
  }

  private recompute(dest: Dest): void {
    const head = dest.head;
    let best: Path | undefined;
    let equalCost: readonly Path[] | null;
    if (head === undefined || head.next === undefined) {
      best = head;
      equalCost = null;
    } else {
      const d = decide(pathList(dest), this.decision);
      best = d.best;
      equalCost = d.equalCost;
    }
    const prevBest = dest.best;
    const prevAttrs = dest.bestAttrs;
    if (prevBest === undefined && best !== undefined) this.bestCount++;
    else if (prevBest !== undefined && best === undefined) this.bestCount--;
    dest.best = best;
    dest.bestAttrs = best?.attrs;
    this.updateKernel(dest.row, best ? this.kernelRouteFor(dest.row, dest, best.src, best.attrs, best.src.local ? (best as LocalPath).local : undefined, equalCost) : 0);
    if ((best !== prevBest || best?.attrs !== prevAttrs) && !this.deferring) {
      for (const q of this.established) this.exportTo(q, dest);
    }
    if (dest.head === undefined) this.maybeFree(dest.row);
  }

  // ------------------------------------------------------------------ internals: kernel

  private isConnected(addr: string): boolean {
    let v = this.connectedCache.get(addr);
    if (v === undefined) {
      v = false;
      for (const c of this.connected) {
        if (addressWithin(addr, c)) {
          v = true;
          break;
        }
      }
      this.connectedCache.set(addr, v);
    }
    return v;
  }

  /** Kernel route id for a row's best path; `equalCost`: the multipath candidates (null for a single candidate). */
  private kernelRouteFor(row: number, dest: Dest | undefined, src: PeerState | LocalSource, attrs: AttrSet, local: LocalInfo | undefined, equalCost: readonly Path[] | null): number {
    const pol = this.kernelPolicy;
    const family = this.famOf(row);
    if (src.local) {
      if (!local!.blackhole) return 0;
      const v = pol ? pol(new KernelQuery(this.index, row, family, 'local', undefined, this.netOf(row, dest))) : KERNEL_INSTALL;
      if (!v.install) return 0;
      return this.internKernel({ type: 'blackhole', nextHops: [], metric: 0, elevated: false, tunnel: v.tunnel });
    }
    const a = attrs.attrs;
    if (a.nextHop === undefined) return 0;
    const v = pol ? pol(new KernelQuery(this.index, row, family, (src as PeerState).ibgp ? 'ibgp' : 'ebgp', a.nextHop, this.netOf(row, dest))) : KERNEL_INSTALL;
    if (!v.install) return 0;
    const single = !this.multipath || equalCost === null || equalCost.length <= 1;
    if (single && v.tunnel === undefined) {
      const hit = this.kernelByAttrs.get(attrs);
      if (hit !== undefined) return hit;
    }
    const lp = a.localPref;
    let metric = lp === undefined ? this.normalPriority : BIRD_INT_MAX - lp;
    if (metric < 0) metric = 0;
    const hops: KernelNextHop[] = [];
    const paths: readonly { attrs: AttrSet }[] = single || equalCost === null ? [{ attrs }] : equalCost;
    for (const path of paths) {
      const nh = path.attrs.attrs.nextHop;
      if (nh === undefined || hops.some((h) => h.address === nh)) continue;
      const ll = path.attrs.attrs.linkLocalNextHop;
      hops.push(ll ? { address: nh, directlyConnected: this.isConnected(nh), linkLocal: ll } : { address: nh, directlyConnected: this.isConnected(nh) });
    }
    const id = this.internKernel({ type: 'unicast', nextHops: hops, metric, elevated: metric < this.normalPriority, tunnel: v.tunnel });
    if (single && v.tunnel === undefined) this.kernelByAttrs.set(attrs, id);
    return id;
  }

  private internKernel(r: KernelRoute): number {
    let k = `${r.type}|${r.metric}|${r.tunnel ?? ''}|`;
    for (const h of r.nextHops) k += `${h.address}/${h.directlyConnected ? 1 : 0}/${h.linkLocal ?? ''},`;
    const hit = this.kernelIds.get(k);
    if (hit !== undefined) return hit;
    const frozen = Object.freeze({ ...r, nextHops: Object.freeze(r.nextHops.map((h) => Object.freeze(h))) });
    const id = this.kernelById.length;
    this.kernelById.push(frozen);
    this.kernelIds.set(k, id);
    return id;
  }

  /** Renumber kernel route ids, keeping only those rows still refer to. */
  private sweepKernelIds(): void {
    const old = this.kernelById;
    const map = new Uint32Array(old.length);
    const next: (KernelRoute | null)[] = [null];
    const ix = this.index;
    const remap = (id: number): number => {
      if (id === 0) return 0;
      let n = map[id]!;
      if (n === 0) {
        n = next.length;
        next.push(old[id]!);
        map[id] = n;
      }
      return n;
    };
    for (let r = 0; r < ix.top; r++) if (ix.isUsed(r)) this.kWant[r] = remap(this.kWant[r]!);
    for (let i = 1; i < this.kernelQueue.length; i += 2) this.kernelQueue[i] = remap(this.kernelQueue[i]!);
    this.kernelById = next;
    this.kernelIds.clear();
    for (let id = 1; id < next.length; id++) {
      const r = next[id]!;
      let k = `${r.type}|${r.metric}|${r.tunnel ?? ''}|`;
      for (const h of r.nextHops) k += `${h.address}/${h.directlyConnected ? 1 : 0}/${h.linkLocal ?? ''},`;
      this.kernelIds.set(k, id);
    }
    this.kernelByAttrs.clear();
    this.kernelSweepAt = Math.max(4096, 2 * next.length);
  }

  private updateKernel(row: number, id: number): void {
    const cur = this.kWant[row]!;
    if (id === cur) return;
    const f = this.rflags[row]!;
    if (!(f & KQUEUED)) {
      // Not queued: the current id is what the consumer holds.
      this.rflags[row] = f | KQUEUED;
      this.kernelQueue.push(row, cur);
    }
    this.kWant[row] = id;
  }

  private refreshKernel(): void {
    this.kernelByAttrs.clear();
    const ix = this.index;
    for (let r = 0; r < ix.top; r++) {
      if (!ix.isUsed(r)) continue;
      const d = this.dests[r];
      if (d === undefined) {
        const s1 = this.cSrc[r]!;
        if (s1 !== 0) this.updateKernel(r, this.kernelRouteFor(r, undefined, this.slots[s1 - 1]!, this.attrOf(this.cAttr[r]!), undefined, null));
        continue;
      }
      const b = d.best;
      if (!b) continue;
      const eq = d.head && d.head.next ? decide(pathList(d), this.decision).equalCost : null;
      this.updateKernel(r, this.kernelRouteFor(r, d, b.src, b.attrs, b.src.local ? (b as LocalPath).local : undefined, eq));
    }
  }

  // ------------------------------------------------------------------ internals: export

  /** Re-evaluate every prefix for one peer. */
  private exportAll(p: PeerState): void {
    const ix = this.index;
    for (let r = 0; r < ix.top; r++) {
      if (!ix.isUsed(r)) continue;
      const d = this.dests[r];
      if (d !== undefined) {
        this.exportTo(p, d);
        continue;
      }
      const s1 = this.cSrc[r]!;
      if (s1 === 0) continue;
      const src = this.slots[s1 - 1]!;
      const a = this.attrOf(this.cAttr[r]!);
      if (this.computeOut(p, r, undefined, src, a, undefined) !== undefined) this.exportTo(p, this.inflate(r));
    }
  }

  private fullExport(p: PeerState): void {
    this.exportAll(p);
    for (const f of p.families) p.pendingEor.add(f);
  }

  private netOf(row: number, dest: Dest | undefined): NumPrefix | undefined {
    if (dest !== undefined && dest.net !== undefined) return dest.net;
    const ix = this.index;
    const net = ix.isV4(row) ? { family: 'ipv4' as const, len: ix.plen[row]!, v4: ix.addr[row]!, v6: 0n } : (tryParseNumPrefix(ix.keyOf(row)) ?? undefined);
    if (dest !== undefined) dest.net = net;
    return net;
  }

  private newAdj(): (AttrSet | Held | undefined)[] {
    return new Array<AttrSet | Held | undefined>(2 * this.slots.length);
  }

  /** Queue a Dest for a peer, remembering what the peer held (unless already queued). */
  private queueFor(q: PeerState, d: Dest, held: Held, force = false): void {
    const i = 2 * q.slot + 1;
    const adj = d.adj ?? (d.adj = this.newAdj());
    if (adj[i] === undefined) {
      adj[i] = held;
      d.queued++;
      q.pending.push(d);
    } else if (force) adj[i] = held;
  }

  private exportTo(q: PeerState, dest: Dest): void {
    const best = dest.best;
    const out = best ? this.computeOut(q, dest.row, dest, best.src, best.attrs, best.src.local ? (best as LocalPath).local : undefined) : undefined;
    const i = 2 * q.slot;
    let adj = dest.adj;
    if (!adj) {
      if (out === undefined) return;
      adj = dest.adj = this.newAdj();
    }
    const prev = adj[i] as AttrSet | undefined;
    if (out === prev) return;
    adj[i] = out;
    if (prev === undefined) q.advertised++;
    else if (out === undefined) q.advertised--;
    this.queueFor(q, dest, prev ?? null);
  }

  /** What `q` should hold for the row whose best path is (src, attrs, local) (undefined: nothing). */
  private computeOut(q: PeerState, row: number, dest: Dest | undefined, src: PeerState | LocalSource, attrs: AttrSet, local: LocalInfo | undefined): AttrSet | undefined {
    const family = this.famOf(row);
    if (!q.families.has(family)) return undefined;
    if (src === q) return undefined; // never back to the sender
    const a = attrs.attrs;
    const comms = a.communities;
    if (comms !== undefined) {
      if (comms.includes(NO_ADVERTISE)) return undefined;
      if (q.ebgp && (comms.includes(NO_EXPORT) || comms.includes(NO_EXPORT_SUBCONFED))) return undefined;
    }
    let reflect = false;
    if (!src.local && !src.ebgp && q.ibgp) {
      // iBGP -> iBGP only through route reflection (RFC 4456 §6).
      if (!(src as PeerState).rrClient && !q.rrClient) return undefined;
      reflect = true;
    }
    let attrsIn = attrs;
    if (q.exportPolicies.length > 0 || q.exportDefault === 'reject') {
      const source: RouteSource = src.local ? 'local' : src.ebgp ? 'ebgp' : 'ibgp';
      const r = runPolicies(q.exportPolicies, { prefix: this.index.keyOf(row), family, attrs: a, source, iface: src.local ? local!.iface : undefined, net: this.netOf(row, dest) }, q, q.exportDefault);
      if (r === null) return undefined;
      if (r !== a) attrsIn = this.attrTable.intern(r);
    }
    const prof = q.profile!;
    const cls = src.local ? 0 : src.ebgp ? 1 : 2;
    const ck = (attrsIn.id * 4 + cls) * 2 + (family === 'ipv4' ? 0 : 1);
    // One-entry memo in front of the cache: consecutive prefixes usually share source and attributes.
    if (prof.memoSrc === src && prof.memoKey === ck) return prof.memoOut ?? undefined;
    let cache = prof.cache;
    if (reflect && attrsIn.attrs.originatorId === undefined) {
      const rid = src.routerIdNum;
      let m = prof.byRouterId.get(rid);
      if (!m) prof.byRouterId.set(rid, (m = new Map()));
      cache = m;
    }
    let o = cache.get(ck);
    if (o === undefined) {
      o = this.rewrite(q, src, attrsIn.attrs, reflect, family);
      cache.set(ck, o);
    }
    prof.memoSrc = src;
    prof.memoKey = ck;
    prof.memoOut = o;
    return o ?? undefined;
  }

  /** The attribute rewriting of RFC 4271 §5.1 / RFC 4456 for one (source, attributes, peer). */
  private rewrite(q: PeerState, src: PeerState | LocalSource, a: RouteAttrs, reflect: boolean, family: Family): AttrSet | null {
    const s = q.session!;
    const self = family === 'ipv4' ? (s.nextHopSelf?.ipv4 ?? (isAddress(s.localAddress, 'ipv4') ? s.localAddress : undefined)) : (s.nextHopSelf?.ipv6 ?? (isAddress(s.localAddress, 'ipv6') ? s.localAddress : undefined));
    const selfLL = family === 'ipv6' ? s.nextHopSelf?.ipv6LinkLocal : undefined;
    const o: { -readonly [K in keyof RouteAttrs]: RouteAttrs[K] } = { ...a };
    let useSelf: boolean;
    if (q.ebgp) {
      o.asPath = prependAs(a.asPath, [q.localAs]);
      delete o.localPref;
      // RFC 4271 §5.1.4: a MED learned from another AS is not passed to a third AS.
      const fromOurAs = src.local || (!src.ebgp && (a.asPath === undefined || a.asPath.length === 0));
      if (!fromOurAs) delete o.med;
      delete o.originatorId;
      delete o.clusterList;
      useSelf = q.nextHopMode !== 'Keep' || a.nextHop === undefined;
    } else {
      if (o.localPref === undefined) o.localPref = this.decision.defaultLocalPref;
      if (reflect) {
        if (o.originatorId === undefined) o.originatorId = src.local ? this.routerId : (src as PeerState).routerId;
        o.clusterList = [this.clusterId, ...(a.clusterList ?? [])];
      }
      if (q.nextHopMode === 'Self') useSelf = true;
      else if (q.nextHopMode === 'Keep') useSelf = a.nextHop === undefined;
      else useSelf = src.local || a.nextHop === undefined;
    }
    if (useSelf) {
      if (self === undefined) return null; // no address of this family on the session
      o.nextHop = self;
      if (selfLL) o.linkLocalNextHop = selfLL;
      else delete o.linkLocalNextHop;
    } else {
      delete o.linkLocalNextHop;
    }
    return this.attrTable.intern(o);
  }

  // ------------------------------------------------------------------ internals: restart deferral

  private checkDeferral(): void {
    if (!this.deferring) return;
    for (const p of this.peers.values()) {
      if (!p.established) return;
      // RFC 4724 §4.1: peers without GR, or restarting themselves (R bit), are not waited for.
      const gr = p.session?.gracefulRestart;
      if (!gr || gr.restartState) continue;
      for (const f of p.families) if (!p.eorReceived.has(f)) return;
    }
    this.endDeferral();
  }

  private endDeferral(): void {
    this.deferring = false;
    this.deferralDeadline = undefined;
    for (const p of this.established) this.fullExport(p);
  }

  // ------------------------------------------------------------------ internals: import

  /** Per-UPDATE import checks and normalisation; null = reject the announced prefixes. */
  private importAttrs(p: PeerState, attrs: RouteAttrs): AttrSet | null {
    const path = attrs.asPath;
    // AS loop: the session's local AS in the path more often than allowed. With a per-peer
    // local AS (BGPPeer localASNumber) only that AS counts, as BIRD's `local as` does.
    if (countAs(path, p.localAs) > p.numAllowedLocalAs) return null;
    let a = attrs;
    if (p.ebgp) {
      // LOCAL_PREF, ORIGINATOR_ID and CLUSTER_LIST have no meaning across ASes: drop them.
      if (a.localPref !== undefined || a.originatorId !== undefined || a.clusterList !== undefined) {
        const { localPref: _l, originatorId: _o, clusterList: _c, ...rest } = a;
        a = rest;
      }
    } else {
      // RFC 4456 §8: our own reflected routes come back - drop them.
      if (a.originatorId !== undefined && a.originatorId === this.routerId) return null;
      if (a.clusterList !== undefined && a.clusterList.includes(this.clusterId)) return null;
    }
    return this.attrTable.intern(a);
  }

  // ------------------------------------------------------------------ internals: attr GC

  private maybeSweepAttrs(): void {
    if (this.attrTable.size < this.sweepAt) return;
    const live = new Set<AttrSet>();
    const ix = this.index;
    for (let r = 0; r < ix.top; r++) {
      if (!ix.isUsed(r)) continue;
      const d = this.dests[r];
      if (d === undefined) {
        if (this.cSrc[r] !== 0) live.add(this.attrOf(this.cAttr[r]!));
        continue;
      }
      for (let path = d.head; path; path = path.next) live.add(path.attrs);
      if (d.adj) for (const x of d.adj) if (typeof x === 'object' && x !== null) live.add(x);
    }
    for (const path of this.localPaths.values()) live.add(path.attrs);
    for (const prof of this.profiles.values()) prof.clear();
    this.wire.clear();
    this.kernelByAttrs.clear();
    this.attrTable.sweep(live);
    this.sweepAt = Math.max(4096, 2 * this.attrTable.size);
  }
}
