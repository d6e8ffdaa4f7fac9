// Public surface of the BGP FSM: the pure transition function and the session driver.
export {
  transition,
  initialContext,
  checkOpen,
  negotiateHoldTime,
  collisionWinner,
  describeNotification,
  peerAsOf,
  FSM_STATES,
  NOTIFY,
  OPEN_ERR,
  FSM_ERR,
  CEASE,
  LARGE_HOLD_TIME,
} from './fsm.ts';
export type { FsmState, FsmEvent, FsmAction, FsmConfig, FsmContext, FsmResult, Notification, OpenInfo, TimerName } from './fsm.ts';
export { Session } from './session.ts';
export type { SessionOptions, SessionHandlers, SessionStats, EstablishedInfo, DownCause } from './session.ts';
export { Md5Listener, connectTcp, setMd5Key, setTtl, setTtlSecurity, applyTtlSecurity, GTSM_TTL, TcpSocketError } from './tcp-socket.ts';
export type { ListenOptions, ConnectOptions } from './tcp-socket.ts';
