// Packing many prefixes that share attributes into as few UPDATE messages as fit, and the
// End-of-RIB marker (RFC 4724 §2).
import { ByteWriter } from './bytes.ts';
import { beginMessage, endMessage } from './message.ts';
import { familyKey, nlriSize } from './prefix.ts';
import { writeMpReachAttr, writeMpUnreachAttr, writeNlriList, writePathAttributes } from './update.ts';
import { BGP_MAX_EXTENDED_MESSAGE_LENGTH, BGP_MAX_MESSAGE_LENGTH, BgpEncodeError, MSG_TYPE } from './types.ts';
import type { AfiSafi, Afi, CodecContext, MpReach, PathAttributes, Prefix, UpdateMessage } from './types.ts';

/** Where the advertised prefixes go and their next hop. */
export interface ReachTemplate {
  readonly afi: Afi;
  /** Default 1 (unicast). */
  readonly safi?: number;
  /**
   * IPv4 NLRI + IPv4 next hop (or none given: attributes.nextHop) -> body NLRI + NEXT_HOP.
   * IPv4 NLRI + IPv6 next hop -> MP_REACH_NLRI (RFC 8950). IPv6 NLRI -> MP_REACH_NLRI.
   */
  readonly nextHop?: string;
  readonly linkLocalNextHop?: string;
}

function maxLen(ctx: CodecContext): number {
  return ctx.extendedMessage ? BGP_MAX_EXTENDED_MESSAGE_LENGTH : BGP_MAX_MESSAGE_LENGTH;
}

/**
 * Split `prefixes` into runs whose encoded size fits `room` bytes. Calls `emit(from, to)` per run.
 */
function chunk(prefixes: readonly Prefix[], addPath: boolean, room: number, emit: (from: number, to: number) => void): void {
  let from = 0;
  let size = 0;
  for (let i = 0; i < prefixes.length; i++) {
    const s = nlriSize(prefixes[i]!, addPath);
    if (size + s > room) {
      emit(from, i);
      from = i;
      size = 0;
    }
    size += s;
  }
  if (from < prefixes.length) emit(from, prefixes.length);
}

/** Whole UPDATE messages advertising `prefixes` with shared `attributes`, packed to the max size. */
export function packAdvertisements(attributes: PathAttributes, reach: ReachTemplate, prefixes: readonly Prefix[], ctx: CodecContext): Uint8Array[] {
  const out: Uint8Array[] = [];
  if (prefixes.length === 0) return out;
  const safi = reach.safi ?? 1;
  const max = maxLen(ctx);
  const addPath = ctx.addPath?.has(familyKey(reach.afi, safi)) ?? false;
  const bodyMode = reach.afi === 1 && safi === 1 && (reach.nextHop === undefined || !reach.nextHop.includes(':'));
  if (bodyMode) {
    const nextHop = reach.nextHop ?? attributes.nextHop;
    if (nextHop === undefined) throw new BgpEncodeError('packAdvertisements: IPv4 unicast needs a next hop (reach.nextHop or attributes.nextHop)');
    const aw = new ByteWriter(512);
    writePathAttributes(aw, nextHop === attributes.nextHop ? attributes : { ...attributes, nextHop }, ctx);
    const attrBytes = aw.finish();
    const fixed = 19 + 2 + 2 + attrBytes.length;
    const room = max - fixed;
    if (room < (addPath ? 9 : 5)) throw new BgpEncodeError(`packAdvertisements: path attributes (${attrBytes.length} bytes) leave no room for NLRI`);
    chunk(prefixes, addPath, room, (from, to) => {
      const w = new ByteWriter(max);
      const at = beginMessage(w, MSG_TYPE.UPDATE);
      w.u16(0);
      w.u16(attrBytes.length);
      w.bytes(attrBytes);
      writeNlriList(w, prefixes.slice(from, to), 1, addPath, 'UPDATE NLRI');
      endMessage(w, at, ctx, 'UPDATE');
      out.push(w.finish());
    });
    return out;
  }
  if (reach.nextHop === undefined) throw new BgpEncodeError(`packAdvertisements: AFI ${reach.afi} SAFI ${safi} needs reach.nextHop`);
  // MP_REACH_NLRI carries the NLRI; NEXT_HOP is not sent (RFC 4760 §3).
  const shared: PathAttributes = attributes.nextHop === undefined ? attributes : { ...attributes, nextHop: undefined };
  const aw = new ByteWriter(512);
  writePathAttributes(aw, shared, ctx);
  const attrBytes = aw.finish();
  const template: MpReach =
    reach.linkLocalNextHop === undefined
      ? { afi: reach.afi, safi, nextHop: reach.nextHop, nlri: [] }
      : { afi: reach.afi, safi, nextHop: reach.nextHop, linkLocalNextHop: reach.linkLocalNextHop, nlri: [] };
  const probe = new ByteWriter(64);
  writeMpReachAttr(probe, template, ctx);
  const mpOverhead = probe.length + 1; // +1: the header grows to extended length once NLRI exceed 255 bytes
  const fixed = 19 + 2 + 2 + attrBytes.length + mpOverhead;
  const room = max - fixed;
  if (room < (addPath ? 21 : 17)) throw new BgpEncodeError(`packAdvertisements: path attributes (${attrBytes.length} bytes) leave no room for NLRI`);
  chunk(prefixes, addPath, room, (from, to) => {
    const w = new ByteWriter(max);
    const at = beginMessage(w, MSG_TYPE.UPDATE);
    w.u16(0);
    const aAt = w.length;
    w.u16(0);
    writeMpReachAttr(w, template, ctx, prefixes.slice(from, to));
    w.bytes(attrBytes);
    w.setU16(aAt, w.length - aAt - 2);
    endMessage(w, at, ctx, 'UPDATE');
    out.push(w.finish());
  });
  return out;
}

/** Whole UPDATE messages withdrawing `prefixes` (IPv4 unicast in the body, others via MP_UNREACH). */
export function packWithdrawals(afi: Afi, prefixes: readonly Prefix[], ctx: CodecContext, safi = 1): Uint8Array[] {
  const out: Uint8Array[] = [];
  if (prefixes.length === 0) return out;
  const max = maxLen(ctx);
  const addPath = ctx.addPath?.has(familyKey(afi, safi)) ?? false;
  if (afi === 1 && safi === 1) {
    chunk(prefixes, addPath, max - 23, (from, to) => {
      const w = new ByteWriter(max);
      const at = beginMessage(w, MSG_TYPE.UPDATE);
      const wAt = w.length;
      w.u16(0);
      writeNlriList(w, prefixes.slice(from, to), 1, addPath, 'UPDATE withdrawn routes');
      w.setU16(wAt, w.length - wAt - 2);
      w.u16(0);
      endMessage(w, at, ctx, 'UPDATE');
      out.push(w.finish());
    });
    return out;
  }
  const fixed = 23 + 4 + 3; // header + lengths + extended attribute header + AFI/SAFI
  chunk(prefixes, addPath, max - fixed, (from, to) => {
    const w = new ByteWriter(max);
    const at = beginMessage(w, MSG_TYPE.UPDATE);
    w.u16(0);
    const aAt = w.length;
    w.u16(0);
    writeMpUnreachAttr(w, { afi, safi, withdrawn: [] }, ctx, prefixes.slice(from, to));
    w.setU16(aAt, w.length - aAt - 2);
    endMessage(w, at, ctx, 'UPDATE');
    out.push(w.finish());
  });
  return out;
}

/** The End-of-RIB marker (RFC 4724 §2) for a family. */
export function endOfRib(afi: Afi, safi = 1): UpdateMessage {
  if (afi === 1 && safi === 1) return { type: 'UPDATE', withdrawn: [], attributes: {}, nlri: [] };
  return { type: 'UPDATE', withdrawn: [], attributes: {}, nlri: [], mpUnreach: { afi, safi, withdrawn: [] } };
}

/** The family an UPDATE is the End-of-RIB marker for, or null. */
export function isEndOfRib(msg: UpdateMessage): AfiSafi | null {
  if (msg.withdrawn.length > 0 || msg.nlri.length > 0 || msg.mpReach !== undefined) return null;
  for (const k in msg.attributes) {
    if ((msg.attributes as Record<string, unknown>)[k] !== undefined) return null;
  }
  if (msg.mpUnreach === undefined) return { afi: 1, safi: 1 };
  if (msg.mpUnreach.withdrawn.length === 0) return { afi: msg.mpUnreach.afi, safi: msg.mpUnreach.safi };
  return null;
}
