// Capabilities Optional Parameter (RFC 5492) and the capabilities we know. A known capability
// with an unexpected length is kept as UNKNOWN (opaque) rather than failing the OPEN.
import type { ByteReader, ByteWriter } from './bytes.ts';
import { BgpEncodeError, BgpMessageError, CAPABILITY, ERROR_CODE } from './types.ts';
import { familyKey } from './prefix.ts';
import type { Capability, CapabilityKind, CodecContext, FamilyKey, OpenMessage } from './types.ts';

const utf8 = new TextDecoder('utf-8', { fatal: false });
const utf8enc = new TextEncoder();

function u16(b: Uint8Array, i: number): number {
  return (b[i]! << 8) | b[i + 1]!;
}

function decodeOne(code: number, v: Uint8Array): Capability {
  const n = v.length;
  switch (code) {
    case CAPABILITY.MULTIPROTOCOL:
      if (n === 4) return { kind: 'MULTIPROTOCOL', afi: u16(v, 0), safi: v[3]! };
      break;
    case CAPABILITY.ROUTE_REFRESH:
      if (n === 0) return { kind: 'ROUTE_REFRESH' };
      break;
    case CAPABILITY.ROUTE_REFRESH_CISCO:
      if (n === 0) return { kind: 'ROUTE_REFRESH_CISCO' };
      break;
    case CAPABILITY.EXTENDED_MESSAGE:
      if (n === 0) return { kind: 'EXTENDED_MESSAGE' };
      break;
    case CAPABILITY.ENHANCED_ROUTE_REFRESH:
      if (n === 0) return { kind: 'ENHANCED_ROUTE_REFRESH' };
      break;
    case CAPABILITY.FOUR_OCTET_AS:
      if (n === 4) return { kind: 'FOUR_OCTET_AS', asn: ((v[0]! << 24) | (v[1]! << 16) | (v[2]! << 8) | v[3]!) >>> 0 };
      break;
    case CAPABILITY.EXTENDED_NEXT_HOP:
      if (n % 6 === 0) {
        const entries = [];
        for (let i = 0; i < n; i += 6) entries.push({ afi: u16(v, i), safi: u16(v, i + 2), nextHopAfi: u16(v, i + 4) });
        return { kind: 'EXTENDED_NEXT_HOP', entries };
      }
      break;
    case CAPABILITY.GRACEFUL_RESTART:
      if (n >= 2 && (n - 2) % 4 === 0) {
        const fl = u16(v, 0);
        const families = [];
        for (let i = 2; i < n; i += 4) {
          families.push({ afi: u16(v, i), safi: v[i + 2]!, forwardingState: (v[i + 3]! & 0x80) !== 0 });
        }
        return {
          kind: 'GRACEFUL_RESTART',
          restartState: (fl & 0x8000) !== 0,
          notification: (fl & 0x4000) !== 0,
          restartTime: fl & 0x0fff,
          families,
        };
      }
      break;
    case CAPABILITY.ADD_PATH:
      if (n % 4 === 0 && n > 0) {
        const families: { afi: number; safi: number; mode: 1 | 2 | 3 }[] = [];
        let ok = true;
        for (let i = 0; i < n; i += 4) {
          const mode = v[i + 3]!;
          if (mode < 1 || mode > 3) ok = false;
          families.push({ afi: u16(v, i), safi: v[i + 2]!, mode: mode as 1 | 2 | 3 });
        }
        if (ok) return { kind: 'ADD_PATH', families };
      }
      break;
    case CAPABILITY.FQDN:
      if (n >= 2) {
        const hl = v[0]!;
        if (1 + hl + 1 <= n) {
          const dl = v[1 + hl]!;
          if (2 + hl + dl === n) {
            return {
              kind: 'FQDN',
              hostname: utf8.decode(v.subarray(1, 1 + hl)),
              domain: utf8.decode(v.subarray(2 + hl, 2 + hl + dl)),
            };
          }
        }
      }
      break;
  }
  return { kind: 'UNKNOWN', code, value: v.slice() };
}

/** Decode the capabilities of one Capabilities optional parameter value. */
export function decodeCapabilities(reader: ByteReader): Capability[] {
  const out: Capability[] = [];
  while (reader.remaining > 0) {
    if (reader.remaining < 2) {
      throw new BgpMessageError(
        ERROR_CODE.OPEN_MESSAGE_ERROR,
        0,
        new Uint8Array(0),
        `OPEN capability at offset ${reader.pos}: truncated header (${reader.remaining} byte left)`,
      );
    }
    const code = reader.u8();
    const len = reader.u8();
    if (len > reader.remaining) {
      throw new BgpMessageError(
        ERROR_CODE.OPEN_MESSAGE_ERROR,
        0,
        new Uint8Array(0),
        `OPEN capability ${code}: length ${len} overruns the optional parameter (${reader.remaining} bytes left)`,
      );
    }
    out.push(decodeOne(code, reader.view(len)));
  }
  return out;
}

function capCode(cap: Capability): number {
  switch (cap.kind) {
    case 'UNKNOWN':
      return cap.code;
    default:
      return CAPABILITY[cap.kind];
  }
}

/** Encode one capability (code, length, value). */
export function encodeCapability(writer: ByteWriter, cap: Capability): void {
  const code = capCode(cap);
  writer.u8(code);
  const lenAt = writer.length;
  writer.u8(0);
  switch (cap.kind) {
    case 'MULTIPROTOCOL':
      writer.u16(cap.afi);
      writer.u8(0);
      writer.u8(cap.safi);
      break;
    case 'ROUTE_REFRESH':
    case 'ROUTE_REFRESH_CISCO':
    case 'EXTENDED_MESSAGE':
    case 'ENHANCED_ROUTE_REFRESH':
      break;
    case 'FOUR_OCTET_AS':
      writer.u32(cap.asn);
      break;
    case 'EXTENDED_NEXT_HOP':
      for (const e of cap.entries) {
        writer.u16(e.afi);
        writer.u16(e.safi);
        writer.u16(e.nextHopAfi);
      }
      break;
    case 'GRACEFUL_RESTART':
      if (cap.restartTime < 0 || cap.restartTime > 4095) {
        throw new BgpEncodeError(`GRACEFUL_RESTART restartTime ${cap.restartTime} outside 0..4095`);
      }
      writer.u16((cap.restartState ? 0x8000 : 0) | (cap.notification ? 0x4000 : 0) | cap.restartTime);
      for (const f of cap.families) {
        writer.u16(f.afi);
        writer.u8(f.safi);
        writer.u8(f.forwardingState ? 0x80 : 0);
      }
      break;
    case 'ADD_PATH':
      for (const f of cap.families) {
        writer.u16(f.afi);
        writer.u8(f.safi);
        writer.u8(f.mode);
      }
      break;
    case 'FQDN': {
      const h = utf8enc.encode(cap.hostname);
      const d = utf8enc.encode(cap.domain);
      if (h.length > 255 || d.length > 255) throw new BgpEncodeError('FQDN capability: hostname/domain longer than 255 bytes');
      writer.u8(h.length);
      writer.bytes(h);
      writer.u8(d.length);
      writer.bytes(d);
      break;
    }
    case 'UNKNOWN':
      writer.bytes(cap.value);
      break;
  }
  const len = writer.length - lenAt - 1;
  if (len > 255) throw new BgpEncodeError(`capability ${cap.kind} (${code}) value is ${len} bytes, max 255`);
  writer.setU8(lenAt, len);
}

/** The peer's real AS: the FOUR_OCTET_AS capability's AS if present, else OPEN's myAs. */
export function openPeerAs(open: OpenMessage): number {
  const c = findCapability(open, 'FOUR_OCTET_AS');
  return c ? c.asn : open.myAs;
}

/** First capability of a kind in an OPEN, typed. */
export function findCapability<K extends CapabilityKind>(
  open: OpenMessage,
  kind: K,
): Extract<Capability, { kind: K }> | undefined {
  for (const c of open.capabilities) if (c.kind === kind) return c as Extract<Capability, { kind: K }>;
  return undefined;
}

/** What two OPENs negotiate for the codec: one context per direction. */
export interface NegotiatedCodec {
  /** For decoding what the peer sends. */
  readonly rx: CodecContext;
  /** For encoding what we send. */
  readonly tx: CodecContext;
  /** Families both sides advertised (MULTIPROTOCOL; IPv4 unicast implied when neither lists any). */
  readonly families: readonly FamilyKey[];
}

function addPathModes(open: OpenMessage): Map<FamilyKey, number> {
  const m = new Map<FamilyKey, number>();
  for (const c of open.capabilities) {
    if (c.kind !== 'ADD_PATH') continue;
    for (const f of c.families) m.set(familyKey(f.afi, f.safi), f.mode);
  }
  return m;
}

function mpFamilies(open: OpenMessage): Set<FamilyKey> {
  const s = new Set<FamilyKey>();
  for (const c of open.capabilities) if (c.kind === 'MULTIPROTOCOL') s.add(familyKey(c.afi, c.safi));
  return s;
}

/**
 * Codec contexts from our OPEN and the peer's (RFC 6793 4-octet AS, RFC 7911 add-path per
 * direction, RFC 8654 extended messages, RFC 8950 IPv4-over-IPv6 next hop). `ebgp` is copied
 * into both contexts.
 */
export function negotiateCodec(local: OpenMessage, remote: OpenMessage, options: { ebgp?: boolean } = {}): NegotiatedCodec {
  const fourOctetAs = !!findCapability(local, 'FOUR_OCTET_AS') && !!findCapability(remote, 'FOUR_OCTET_AS');
  const extendedMessage = !!findCapability(local, 'EXTENDED_MESSAGE') && !!findCapability(remote, 'EXTENDED_MESSAGE');
  const enh = (o: OpenMessage): boolean =>
    o.capabilities.some((c) => c.kind === 'EXTENDED_NEXT_HOP' && c.entries.some((e) => e.afi === 1 && e.safi === 1 && e.nextHopAfi === 2));
  const extendedNextHop = enh(local) && enh(remote);
  const lm = addPathModes(local);
  const rm = addPathModes(remote);
  const rx = new Set<FamilyKey>();
  const tx = new Set<FamilyKey>();
  for (const [fam, mode] of lm) {
    const theirs = rm.get(fam) ?? 0;
    if (mode & 1 && theirs & 2) rx.add(fam); // we receive, they send
    if (mode & 2 && theirs & 1) tx.add(fam); // we send, they receive
  }
  const lf = mpFamilies(local);
  const rf = mpFamilies(remote);
  let families = [...lf].filter((f) => rf.has(f));
  if (lf.size === 0 && rf.size === 0) families = [familyKey(1, 1)];
  const base = { fourOctetAs, extendedMessage, extendedNextHop, ...(options.ebgp === undefined ? {} : { ebgp: options.ebgp }) };
  return {
    rx: rx.size ? { ...base, addPath: rx } : base,
    tx: tx.size ? { ...base, addPath: tx } : base,
    families,
  };
}
