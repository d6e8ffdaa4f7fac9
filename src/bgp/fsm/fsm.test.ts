import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  transition,
  initialContext,
  checkOpen,
  negotiateHoldTime,
  collisionWinner,
  AS_TRANS,
  LARGE_HOLD_TIME,
  type FsmConfig,
  type FsmContext,
  type FsmEvent,
  type FsmState,
  type FsmAction,
  type OpenInfo,
} from './fsm.ts';

const cfg: FsmConfig = {
  localAs: 64512,
  localId: 0xc6120001, // 198.18.0.1
  peerAs: 64512,
  holdTime: 90,
  connectRetryTime: 5,
  idleHoldTime: 2,
  passive: false,
  autoRestart: true,
};
const goodOpen: OpenInfo = { version: 4, myAs: 64512, holdTime: 30, bgpId: 0xc6120002, as4: 64512 };

function ctxIn(state: FsmState, patch: Partial<FsmContext> = {}): FsmContext {
  const base = { ...initialContext(), state, stopped: false };
  if (state === 'OpenConfirm' || state === 'Established') return { ...base, holdTime: 30, keepaliveTime: 10, peerOpen: goodOpen, ...patch };
  return { ...base, ...patch };
}
const has = (actions: FsmAction[], a: Partial<FsmAction> & { type: FsmAction['type'] }): boolean =>
  actions.some((x) => Object.entries(a).every(([k, v]) => JSON.stringify((x as Record<string, unknown>)[k]) === JSON.stringify(v)));
const notif = (actions: FsmAction[]): [number, number] | null => {
  const n = actions.find((a) => a.type === 'sendNotification');
  return n && n.type === 'sendNotification' ? [n.notification.code, n.notification.subcode] : null;
};

// [name, from state, event, config patch, expected state, expected NOTIFICATION (code/subcode) or null, extra action checks]
type Row = [string, FsmState, FsmEvent, Partial<FsmConfig>, FsmState, [number, number] | null, Array<Partial<FsmAction> & { type: FsmAction['type'] }>];
const rows: Row[] = [
  ['start active', 'Idle', { type: 'ManualStart' }, {}, 'Connect', null, [{ type: 'connect' }, { type: 'startTimer', timer: 'connectRetry', seconds: 5 }]],
  ['start passive', 'Idle', { type: 'ManualStart' }, { passive: true }, 'Active', null, [{ type: 'startTimer', timer: 'connectRetry' }]],
  ['idle ignores open', 'Idle', { type: 'BGPOpen', open: goodOpen }, {}, 'Idle', null, []],
  ['idle ignores tcp', 'Idle', { type: 'TcpConnectionConfirmed' }, {}, 'Idle', null, []],
  ['idle hold restarts', 'Idle', { type: 'IdleHoldTimer_Expires' }, {}, 'Connect', null, [{ type: 'connect' }]],
  ['connect: tcp acked sends open', 'Connect', { type: 'TcpConnectionAcknowledged' }, {}, 'OpenSent', null, [{ type: 'sendOpen' }, { type: 'startTimer', timer: 'hold', seconds: LARGE_HOLD_TIME }, { type: 'stopTimer', timer: 'connectRetry' }]],
  ['connect: incoming sends open', 'Connect', { type: 'TcpConnectionConfirmed' }, {}, 'OpenSent', null, [{ type: 'sendOpen' }]],
  ['connect: retry expires reconnects', 'Connect', { type: 'ConnectRetryTimer_Expires' }, {}, 'Connect', null, [{ type: 'dropConnection' }, { type: 'connect' }]],
  ['connect: tcp fails -> Active', 'Connect', { type: 'TcpConnectionFails' }, {}, 'Active', null, [{ type: 'dropConnection' }]],
  ['connect: manual stop', 'Connect', { type: 'ManualStop' }, {}, 'Idle', null, [{ type: 'dropConnection' }, { type: 'stopTimer', timer: 'connectRetry' }]],
  ['connect: open without connection is FSM error', 'Connect', { type: 'BGPOpen', open: goodOpen }, {}, 'Idle', null, [{ type: 'releaseResources' }, { type: 'startTimer', timer: 'idleHold' }]],
  ['active: retry expires connects', 'Active', { type: 'ConnectRetryTimer_Expires' }, {}, 'Connect', null, [{ type: 'connect' }]],
  ['active passive: retry expires keeps listening', 'Active', { type: 'ConnectRetryTimer_Expires' }, { passive: true }, 'Active', null, [{ type: 'startTimer', timer: 'connectRetry' }]],
  ['active: incoming', 'Active', { type: 'TcpConnectionConfirmed' }, {}, 'OpenSent', null, [{ type: 'sendOpen' }]],
  ['opensent: good open', 'OpenSent', { type: 'BGPOpen', open: goodOpen }, {}, 'OpenConfirm', null, [{ type: 'sendKeepalive' }, { type: 'startTimer', timer: 'hold', seconds: 30 }, { type: 'startTimer', timer: 'keepalive', seconds: 10 }]],
  ['opensent: hold 0 open', 'OpenSent', { type: 'BGPOpen', open: { ...goodOpen, holdTime: 0 } }, {}, 'OpenConfirm', null, [{ type: 'stopTimer', timer: 'hold' }]],
  ['opensent: bad version', 'OpenSent', { type: 'BGPOpen', open: { ...goodOpen, version: 3 } }, {}, 'Idle', [2, 1], []],
  ['opensent: bad peer AS', 'OpenSent', { type: 'BGPOpen', open: { ...goodOpen, myAs: 64999, as4: 64999 } }, {}, 'Idle', [2, 2], []],
  ['opensent: hold time 1', 'OpenSent', { type: 'BGPOpen', open: { ...goodOpen, holdTime: 1 } }, {}, 'Idle', [2, 6], []],
  ['opensent: hold time 2', 'OpenSent', { type: 'BGPOpen', open: { ...goodOpen, holdTime: 2 } }, {}, 'Idle', [2, 6], []],
  ['opensent: zero id', 'OpenSent', { type: 'BGPOpen', open: { ...goodOpen, bgpId: 0 } }, {}, 'Idle', [2, 3], []],
  ['opensent: iBGP same id', 'OpenSent', { type: 'BGPOpen', open: { ...goodOpen, bgpId: cfg.localId } }, {}, 'Idle', [2, 3], []],
  ['opensent: eBGP same id ok', 'OpenSent', { type: 'BGPOpen', open: { ...goodOpen, bgpId: cfg.localId, myAs: 64513, as4: 64513 } }, { peerAs: 64513 }, 'OpenConfirm', null, []],
  ['opensent: hold expires', 'OpenSent', { type: 'HoldTimer_Expires' }, {}, 'Idle', [4, 0], []],
  ['opensent: tcp fails -> Active', 'OpenSent', { type: 'TcpConnectionFails' }, {}, 'Active', null, [{ type: 'startTimer', timer: 'connectRetry' }]],
  ['opensent: keepalive unexpected', 'OpenSent', { type: 'KeepAliveMsg' }, {}, 'Idle', [5, 1], []],
  ['opensent: update unexpected', 'OpenSent', { type: 'UpdateMsg' }, {}, 'Idle', [5, 1], []],
  ['opensent: header error', 'OpenSent', { type: 'BGPHeaderErr', notification: { code: 1, subcode: 2 } }, {}, 'Idle', [1, 2], []],
  ['opensent: open msg error', 'OpenSent', { type: 'BGPOpenMsgErr', notification: { code: 2, subcode: 4 } }, {}, 'Idle', [2, 4], []],
  ['opensent: collision dump', 'OpenSent', { type: 'OpenCollisionDump' }, {}, 'Idle', [6, 7], []],
  ['opensent: notification', 'OpenSent', { type: 'NotifMsg', notification: { code: 6, subcode: 2 } }, {}, 'Idle', null, [{ type: 'dropConnection' }]],
  ['opensent: manual stop', 'OpenSent', { type: 'ManualStop' }, {}, 'Idle', [6, 2], []],
  ['openconfirm: keepalive -> Established', 'OpenConfirm', { type: 'KeepAliveMsg' }, {}, 'Established', null, [{ type: 'established', holdTime: 30, keepaliveTime: 10 }, { type: 'startTimer', timer: 'hold', seconds: 30 }]],
  ['openconfirm: keepalive timer', 'OpenConfirm', { type: 'KeepaliveTimer_Expires' }, {}, 'OpenConfirm', null, [{ type: 'sendKeepalive' }, { type: 'startTimer', timer: 'keepalive', seconds: 10 }]],
  ['openconfirm: hold expires', 'OpenConfirm', { type: 'HoldTimer_Expires' }, {}, 'Idle', [4, 0], []],
  ['openconfirm: update unexpected', 'OpenConfirm', { type: 'UpdateMsg' }, {}, 'Idle', [5, 2], []],
  ['openconfirm: second open unexpected', 'OpenConfirm', { type: 'BGPOpen', open: goodOpen }, {}, 'Idle', [5, 2], []],
  ['openconfirm: collision dump', 'OpenConfirm', { type: 'OpenCollisionDump' }, {}, 'Idle', [6, 7], []],
  ['openconfirm: tcp fails', 'OpenConfirm', { type: 'TcpConnectionFails' }, {}, 'Idle', null, [{ type: 'releaseResources' }]],
  ['established: update restarts hold', 'Established', { type: 'UpdateMsg' }, {}, 'Established', null, [{ type: 'startTimer', timer: 'hold', seconds: 30 }]],
  ['established: keepalive restarts hold', 'Established', { type: 'KeepAliveMsg' }, {}, 'Established', null, [{ type: 'startTimer', timer: 'hold', seconds: 30 }]],
  ['established: keepalive timer', 'Established', { type: 'KeepaliveTimer_Expires' }, {}, 'Established', null, [{ type: 'sendKeepalive' }]],
  ['established: hold expires', 'Established', { type: 'HoldTimer_Expires' }, {}, 'Idle', [4, 0], [{ type: 'releaseResources' }]],
  ['established: update error', 'Established', { type: 'UpdateMsgErr', notification: { code: 3, subcode: 1 } }, {}, 'Idle', [3, 1], []],
  ['established: open unexpected', 'Established', { type: 'BGPOpen', open: goodOpen }, {}, 'Idle', [5, 3], []],
  ['established: notification', 'Established', { type: 'NotifMsg', notification: { code: 6, subcode: 4 } }, {}, 'Idle', null, [{ type: 'releaseResources' }]],
  ['established: tcp fails', 'Established', { type: 'TcpConnectionFails' }, {}, 'Idle', null, [{ type: 'startTimer', timer: 'idleHold', seconds: 2 }]],
  ['established: manual stop', 'Established', { type: 'ManualStop' }, {}, 'Idle', [6, 2], []],
  ['established: stop with subcode', 'Established', { type: 'AutomaticStop', subcode: 3 }, {}, 'Idle', [6, 3], []],
  ['established: no autorestart', 'Established', { type: 'TcpConnectionFails' }, { autoRestart: false }, 'Idle', null, []],
];

for (const [name, from, ev, patch, want, wantNotif, checks] of rows) {
  void test(`fsm: ${name}`, () => {
    const c = { ...cfg, ...patch };
    const r = transition(ctxIn(from), ev, c);
    assert.equal(r.ctx.state, want);
    assert.deepEqual(notif(r.actions), wantNotif);
    for (const chk of checks) assert.ok(has(r.actions, chk), `missing action ${JSON.stringify(chk)} in ${JSON.stringify(r.actions)}`);
  });
}

void test('fsm: manual stop leaves Idle without restart; a stale idle-hold expiry does nothing', () => {
  const r = transition(ctxIn('Established'), { type: 'ManualStop' }, cfg);
  assert.equal(r.ctx.stopped, true);
  assert.ok(!r.actions.some((a) => a.type === 'startTimer'));
  assert.equal(transition(r.ctx, { type: 'IdleHoldTimer_Expires' }, cfg).ctx.state, 'Idle');
  assert.equal(transition(r.ctx, { type: 'ManualStart' }, cfg).ctx.state, 'Connect');
});

void test('fsm: errors count connect retries; Established resets the counter', () => {
  let ctx = ctxIn('OpenSent');
  ctx = transition(ctx, { type: 'HoldTimer_Expires' }, cfg).ctx;
  assert.equal(ctx.connectRetryCounter, 1);
  assert.match(ctx.lastError ?? '', /hold timer/);
  ctx = transition(ctx, { type: 'IdleHoldTimer_Expires' }, cfg).ctx;
  ctx = transition(ctx, { type: 'TcpConnectionAcknowledged' }, cfg).ctx;
  ctx = transition(ctx, { type: 'BGPOpen', open: goodOpen }, cfg).ctx;
  ctx = transition(ctx, { type: 'KeepAliveMsg' }, cfg).ctx;
  assert.equal(ctx.state, 'Established');
  assert.equal(ctx.connectRetryCounter, 0);
  assert.equal(ctx.lastError, null);
});

void test('hold time negotiation: min of both, keepalive a third, 0 disables', () => {
  assert.deepEqual(negotiateHoldTime(90, 30), { holdTime: 30, keepaliveTime: 10 });
  assert.deepEqual(negotiateHoldTime(9, 240), { holdTime: 9, keepaliveTime: 3 });
  assert.deepEqual(negotiateHoldTime(0, 90), { holdTime: 0, keepaliveTime: 0 });
  assert.deepEqual(negotiateHoldTime(90, 0), { holdTime: 0, keepaliveTime: 0 });
  assert.deepEqual(negotiateHoldTime(3, 3), { holdTime: 3, keepaliveTime: 1 });
  assert.deepEqual(negotiateHoldTime(90, 90, 5), { holdTime: 90, keepaliveTime: 5 });
});

void test('open check: 4-octet AS and AS_TRANS', () => {
  const c = { localAs: 64512, localId: 1, peerAs: 4200000001 };
  assert.equal(checkOpen({ version: 4, myAs: AS_TRANS, holdTime: 90, bgpId: 2, as4: 4200000001 }, c), null);
  assert.equal(checkOpen({ version: 4, myAs: 100, holdTime: 90, bgpId: 2, as4: 4200000001 }, c)?.subcode, 2);
  // A 2-octet-only peer cannot be AS 4200000001: it would send AS_TRANS without the capability.
  assert.equal(checkOpen({ version: 4, myAs: AS_TRANS, holdTime: 90, bgpId: 2 }, c)?.subcode, 2);
  assert.equal(checkOpen({ version: 4, myAs: AS_TRANS, holdTime: 90, bgpId: 2, as4: 0 }, { ...c, peerAs: 0 })?.subcode, 2);
  const d = checkOpen({ version: 5, myAs: 1, holdTime: 90, bgpId: 2 }, c);
  assert.deepEqual([d?.code, d?.subcode, [...(d?.data ?? [])]], [2, 1, [0, 4]]);
});

void test('collision: the connection initiated by the higher identifier survives', () => {
  assert.equal(collisionWinner(0xc6120002, 0xc6120001), 'outgoing');
  assert.equal(collisionWinner(0xc6120001, 0xc6120002), 'incoming');
  // Unsigned comparison: 255.0.0.0 > 1.0.0.0 even though it is negative as int32.
  assert.equal(collisionWinner(0xff000000 | 0, 0x01000000), 'outgoing');
});
