// BGP wire codec: the message, attribute and context types, wire constants and the error class.
// Pure data; no I/O. RFC names for constants (RFC 4271, 4760, 5492, 6793, 7606, 7911, 8950, ...).

// ---------------------------------------------------------------------------------------------
// Wire constants
// ---------------------------------------------------------------------------------------------

export const BGP_MARKER_LENGTH = 16;
export const BGP_HEADER_LENGTH = 19;
/** RFC 4271 maximum message size. */
export const BGP_MAX_MESSAGE_LENGTH = 4096;
/** RFC 8654 maximum message size, once the Extended Message capability is negotiated both ways. */
export const BGP_MAX_EXTENDED_MESSAGE_LENGTH = 65535;
export const BGP_VERSION = 4;
export const BGP_PORT = 179;
/** RFC 6793 AS_TRANS: stands in for a 4-octet AS in 2-octet fields. */
export const AS_TRANS = 23456;

/** Message type codes (RFC 4271 §4.1, RFC 2918). */
export const MSG_TYPE = {
  OPEN: 1,
  UPDATE: 2,
  NOTIFICATION: 3,
  KEEPALIVE: 4,
  ROUTE_REFRESH: 5,
} as const;
export type MessageTypeName = keyof typeof MSG_TYPE;

/** Address family identifiers (IANA). */
export const AFI = { IPV4: 1, IPV6: 2 } as const;
export type Afi = 1 | 2;
/** Subsequent address family identifiers (IANA). */
export const SAFI = { UNICAST: 1, MULTICAST: 2 } as const;

/** Path attribute type codes (IANA "BGP Path Attributes"). */
export const ATTR = {
  ORIGIN: 1,
  AS_PATH: 2,
  NEXT_HOP: 3,
  MULTI_EXIT_DISC: 4,
  LOCAL_PREF: 5,
  ATOMIC_AGGREGATE: 6,
  AGGREGATOR: 7,
  COMMUNITIES: 8,
  ORIGINATOR_ID: 9,
  CLUSTER_LIST: 10,
  MP_REACH_NLRI: 14,
  MP_UNREACH_NLRI: 15,
  EXTENDED_COMMUNITIES: 16,
  AS4_PATH: 17,
  AS4_AGGREGATOR: 18,
  LARGE_COMMUNITY: 32,
} as const;

/** Path attribute flag bits (RFC 4271 §4.3). */
export const ATTR_FLAG = {
  OPTIONAL: 0x80,
  TRANSITIVE: 0x40,
  PARTIAL: 0x20,
  EXTENDED_LENGTH: 0x10,
} as const;

/** ORIGIN values. */
export const ORIGIN = { IGP: 0, EGP: 1, INCOMPLETE: 2 } as const;
export type Origin = 0 | 1 | 2;

/** AS_PATH segment types (RFC 4271, RFC 5065 confederations). */
export const AS_PATH_SEGMENT = {
  AS_SET: 1,
  AS_SEQUENCE: 2,
  AS_CONFED_SEQUENCE: 3,
  AS_CONFED_SET: 4,
} as const;
export type AsPathSegmentType = 1 | 2 | 3 | 4;

/** Optional parameter types in OPEN. */
export const OPEN_PARAM = { CAPABILITIES: 2, EXTENDED_LENGTH: 255 } as const;

/** Capability codes (IANA). */
export const CAPABILITY = {
  MULTIPROTOCOL: 1,
  ROUTE_REFRESH: 2,
  EXTENDED_NEXT_HOP: 5,
  EXTENDED_MESSAGE: 6,
  GRACEFUL_RESTART: 64,
  FOUR_OCTET_AS: 65,
  ADD_PATH: 69,
  ENHANCED_ROUTE_REFRESH: 70,
  FQDN: 73,
  ROUTE_REFRESH_CISCO: 128,
} as const;

/** Well-known communities (RFC 1997, RFC 7999, RFC 8326). */
export const WELL_KNOWN_COMMUNITY = {
  GRACEFUL_SHUTDOWN: 0xffff0000,
  BLACKHOLE: 0xffff029a,
  NO_EXPORT: 0xffffff01,
  NO_ADVERTISE: 0xffffff02,
  NO_EXPORT_SUBCONFED: 0xffffff03,
  NO_PEER: 0xffffff04,
} as const;

// ---------------------------------------------------------------------------------------------
// NOTIFICATION error codes (RFC 4271 §4.5, RFC 4486, RFC 7313, RFC 8203/9003)
// ---------------------------------------------------------------------------------------------

export const ERROR_CODE = {
  MESSAGE_HEADER_ERROR: 1,
  OPEN_MESSAGE_ERROR: 2,
  UPDATE_MESSAGE_ERROR: 3,
  HOLD_TIMER_EXPIRED: 4,
  FINITE_STATE_MACHINE_ERROR: 5,
  CEASE: 6,
  ROUTE_REFRESH_MESSAGE_ERROR: 7,
} as const;

export const HEADER_ERROR = {
  CONNECTION_NOT_SYNCHRONIZED: 1,
  BAD_MESSAGE_LENGTH: 2,
  BAD_MESSAGE_TYPE: 3,
} as const;

export const OPEN_ERROR = {
  UNSUPPORTED_VERSION_NUMBER: 1,
  BAD_PEER_AS: 2,
  BAD_BGP_IDENTIFIER: 3,
  UNSUPPORTED_OPTIONAL_PARAMETER: 4,
  // 5 deprecated (Authentication Failure)
  UNACCEPTABLE_HOLD_TIME: 6,
  UNSUPPORTED_CAPABILITY: 7,
  ROLE_MISMATCH: 11,
} as const;

export const UPDATE_ERROR = {
  MALFORMED_ATTRIBUTE_LIST: 1,
  UNRECOGNIZED_WELL_KNOWN_ATTRIBUTE: 2,
  MISSING_WELL_KNOWN_ATTRIBUTE: 3,
  ATTRIBUTE_FLAGS_ERROR: 4,
  ATTRIBUTE_LENGTH_ERROR: 5,
  INVALID_ORIGIN_ATTRIBUTE: 6,
  // 7 deprecated (AS Routing Loop)
  INVALID_NEXT_HOP_ATTRIBUTE: 8,
  OPTIONAL_ATTRIBUTE_ERROR: 9,
  INVALID_NETWORK_FIELD: 10,
  MALFORMED_AS_PATH: 11,
} as const;

/** FSM Error subcodes (RFC 6608). */
export const FSM_ERROR = {
  UNSPECIFIED: 0,
  UNEXPECTED_MESSAGE_IN_OPENSENT: 1,
  UNEXPECTED_MESSAGE_IN_OPENCONFIRM: 2,
  UNEXPECTED_MESSAGE_IN_ESTABLISHED: 3,
} as const;

/** Cease subcodes (RFC 4486, RFC 8538). */
export const CEASE = {
  MAXIMUM_NUMBER_OF_PREFIXES_REACHED: 1,
  ADMINISTRATIVE_SHUTDOWN: 2,
  PEER_DE_CONFIGURED: 3,
  ADMINISTRATIVE_RESET: 4,
  CONNECTION_REJECTED: 5,
  OTHER_CONFIGURATION_CHANGE: 6,
  CONNECTION_COLLISION_RESOLUTION: 7,
  OUT_OF_RESOURCES: 8,
  HARD_RESET: 9,
} as const;

export const ROUTE_REFRESH_ERROR = { INVALID_MESSAGE_LENGTH: 1 } as const;

/**
 * A protocol error that requires a NOTIFICATION (and a session reset). `code`/`subcode`/`data`
 * are exactly what goes into the NOTIFICATION. `errorCode` is a stable string for logs/metrics.
 */
export class BgpMessageError extends Error {
  readonly code: number;
  readonly subcode: number;
  readonly data: Uint8Array;
  readonly errorCode: string;
  constructor(code: number, subcode: number, data: Uint8Array, message: string) {
    super(message);
    this.name = 'BgpMessageError';
    this.code = code;
    this.subcode = subcode;
    this.data = data;
    this.errorCode = `BGP_ERR_${code}_${subcode}`;
  }
}

/** Programming error in what the caller asked the encoder to write (never a peer's fault). */
export class BgpEncodeError extends Error {
  readonly errorCode = 'BGP_ENCODE_INVALID';
  constructor(message: string) {
    super(message);
    this.name = 'BgpEncodeError';
  }
}

// ---------------------------------------------------------------------------------------------
// Codec context: facts negotiated for one direction of one session
// ---------------------------------------------------------------------------------------------

/** `(afi << 8) | safi`, e.g. IPv4 unicast = 0x0101 = 257, IPv6 unicast = 0x0201 = 513. */
export type FamilyKey = number;

export interface CodecContext {
  /** Both sides advertised the 4-octet AS capability (RFC 6793). */
  readonly fourOctetAs: boolean;
  /**
   * Families whose NLRI carry an RFC 7911 path identifier in the direction being coded:
   * for a decode context, families we receive path ids for (we advertised receive, peer send);
   * for an encode context, families we send them for. Absent/empty: none.
   */
  readonly addPath?: ReadonlySet<FamilyKey>;
  /**
   * RFC 8950 negotiated (IPv4 NLRI with IPv6 next hop). Informative: the decoder accepts a 16- or
   * 32-byte next hop for AFI 1 in MP_REACH_NLRI either way; the encoder writes what it is given.
   */
  readonly extendedNextHop?: boolean;
  /** RFC 8654 Extended Messages negotiated both ways: max message length 65535. */
  readonly extendedMessage?: boolean;
  /**
   * The peer is external (eBGP). Decoding then discards LOCAL_PREF, ORIGINATOR_ID and
   * CLUSTER_LIST (RFC 4271 §5.1.5, RFC 7606 §7.5/§7.9/§7.10: "attribute discard").
   */
  readonly ebgp?: boolean;
}

// ---------------------------------------------------------------------------------------------
// Prefixes (NLRI)
// ---------------------------------------------------------------------------------------------

/**
 * One NLRI entry. `key` is the canonical string form ("198.19.0.0/24", "fd00:198:18::/48"),
 * cheap to use as a Map key; two prefixes are equal iff their keys (and pathIds) are equal.
 * Host bits beyond `len` are zero in `addr` and `key`. `addr` is 4 (IPv4) or 16 (IPv6) bytes;
 * implementations may compute it lazily, so do not mutate it.
 */
export interface Prefix {
  readonly afi: Afi;
  /** Prefix length in bits (0..32 or 0..128). */
  readonly len: number;
  readonly key: string;
  readonly addr: Uint8Array;
  /** RFC 7911 path identifier, only when add-path is in use for this family. */
  readonly pathId?: number;
}

// ---------------------------------------------------------------------------------------------
// Path attributes
// ---------------------------------------------------------------------------------------------

export interface AsPathSegment {
  readonly type: AsPathSegmentType;
  /** AS numbers (up to 32 bits). At most 255 per segment on the wire (encoder splits). */
  readonly asns: readonly number[];
}

export interface Aggregator {
  readonly asn: number;
  /** IPv4 address, dotted quad. */
  readonly address: string;
}

export interface LargeCommunity {
  readonly globalAdmin: number;
  readonly localData1: number;
  readonly localData2: number;
}

/** An attribute the codec keeps as bytes (unknown types, and known ones it keeps opaque). */
export interface RawAttribute {
  /** Flags as received (OPTIONAL/TRANSITIVE/PARTIAL; EXTENDED_LENGTH is recomputed on encode). */
  readonly flags: number;
  readonly typeCode: number;
  readonly value: Uint8Array;
}

/**
 * The shared path attributes of an UPDATE (everything except MP_REACH/MP_UNREACH, which are
 * carried on UpdateMessage as mpReach/mpUnreach). Absent field = attribute absent.
 *
 * AS numbers are always the true 4-octet values: when decoding from a 2-octet peer
 * (ctx.fourOctetAs false) the decoder merges AS4_PATH/AS4_AGGREGATOR (RFC 6793 §4.2.3) and does
 * not report them; when encoding to a 2-octet peer the encoder substitutes AS_TRANS and adds
 * AS4_PATH/AS4_AGGREGATOR itself (see toTwoOctetPath). `as4Path`/`as4Aggregator` are wire-level
 * fields used only by those helpers; leave them unset otherwise.
 */
export interface PathAttributes {
  readonly origin?: Origin;
  readonly asPath?: readonly AsPathSegment[];
  /** NEXT_HOP (type 3), IPv4 dotted quad. IPv6 / MP next hops live in UpdateMessage.mpReach. */
  readonly nextHop?: string;
  readonly med?: number;
  readonly localPref?: number;
  readonly atomicAggregate?: boolean;
  readonly aggregator?: Aggregator;
  /** RFC 1997 communities as unsigned 32-bit numbers (ASN << 16 | value). */
  readonly communities?: readonly number[];
  /** RFC 4456, dotted quad. */
  readonly originatorId?: string;
  /** RFC 4456, dotted quads, first = most recent. */
  readonly clusterList?: readonly string[];
  /** RFC 4360 extended communities, each 8 raw bytes (kept opaque). */
  readonly extendedCommunities?: readonly Uint8Array[];
  /** RFC 8092. */
  readonly largeCommunities?: readonly LargeCommunity[];
  /** Wire-level only (see above). */
  readonly as4Path?: readonly AsPathSegment[];
  /** Wire-level only (see above). */
  readonly as4Aggregator?: Aggregator;
  /**
   * Unrecognized optional transitive attributes (passed on; see markPartial), and any other
   * attribute kept raw. Unrecognized optional non-transitive attributes are dropped on decode.
   */
  readonly unknown?: readonly RawAttribute[];
}

export interface MpReach {
  readonly afi: Afi;
  readonly safi: number;
  /** Global next hop: IPv6 text for a 16/32-byte next hop, dotted quad for a 4-byte one. */
  readonly nextHop: string;
  /** IPv6 link-local next hop (the second half of a 32-byte next hop). */
  readonly linkLocalNextHop?: string;
  readonly nlri: readonly Prefix[];
}

export interface MpUnreach {
  readonly afi: Afi;
  readonly safi: number;
  readonly withdrawn: readonly Prefix[];
}

// ---------------------------------------------------------------------------------------------
// Capabilities (RFC 5492)
// ---------------------------------------------------------------------------------------------

export interface AfiSafi {
  readonly afi: number;
  readonly safi: number;
}

export type Capability =
  | { readonly kind: 'MULTIPROTOCOL'; readonly afi: number; readonly safi: number }
  | { readonly kind: 'ROUTE_REFRESH' }
  | { readonly kind: 'ROUTE_REFRESH_CISCO' }
  | {
      readonly kind: 'EXTENDED_NEXT_HOP';
      readonly entries: readonly { readonly afi: number; readonly safi: number; readonly nextHopAfi: number }[];
    }
  | { readonly kind: 'EXTENDED_MESSAGE' }
  | {
      readonly kind: 'GRACEFUL_RESTART';
      /** R bit: the sender has restarted. */
      readonly restartState: boolean;
      /** N bit (RFC 8538): the sender supports graceful NOTIFICATION. */
      readonly notification: boolean;
      /** Seconds (12 bits). */
      readonly restartTime: number;
      readonly families: readonly { readonly afi: number; readonly safi: number; readonly forwardingState: boolean }[];
    }
  | { readonly kind: 'FOUR_OCTET_AS'; readonly asn: number }
  | {
      readonly kind: 'ADD_PATH';
      /** mode: 1 = receive, 2 = send, 3 = both. */
      readonly families: readonly { readonly afi: number; readonly safi: number; readonly mode: 1 | 2 | 3 }[];
    }
  | { readonly kind: 'ENHANCED_ROUTE_REFRESH' }
  | { readonly kind: 'FQDN'; readonly hostname: string; readonly domain: string }
  /** Any capability not decoded above (or malformed known ones), kept as bytes. */
  | { readonly kind: 'UNKNOWN'; readonly code: number; readonly value: Uint8Array };

export type CapabilityKind = Capability['kind'];

// ---------------------------------------------------------------------------------------------
// Messages
// ---------------------------------------------------------------------------------------------

export interface OpenMessage {
  readonly type: 'OPEN';
  /** Always 4 (the decoder rejects others with Unsupported Version Number). */
  readonly version: number;
  /**
   * "My Autonomous System". Decoded: the 2-octet field as received (AS_TRANS for a 4-octet AS;
   * use openPeerAs() for the real one). Encoded: give the real AS; > 65535 is written as AS_TRANS
   * (and the caller should include a FOUR_OCTET_AS capability).
   */
  readonly myAs: number;
  /** Seconds; 0 or >= 3. */
  readonly holdTime: number;
  /** BGP Identifier, dotted quad. */
  readonly bgpId: string;
  readonly capabilities: readonly Capability[];
  /** Non-capability optional parameters (the decoder rejects these; encoder writes them). */
  readonly otherParams?: readonly { readonly type: number; readonly value: Uint8Array }[];
}

export interface UpdateMessage {
  readonly type: 'UPDATE';
  /** IPv4 withdrawn routes (body field). */
  readonly withdrawn: readonly Prefix[];
  readonly attributes: PathAttributes;
  /** IPv4 NLRI (body field); next hop is attributes.nextHop. */
  readonly nlri: readonly Prefix[];
  readonly mpReach?: MpReach;
  readonly mpUnreach?: MpUnreach;
}

export interface NotificationMessage {
  readonly type: 'NOTIFICATION';
  readonly code: number;
  readonly subcode: number;
  readonly data: Uint8Array;
  /**
   * RFC 8203/9003 shutdown communication for Cease/Administrative Shutdown (2) and
   * Administrative Reset (4). Decoded when present and valid UTF-8; when encoding, if set (and
   * code/subcode match) it is written as the data (length octet + UTF-8, max 255 bytes) and
   * `data` is ignored.
   */
  readonly shutdownMessage?: string;
}

export interface KeepaliveMessage {
  readonly type: 'KEEPALIVE';
}

export interface RouteRefreshMessage {
  readonly type: 'ROUTE_REFRESH';
  readonly afi: number;
  readonly safi: number;
  /** RFC 7313 message subtype: 0 normal, 1 BoRR, 2 EoRR. */
  readonly subtype: number;
}

export type BgpMessage =
  | OpenMessage
  | UpdateMessage
  | NotificationMessage
  | KeepaliveMessage
  | RouteRefreshMessage;

// ---------------------------------------------------------------------------------------------
// Decoding results (RFC 7606)
// ---------------------------------------------------------------------------------------------

/** RFC 7606 approaches short of session reset. */
export type ErrorAction = 'treat-as-withdraw' | 'attribute-discard';

export interface AttributeProblem {
  readonly typeCode: number;
  readonly action: ErrorAction;
  /** UPDATE Message Error subcode the RFCs associate with the problem (for logs). */
  readonly subcode: number;
  readonly reason: string;
}

export interface DecodeResult<M extends BgpMessage = BgpMessage> {
  readonly message: M;
  /**
   * RFC 7606 treat-as-withdraw: every prefix in message.nlri and message.mpReach.nlri must be
   * handled as withdrawn (as well as the withdrawn ones); the attributes are not to be used.
   */
  readonly treatAsWithdraw: boolean;
  /** Attributes dropped by "attribute discard" (the rest of the UPDATE is valid). */
  readonly discarded: readonly AttributeProblem[];
  /** Every problem found (including those behind treatAsWithdraw), for logging. */
  readonly errors: readonly AttributeProblem[];
}

/** A complete framed message from FrameReader (header validated). */
export interface Frame {
  /** Message type code (1..5). */
  readonly type: number;
  /** Whole message including the 19-byte header (a view; copy to keep past the next push). */
  readonly bytes: Uint8Array;
}
