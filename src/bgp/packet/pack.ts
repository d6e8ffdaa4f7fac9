import type { AfiSafi, Afi, CodecContext, PathAttributes, Prefix, UpdateMessage } from './types.ts';
const ni = (): never => { throw new Error('not implemented'); };
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
/** Whole UPDATE messages advertising `prefixes` with shared `attributes`, packed to the max size. */
export function packAdvertisements(attributes: PathAttributes, reach: ReachTemplate, prefixes: readonly Prefix[], ctx: CodecContext): Uint8Array[] { void attributes; void reach; void prefixes; void ctx; return ni(); }
/** Whole UPDATE messages withdrawing `prefixes` (IPv4 unicast in the body, others via MP_UNREACH). */
export function packWithdrawals(afi: Afi, prefixes: readonly Prefix[], ctx: CodecContext, safi?: number): Uint8Array[] { void afi; void prefixes; void ctx; void safi; return ni(); }
/** The End-of-RIB marker (RFC 4724 §2) for a family. */
export function endOfRib(afi: Afi, safi?: number): UpdateMessage { void afi; void safi; return ni(); }
/** The family an UPDATE is the End-of-RIB marker for, or null. */
export function isEndOfRib(msg: UpdateMessage): AfiSafi | null { void msg; return ni(); }
