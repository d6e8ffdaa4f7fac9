// Validation errors in Calico's words. Calico's validator reports each failing field as
// `error with field <GoField> = '<value>' (<reason>)` (libcalico-go/lib/errors ErroredField,
// named by the Go struct field: PeerIP, CIDR, ASNumber, IPIPMode, ...). calicoctl users and
// scripts look for that text, so calicoctl prints our field errors the same way, with our
// reason and the JSON path inside the brackets.

import { parseAllDocuments } from 'yaml';
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

/** The masked network of a CIDR string, as Go's net.IPNet.String() prints it. */
function maskedCidr(cidr: string): string | undefined {
  const [ip = '', bitsText = ''] = cidr.split('/');
  const bits = Number(bitsText);
  if (!/^\d+$/.test(bitsText)) return undefined;
  if (ip.includes('.')) {
    const parts = ip.split('.').map(Number);
    if (parts.length !== 4 || parts.some((p) => !(p >= 0 && p <= 255)) || bits > 32) return undefined;
    const v = parts.reduce((a, p) => a * 256 + p, 0);
    const masked = bits === 0 ? 0 : Number((BigInt(v) >> BigInt(32 - bits)) << BigInt(32 - bits));
    return `${[24, 16, 8, 0].map((sh) => Math.floor(masked / 2 ** sh) % 256).join('.')}/${bits}`;
  }
  if (!ip.includes(':') || bits > 128) return undefined;
  const [head = '', tail] = ip.split('::');
  const h = head ? head.split(':') : [];
  const t = tail ? tail.split(':') : [];
  const groups = [...h, ...Array<string>(Math.max(0, 8 - h.length - t.length)).fill('0'), ...t].map((g) => parseInt(g || '0', 16));
  if (groups.length !== 8 || groups.some((g) => !(g >= 0 && g <= 0xffff))) return undefined;
  let v = groups.reduce((a, g) => (a << 16n) | BigInt(g), 0n);
  v = bits === 0 ? 0n : (v >> BigInt(128 - bits)) << BigInt(128 - bits);
  const out = Array.from({ length: 8 }, (_, i) => Number((v >> BigInt(112 - 16 * i)) & 0xffffn));
  // RFC 5952: the longest run (>1) of zero groups becomes "::"
  let best = -1;
  let bestLen = 1;
  for (let i = 0; i < 8; ) {
    if (out[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && out[j] === 0) j++;
    if (j - i > bestLen) {
      best = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = out.map((g) => g.toString(16));
  const text = best < 0 ? hex.join(':') : `${hex.slice(0, best).join(':')}::${hex.slice(best + bestLen).join(':')}`;
  return `${text}/${bits}`;
}

/** Our reason without a trailing ", got ..." (Calico shows the value in `= '...'` instead). */
function reasonOf(message: string): string {
  return message.replace(/, got .*$/s, '');
}

/**
 * One field error as Calico prints it: `Name = 'value' (reason)` for its Go validators,
 * `path (detail)` for CRD schema rules (enums, CEL), with Calico's own words where ours
 * differ for the same rule.
 */
function fieldText(res: AnyResource, e: FieldError): string | undefined {
  if (!e.path) return undefined;
  const segs = pathSegments(e.path);
  const last = [...segs].reverse().find((s): s is string => typeof s === 'string');
  if (!last) return undefined;
  const v = valueAt(res, segs);
  if (e.code === 'enum') {
    // CRD enum (Kubernetes' NotSupported detail): `spec.x (supported values: "A", "B")`
    const m = /^expected (.*), got /s.exec(e.message);
    if (m) {
      const values = m[1]!.split(/, | or /).map((x) => JSON.stringify(x));
      return `${e.path} (supported values: ${values.join(', ')})`;
    }
  }
  if (res.kind === 'IPPool' && e.path === 'spec.cidr') {
    if (e.message.startsWith('IP pool size is too small')) {
      return 'spec (IP pool size is too small for use with Calico IPAM. It must be equal to or greater than the block size.)';
    }
    if (e.message.includes('not strictly masked') && typeof v === 'string') {
      // clientv3 normalises the CIDR before it checks the mask, so it shows the masked form.
      return `IPPool.Spec.CIDR = '${maskedCidr(v) ?? v}' (IPPool CIDR is not strictly masked)`;
    }
  }
  if (e.path === 'metadata.name') {
    // clientv3 resources.Create / validator validateObjectMeta
    if (e.code === 'required') return "Metadata.Name = '' (field must be set for a Create request)";
    const long = /name is too long by (\d+) bytes/.exec(e.message);
    if (long) return `Metadata.Name = '${String(v)}' (name is too long by ${long[1]} bytes)`;
    if (res.kind === 'Tier' && typeof v === 'string' && v.length > 63 && /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(v)) {
      // validateTier: a tier name must fit in a label value
      return `Metadata.Name = '${v}' (name is too long by ${v.length - 63} bytes)`;
    }
    if (e.code === 'format') {
      // Tiers and policies have label-style names (policies may add one "<tier>." prefix).
      const labelNamed = ['Tier', 'NetworkPolicy', 'GlobalNetworkPolicy', 'StagedNetworkPolicy', 'StagedGlobalNetworkPolicy'].includes(res.kind);
      return labelNamed
        ? `Metadata.Name = '${String(v)}' (name must consist of lower case alphanumeric characters or '-' (regex: [a-z0-9]([-a-z0-9]*[a-z0-9])?))`
        : `Metadata.Name = '${String(v)}' (name must consist of lower case alphanumeric characters, '-' or '.' (regex: [a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*))`;
    }
    return `Metadata.Name${v === undefined ? '' : ` = '${String(v)}'`} (${reasonOf(e.message)})`;
  }
  const nonDefault = /^cannot set (\w+) on a non default BGP Configuration/.exec(e.message);
  if (res.kind === 'BGPConfiguration' && nonDefault) {
    // clientv3 bgpconfig.go ValidateDefaultOnlyFields, word for word
    const word: Record<string, string> = { asNumber: 'ASNumber', serviceLoadBalancerIPs: 'ServiceLoadBalancerIPs', serviceExternalIPs: 'ServiceExternalIPs', serviceClusterIPs: 'ServiceClusterIPs' };
    const f = nonDefault[1]!;
    return `BGPConfiguration.Spec.${goFieldName(f)} (Cannot set ${word[f] ?? f} on a non default BGP Configuration.)`;
  }
  let name = goFieldName(last);
  let shown = v;
  if ((last === 'ports' || last === 'notPorts') && typeof segs[segs.length - 1] === 'number') {
    // Calico validates each numorstring.Port: the field is Port, the value the bad end.
    name = 'Port';
    if (typeof v === 'string' && /^\d+:\d+$/.test(v)) {
      const [lo, hi] = v.split(':').map(Number) as [number, number];
      shown = lo < 1 || lo > 65535 ? lo : hi < 1 || hi > 65535 ? hi : v;
    }
  }
  let reason = reasonOf(e.message);
  const between = /^must be between (-?\d+) and (-?\d+)$/.exec(reason);
  if (between && typeof shown === 'number') {
    // go-playground's gte/lte words
    if (shown < Number(between[1])) reason = `must be greater than or equal to ${between[1]}`;
    else if (shown > Number(between[2])) reason = `must be less than or equal to ${between[2]}`;
  }
  const valueText = shown === undefined || shown === null || typeof shown === 'object' ? '' : ` = '${String(shown)}'`;
  return `${name}${valueText} (${reason})`;
}

/**
 * Calico's text for a resource's field errors, or undefined when they have no field paths
 * (then the caller keeps its own message).
 */
export function calicoFieldErrors(res: AnyResource, errors: readonly FieldError[]): string | undefined {
  const parts = errors.map((e) => fieldText(res, e));
  if (parts.length === 0 || parts.some((p) => p === undefined)) return undefined;
  // Where each problem is, by our JSON path, then Calico's words.
  const paths = errors.map((e) => e.path);
  if (parts.length === 1) return `${paths[0]}: error with field ${parts[0]!}`;
  return `error with the following fields: ${parts.map((p, i) => `${paths[i]}: ${p}`).join('; ')}`;
}

/** Go's JSON kind names for a value, as "cannot unmarshal <kind> into ..." says. */
function goJsonKind(got: string): string | undefined {
  if (got.startsWith('string ')) return 'string';
  if (got === 'true' || got === 'false') return 'bool';
  if (/^-?\d/.test(got)) return 'number';
  if (got === 'a list') return 'array';
  if (got === 'an object') return 'object';
  return undefined;
}

/**
 * Go's strict decoder message for a wrong JSON type in a top-level spec field:
 * `json: cannot unmarshal string into Go struct field IPPoolSpec.spec.disabled of type bool`.
 * Undefined when the error is not of that shape.
 */
export function goTypeError(kind: string, e: FieldError): string | undefined {
  if (e.code !== 'type' || !/^spec\.[A-Za-z0-9]+$/.test(e.path)) return undefined;
  const m = /^expected (true or false|a string), got (.*)$/s.exec(e.message);
  if (!m) return undefined;
  const kindOfValue = goJsonKind(m[2]!);
  if (!kindOfValue) return undefined;
  const goType = m[1] === 'true or false' ? 'bool' : 'string';
  return `json: cannot unmarshal ${kindOfValue} into Go struct field ${kind}Spec.${e.path} of type ${goType}`;
}

// ---- Decode-time errors of Calico's own JSON unmarshalers (api/pkg/lib/numorstring Port and
// ASNumber). Go's strict decoder keeps going after an unknown field or a plain type mismatch
// (it reports the first of those at the end), but an error from a type's UnmarshalJSON ends
// decoding at once and wins: so `ports: [65536]` next to a misplaced field reports the port.

type Json = Record<string, unknown>;

/** A key as Go's encoding/json matches it: exactly, else case-insensitively. */
function goKey(o: Json, name: string): string | undefined {
  if (name in o) return name;
  const lower = name.toLowerCase();
  return Object.keys(o).find((k) => k.toLowerCase() === lower);
}

function isObject(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Go's word for a JSON value's kind in "cannot unmarshal <kind> into ...". */
function jsonKind(v: unknown): string {
  if (typeof v === 'boolean') return 'bool';
  if (typeof v === 'number') return 'number';
  if (typeof v === 'string') return 'string';
  if (Array.isArray(v)) return 'array';
  return 'object';
}

/** numorstring.Port's UnmarshalJSON on one `ports`/`notPorts` element; `field` is Go's dotted path. */
function portError(v: unknown, field: string): string | undefined {
  const typeErr = (value: string) => `json: cannot unmarshal ${value} into Go struct field EntityRule.${field} of type uint16`;
  if (v === null) return undefined; // null leaves the zero value
  if (typeof v === 'number') return Number.isInteger(v) && v >= 0 && v <= 65535 ? undefined : typeErr(`number ${String(v)}`);
  if (typeof v !== 'string') return typeErr(jsonKind(v));
  if (/^\d+$/.test(v)) return Number(v) <= 65535 ? undefined : `invalid port format (${v})`;
  const range = /^(\d+):(\d+)$/.exec(v);
  if (range) {
    const [lo, hi] = [Number(range[1]), Number(range[2])];
    if (lo > 65535) return `invalid minimum port number in range (${v})`;
    if (hi > 65535) return `invalid maximum port number in range (${v})`;
    if (lo > hi) return `minimum port number (${lo}) is greater than maximum port number (${hi}) in port range`;
    return undefined;
  }
  return /^[a-zA-Z0-9_.-]{1,128}$/.test(v) ? undefined : `invalid name for named port (${v})`;
}

/** numorstring.ASNumber's UnmarshalJSON: a uint32, or "n" / "a.b" (two 16-bit halves) as a string. */
function asNumberError(v: unknown, struct: string, field: string): string | undefined {
  if (v === null) return undefined;
  if (typeof v === 'number') {
    if (Number.isInteger(v) && v >= 0 && v <= 4294967295) return undefined;
    // not a uint32, then not a string either: Go reports the second attempt
    return `json: cannot unmarshal number into Go struct field ${struct}.${field} of type string`;
  }
  if (typeof v !== 'string') return `json: cannot unmarshal ${jsonKind(v)} into Go struct field ${struct}.${field} of type string`;
  if (/^\d+$/.test(v) && Number(v) <= 4294967295) return undefined;
  const parts = v.split('.');
  const half = (p: string) => /^\d+$/.test(p) && Number(p) <= 65535;
  return parts.length === 2 && half(parts[0]!) && half(parts[1]!) ? undefined : `invalid AS Number format (${v})`;
}

const RULE_KINDS: ReadonlySet<string> = new Set(['NetworkPolicy', 'GlobalNetworkPolicy', 'StagedNetworkPolicy', 'StagedGlobalNetworkPolicy', 'Profile']);

/**
 * The error Calico's decoder would stop at for one raw resource (before any validation):
 * a bad port in a rule, or a bad AS number, with Go's wording. Undefined when none.
 */
export function goUnmarshalerError(raw: unknown): string | undefined {
  if (!isObject(raw)) return undefined;
  const kind = typeof raw.kind === 'string' ? raw.kind : '';
  const specKey = goKey(raw, 'spec');
  const spec = specKey ? raw[specKey] : undefined;
  if (!isObject(spec)) return undefined;
  if (RULE_KINDS.has(kind)) {
    // in document order, as Go decodes
    for (const [k, rules] of Object.entries(spec)) {
      const dir = k.toLowerCase();
      if ((dir !== 'ingress' && dir !== 'egress') || !Array.isArray(rules)) continue;
      for (const rule of rules) {
        if (!isObject(rule)) continue;
        for (const [side, entity] of Object.entries(rule)) {
          const s = side.toLowerCase();
          if ((s !== 'source' && s !== 'destination') || !isObject(entity)) continue;
          for (const [pk, ports] of Object.entries(entity)) {
            const p = pk.toLowerCase();
            if ((p !== 'ports' && p !== 'notports') || !Array.isArray(ports)) continue;
            const goName = p === 'ports' ? 'ports' : 'notPorts';
            for (const port of ports) {
              const e = portError(port, `spec.${dir}.${s}.${goName}`);
              if (e) return e;
            }
          }
        }
      }
    }
    return undefined;
  }
  if (kind === 'BGPPeer' || kind === 'BGPConfiguration') {
    const struct = `${kind}Spec`;
    for (const [k, v] of Object.entries(spec)) {
      const f = k.toLowerCase();
      const e = f === 'asnumber' ? asNumberError(v, struct, 'spec.asNumber') : f === 'localasnumber' && kind === 'BGPPeer' ? asNumberError(v, struct, 'spec.localASNumber') : undefined;
      if (e) return e;
    }
    return undefined;
  }
  if (kind === 'Node') {
    const bgpKey = goKey(spec, 'bgp');
    const bgp = bgpKey ? spec[bgpKey] : undefined;
    const asKey = isObject(bgp) ? goKey(bgp, 'asNumber') : undefined;
    return asKey && isObject(bgp) ? asNumberError(bgp[asKey], 'NodeBGPSpec', 'spec.bgp.asNumber') : undefined;
  }
  return undefined;
}

/** The first resource (in decoding order) of a file's text that Calico's decoder would stop at. */
export function firstUnmarshalerError(text: string): { document: number; item?: number; raw: Json; message: string } | undefined {
  const check = (value: unknown, document: number, item?: number) => {
    const message = goUnmarshalerError(value);
    return message ? { document, ...(item !== undefined ? { item } : {}), raw: value as Json, message } : undefined;
  };
  const each = (value: unknown, document: number) => {
    if (Array.isArray(value)) {
      for (let j = 0; j < value.length; j++) {
        const hit = check(value[j], document, j + 1);
        if (hit) return hit;
      }
      return undefined;
    }
    if (isObject(value) && Array.isArray(value.items) && typeof value.kind === 'string' && value.kind.endsWith('List')) {
      for (let j = 0; j < value.items.length; j++) {
        const hit = check(value.items[j], document, j + 1);
        if (hit) return hit;
      }
      return undefined;
    }
    return check(value, document);
  };
  const trimmed = text.trimStart();
  if (trimmed.startsWith('{') || trimmed.startsWith('[')) {
    try {
      return each(JSON.parse(text), 1);
    } catch {
      // YAML below
    }
  }
  let docs;
  try {
    docs = parseAllDocuments(text);
  } catch {
    return undefined;
  }
  const list = Array.isArray(docs) ? docs : [docs];
  for (let i = 0; i < list.length; i++) {
    const doc = list[i]!;
    if (doc.errors.length) return undefined; // the decoder reports the syntax error first
    let value: unknown;
    try {
      value = doc.toJS({ maxAliasCount: 100 });
    } catch {
      return undefined;
    }
    const hit = each(value, i + 1);
    if (hit) return hit;
  }
  return undefined;
}
