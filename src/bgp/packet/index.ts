// Public surface of the BGP wire codec (src/bgp/packet). Pure: no sockets, no timers.
// See docs/design/bgp-codec.md.
export * from './types.ts';
export { ByteReader, ByteWriter } from './bytes.ts';
export {
  parsePrefix,
  makePrefix,
  prefixKey,
  familyKey,
  formatIpv4,
  formatIpv6,
  parseIpv4,
  parseIpv6,
  ipv4PrefixText,
} from './prefix.ts';
export { FrameReader } from './frame.ts';
export type { FrameReaderOptions } from './frame.ts';
export {
  decodeMessage,
  encodeMessage,
  decodeOpen,
  encodeOpen,
  decodeUpdate,
  encodeUpdate,
  decodeNotification,
  encodeNotification,
  decodeRouteRefresh,
  encodeRouteRefresh,
  KEEPALIVE_BYTES,
} from './message.ts';
export { decodeCapabilities, encodeCapability, openPeerAs, findCapability, negotiateCodec } from './capabilities.ts';
export type { NegotiatedCodec } from './capabilities.ts';
export {
  packAdvertisements,
  packWithdrawals,
  endOfRib,
  isEndOfRib,
} from './pack.ts';
export type { ReachTemplate } from './pack.ts';
export {
  toTwoOctetPath,
  mergeAs4Path,
  mergeAs4Attributes,
  asPathLength,
  markUnknownPartial,
} from './as4.ts';
export { describeError, notificationFromError } from './errors.ts';
