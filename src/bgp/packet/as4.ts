import type { AsPathSegment, PathAttributes } from './types.ts';
const ni = (): never => { throw new Error('not implemented'); };
/** RFC 6793 §4.2.2: AS_TRANS substitution in AS_PATH/AGGREGATOR plus AS4_PATH/AS4_AGGREGATOR, for a 2-octet peer. */
export function toTwoOctetPath(attrs: PathAttributes): PathAttributes { void attrs; return ni(); }
/** RFC 6793 §4.2.3: reconstruct the true AS path from AS_PATH (2-octet, with AS_TRANS) and AS4_PATH. */
export function mergeAs4Path(asPath: readonly AsPathSegment[], as4Path: readonly AsPathSegment[]): AsPathSegment[] { void asPath; void as4Path; return ni(); }
/** mergeAs4Path plus AGGREGATOR/AS4_AGGREGATOR rules; returns attributes without the AS4 fields. */
export function mergeAs4Attributes(attrs: PathAttributes): PathAttributes { void attrs; return ni(); }
/** Path length for best-path selection (RFC 4271 9.1.2.2: AS_SET counts 1, confed segments 0). */
export function asPathLength(path: readonly AsPathSegment[] | undefined): number { void path; return ni(); }
/** For propagation: unknown optional transitive attributes get the Partial bit (RFC 4271 §5). */
export function markUnknownPartial(attrs: PathAttributes): PathAttributes { void attrs; return ni(); }
