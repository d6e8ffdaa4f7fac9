// Field-level checks shared by the kind validators: names, labels, selectors, IPs, CIDRs,
// protocols, ports. Each adds FieldErrors to a collector and never throws.
import { tryParseCIDR, tryParseIP, splitHostPort, isMasked, type IPFamily } from '../lib/index.ts';
import { validateSelector } from '../selector/index.ts';
import type { ErrorCollector } from './errors.ts';

export const NAME_LABEL = '[a-z0-9]([-a-z0-9]*[a-z0-9])?';
export const NAME_SUBDOMAIN = `${NAME_LABEL}(\\.${NAME_LABEL})*`;
const RE_SUBDOMAIN = new RegExp(`^${NAME_SUBDOMAIN}$`);
const RE_LABEL = new RegExp(`^${NAME_LABEL}$`);
const RE_QUALIFIED_NAME = /^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$/;
const RE_LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;
const RE_CONTAINER_ID = /^[a-zA-Z0-9]([-a-zA-Z0-9]*[a-zA-Z0-9])?$/;
const RE_INTERFACE = /^[a-zA-Z0-9_.-]{1,15}$/;
const RE_MAC = /^([0-9A-Fa-f]{2}([:-]))(([0-9A-Fa-f]{2}\2){4}|([0-9A-Fa-f]{2}\2){6}|([0-9A-Fa-f]{2}\2){18})[0-9A-Fa-f]{2}$|^([0-9A-Fa-f]{4}\.){2,9}[0-9A-Fa-f]{4}$/;

export function isSubdomainName(s: string): boolean {
  return s.length <= 253 && RE_SUBDOMAIN.test(s);
}
export function isLabelName(s: string): boolean {
  return s.length <= 63 && RE_LABEL.test(s);
}

/** Calico's `name` validator: a DNS subdomain (lowercase, digits, '-', '.'). */
export function checkName(errs: ErrorCollector, path: string, v: unknown): void {
  if (typeof v !== 'string' || v === '') return;
  if (!RE_SUBDOMAIN.test(v)) {
    errs.add(path, 'format', `${JSON.stringify(v)} is not a valid name: expected lower case alphanumeric characters, '-' or '.', starting and ending with an alphanumeric character`);
  }
}

export function checkContainerID(errs: ErrorCollector, path: string, v: unknown): void {
  if (typeof v === 'string' && v !== '' && !RE_CONTAINER_ID.test(v)) errs.add(path, 'format', `${JSON.stringify(v)} is not a valid container ID`);
}

/** Kubernetes qualified name: optional DNS-subdomain prefix + "/" + name of at most 63 characters. */
export function qualifiedNameProblem(k: string): string | undefined {
  const slash = k.indexOf('/');
  let name = k;
  if (slash >= 0) {
    const prefix = k.slice(0, slash);
    name = k.slice(slash + 1);
    if (prefix === '' || !isSubdomainName(prefix)) return `prefix ${JSON.stringify(prefix)} must be a DNS subdomain`;
  }
  if (name === '') return 'name part must not be empty';
  if (name.length > 63) return 'name part must be no more than 63 characters';
  if (!RE_QUALIFIED_NAME.test(name)) return "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character";
  return undefined;
}

export function labelValueProblem(v: string): string | undefined {
  if (v.length > 63) return 'must be no more than 63 characters';
  if (!RE_LABEL_VALUE.test(v)) return "must be empty or consist of alphanumeric characters, '-', '_' or '.', starting and ending with an alphanumeric character";
  return undefined;
}

export function checkLabels(errs: ErrorCollector, path: string, labels: unknown): void {
  if (!labels || typeof labels !== 'object') return;
  for (const [k, v] of Object.entries(labels as Record<string, unknown>)) {
    const kp = qualifiedNameProblem(k);
    if (kp) errs.add(`${path}[${JSON.stringify(k)}]`, 'format', `invalid label key ${JSON.stringify(k)}: ${kp}`);
    if (typeof v === 'string') {
      const vp = labelValueProblem(v);
      if (vp) errs.add(`${path}[${JSON.stringify(k)}]`, 'format', `invalid label value ${JSON.stringify(v)}: ${vp}`);
    }
  }
}

export const ANNOTATIONS_MAX_BYTES = 256 * 1024;
export function checkAnnotations(errs: ErrorCollector, path: string, ann: unknown): void {
  if (!ann || typeof ann !== 'object') return;
  let total = 0;
  for (const [k, v] of Object.entries(ann as Record<string, unknown>)) {
    const kp = qualifiedNameProblem(k.toLowerCase());
    if (kp) errs.add(`${path}[${JSON.stringify(k)}]`, 'format', `invalid annotation key ${JSON.stringify(k)}: ${kp}`);
    total += Buffer.byteLength(k) + Buffer.byteLength(typeof v === 'string' ? v : '');
  }
  if (total > ANNOTATIONS_MAX_BYTES) {
    errs.add(path, 'range', `total size of annotations is too large by ${total - ANNOTATIONS_MAX_BYTES} bytes (limit 256 KiB)`);
  }
}

export interface SelectorOptions {
  /** Allow `global()` (only alone, only in an EntityRule namespaceSelector). */
  global?: boolean;
}
export function checkSelector(errs: ErrorCollector, path: string, v: unknown, opts: SelectorOptions = {}): void {
  if (typeof v !== 'string') return;
  const problem = validateSelector(v);
  if (problem) {
    errs.add(path, 'format', `invalid selector ${JSON.stringify(v)}: ${problem}`);
    return;
  }
  if (v.includes('global(')) {
    if (!opts.global) errs.add(path, 'forbidden', 'global() can only be used in an EntityRule namespaceSelector');
    else if (v.trim() !== 'global()') errs.add(path, 'forbidden', 'global() cannot be combined with other selectors');
  }
}

export function checkIP(errs: ErrorCollector, path: string, v: unknown, family?: IPFamily): void {
  if (typeof v !== 'string' || v === '') return;
  const ip = tryParseIP(v);
  if (!ip) errs.add(path, 'format', `expected an IP${family ? `v${family}` : ''} address, got ${JSON.stringify(v)}`);
  else if (family && ip.family !== family) errs.add(path, 'format', `expected an IPv${family} address, got ${JSON.stringify(v)}`);
}

export interface NetOptions {
  family?: IPFamily;
  /** Require "/len" (the CRD `cidr` format). Default: a bare IP counts as /32 or /128. */
  requirePrefix?: boolean;
  /** Require host bits clear (Calico's `net` validator). */
  masked?: boolean;
}
/** Calico's net/cidr validators. Returns the parsed family, or undefined if invalid/empty. */
export function checkNet(errs: ErrorCollector, path: string, v: unknown, opts: NetOptions = {}): IPFamily | undefined {
  if (typeof v !== 'string' || v === '') return undefined;
  const c = tryParseCIDR(v, { allowBareIP: !opts.requirePrefix });
  const what = opts.family ? `an IPv${opts.family} CIDR` : 'a CIDR';
  const example = opts.family === 6 ? 'fd00::/64' : '10.0.0.0/16';
  if (!c) {
    errs.add(path, 'format', `expected ${what} like ${example}${opts.requirePrefix ? '' : ' or an IP address'}, got ${JSON.stringify(v)}`);
    return undefined;
  }
  if (opts.family && c.family !== opts.family) {
    errs.add(path, 'format', `expected ${what}, got ${JSON.stringify(v)}`);
    return undefined;
  }
  if (opts.masked && !isMasked(c)) {
    errs.add(path, 'format', `${JSON.stringify(v)} has host bits set: expected a masked network address`);
  }
  return c.family;
}

export function checkInterfaceName(errs: ErrorCollector, path: string, v: unknown, allowEmpty: boolean): void {
  if (typeof v !== 'string') {
    if (!allowEmpty) errs.add(path, 'required', 'an interface name is required');
    return;
  }
  if (v === '' && allowEmpty) return;
  if (v !== '*' && !RE_INTERFACE.test(v)) {
    errs.add(path, 'format', `invalid interface name ${JSON.stringify(v)}: expected 1-15 characters from [a-zA-Z0-9_.-] or "*"`);
  }
}

export function checkMAC(errs: ErrorCollector, path: string, v: unknown): void {
  if (typeof v === 'string' && v !== '' && !RE_MAC.test(v)) errs.add(path, 'format', `expected a MAC address like 02:00:00:00:00:01, got ${JSON.stringify(v)}`);
}

/** IP, or IP:port / [IPv6]:port (BGPPeer peerIP). */
export function checkIPPort(errs: ErrorCollector, path: string, v: unknown): void {
  if (typeof v !== 'string' || v === '') return;
  const hp = splitHostPort(v);
  if (!hp || hp.port === 0) errs.add(path, 'format', `expected an IP address, IPv4:port or [IPv6]:port (port 1-65535), got ${JSON.stringify(v)}`);
}

// ---- protocols and ports -------------------------------------------------------------------

export const PROTOCOL_NAMES = ['TCP', 'UDP', 'ICMP', 'ICMPv6', 'SCTP', 'UDPLite'] as const;
const PROTOCOL_NUMBERS: Record<string, number> = { TCP: 6, UDP: 17, ICMP: 1, ICMPv6: 58, SCTP: 132, UDPLite: 136 };
export const PROTOCOL_EXPECTED = 'expected TCP, UDP, ICMP, ICMPv6, SCTP, UDPLite or a number 1-255';

/** Protocol number for a valid protocol value, else undefined. */
export function protocolNumber(v: unknown): number | undefined {
  if (typeof v === 'number') return Number.isInteger(v) && v >= 1 && v <= 255 ? v : undefined;
  if (typeof v !== 'string') return undefined;
  if (/^[0-9]+$/.test(v)) {
    const n = Number(v);
    return n >= 1 && n <= 255 ? n : undefined;
  }
  return PROTOCOL_NUMBERS[v];
}

export function checkProtocol(errs: ErrorCollector, path: string, v: unknown): void {
  if (v === undefined) return;
  if (protocolNumber(v) === undefined) errs.add(path, 'enum', `${PROTOCOL_EXPECTED}, got ${JSON.stringify(v)}`);
}

export function protocolSupportsPorts(v: unknown): boolean {
  const n = protocolNumber(v);
  return n === 6 || n === 17 || n === 132;
}

export interface ParsedPort {
  min: number;
  max: number;
  name?: string;
}
/** Parse a rule port: a number, "min:max" or a named port. Undefined if invalid (error added). */
export function checkPort(errs: ErrorCollector, path: string, v: unknown): ParsedPort | undefined {
  const bad = (why: string) => {
    errs.add(path, 'range', why);
    return undefined;
  };
  if (typeof v === 'number') {
    if (!Number.isInteger(v) || v < 1 || v > 65535) return bad(`port range invalid, port number must be between 1 and 65535, got ${v}`);
    return { min: v, max: v };
  }
  if (typeof v !== 'string') return bad('expected a port number, a range "min:max" or a port name');
  const range = /^(\d+):(\d+)$/.exec(v);
  if (range || /^\d+$/.test(v)) {
    const min = Number(range ? range[1] : v);
    const max = Number(range ? range[2] : v);
    if (min < 1 || max < 1 || min > 65535 || max > 65535) return bad(`port range invalid, port number must be between 1 and 65535, got ${JSON.stringify(v)}`);
    if (min > max) return bad(`minimum port number (${min}) is greater than maximum port number (${max}) in port range`);
    return { min, max };
  }
  if (!/^[a-zA-Z0-9_.-]{1,128}$/.test(v)) {
    return bad(`expected a port number, a range "min:max" or a port name (1-128 characters from [a-zA-Z0-9_.-]), got ${JSON.stringify(v)}`);
  }
  return { min: 0, max: 0, name: v };
}

/** Kubernetes IANA_SVC_NAME: 1-15 chars, lowercase alphanumerics and '-', at least one letter, no '--'. */
export function portNameProblem(s: string): string | undefined {
  if (s.length === 0 || s.length > 15) return 'must be 1-15 characters';
  if (!/^[-a-z0-9]+$/.test(s)) return "must contain only lower case alphanumeric characters and '-'";
  if (!/[a-z]/.test(s)) return 'must contain at least one letter';
  if (s.includes('--')) return "must not contain consecutive '-'";
  if (s.startsWith('-') || s.endsWith('-')) return "must not begin or end with '-'";
  return undefined;
}

/** ASNumber: 0-4294967295 or "high.low" with 16-bit halves. */
export function checkASNumber(errs: ErrorCollector, path: string, v: unknown): void {
  if (v === undefined) return;
  const bad = () => errs.add(path, 'format', `expected an AS number 0-4294967295 or "high.low" dotted notation, got ${JSON.stringify(v)}`);
  if (typeof v === 'number') {
    if (!Number.isInteger(v) || v < 0 || v > 4294967295) bad();
    return;
  }
  if (typeof v !== 'string') return bad();
  const dotted = /^(\d+)\.(\d+)$/.exec(v);
  if (dotted) {
    if (Number(dotted[1]) > 65535 || Number(dotted[2]) > 65535) bad();
    return;
  }
  if (!/^\d+$/.test(v) || Number(v) > 4294967295) bad();
}

/** The numeric value of a valid ASNumber. */
export function asNumberValue(v: number | string): number {
  if (typeof v === 'number') return v;
  const d = /^(\d+)\.(\d+)$/.exec(v);
  return d ? Number(d[1]) * 65536 + Number(d[2]) : Number(v);
}
