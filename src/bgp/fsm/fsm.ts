// The BGP finite state machine of RFC 4271 §8 as a pure transition function:
// `transition(ctx, event, cfg) → { ctx, actions }`. No sockets, no timers, no clocks here: the
// session driver (session.ts) turns actions into I/O and feeds I/O back in as events.
//
// One FSM instance describes ONE transport connection's life (plus the idle/connect phases
// before it). Connection collisions (§6.8) are resolved by the driver, which runs a second
// instance for the second connection and sends `OpenCollisionDump` to the loser.
//
// Simplifications, all permitted by the RFC's optional-attribute list (§8.1.1): no DelayOpen,
// no peer oscillation damping other than a fixed IdleHold timer before automatic restart, and
// the passive/active choice is a configuration flag rather than separate start events.

export const FSM_STATES = ['Idle', 'Connect', 'Active', 'OpenSent', 'OpenConfirm', 'Established'] as const;
export type FsmState = (typeof FSM_STATES)[number];

export type TimerName = 'connectRetry' | 'hold' | 'keepalive' | 'idleHold';

/** Protocol constants (RFC 4271 §4.5 and §6). */
export const NOTIFY = {
  MessageHeaderError: 1,
  OpenMessageError: 2,
  UpdateMessageError: 3,
  HoldTimerExpired: 4,
  FsmError: 5,
  Cease: 6,
} as const;

/** OPEN Message Error subcodes (RFC 4271 §6.2, RFC 5492). */
export const OPEN_ERR = {
  UnsupportedVersion: 1,
  BadPeerAs: 2,
  BadBgpIdentifier: 3,
  UnsupportedOptionalParameter: 4,
  UnacceptableHoldTime: 6,
  UnsupportedCapability: 7,
} as const;

/** FSM Error subcodes (RFC 6608). */
export const FSM_ERR = { Unspecified: 0, UnexpectedInOpenSent: 1, UnexpectedInOpenConfirm: 2, UnexpectedInEstablished: 3 } as const;

/** Cease subcodes (RFC 4486). */
export const CEASE = {
  MaxPrefixes: 1,
  AdministrativeShutdown: 2,
  PeerDeconfigured: 3,
  AdministrativeReset: 4,
  ConnectionRejected: 5,
  OtherConfigurationChange: 6,
  ConnectionCollisionResolution: 7,
  OutOfResources: 8,
  HardReset: 9,
} as const;

export interface Notification {
  code: number;
  subcode: number;
  data?: Uint8Array;
}

/** What the FSM needs from a received OPEN (the driver extracts it from the decoded message). */
export interface OpenInfo {
  version: number;
  /** The 2-octet "My Autonomous System" field. */
  myAs: number;
  holdTime: number;
  /** BGP identifier as an unsigned 32-bit integer. */
  bgpId: number;
  /** The 4-octet AS from the capability (RFC 6793), if the peer sent one. */
  as4?: number;
}

export type FsmEvent =
  | { type: 'ManualStart' }
  | { type: 'ManualStop'; subcode?: number }
  | { type: 'AutomaticStart' }
  | { type: 'AutomaticStop'; subcode?: number }
  | { type: 'ConnectRetryTimer_Expires' }
  | { type: 'HoldTimer_Expires' }
  | { type: 'KeepaliveTimer_Expires' }
  | { type: 'IdleHoldTimer_Expires' }
  /** An incoming connection was accepted for this peer (RFC event 17). */
  | { type: 'TcpConnectionConfirmed' }
  /** Our outgoing connection completed (RFC event 16, Tcp_CR_Acked). */
  | { type: 'TcpConnectionAcknowledged' }
  | { type: 'TcpConnectionFails' }
  | { type: 'BGPOpen'; open: OpenInfo }
  | { type: 'BGPHeaderErr'; notification: Notification }
  | { type: 'BGPOpenMsgErr'; notification: Notification }
  | { type: 'OpenCollisionDump' }
  | { type: 'NotifMsgVerErr' }
  | { type: 'NotifMsg'; notification: Notification }
  | { type: 'KeepAliveMsg' }
  | { type: 'UpdateMsg' }
  | { type: 'UpdateMsgErr'; notification: Notification };

export type FsmAction =
  | { type: 'connect' }
  | { type: 'sendOpen' }
  | { type: 'sendKeepalive' }
  | { type: 'sendNotification'; notification: Notification }
  | { type: 'startTimer'; timer: TimerName; seconds: number }
  | { type: 'stopTimer'; timer: TimerName }
  | { type: 'dropConnection' }
  /** The session left Established (or a half-open one was abandoned): forget the peer's routes. */
  | { type: 'releaseResources' }
  /** OPEN accepted: the driver may check for a collision now (peer's id is known). */
  | { type: 'openAccepted'; open: OpenInfo; holdTime: number; keepaliveTime: number }
  | { type: 'established'; holdTime: number; keepaliveTime: number };

export interface FsmConfig {
  localAs: number;
  /** Our BGP identifier as an unsigned 32-bit integer. */
  localId: number;
  /** Expected peer AS. */
  peerAs: number;
  /** Our proposed hold time, seconds (0 or >= 3). */
  holdTime: number;
  /** Keepalive interval to use when the negotiated hold time equals ours; default hold/3. */
  keepaliveTime?: number;
  connectRetryTime: number;
  /** Delay before an automatic restart after an error (seconds). */
  idleHoldTime: number;
  /** Never initiate connections; only accept them. */
  passive: boolean;
  /** Restart automatically after errors (not after ManualStop). */
  autoRestart: boolean;
}

export interface FsmContext {
  readonly state: FsmState;
  readonly connectRetryCounter: number;
  /** Negotiated hold time (seconds) once an OPEN was accepted. */
  readonly holdTime: number;
  readonly keepaliveTime: number;
  /** The peer's accepted OPEN. */
  readonly peerOpen: OpenInfo | null;
  /** The last NOTIFICATION we sent or received, or the last transport failure. */
  readonly lastError: string | null;
  /** True after ManualStop: no automatic restart until ManualStart. */
  readonly stopped: boolean;
}

export interface FsmResult {
  ctx: FsmContext;
  actions: FsmAction[];
}

/** The large hold timer used while waiting for the peer's OPEN (RFC 4271 §8: "suggested 4 minutes"). */
export const LARGE_HOLD_TIME = 240;
export const AS_TRANS = 23456;

export function initialContext(): FsmContext {
  return { state: 'Idle', connectRetryCounter: 0, holdTime: 0, keepaliveTime: 0, peerOpen: null, lastError: null, stopped: true };
}

/** Negotiated hold time: the smaller of both; 0 means no keepalives and no hold timer. */
export function negotiateHoldTime(ours: number, theirs: number, keepaliveConfigured?: number): { holdTime: number; keepaliveTime: number } {
  const holdTime = Math.min(ours, theirs);
  if (holdTime === 0) return { holdTime: 0, keepaliveTime: 0 };
  let keepaliveTime = Math.floor(holdTime / 3);
  if (keepaliveConfigured !== undefined && keepaliveConfigured > 0 && keepaliveConfigured < keepaliveTime) keepaliveTime = keepaliveConfigured;
  return { holdTime, keepaliveTime: Math.max(1, keepaliveTime) };
}

function u16(n: number): Uint8Array {
  return Uint8Array.of((n >> 8) & 0xff, n & 0xff);
}

/** The peer's AS as announced: the 4-octet capability if present, else the 2-octet field. */
export function peerAsOf(open: OpenInfo): number {
  return open.as4 ?? open.myAs;
}

/**
 * Validates a received OPEN against our configuration (RFC 4271 §6.2, RFC 6793, RFC 6286).
 * Returns the NOTIFICATION to send, or null when the OPEN is acceptable.
 */
export function checkOpen(open: OpenInfo, cfg: Pick<FsmConfig, 'localAs' | 'localId' | 'peerAs'>): (Notification & { reason: string }) | null {
  if (open.version !== 4) {
    return { code: NOTIFY.OpenMessageError, subcode: OPEN_ERR.UnsupportedVersion, data: u16(4), reason: `unsupported BGP version ${open.version} (we speak 4)` };
  }
  const as = peerAsOf(open);
  if (open.as4 !== undefined) {
    // RFC 6793 §4.1: a speaker with a 4-octet AS that does not fit 2 octets must put AS_TRANS in My AS.
    if (open.as4 > 0xffff && open.myAs !== AS_TRANS) {
      return { code: NOTIFY.OpenMessageError, subcode: OPEN_ERR.BadPeerAs, data: u16(open.myAs), reason: `peer AS ${open.as4} needs AS_TRANS in My AS, got ${open.myAs}` };
    }
    if (open.as4 === 0) return { code: NOTIFY.OpenMessageError, subcode: OPEN_ERR.BadPeerAs, data: u16(open.myAs), reason: 'peer AS 0 in 4-octet AS capability' };
  }
  if (as !== cfg.peerAs) {
    return { code: NOTIFY.OpenMessageError, subcode: OPEN_ERR.BadPeerAs, data: u16(open.myAs), reason: `peer AS ${as} does not match configured ${cfg.peerAs}` };
  }
  if (open.holdTime === 1 || open.holdTime === 2) {
    return { code: NOTIFY.OpenMessageError, subcode: OPEN_ERR.UnacceptableHoldTime, reason: `unacceptable hold time ${open.holdTime} (must be 0 or at least 3)` };
  }
  if (open.bgpId === 0) {
    return { code: NOTIFY.OpenMessageError, subcode: OPEN_ERR.BadBgpIdentifier, reason: 'peer BGP identifier is 0.0.0.0' };
  }
  if (cfg.peerAs === cfg.localAs && open.bgpId >>> 0 === cfg.localId >>> 0) {
    return { code: NOTIFY.OpenMessageError, subcode: OPEN_ERR.BadBgpIdentifier, reason: 'iBGP peer uses our own BGP identifier' };
  }
  return null;
}

/**
 * Connection collision (RFC 4271 §6.8): given both identifiers, which connection survives?
 * The one initiated by the speaker with the higher BGP identifier (compared as unsigned ints).
 */
export function collisionWinner(localId: number, remoteId: number): 'outgoing' | 'incoming' {
  return localId >>> 0 > remoteId >>> 0 ? 'outgoing' : 'incoming';
}

export function describeNotification(n: Notification): string {
  const codes: Record<number, string> = {
    1: 'message header error',
    2: 'OPEN message error',
    3: 'UPDATE message error',
    4: 'hold timer expired',
    5: 'FSM error',
    6: 'cease',
    7: 'route refresh message error',
  };
  const cease: Record<number, string> = {
    1: 'maximum prefixes reached',
    2: 'administrative shutdown',
    3: 'peer de-configured',
    4: 'administrative reset',
    5: 'connection rejected',
    6: 'other configuration change',
    7: 'connection collision resolution',
    8: 'out of resources',
    9: 'hard reset',
  };
  const name = codes[n.code] ?? `code ${n.code}`;
  const sub = n.code === 6 ? (cease[n.subcode] ?? `subcode ${n.subcode}`) : `subcode ${n.subcode}`;
  return `${name} (${n.code}/${n.subcode}, ${sub})`;
}

function to(ctx: FsmContext, state: FsmState, patch: Partial<FsmContext> = {}): FsmContext {
  return { ...ctx, ...patch, state };
}

const ALL_TIMERS_STOP: FsmAction[] = [
  { type: 'stopTimer', timer: 'connectRetry' },
  { type: 'stopTimer', timer: 'hold' },
  { type: 'stopTimer', timer: 'keepalive' },
];

/**
 * Go to Idle after an error: stop timers, drop the connection, release resources, count it,
 * and (unless stopped) arm the IdleHold timer for the automatic restart.
 */
function toIdle(ctx: FsmContext, cfg: FsmConfig, why: string, pre: FsmAction[] = [], countIt = true): FsmResult {
  const actions: FsmAction[] = [...pre, ...ALL_TIMERS_STOP, { type: 'dropConnection' }, { type: 'releaseResources' }];
  const stopped = ctx.stopped || !cfg.autoRestart;
  if (!stopped) actions.push({ type: 'startTimer', timer: 'idleHold', seconds: cfg.idleHoldTime });
  return {
    ctx: to(ctx, 'Idle', {
      connectRetryCounter: countIt ? ctx.connectRetryCounter + 1 : ctx.connectRetryCounter,
      lastError: why,
      holdTime: 0,
      keepaliveTime: 0,
      peerOpen: null,
      stopped,
    }),
    actions,
  };
}

function notifyAndIdle(ctx: FsmContext, cfg: FsmConfig, n: Notification, why?: string): FsmResult {
  return toIdle(ctx, cfg, why ?? `sent NOTIFICATION: ${describeNotification(n)}`, [{ type: 'sendNotification', notification: n }]);
}

function start(ctx: FsmContext, cfg: FsmConfig): FsmResult {
  const actions: FsmAction[] = [{ type: 'stopTimer', timer: 'idleHold' }, { type: 'startTimer', timer: 'connectRetry', seconds: cfg.connectRetryTime }];
  if (cfg.passive) return { ctx: to(ctx, 'Active', { stopped: false }), actions };
  actions.push({ type: 'connect' });
  return { ctx: to(ctx, 'Connect', { stopped: false }), actions };
}

function connected(ctx: FsmContext): FsmResult {
  return {
    ctx: to(ctx, 'OpenSent'),
    actions: [
      { type: 'stopTimer', timer: 'connectRetry' },
      { type: 'sendOpen' },
      { type: 'startTimer', timer: 'hold', seconds: LARGE_HOLD_TIME },
    ],
  };
}

function stopEvent(ctx: FsmContext, cfg: FsmConfig, subcode: number | undefined, manual: boolean): FsmResult {
  const n: Notification = { code: NOTIFY.Cease, subcode: subcode ?? CEASE.AdministrativeShutdown };
  const pre: FsmAction[] = ctx.state === 'OpenSent' || ctx.state === 'OpenConfirm' || ctx.state === 'Established' ? [{ type: 'sendNotification', notification: n }] : [];
  const stopped = manual ? { ...ctx, stopped: true } : ctx;
  const r = toIdle(stopped, cfg, manual ? 'stopped by operator' : `stopped: ${describeNotification(n)}`, pre, !manual);
  if (manual) r.ctx = { ...r.ctx, connectRetryCounter: 0 };
  return r;
}

/** The transition function. Unknown (state, event) pairs follow the RFC's "any other event". */
export function transition(ctx: FsmContext, ev: FsmEvent, cfg: FsmConfig): FsmResult {
  const same = (actions: FsmAction[] = []): FsmResult => ({ ctx, actions });
  switch (ctx.state) {
    case 'Idle':
      switch (ev.type) {
        case 'ManualStart':
          return start({ ...ctx, connectRetryCounter: 0 }, cfg);
        case 'AutomaticStart':
        case 'IdleHoldTimer_Expires':
          if (ev.type === 'IdleHoldTimer_Expires' && ctx.stopped) return same();
          return start(ctx, cfg);
        case 'ManualStop':
          return { ctx: { ...ctx, stopped: true, connectRetryCounter: 0 }, actions: [{ type: 'stopTimer', timer: 'idleHold' }] };
        default:
          // RFC 4271 §8.2.2: in Idle, all other events are ignored (incoming connections refused by the driver).
          return same();
      }

    case 'Connect':
    case 'Active':
      switch (ev.type) {
        case 'ManualStart':
        case 'AutomaticStart':
        case 'IdleHoldTimer_Expires':
          return same();
        case 'ManualStop':
          return stopEvent(ctx, cfg, ev.subcode, true);
        case 'AutomaticStop':
          return stopEvent(ctx, cfg, ev.subcode, false);
        case 'ConnectRetryTimer_Expires':
          if (cfg.passive) return same([{ type: 'startTimer', timer: 'connectRetry', seconds: cfg.connectRetryTime }]);
          return {
            ctx: to(ctx, 'Connect'),
            actions: [{ type: 'dropConnection' }, { type: 'startTimer', timer: 'connectRetry', seconds: cfg.connectRetryTime }, { type: 'connect' }],
          };
        case 'TcpConnectionConfirmed':
        case 'TcpConnectionAcknowledged':
          return connected(ctx);
        case 'TcpConnectionFails':
          if (ctx.state === 'Connect') {
            // Our connect attempt failed: wait for ConnectRetry (listening meanwhile).
            return { ctx: to(ctx, 'Active', { lastError: 'connection failed' }), actions: [{ type: 'dropConnection' }] };
          }
          return same([{ type: 'dropConnection' }]);
        default:
          // BGPOpen, KeepAliveMsg, UpdateMsg, ... without a connection: FSM error, no NOTIFICATION.
          return toIdle(ctx, cfg, `unexpected ${ev.type} in ${ctx.state}`);
      }

    case 'OpenSent':
      switch (ev.type) {
        case 'ManualStart':
        case 'AutomaticStart':
        case 'IdleHoldTimer_Expires':
          return same();
        case 'ManualStop':
          return stopEvent(ctx, cfg, ev.subcode, true);
        case 'AutomaticStop':
          return stopEvent(ctx, cfg, ev.subcode, false);
        case 'HoldTimer_Expires':
          return notifyAndIdle(ctx, cfg, { code: NOTIFY.HoldTimerExpired, subcode: 0 }, 'hold timer expired waiting for OPEN');
        case 'TcpConnectionFails':
          return {
            ctx: to(ctx, 'Active', { lastError: 'connection closed in OpenSent' }),
            actions: [{ type: 'dropConnection' }, { type: 'stopTimer', timer: 'hold' }, { type: 'startTimer', timer: 'connectRetry', seconds: cfg.connectRetryTime }],
          };
        case 'BGPOpen': {
          const bad = checkOpen(ev.open, cfg);
          if (bad) return notifyAndIdle(ctx, cfg, { code: bad.code, subcode: bad.subcode, data: bad.data }, `rejected OPEN: ${bad.reason}`);
          const neg = negotiateHoldTime(cfg.holdTime, ev.open.holdTime, cfg.keepaliveTime);
          const actions: FsmAction[] = [
            { type: 'stopTimer', timer: 'connectRetry' },
            { type: 'openAccepted', open: ev.open, ...neg },
            { type: 'sendKeepalive' },
          ];
          if (neg.holdTime > 0) {
            actions.push({ type: 'startTimer', timer: 'keepalive', seconds: neg.keepaliveTime }, { type: 'startTimer', timer: 'hold', seconds: neg.holdTime });
          } else {
            actions.push({ type: 'stopTimer', timer: 'hold' });
          }
          return { ctx: to(ctx, 'OpenConfirm', { holdTime: neg.holdTime, keepaliveTime: neg.keepaliveTime, peerOpen: ev.open }), actions };
        }
        case 'BGPHeaderErr':
        case 'BGPOpenMsgErr':
          return notifyAndIdle(ctx, cfg, ev.notification);
        case 'OpenCollisionDump':
          return notifyAndIdle(ctx, cfg, { code: NOTIFY.Cease, subcode: CEASE.ConnectionCollisionResolution }, 'connection collision: this connection lost');
        case 'NotifMsgVerErr':
          return toIdle(ctx, cfg, 'peer does not support our BGP version', [], false);
        case 'NotifMsg':
          return toIdle(ctx, cfg, `received NOTIFICATION: ${describeNotification(ev.notification)}`);
        default:
          return notifyAndIdle(ctx, cfg, { code: NOTIFY.FsmError, subcode: FSM_ERR.UnexpectedInOpenSent }, `unexpected ${ev.type} in OpenSent`);
      }

    case 'OpenConfirm':
      switch (ev.type) {
        case 'ManualStart':
        case 'AutomaticStart':
        case 'IdleHoldTimer_Expires':
          return same();
        case 'ManualStop':
          return stopEvent(ctx, cfg, ev.subcode, true);
        case 'AutomaticStop':
          return stopEvent(ctx, cfg, ev.subcode, false);
        case 'HoldTimer_Expires':
          return notifyAndIdle(ctx, cfg, { code: NOTIFY.HoldTimerExpired, subcode: 0 }, 'hold timer expired in OpenConfirm');
        case 'KeepaliveTimer_Expires':
          return same([{ type: 'sendKeepalive' }, { type: 'startTimer', timer: 'keepalive', seconds: ctx.keepaliveTime }]);
        case 'TcpConnectionFails':
          return toIdle(ctx, cfg, 'connection closed in OpenConfirm');
        case 'NotifMsgVerErr':
          return toIdle(ctx, cfg, 'peer does not support our BGP version', [], false);
        case 'NotifMsg':
          return toIdle(ctx, cfg, `received NOTIFICATION: ${describeNotification(ev.notification)}`);
        case 'BGPHeaderErr':
        case 'BGPOpenMsgErr':
          return notifyAndIdle(ctx, cfg, ev.notification);
        case 'OpenCollisionDump':
          return notifyAndIdle(ctx, cfg, { code: NOTIFY.Cease, subcode: CEASE.ConnectionCollisionResolution }, 'connection collision: this connection lost');
        case 'KeepAliveMsg': {
          const actions: FsmAction[] = [{ type: 'established', holdTime: ctx.holdTime, keepaliveTime: ctx.keepaliveTime }];
          if (ctx.holdTime > 0) actions.push({ type: 'startTimer', timer: 'hold', seconds: ctx.holdTime });
          return { ctx: to(ctx, 'Established', { connectRetryCounter: 0, lastError: null }), actions };
        }
        default:
          return notifyAndIdle(ctx, cfg, { code: NOTIFY.FsmError, subcode: FSM_ERR.UnexpectedInOpenConfirm }, `unexpected ${ev.type} in OpenConfirm`);
      }

    case 'Established':
      switch (ev.type) {
        case 'ManualStart':
        case 'AutomaticStart':
        case 'IdleHoldTimer_Expires':
          return same();
        case 'ManualStop':
          return stopEvent(ctx, cfg, ev.subcode, true);
        case 'AutomaticStop':
          return stopEvent(ctx, cfg, ev.subcode, false);
        case 'HoldTimer_Expires':
          return notifyAndIdle(ctx, cfg, { code: NOTIFY.HoldTimerExpired, subcode: 0 }, 'hold timer expired');
        case 'KeepaliveTimer_Expires':
          return same([{ type: 'sendKeepalive' }, { type: 'startTimer', timer: 'keepalive', seconds: ctx.keepaliveTime }]);
        case 'KeepAliveMsg':
        case 'UpdateMsg':
          return same(ctx.holdTime > 0 ? [{ type: 'startTimer', timer: 'hold', seconds: ctx.holdTime }] : []);
        case 'TcpConnectionFails':
          return toIdle(ctx, cfg, 'connection closed by peer');
        case 'NotifMsgVerErr':
          return toIdle(ctx, cfg, 'peer does not support our BGP version', [], false);
        case 'NotifMsg':
          return toIdle(ctx, cfg, `received NOTIFICATION: ${describeNotification(ev.notification)}`);
        case 'UpdateMsgErr':
        case 'BGPHeaderErr':
        case 'BGPOpenMsgErr':
          return notifyAndIdle(ctx, cfg, ev.notification);
        case 'OpenCollisionDump':
          return notifyAndIdle(ctx, cfg, { code: NOTIFY.Cease, subcode: CEASE.ConnectionCollisionResolution }, 'connection collision: this connection lost');
        default:
          return notifyAndIdle(ctx, cfg, { code: NOTIFY.FsmError, subcode: FSM_ERR.UnexpectedInEstablished }, `unexpected ${ev.type} in Established`);
      }
  }
}
