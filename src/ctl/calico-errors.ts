// Validation errors in Calico's words. Calico's validator reports each failing field as
// `error with field <GoField> = '<value>' (<reason>)` (libcalico-go/lib/errors ErroredField,
// named by the Go struct field: PeerIP, CIDR, ASNumber, IPIPMode, ...). calicoctl users and
// scripts look for that text, so calicoctl prints our field errors the same way, with our
// reason and the JSON path inside the brackets.

import type { AnyResource, FieldError } from '../model/index.ts';

/** Words Go spells as initialisms in Calico's API field names. */
const INITIALISMS: Record<string, string> = {
  ip: 'IP', ips: 'IPs', ipip: 'IPIP', vxlan: 'VXLAN', nat: 'NAT', cidr: 'CIDR', cidrs: 'CIDRs', bgp: 'BGP',
  as: 'AS', asn: 'ASN', icmp: 'ICMP', mtu: 'MTU', id: 'ID', ttl: 'TTL', dns: 'DNS', url: 'URL', http: 'HTTP',
  ipv4: 'IPv4', ipv6: 'IPv6', uid: 'UID', tcp: 'TCP', udp: 'UDP', sctp: 'SCTP', bpf: 'BPF', xdp: 'XDP',
  wireguard: 'Wireguard', api: 'API', tls: 'TLS', cpu: 'CPU', nft: 'NFT', md5: 'MD5', guid: 'GUID',
};

/** The Go struct field name for a JSON field name: peerIP → PeerIP, asNumber → ASNumber. */
export function goFieldName(json: string): string {
  const words = json.match(/[A-Z]+(?![a-z])|[A-Z]?[a-z0-9]+/g) ?? [json];
  return words
    .map((w) => {
      const known = INITIALISMS[w.toLowerCase()];
      if (known) return known;
      return w.charAt(0).toUpperCase() + w.slice(1);
    })
    .join('');
}

/** Splits "spec.ingress[0].protocol" into ["spec", "ingress", 0, "protocol"]. */
function pathSegments(path: string): (string | number)[] {
  const out: (string | number)[] = [];
  for (const part of path.split('.')) {
    const m = /^([^[]*)((?:\[\d+\])*)$/.exec(part);
    if (!m) {
      out.push(part);
      continue;
    }
    if (m[1]) out.push(m[1]);
    for (const idx of m[2]!.matchAll(/\[(\d+)\]/g)) out.push(Number(idx[1]));
  }
  return out;
}

function valueAt(res: unknown, segs: readonly (string | number)[]): unknown {
  let cur: unknown = res;
  for (const s of segs) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<string | number, unknown>)[s];
  }
  return cur;
}

/** One field error as Calico's ErroredField prints: `Name = 'value' (reason)`. */
function fieldText(res: AnyResource, e: FieldError): string | undefined {
  if (!e.path) return undefined;
  const segs = pathSegments(e.path);
  const last = [...segs].reverse().find((s): s is string => typeof s === 'string');
  if (!last) return undefined;
  const v = valueAt(res, segs);
  const shown = v === undefined || v === null || typeof v === 'object' ? '' : ` = '${String(v)}'`;
  return `${goFieldName(last)}${shown} (${e.path}: ${e.message})`;
}

/**
 * Calico's text for a resource's field errors, or undefined when they have no field paths
 * (then the caller keeps its own message).
 */
export function calicoFieldErrors(res: AnyResource, errors: readonly FieldError[]): string | undefined {
  const parts = errors.map((e) => fieldText(res, e));
  if (parts.length === 0 || parts.some((p) => p === undefined)) return undefined;
  if (parts.length === 1) return `error with field ${parts[0]!}`;
  return `error with the following fields: ${parts.join('; ')}`;
}
