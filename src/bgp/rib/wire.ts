// Glue between the codec's UpdateMessage and the RIB's per-family inputs, so the speaker can
// feed decoded UPDATEs straight in. Outbound, OutboundUpdate already has the shape
// packAdvertisements/packWithdrawals/endOfRib take (attributes + reach + prefix keys).

import type { UpdateMessage } from '../packet/index.ts';
import type { Family } from './prefix.ts';
import { familyFromAfi } from './prefix.ts';
import type { PeerUpdate, RouteKey } from './rib.ts';

export interface RibInput {
  readonly family: Family;
  readonly update: PeerUpdate;
}

/**
 * Split a decoded UPDATE into RIB inputs per family. `treatAsWithdraw` (RFC 7606) turns every
 * announced prefix into a withdrawal. Families other than IPv4/IPv6 unicast are skipped.
 * An End-of-RIB marker yields no inputs (detect it first with the codec's isEndOfRib).
 */
export function ribInputsFromUpdate(msg: UpdateMessage, treatAsWithdraw = false): RibInput[] {
  const out: RibInput[] = [];
  const push = (family: Family, withdrawn: readonly RouteKey[], announced: readonly RouteKey[], nextHop: string | undefined, linkLocal: string | undefined) => {
    if (withdrawn.length === 0 && announced.length === 0) return;
    if (treatAsWithdraw || announced.length === 0) {
      out.push({ family, update: { withdrawn: announced.length ? [...withdrawn, ...announced] : withdrawn } });
      return;
    }
    const attrs = { ...msg.attributes, nextHop, ...(linkLocal ? { linkLocalNextHop: linkLocal } : {}) };
    out.push({ family, update: { withdrawn, announced, attrs } });
  };
  push('ipv4', msg.withdrawn, msg.nlri, msg.attributes.nextHop, undefined);
  if (msg.mpUnreach) {
    const f = familyFromAfi(msg.mpUnreach.afi, msg.mpUnreach.safi);
    if (f) push(f, msg.mpUnreach.withdrawn, [], undefined, undefined);
  }
  if (msg.mpReach) {
    const f = familyFromAfi(msg.mpReach.afi, msg.mpReach.safi);
    if (f) push(f, [], msg.mpReach.nlri, msg.mpReach.nextHop, msg.mpReach.linkLocalNextHop);
  }
  return out;
}
