// Policy semantics: rules, entity rules, policy specs, tiers, profiles — Calico's
// validator.go struct validators plus the CRD CEL rules, re-implemented.
import { tryParseCIDR, type IPFamily } from '../lib/index.ts';
import type { ErrorCollector } from './errors.ts';
import {
  checkAnnotations, checkLabels, checkName, checkNet, checkPort, checkProtocol, checkSelector, protocolNumber,
  protocolSupportsPorts, NAME_LABEL, NAME_SUBDOMAIN,
} from './checks.ts';

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const arr = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);
const nonEmpty = (v: unknown): boolean => (typeof v === 'string' ? v.length > 0 : Array.isArray(v) ? v.length > 0 : v !== undefined);

export const GNP_NAME = new RegExp(`^(${NAME_LABEL}\\.)?${NAME_LABEL}$`);
export const NP_NAME = new RegExp(`^((${NAME_LABEL})(\\.${NAME_LABEL})?|((?:knp|ossg)\\.default\\.(${NAME_SUBDOMAIN})))$`);

function checkEntity(errs: ErrorCollector, p: string, e: Obj): void {
  checkSelector(errs, `${p}.selector`, e.selector);
  checkSelector(errs, `${p}.notSelector`, e.notSelector);
  checkSelector(errs, `${p}.namespaceSelector`, e.namespaceSelector, { global: true });
  if (isObj(e.serviceAccounts)) {
    checkSelector(errs, `${p}.serviceAccounts.selector`, e.serviceAccounts.selector);
  }
  if (isObj(e.services)) {
    const s = e.services;
    checkName(errs, `${p}.services.name`, s.name);
    checkName(errs, `${p}.services.namespace`, s.namespace);
    if (!nonEmpty(s.name)) errs.add(`${p}.services.name`, 'required', 'services must specify a service name');
    if (nonEmpty(e.namespaceSelector)) errs.add(`${p}.services`, 'forbidden', 'cannot specify namespaceSelector and services on the same rule');
    if (e.serviceAccounts !== undefined) errs.add(`${p}.services`, 'forbidden', 'cannot specify serviceAccounts and services on the same rule');
    if (nonEmpty(e.selector) || nonEmpty(e.notSelector)) errs.add(`${p}.services`, 'forbidden', 'cannot specify selector/notSelector and services on the same rule');
    if (nonEmpty(e.nets) || nonEmpty(e.notNets)) errs.add(`${p}.services`, 'forbidden', 'cannot specify nets/notNets and services on the same rule');
  }
}

function checkICMP(errs: ErrorCollector, p: string, icmp: unknown): void {
  if (!isObj(icmp)) return;
  if (typeof icmp.type === 'number' && (icmp.type < 0 || icmp.type > 254)) errs.add(`${p}.type`, 'range', `ICMP type must be between 0 and 254, got ${icmp.type}`);
  if (typeof icmp.code === 'number' && (icmp.code < 0 || icmp.code > 255)) errs.add(`${p}.code`, 'range', `ICMP code must be between 0 and 255, got ${icmp.code}`);
  if (icmp.code !== undefined && icmp.type === undefined) errs.add(`${p}.code`, 'invalid', 'ICMP code specified without an ICMP type');
}

function checkHTTP(errs: ErrorCollector, p: string, http: Obj): void {
  const methods = arr(http.methods);
  if (new Set(methods).size !== methods.length) errs.add(`${p}.methods`, 'duplicate', `invalid methods (duplicates): ${JSON.stringify(methods)}`);
  arr(http.paths).forEach((pm, i) => {
    if (!isObj(pm)) return;
    const pp = `${p}.paths[${i}]`;
    if (nonEmpty(pm.exact) && nonEmpty(pm.prefix)) return errs.add(pp, 'invalid', "both 'exact' and 'prefix' are set");
    const v = nonEmpty(pm.exact) ? pm.exact : pm.prefix;
    if (typeof v !== 'string' || v === '') return errs.add(pp, 'required', "either 'exact' or 'prefix' must be set");
    if (!v.startsWith('/') || /[? #]/.test(v)) errs.add(pp, 'format', `invalid path ${JSON.stringify(v)}: must start with "/" and not contain "?", "#" or spaces`);
  });
}

const PORTS_NEED_PROTOCOL = 'rules with numeric port or port range must set protocol to TCP or UDP or SCTP';
const PORTS_PROTOCOL = 'rules that specify ports must set protocol to TCP or UDP or SCTP';

/** One Calico Rule (validateRule + validateEntityRule + CEL rules). */
export function checkRule(errs: ErrorCollector, p: string, rule: unknown, direction: 'ingress' | 'egress', global: boolean): void {
  if (!isObj(rule)) return;
  checkProtocol(errs, `${p}.protocol`, rule.protocol);
  checkProtocol(errs, `${p}.notProtocol`, rule.notProtocol);
  const src = isObj(rule.source) ? rule.source : {};
  const dst = isObj(rule.destination) ? rule.destination : {};
  for (const [side, e] of [['source', src], ['destination', dst]] as const) {
    checkEntity(errs, `${p}.${side}`, e);
    for (const f of ['ports', 'notPorts'] as const) {
      const fp = `${p}.${side}.${f}`;
      const ports = arr(e[f]).map((v, i) => checkPort(errs, `${fp}[${i}]`, v));
      if (rule.protocol === undefined) {
        if (ports.some((x) => x !== undefined && x.name === undefined)) errs.add(fp, 'invalid', PORTS_NEED_PROTOCOL);
      } else if (ports.length > 0 && protocolNumber(rule.protocol) !== undefined && !protocolSupportsPorts(rule.protocol)) {
        errs.add(fp, 'invalid', PORTS_PROTOCOL);
      }
    }
  }
  // Nets: one family across source and destination, matching ipVersion; no catch-all negation.
  const ipVersion = rule.ipVersion;
  let seen4 = false;
  let seen6 = false;
  for (const [side, e] of [['source', src], ['destination', dst]] as const) {
    for (const f of ['nets', 'notNets'] as const) {
      const fp = `${p}.${side}.${f}`;
      let v4 = false;
      let v6 = false;
      arr(e[f]).forEach((n, i) => {
        const fam = checkNet(errs, `${fp}[${i}]`, n, { requirePrefix: true, masked: true });
        if (fam === 4) v4 = true;
        if (fam === 6) v6 = true;
        const c = typeof n === 'string' ? tryParseCIDR(n) : null;
        if (f === 'notNets' && c && c.prefix === 0 && c.ip === 0n) {
          errs.add(`${fp}[${i}]`, 'invalid', 'catch-all CIDR in negation creates logical contradiction (matches no traffic)');
        }
      });
      if ((ipVersion === 4 && v6) || (ipVersion === 6 && v4)) errs.add(fp, 'invalid', "rule IP version doesn't match CIDR version");
      if ((v4 && seen6) || (v6 && seen4) || (v4 && v6)) errs.add(fp, 'invalid', 'rule contains both IPv4 and IPv6 CIDRs');
      seen4 ||= v4;
      seen6 ||= v6;
    }
  }
  // ICMP.
  checkICMP(errs, `${p}.icmp`, rule.icmp);
  checkICMP(errs, `${p}.notICMP`, rule.notICMP);
  const proto = protocolNumber(rule.protocol);
  if (rule.icmp !== undefined && proto !== 1 && proto !== 58) errs.add(`${p}.icmp`, 'invalid', 'ICMP fields require protocol to be ICMP or ICMPv6');
  for (const f of ['protocol', 'notProtocol'] as const) {
    const n = protocolNumber(rule[f]);
    if (n === 1 && ipVersion !== undefined && ipVersion !== 4) errs.add(`${p}.${f}`, 'invalid', 'protocol ICMP requires ipVersion 4');
    if (n === 58 && ipVersion !== undefined && ipVersion !== 6) errs.add(`${p}.${f}`, 'invalid', 'protocol ICMPv6 requires ipVersion 6');
  }
  // HTTP (application layer).
  if (isObj(rule.http)) {
    checkHTTP(errs, `${p}.http`, rule.http);
    if (rule.action !== 'Allow') errs.add(`${p}.http`, 'forbidden', 'HTTP match is only valid on Allow rules');
    if (rule.protocol !== undefined && proto !== 6) errs.add(`${p}.http`, 'forbidden', 'rules with HTTP match must have protocol TCP or unset');
    if (direction === 'egress') errs.add(`${p}.http`, 'forbidden', 'not allowed in egress rules');
  }
  if (isObj(dst.services) && (nonEmpty(dst.ports) || nonEmpty(dst.notPorts))) {
    errs.add(`${p}.destination`, 'forbidden', 'ports and notPorts cannot be specified with services');
  }
  if (direction === 'egress' && src.services !== undefined) errs.add(`${p}.source.services`, 'forbidden', 'not allowed in egress rule source');
  if (direction === 'ingress' && dst.services !== undefined) errs.add(`${p}.destination.services`, 'forbidden', 'not allowed in ingress rule destination');
  if (global) {
    const svc = direction === 'egress' ? dst.services : src.services;
    const side = direction === 'egress' ? 'destination' : 'source';
    if (isObj(svc) && !nonEmpty(svc.namespace)) errs.add(`${p}.${side}.services.namespace`, 'required', 'must specify a namespace');
  }
  if (isObj(rule.metadata)) checkAnnotations(errs, `${p}.metadata.annotations`, rule.metadata.annotations);
}

export function checkRules(errs: ErrorCollector, spec: Obj, global: boolean): void {
  arr(spec.ingress).forEach((r, i) => checkRule(errs, `spec.ingress[${i}]`, r, 'ingress', global));
  arr(spec.egress).forEach((r, i) => checkRule(errs, `spec.egress[${i}]`, r, 'egress', global));
}

/** GlobalNetworkPolicy / NetworkPolicy (and their staged forms) spec checks. */
export function checkPolicySpec(errs: ErrorCollector, spec: Obj, global: boolean): void {
  checkName(errs, 'spec.tier', spec.tier);
  checkSelector(errs, 'spec.selector', spec.selector);
  checkSelector(errs, 'spec.serviceAccountSelector', spec.serviceAccountSelector);
  if (global) checkSelector(errs, 'spec.namespaceSelector', spec.namespaceSelector);
  const types = arr(spec.types);
  types.forEach((t, i) => {
    if (types.indexOf(t) !== i) errs.add(`spec.types[${i}]`, 'duplicate', `'${String(t)}' type specified more than once`);
  });
  const hints = arr(spec.performanceHints);
  if (new Set(hints).size !== hints.length) errs.add('spec.performanceHints', 'duplicate', 'performance hints must be unique');
  checkRules(errs, spec, global);
  if (global) {
    if (spec.doNotTrack === true && spec.preDNAT === true) errs.add('spec', 'forbidden', 'preDNAT and doNotTrack cannot both be true');
    if (spec.preDNAT === true && arr(spec.egress).length > 0) errs.add('spec.egress', 'forbidden', 'preDNAT policy cannot have any egress rules');
    if (spec.preDNAT === true && types.includes('Egress')) errs.add('spec.types', 'forbidden', "preDNAT policy cannot have 'Egress' type");
    if (spec.applyOnForward !== true && (spec.doNotTrack === true || spec.preDNAT === true)) {
      errs.add('spec.applyOnForward', 'invalid', 'applyOnForward must be true if either preDNAT or doNotTrack is true');
    }
  }
}

export function checkPolicyName(errs: ErrorCollector, name: string, global: boolean): void {
  const re = global ? GNP_NAME : NP_NAME;
  if (name && !re.test(name)) {
    const expected = global
      ? 'a lower case DNS label, optionally with one dot (e.g. "allow-dns" or "security.allow-dns")'
      : 'a lower case DNS label, optionally with one dot, or "knp.default.<name>"';
    errs.add('metadata.name', 'format', `invalid policy name ${JSON.stringify(name)}: expected ${expected}`);
  }
}

/** Staged policies: stagedAction Delete means every other spec field is empty (except tier). */
export function checkStagedDelete(errs: ErrorCollector, spec: Obj, keep: readonly string[]): boolean {
  if (spec.stagedAction !== 'Delete') return false;
  const extra = Object.keys(spec).filter((k) => k !== 'stagedAction' && !keep.includes(k) && nonEmpty(spec[k]));
  if (extra.length) errs.add('spec', 'forbidden', `spec fields${keep.length ? ', except tier,' : ''} should all be empty if stagedAction is Delete (found ${extra.join(', ')})`);
  return true;
}

export const RESERVED_TIERS: Readonly<Record<string, { action: string; order: number }>> = {
  default: { action: 'Deny', order: 1_000_000 },
  'kube-admin': { action: 'Pass', order: 1_000 },
  'kube-baseline': { action: 'Pass', order: 10_000_000 },
};

export function checkTier(errs: ErrorCollector, name: string, spec: Obj): void {
  if (name && !(name.length <= 63 && new RegExp(`^${NAME_LABEL}$`).test(name))) {
    errs.add('metadata.name', 'format', `invalid tier name ${JSON.stringify(name)}: expected a DNS label (lower case alphanumeric characters or '-', at most 63 characters, no dots)`);
  }
  const reserved = RESERVED_TIERS[name];
  if (reserved) {
    if (spec.defaultAction !== reserved.action) errs.add('spec.defaultAction', 'invalid', `the '${name}' tier must have default action '${reserved.action}'`);
    if (spec.order !== reserved.order) errs.add('spec.order', 'invalid', `${name} tier order must be ${reserved.order}`);
  }
}

export function checkProfile(errs: ErrorCollector, spec: Obj): void {
  checkRules(errs, spec, false);
  checkLabels(errs, 'spec.labelsToApply', spec.labelsToApply);
}

export function ruleFamily(rule: Obj): IPFamily | undefined {
  return rule.ipVersion === 4 || rule.ipVersion === 6 ? rule.ipVersion : undefined;
}
