// RFC 6793 (4-octet AS) interop with 2-octet ("OLD") peers, path length, Partial-bit helper.
import { AS_PATH_SEGMENT, AS_TRANS, ATTR_FLAG } from './types.ts';
import type { AsPathSegment, PathAttributes, RawAttribute } from './types.ts';

function isConfed(t: number): boolean {
  return t === AS_PATH_SEGMENT.AS_CONFED_SEQUENCE || t === AS_PATH_SEGMENT.AS_CONFED_SET;
}

/** Path length for best-path selection (RFC 4271 9.1.2.2: AS_SET counts 1, confed segments 0). */
export function asPathLength(path: readonly AsPathSegment[] | undefined): number {
  if (!path) return 0;
  let n = 0;
  for (const s of path) {
    if (s.type === AS_PATH_SEGMENT.AS_SEQUENCE) n += s.asns.length;
    else if (s.type === AS_PATH_SEGMENT.AS_SET) n += s.asns.length > 0 ? 1 : 0;
  }
  return n;
}

function without(attrs: PathAttributes, drop: readonly (keyof PathAttributes)[]): PathAttributes {
  const out: Record<string, unknown> = { ...attrs };
  for (const k of drop) delete out[k];
  return out as PathAttributes;
}

/**
 * RFC 6793 §4.2.2: what to send to a 2-octet peer. ASNs above 65535 in AS_PATH/AGGREGATOR become
 * AS_TRANS and the true values go in AS4_PATH (without confederation segments)/AS4_AGGREGATOR.
 * Returns `attrs` unchanged when nothing needs translating.
 */
export function toTwoOctetPath(attrs: PathAttributes): PathAttributes {
  let out: PathAttributes = attrs;
  const path = attrs.asPath;
  if (path && path.some((s) => s.asns.some((a) => a > 0xffff))) {
    out = {
      ...out,
      asPath: path.map((s) => ({ type: s.type, asns: s.asns.map((a) => (a > 0xffff ? AS_TRANS : a)) })),
      as4Path: path.filter((s) => !isConfed(s.type)),
    };
  }
  const agg = attrs.aggregator;
  if (agg && agg.asn > 0xffff) {
    out = { ...out, aggregator: { asn: AS_TRANS, address: agg.address }, as4Aggregator: agg };
  }
  return out;
}

/**
 * RFC 6793 §4.2.3: reconstruct the true AS path from AS_PATH (2-octet, with AS_TRANS) and
 * AS4_PATH. If AS_PATH has fewer ASes than AS4_PATH, AS4_PATH is ignored. Otherwise the leading
 * ASes of AS_PATH (enough to make up the difference; confederation segments kept) are followed by
 * AS4_PATH (confederation segments in AS4_PATH are ignored).
 */
export function mergeAs4Path(asPath: readonly AsPathSegment[], as4Path: readonly AsPathSegment[]): AsPathSegment[] {
  const as4 = as4Path.filter((s) => !isConfed(s.type));
  const n = asPathLength(asPath);
  const m = asPathLength(as4);
  if (n < m) return asPath.slice();
  let need = n - m;
  const out: AsPathSegment[] = [];
  // True when the leading part ends inside an AS_SEQUENCE of AS_PATH: the first AS4_PATH
  // sequence then continues that same wire segment and is joined to it.
  let cut = false;
  for (const s of asPath) {
    if (isConfed(s.type)) {
      out.push(s);
      continue;
    }
    if (need === 0) break;
    if (s.type === AS_PATH_SEGMENT.AS_SET) {
      if (s.asns.length > 0) need -= 1;
      out.push(s);
    } else {
      const take = Math.min(need, s.asns.length);
      out.push(take === s.asns.length ? s : { type: s.type, asns: s.asns.slice(0, take) });
      cut = take < s.asns.length;
      need -= take;
    }
  }
  as4.forEach((s, i) => {
    const last = out[out.length - 1];
    if (i === 0 && cut && last && last.type === AS_PATH_SEGMENT.AS_SEQUENCE && s.type === AS_PATH_SEGMENT.AS_SEQUENCE) {
      out[out.length - 1] = { type: AS_PATH_SEGMENT.AS_SEQUENCE, asns: [...last.asns, ...s.asns] };
    } else {
      out.push(s);
    }
  });
  return out;
}

/**
 * RFC 6793 §4.2.3 for a whole attribute set received from a 2-octet peer: when both AGGREGATOR
 * and AS4_AGGREGATOR are present and AGGREGATOR carries an AS other than AS_TRANS, AS4_AGGREGATOR
 * and AS4_PATH are ignored; otherwise AS4_AGGREGATOR (if any) replaces AGGREGATOR and AS4_PATH
 * is merged into AS_PATH. Returns attributes without the AS4 fields.
 */
export function mergeAs4Attributes(attrs: PathAttributes): PathAttributes {
  if (attrs.as4Path === undefined && attrs.as4Aggregator === undefined) return attrs;
  let out = without(attrs, ['as4Path', 'as4Aggregator']);
  const agg = attrs.aggregator;
  if (agg && attrs.as4Aggregator) {
    // Both received: an AGGREGATOR other than AS_TRANS means an OLD speaker aggregated after
    // the AS4 information was formed, so AS4_AGGREGATOR and AS4_PATH are stale.
    if (agg.asn !== AS_TRANS) return out;
    out = { ...out, aggregator: attrs.as4Aggregator };
  }
  if (attrs.as4Path && attrs.asPath) out = { ...out, asPath: mergeAs4Path(attrs.asPath, attrs.as4Path) };
  return out;
}

/**
 * For propagation to other peers (RFC 4271 §5/§9.1.2.2 rules on unrecognized attributes):
 * unrecognized optional transitive attributes keep going with the Partial bit set; unrecognized
 * optional non-transitive ones are removed. Returns `attrs` unchanged if there are none.
 */
export function markUnknownPartial(attrs: PathAttributes): PathAttributes {
  const u = attrs.unknown;
  if (!u || u.length === 0) return attrs;
  const kept: RawAttribute[] = [];
  for (const a of u) {
    if ((a.flags & ATTR_FLAG.OPTIONAL) === 0) continue;
    if ((a.flags & ATTR_FLAG.TRANSITIVE) === 0) continue;
    kept.push((a.flags & ATTR_FLAG.PARTIAL) !== 0 ? a : { flags: a.flags | ATTR_FLAG.PARTIAL, typeCode: a.typeCode, value: a.value });
  }
  if (kept.length === 0) return without(attrs, ['unknown']);
  return { ...attrs, unknown: kept };
}
