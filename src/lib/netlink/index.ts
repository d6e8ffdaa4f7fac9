// Public surface of the in-process rtnetlink layer (see docs/design/netlink.md).
export {
  NetlinkError, NlWriter, splitMessages, forEachAttr, decodeError, encodeRoute, decodeRoute, decodeLink, decodeAddress,
  parseIP, formatIP, networkOf,
} from './codec.ts';
export type {
  NetlinkErrorCode, Family, Route, RouteType, RouteScope, NextHop, RouteOp, KernelRoute, Link, Address, NlMessage,
  NlErrorInfo, LinkChange,
} from './codec.ts';
export { NetlinkSocket, withNetns, netnsPath } from './socket.ts';
export type { NetlinkSocketOptions } from './socket.ts';
export { NetlinkRoutes, DEFAULT_PROTOCOL } from './routes.ts';
export type { RouteBatch, RouteError, ApplyResult, NetlinkRoutesOptions, RouteDumpFilter } from './routes.ts';
export { NetlinkLinks } from './links.ts';
export type { ConnectedSubnet, VethOptions } from './links.ts';
export { countIPv4Routes, parseFibTrieStat, fibTableName } from './route-count.ts';
export * as rtnl from './constants.ts';
export { NetlinkMonitor } from './monitor.ts';
export type { NetlinkEvent, MonitorOptions } from './monitor.ts';
export { readSysctl, writeSysctl, sysctlPath } from './sysctl.ts';
