// The session driver: the thin I/O shell around the pure FSM for one peer. It owns the TCP
// connection(s), the frame reader, the timers, and connection collision resolution (RFC 4271
// §6.8). Everything runs synchronously from socket/timer callbacks through one event queue per
// session, so events for a peer are processed strictly in order and never interleave.
import net from 'node:net';
import {
  FrameReader,
  decodeMessage,
  encodeMessage,
  openPeerAs,
  findCapability,
  familyKey,
  KEEPALIVE_BYTES,
  BgpMessageError,
  MSG_TYPE,
  type Capability,
  type CodecContext,
  type DecodeResult,
  type OpenMessage,
  type UpdateMessage,
  type RouteRefreshMessage,
  type FamilyKey,
} from '../packet/index.ts';
import {
  transition,
  initialContext,
  collisionWinner,
  describeNotification,
  type FsmAction,
  type FsmConfig,
  type FsmContext,
  type FsmEvent,
  type FsmState,
  type Notification,
  type OpenInfo,
  type TimerName,
} from './fsm.ts';
import { connectTcp, applyTtlSecurity, TcpSocketError } from './tcp-socket.ts';

const ECONNREFUSED = 111;

/**
 * How long after reaching Established an incoming connection from the peer counts as a connection
 * collision (RFC 4271 §6.8: the new connection is closed) rather than the peer having restarted
 * (RFC 4724 §4.2: the old session is taken as failed). A collision's losing connection was opened
 * before the session came up and reaches us at most an event-loop delay or a few round trips
 * later (well under a second, a few seconds on an overloaded host); a peer that restarted without
 * us seeing its old connection close (no FIN: its host rebooted, a link died) needs at least a
 * reboot, tens of seconds. min(hold/3, 10 s): never beyond the first keepalive interval, so with
 * short timers a restart is still recognised before the hold timer would expire anyway.
 */
export function collisionWindowMs(holdTime: number): number {
  return holdTime > 0 ? Math.min((holdTime * 1000) / 3, 10_000) : 10_000;
}

/**
 * Retry delay after the peer refused our connection (ECONNREFUSED: its host answers but nothing
 * listens there yet, a definite and cheap answer, typical while a cluster's speakers start
 * together): 100-200 ms jittered, doubling with each refusal in a row up to 250 ms (a peer that
 * starts listening is found within a quarter second), for the first REFUSED_FAST_TRIES refusals (~25 s);
 * after that the peer is taken as down and we wait the ConnectRetry time like any other failure.
 * Never longer than ConnectRetry. Timeouts and other errors wait ConnectRetry as RFC 4271 says.
 */
export const REFUSED_FAST_TRIES = 100;
export const REFUSED_MAX_MS = 250;
export function refusedRetryMs(refusals: number, connectRetryTime: number, rand: number = Math.random()): number {
  const retry = connectRetryTime * 1000;
  if (refusals > REFUSED_FAST_TRIES) return retry * (0.75 + 0.25 * rand);
  const base = (100 + 100 * rand) * 2 ** Math.min(Math.max(refusals - 1, 0), 20);
  return Math.min(base, REFUSED_MAX_MS, retry);
}

export interface SessionOptions {
  /** A label for logs and status (normally the peer address). */
  name: string;
  peerAddress: string;
  peerPort: number;
  localAddress?: string;
  password?: string;
  /** GTSM (RFC 5082) hop count, BGPPeer ttlSecurity; undefined = off. */
  ttlSecurity?: number;
  fsm: FsmConfig;
  /** Our OPEN (capabilities included); built by the speaker. */
  open: () => OpenMessage;
  /** Connect timeout for one attempt (ms); default min(connectRetry, 10 s). */
  connectTimeoutMs?: number;
}

export interface EstablishedInfo {
  peerOpen: OpenMessage;
  peerAs: number;
  peerId: string;
  /** Families both sides advertised (IPv4 unicast only when the peer sent no MP capability). */
  families: ReadonlySet<FamilyKey>;
  /** The peer's graceful restart capability, if any. */
  peerGracefulRestart?: Extract<Capability, { kind: 'GRACEFUL_RESTART' }>;
  routeRefresh: boolean;
  codec: CodecContext;
  localAddress: string;
  remoteAddress: string;
  holdTime: number;
  keepaliveTime: number;
}

export type DownCause = 'notification-sent' | 'notification-received' | 'transport' | 'stopped';

export interface SessionHandlers {
  onEstablished(info: EstablishedInfo): void;
  onUpdate(result: DecodeResult<UpdateMessage>): void;
  onRouteRefresh(msg: RouteRefreshMessage): void;
  /** The session left Established. */
  onDown(reason: string, cause: DownCause): void;
  onStateChange?(state: FsmState, prev: FsmState): void;
  log?(level: 'debug' | 'info' | 'warn', msg: string): void;
}

export interface SessionStats {
  state: FsmState;
  /** ms since epoch of the last state change. */
  since: number;
  lastError: string | null;
  messagesIn: number;
  messagesOut: number;
  updatesIn: number;
  updatesOut: number;
  established: EstablishedInfo | null;
}

let nextConnId = 1;

class Connection {
  readonly id = nextConnId++;
  ctx: FsmContext;
  sock: net.Socket | null = null;
  dir: 'in' | 'out' | null = null;
  reader = new FrameReader();
  codec: CodecContext = { fourOctetAs: false };
  timers = new Map<TimerName, NodeJS.Timeout>();
  pending: { cancel: () => void } | null = null;
  peerOpen: OpenMessage | null = null;
  established: EstablishedInfo | null = null;
  discarded = false;
  /** performance.now() when this connection reached Established (0 = never). */
  establishedAt = 0;
  downCause: DownCause = 'transport';
  constructor(ctx: FsmContext) {
    this.ctx = ctx;
  }
}

const enc = (m: Parameters<typeof encodeMessage>[0], ctx: CodecContext): Uint8Array => encodeMessage(m, ctx);

function ipv4ToInt(s: string): number {
  const p = s.split('.').map(Number);
  return (((p[0]! << 24) >>> 0) + (p[1]! << 16) + (p[2]! << 8) + p[3]!) >>> 0;
}

export class Session {
  readonly opts: SessionOptions;
  private readonly h: SessionHandlers;
  private primary: Connection;
  private secondary: Connection | null = null;
  private readonly queue: Array<{ conn: Connection; ev: FsmEvent }> = [];
  private draining = false;
  private since = Date.now();
  private counters = { messagesIn: 0, messagesOut: 0, updatesIn: 0, updatesOut: 0 };
  private lastError: string | null = null;
  /** Connect attempts refused (ECONNREFUSED) in a row: drives the short retry backoff. */
  private refusals = 0;

  constructor(opts: SessionOptions, handlers: SessionHandlers) {
    this.opts = opts;
    this.h = handlers;
    this.primary = new Connection(initialContext());
  }

  get state(): FsmState {
    return this.primary.ctx.state;
  }

  get isEstablished(): boolean {
    return this.primary.ctx.state === 'Established';
  }

  get establishedInfo(): EstablishedInfo | null {
    return this.primary.established;
  }

  stats(): SessionStats {
    return { state: this.state, since: this.since, lastError: this.lastError, ...this.counters, established: this.primary.established };
  }

  start(): void {
    this.post(this.primary, { type: 'ManualStart' });
  }

  /** Stop with a Cease NOTIFICATION (subcode default Administrative Shutdown). */
  stop(subcode?: number): void {
    if (this.secondary) this.post(this.secondary, { type: 'ManualStop', subcode });
    this.post(this.primary, { type: 'ManualStop', subcode });
  }

  /**
   * Our own graceful restart (RFC 4724): close the transport WITHOUT a NOTIFICATION so the peer
   * keeps our routes as stale and we keep forwarding. The session is dead afterwards.
   */
  abortForRestart(): void {
    for (const c of [this.secondary, this.primary]) {
      if (!c) continue;
      c.discarded = true;
      this.clearTimers(c);
      c.pending?.cancel();
      c.sock?.destroy();
      c.sock = null;
    }
  }

  /** Sends pre-encoded UPDATE messages on the established connection. Returns false if not established. */
  sendUpdates(msgs: readonly Uint8Array[]): boolean {
    const c = this.primary;
    if (c.ctx.state !== 'Established' || !c.sock) return false;
    for (const m of msgs) c.sock.write(m);
    this.counters.updatesOut += msgs.length;
    this.counters.messagesOut += msgs.length;
    return true;
  }

  sendRouteRefresh(afi: number, safi: number): boolean {
    const c = this.primary;
    if (c.ctx.state !== 'Established' || !c.sock) return false;
    c.sock.write(enc({ type: 'ROUTE_REFRESH', afi, safi, subtype: 0 }, c.codec));
    this.counters.messagesOut++;
    return true;
  }

  /** Offer an incoming TCP connection from this peer's address. */
  accept(sock: net.Socket): void {
    try {
      applyTtlSecurity(sock, this.opts.ttlSecurity);
    } catch (err) {
      this.log('warn', `refusing connection: ${err instanceof Error ? err.message : String(err)}`);
      sock.destroy();
      return;
    }
    const p = this.primary;
    const st = p.ctx.state;
    if (st === 'Idle' && p.ctx.stopped) {
      this.log('info', `refusing connection: session is administratively down`);
      sock.destroy();
      return;
    }
    if (st === 'Established') {
      const age = performance.now() - p.establishedAt;
      if (age < collisionWindowMs(p.ctx.holdTime)) {
        // RFC 4271 §6.8: a connection colliding with an Established one is closed. This is the
        // peer's side of a collision we (or it) already resolved, accepted late by the event loop:
        // not a restart. Nothing was exchanged on it yet from our side, so just close it.
        this.log('info', `closing incoming connection: collision with the session Established ${age.toFixed(0)} ms ago`);
        sock.destroy();
        return;
      }
      if (p.established?.peerGracefulRestart) {
        // RFC 4724 §4.2: a new connection from a GR-capable peer while we are Established means the
        // peer restarted: treat the old session as failed (helper mode) and take the new one.
        this.log('info', 'new connection while Established from a graceful-restart peer: peer restarted');
        this.post(p, { type: 'TcpConnectionFails' });
      } else {
        this.log('info', 'refusing second connection: session already Established');
        sock.destroy();
        return;
      }
    }
    this.drain();
    const st2 = this.primary.ctx.state;
    if (st2 === 'Idle' || st2 === 'Connect' || st2 === 'Active') {
      const c = this.primary;
      if (st2 === 'Idle') this.post(c, { type: 'AutomaticStart' });
      c.pending?.cancel();
      c.pending = null;
      this.attach(c, sock, 'in');
      this.post(c, { type: 'TcpConnectionConfirmed' });
      return;
    }
    if (this.secondary) {
      this.log('info', 'refusing third connection during collision');
      sock.destroy();
      return;
    }
    const s = new Connection({ ...initialContext(), state: 'Active', stopped: false });
    this.secondary = s;
    this.attach(s, sock, 'in');
    this.post(s, { type: 'TcpConnectionConfirmed' });
  }

  // ---------------------------------------------------------------------------------------------

  private log(level: 'debug' | 'info' | 'warn', msg: string): void {
    this.h.log?.(level, `${this.opts.name}: ${msg}`);
  }

  private post(conn: Connection, ev: FsmEvent): void {
    this.queue.push({ conn, ev });
    this.drain();
  }

  private drain(): void {
    if (this.draining) return;
    this.draining = true;
    try {
      while (this.queue.length) {
        const { conn, ev } = this.queue.shift()!;
        this.step(conn, ev);
      }
    } finally {
      this.draining = false;
    }
  }

  private step(conn: Connection, ev: FsmEvent): void {
    if (conn !== this.primary && conn !== this.secondary) return; // stale event for a discarded connection
    const prev = conn.ctx.state;
    const wasEstablished = prev === 'Established';
    if (ev.type === 'NotifMsg' || ev.type === 'NotifMsgVerErr') conn.downCause = 'notification-received';
    else if (ev.type === 'ManualStop' || ev.type === 'AutomaticStop') conn.downCause = 'stopped';
    const r = transition(conn.ctx, ev, this.opts.fsm);
    conn.ctx = r.ctx;
    if (r.actions.some((a) => a.type === 'sendNotification') && conn.downCause !== 'stopped') conn.downCause = 'notification-sent';
    for (const a of r.actions) this.act(conn, a, wasEstablished);
    if (conn === this.primary && r.ctx.state !== prev) {
      this.since = Date.now();
      if (r.ctx.lastError) this.lastError = r.ctx.lastError;
      this.log('debug', `${prev} -> ${r.ctx.state} on ${ev.type}`);
      this.h.onStateChange?.(r.ctx.state, prev);
    }
    if (conn === this.secondary && r.ctx.state === 'Idle') {
      this.clearTimers(conn);
      this.secondary = null;
    }
  }

  private act(conn: Connection, a: FsmAction, wasEstablished: boolean): void {
    // A connection that lost a collision only sends its Cease and closes: no KEEPALIVE (the peer
    // could take it for Established), no timers (no idleHold restart), no session events.
    if (conn.discarded && (a.type === 'sendKeepalive' || a.type === 'sendOpen' || a.type === 'startTimer' || a.type === 'connect' || a.type === 'established' || a.type === 'openAccepted')) return;
    switch (a.type) {
      case 'connect':
        this.startConnect(conn);
        return;
      case 'sendOpen':
        this.write(conn, enc(this.opts.open(), conn.codec));
        return;
      case 'sendKeepalive':
        this.write(conn, KEEPALIVE_BYTES);
        return;
      case 'sendNotification':
        this.log('info', `sending NOTIFICATION ${describeNotification(a.notification)}`);
        this.write(conn, enc({ type: 'NOTIFICATION', code: a.notification.code, subcode: a.notification.subcode, data: a.notification.data ?? new Uint8Array(0) }, conn.codec));
        return;
      case 'startTimer': {
        // RFC 4271 §10: ConnectRetry and Keepalive timers are jittered (x 0.75..1.0), so two
        // speakers with equal timers do not keep colliding in step.
        const jitter = a.timer === 'connectRetry' || a.timer === 'keepalive' ? 0.75 + Math.random() * 0.25 : 1;
        this.armTimer(conn, a.timer, a.seconds * 1000 * jitter);
        return;
      }
      case 'stopTimer': {
        const t = conn.timers.get(a.timer);
        if (t) clearTimeout(t);
        conn.timers.delete(a.timer);
        return;
      }
      case 'dropConnection':
        conn.pending?.cancel();
        conn.pending = null;
        if (conn.sock) {
          const s = conn.sock;
          conn.sock = null;
          s.removeAllListeners('data');
          s.end();
          setTimeout(() => s.destroy(), 1000).unref();
        }
        conn.reader = new FrameReader();
        conn.codec = { fourOctetAs: false };
        return;
      case 'releaseResources': {
        const info = conn.established;
        conn.established = null;
        conn.peerOpen = null;
        if (wasEstablished && info && !conn.discarded && conn === this.primary) {
          const cause = conn.downCause;
          conn.downCause = 'transport';
          try {
            this.h.onDown(conn.ctx.lastError ?? 'session down', cause);
          } catch (err) {
            this.log('warn', `internal error in session-down handling: ${err instanceof Error ? err.message : String(err)}`);
          }
        }
        return;
      }
      case 'openAccepted':
        this.openAccepted(conn, a.holdTime, a.keepaliveTime);
        return;
      case 'established': {
        conn.establishedAt = performance.now();
        this.refusals = 0;
        if (conn.established) {
          this.log('info', `Established (hold ${a.holdTime}s, keepalive ${a.keepaliveTime}s)`);
          conn.downCause = 'transport';
          const info = conn.established;
          this.guard(conn, () => this.h.onEstablished(info));
        }
        return;
      }
    }
  }

  private openAccepted(conn: Connection, holdTime: number, keepaliveTime: number): void {
    const open = conn.peerOpen;
    if (!open || !conn.sock) return;
    const ours = this.opts.open();
    const weAs4 = !!findCapability(ours, 'FOUR_OCTET_AS');
    const theyAs4 = !!findCapability(open, 'FOUR_OCTET_AS');
    conn.codec = { fourOctetAs: weAs4 && theyAs4 };
    const fam = (o: OpenMessage): Set<FamilyKey> => {
      const s = new Set<FamilyKey>();
      for (const c of o.capabilities) if (c.kind === 'MULTIPROTOCOL') s.add(familyKey(c.afi, c.safi));
      if (!o.capabilities.some((c) => c.kind === 'MULTIPROTOCOL')) s.add(familyKey(1, 1));
      return s;
    };
    const mine = fam(ours);
    const families = new Set([...fam(open)].filter((f) => mine.has(f)));
    const rr = (o: OpenMessage): boolean => o.capabilities.some((c) => c.kind === 'ROUTE_REFRESH' || c.kind === 'ROUTE_REFRESH_CISCO');
    conn.established = {
      peerOpen: open,
      peerAs: openPeerAs(open),
      peerId: open.bgpId,
      families,
      peerGracefulRestart: findCapability(open, 'GRACEFUL_RESTART'),
      routeRefresh: rr(open) && rr(ours),
      codec: conn.codec,
      localAddress: stripMapped(conn.sock.localAddress ?? ''),
      remoteAddress: stripMapped(conn.sock.remoteAddress ?? ''),
      holdTime,
      keepaliveTime,
    };
    // Collision resolution (RFC 4271 §6.8): we know the peer's identifier now, so resolve against
    // the other connection whether it is in OpenSent or OpenConfirm.
    const other = conn === this.primary ? this.secondary : this.primary;
    if (other && other.sock && other.ctx.state === 'Established' && !other.discarded) {
      // The session came up on the other connection meanwhile: this one is the collision's loser
      // (RFC 4271 §6.8: a connection colliding with an Established one is closed).
      this.log('info', `connection collision with ${open.bgpId}: keeping the Established connection`);
      conn.discarded = true;
      this.queue.unshift({ conn, ev: { type: 'OpenCollisionDump' } });
      return;
    }
    const otherLive = other && other.sock && (other.ctx.state === 'OpenSent' || other.ctx.state === 'OpenConfirm');
    if (other && otherLive) {
      const winDir = collisionWinner(this.opts.fsm.localId, ipv4ToInt(open.bgpId)) === 'outgoing' ? 'out' : 'in';
      let loser: Connection;
      if (conn.dir === other.dir) loser = conn === this.secondary ? this.primary : this.secondary!; // keep the newer
      else loser = conn.dir === winDir ? other : conn;
      const kept = loser === conn ? other : conn;
      this.log('info', `connection collision with ${open.bgpId}: keeping the ${kept.dir === 'in' ? 'incoming' : 'outgoing'} connection`);
      loser.discarded = true;
      this.queue.unshift({ conn: loser, ev: { type: 'OpenCollisionDump' } });
      if (loser === this.primary) this.promoteSecondary();
      return;
    }
    if (conn === this.secondary) this.promoteSecondary();
  }

  /** The secondary connection becomes the session's connection; the old primary is dropped. */
  private promoteSecondary(): void {
    const s = this.secondary;
    if (!s) return;
    const old = this.primary;
    old.discarded = true;
    this.clearTimers(old);
    old.pending?.cancel();
    old.pending = null;
    if (old.ctx.state === 'Idle' || old.ctx.state === 'Connect' || old.ctx.state === 'Active') {
      old.sock?.destroy();
      old.sock = null;
    }
    // The discarded old primary stays reachable for one queued OpenCollisionDump via `secondary`.
    this.primary = s;
    this.secondary = old.sock ? old : null;
    this.since = Date.now();
  }

  private armTimer(conn: Connection, timer: TimerName, ms: number): void {
    const old = conn.timers.get(timer);
    if (old) clearTimeout(old);
    const ev = timerEvent(timer);
    const t = setTimeout(() => {
      conn.timers.delete(timer);
      this.post(conn, ev);
    }, Math.max(1, ms));
    t.unref?.();
    conn.timers.set(timer, t);
  }

  private clearTimers(c: Connection): void {
    for (const t of c.timers.values()) clearTimeout(t);
    c.timers.clear();
  }

  private startConnect(conn: Connection): void {
    conn.pending?.cancel();
    const timeoutMs = this.opts.connectTimeoutMs ?? Math.min(this.opts.fsm.connectRetryTime * 1000, 10_000);
    const attempt = connectTcp({
      remoteAddress: this.opts.peerAddress,
      remotePort: this.opts.peerPort,
      localAddress: this.opts.localAddress,
      md5: this.opts.password,
      ...(this.opts.ttlSecurity ? { ttlSecurity: this.opts.ttlSecurity } : {}),
      timeoutMs,
    });
    conn.pending = attempt;
    attempt.promise.then(
      (sock) => {
        if (conn.pending !== attempt || conn !== this.primary || conn.ctx.state !== 'Connect') {
          sock.destroy();
          return;
        }
        conn.pending = null;
        this.refusals = 0;
        this.attach(conn, sock, 'out');
        this.post(conn, { type: 'TcpConnectionAcknowledged' });
      },
      (err: unknown) => {
        if (conn.pending !== attempt) return;
        conn.pending = null;
        this.lastError = err instanceof Error ? err.message : String(err);
        this.log('debug', `connect failed: ${this.lastError}`);
        const refused = err instanceof TcpSocketError && err.errno === ECONNREFUSED;
        this.refusals = refused ? this.refusals + 1 : 0;
        this.post(conn, { type: 'TcpConnectionFails' });
        // Nobody listens there yet (the peer is starting): try again soon rather than after the
        // whole ConnectRetry time (docs/design/bgp-fsm.md). The FSM waits in Active with its
        // ConnectRetry timer running; this only brings that timer forward.
        if (refused && conn === this.primary && conn.ctx.state === 'Active' && conn.timers.has('connectRetry')) {
          this.armTimer(conn, 'connectRetry', refusedRetryMs(this.refusals, this.opts.fsm.connectRetryTime));
        }
      },
    );
  }

  private attach(conn: Connection, sock: net.Socket, dir: 'in' | 'out'): void {
    conn.sock = sock;
    conn.dir = dir;
    conn.reader = new FrameReader();
    conn.codec = { fourOctetAs: false };
    sock.setNoDelay(true);
    sock.on('data', (chunk: Buffer) => this.onData(conn, sock, chunk));
    const gone = (): void => {
      if (conn.sock === sock) {
        conn.sock = null;
        this.post(conn, { type: 'TcpConnectionFails' });
      }
    };
    sock.on('error', (err) => {
      this.log('debug', `socket error: ${err.message}`);
      gone();
    });
    sock.on('close', gone);
    sock.on('end', gone);
  }

  private write(conn: Connection, bytes: Uint8Array): void {
    if (!conn.sock || conn.sock.destroyed) return;
    conn.sock.write(bytes);
    this.counters.messagesOut++;
  }

  private onData(conn: Connection, sock: net.Socket, chunk: Buffer): void {
    if (conn.sock !== sock) return;
    try {
      conn.reader.push(chunk);
    } catch (err) {
      this.protocolError(conn, err, 'BGPHeaderErr');
      return;
    }
    for (;;) {
      if (conn.sock !== sock) return;
      let frame;
      try {
        frame = conn.reader.next();
      } catch (err) {
        this.protocolError(conn, err, 'BGPHeaderErr');
        return;
      }
      if (!frame) return;
      this.counters.messagesIn++;
      const kind = frame.type === MSG_TYPE.OPEN ? 'BGPOpenMsgErr' : frame.type === MSG_TYPE.UPDATE ? 'UpdateMsgErr' : 'BGPHeaderErr';
      let res: DecodeResult;
      try {
        res = decodeMessage(frame, conn.codec);
      } catch (err) {
        if (frame.type === MSG_TYPE.NOTIFICATION) {
          this.post(conn, { type: 'NotifMsg', notification: { code: frame.bytes[19] ?? 0, subcode: frame.bytes[20] ?? 0 } });
          return;
        }
        this.protocolError(conn, err, kind);
        return;
      }
      this.onMessage(conn, res);
    }
  }

  /**
   * Runs a handler; a bug there must not take the whole speaker down: the session is reset with
   * Cease / Out of Resources (RFC 4486 subcode 8) and the error is logged.
   */
  private guard(conn: Connection, fn: () => void): void {
    try {
      fn();
    } catch (err) {
      this.log('warn', `internal error handling a message, resetting session: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
      this.post(conn, { type: 'UpdateMsgErr', notification: { code: 6, subcode: 8 } });
    }
  }

  private protocolError(conn: Connection, err: unknown, kind: 'BGPHeaderErr' | 'BGPOpenMsgErr' | 'UpdateMsgErr'): void {
    if (err instanceof BgpMessageError) {
      this.log('warn', `protocol error from peer: ${err.message}`);
      const notification: Notification = { code: err.code, subcode: err.subcode, data: err.data };
      // An UPDATE error outside Established is an FSM error there; the FSM decides.
      if (kind === 'UpdateMsgErr' && conn.ctx.state !== 'Established') this.post(conn, { type: 'UpdateMsg' });
      else this.post(conn, { type: kind, notification });
      return;
    }
    // Never expected: a codec bug. Reset the session cleanly rather than crash the speaker.
    const msg = err instanceof Error ? err.message : String(err);
    this.log('warn', `internal error decoding a message, resetting session: ${msg}`);
    this.post(conn, { type: 'BGPHeaderErr', notification: { code: 6, subcode: 8 } });
  }

  private onMessage(conn: Connection, res: DecodeResult): void {
    const m = res.message;
    switch (m.type) {
      case 'OPEN': {
        conn.peerOpen = m;
        const as4 = findCapability(m, 'FOUR_OCTET_AS');
        const info: OpenInfo = { version: m.version, myAs: m.myAs, holdTime: m.holdTime, bgpId: ipv4ToInt(m.bgpId), as4: as4?.asn };
        this.post(conn, { type: 'BGPOpen', open: info });
        return;
      }
      case 'KEEPALIVE':
        this.post(conn, { type: 'KeepAliveMsg' });
        return;
      case 'NOTIFICATION': {
        const n = { code: m.code, subcode: m.subcode, data: m.data };
        this.log('info', `received NOTIFICATION ${describeNotification(n)}${m.shutdownMessage ? `: ${m.shutdownMessage}` : ''}`);
        if (m.code === 2 && m.subcode === 1 && conn.ctx.state === 'OpenSent') this.post(conn, { type: 'NotifMsgVerErr' });
        else this.post(conn, { type: 'NotifMsg', notification: n });
        return;
      }
      case 'UPDATE': {
        const was = conn.ctx.state;
        this.post(conn, { type: 'UpdateMsg' });
        if (was === 'Established' && conn === this.primary && conn.ctx.state === 'Established') {
          this.counters.updatesIn++;
          this.guard(conn, () => this.h.onUpdate(res as DecodeResult<UpdateMessage>));
        }
        return;
      }
      case 'ROUTE_REFRESH':
        if (conn.ctx.state === 'Established' && conn === this.primary) this.guard(conn, () => this.h.onRouteRefresh(m));
        return;
    }
  }
}

function timerEvent(t: TimerName): FsmEvent {
  switch (t) {
    case 'connectRetry':
      return { type: 'ConnectRetryTimer_Expires' };
    case 'hold':
      return { type: 'HoldTimer_Expires' };
    case 'keepalive':
      return { type: 'KeepaliveTimer_Expires' };
    case 'idleHold':
      return { type: 'IdleHoldTimer_Expires' };
  }
}

function stripMapped(a: string): string {
  return a.startsWith('::ffff:') && a.includes('.') ? a.slice(7) : a;
}
