// Speaker configuration: parsed and validated once (zod), with defaults in one place.
// The file is YAML or JSON; CLI flags override a few top-level fields.
import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import YAML from 'yaml';
import { z } from 'zod';
import { tryParseCIDR, formatCIDR, maskCIDR } from '../../lib/index.ts';
import { compileBGPFilter, calicoKernelPolicy, parseCommunity, type BGPFilterInput } from '../rib/index.ts';

// A config is parsed once per start (and per reload): zod's default JIT compiles a validator with
// `new Function` on the first parse, which costs ~6 ms of CPU per start (measured: first parse
// 10-12 ms JIT vs 4-5 ms jitless) and gains nothing for one small object. This process has no
// other zod user.
z.config({ jitless: true });

/**
 * Our rtnetlink protocol number for routes we install: 81. Calico's BIRD uses 12 ("bird") and
 * felix marks its own routes with 80, so 81 keeps the three apart (unassigned in rt_protos).
 */
export const RTPROT_CALICO_BGP = 81;

export class ConfigError extends Error {
  readonly code = 'bgp-config-invalid';
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}

const ip = z.string().refine((s) => isIP(s) !== 0, { message: 'expected an IPv4 or IPv6 address' });
const ipv4 = z.string().refine((s) => isIP(s) === 4, { message: 'expected an IPv4 address (dotted quad)' });
const V4_CIDR = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\/(\d{1,2})$/;

/** Canonical (masked) CIDR text, or null. IPv4 on a fast path: configs may list 100k prefixes. */
export function canonicalCidr(s: string): string | null {
  const m = V4_CIDR.exec(s);
  if (m) {
    const o = [Number(m[1]), Number(m[2]), Number(m[3]), Number(m[4])];
    const len = Number(m[5]);
    if (len > 32 || o.some((x) => x > 255) || m.slice(1, 5).some((x) => x.length > 1 && x[0] === '0')) return null;
    const v = ((o[0]! << 24) | (o[1]! << 16) | (o[2]! << 8) | o[3]!) >>> 0;
    const masked = len === 0 ? 0 : (v & (0xffffffff << (32 - len))) >>> 0;
    return `${masked >>> 24}.${(masked >>> 16) & 255}.${(masked >>> 8) & 255}.${masked & 255}/${len}`;
  }
  const c = tryParseCIDR(s);
  return c ? formatCIDR(maskCIDR(c)) : null;
}

const cidr = z.string().transform((s, ctx) => {
  const c = canonicalCidr(s);
  if (c === null) {
    ctx.addIssue({ code: 'custom', message: 'expected a CIDR such as 198.19.0.0/26 or fd00:198:19::/64' });
    return z.NEVER;
  }
  return c;
});
const asn = z.number().int().min(1).max(4294967295);
const holdTime = z
  .number()
  .int()
  .min(0)
  .max(65535)
  .refine((h) => h === 0 || h >= 3, { message: 'hold time must be 0 or at least 3 seconds' });

const grSchema = z
  .object({
    enabled: z.boolean().default(true),
    /** Seconds the peer should keep our routes while we restart (RFC 4724 Restart Time, max 4095). */
    restartTime: z.number().int().min(1).max(4095).default(120),
    /** Seconds we keep a restarting peer's stale routes waiting for End-of-RIB. */
    staleTime: z.number().int().min(1).max(3600).default(360),
    /** After our own restart: seconds to wait for peers' End-of-RIB before selecting routes anyway. */
    deferralTime: z.number().int().min(1).max(3600).default(60),
  })
  .strict();

const peerSchema = z
  .object({
    address: ip,
    asNumber: asn,
    port: z.number().int().min(1).max(65535).default(179),
    password: z.string().min(1).max(80).optional(),
    /** Read the password from a file (like Calico's secret reference). */
    passwordFile: z.string().optional(),
    passive: z.boolean().default(false),
    sourceAddress: ip.optional(),
    holdTime: holdTime.optional(),
    keepaliveTime: z.number().int().min(1).optional(),
    connectRetryTime: z.number().positive().optional(),
    routeReflectorClient: z.boolean().default(false),
    nextHopSelf: z.boolean().optional(),
    keepOriginalNextHop: z.boolean().default(false),
    gracefulRestart: z.boolean().default(true),
    description: z.string().optional(),
    /** Names of `bgpFilters` applied to this peer, in order (Calico BGPPeer spec.filters). */
    filters: z.array(z.string().min(1)).optional(),
    /** Our AS on this session (BGPPeer localASNumber, BIRD `local as`); default asNumber. */
    localAsNumber: asn.optional(),
    /** GTSM (RFC 5082) hop count (BGPPeer ttlSecurity): send with TTL 255, accept TTL >= 256 - hops. */
    ttlSecurity: z.number().int().min(1).max(255).optional(),
    /** Accept routes whose AS_PATH holds our AS up to this many times (BGPPeer numAllowedLocalASNumbers). */
    numAllowedLocalAs: z.number().int().min(0).max(0x7fffffff).optional(),
    /** Reach the peer through this gateway: a host route to the peer via it (BGPPeer reachableBy). */
    reachableBy: ip.optional(),
  })
  .strict();

/** BGPConfiguration prefixAdvertisements (community names already resolved to values). */
const prefixAdvertisementSchema = z
  .object({
    cidr,
    /** Standard `aa:nn` (16-bit parts) or large `aa:nn:mm` (32-bit parts) communities. */
    communities: z.array(z.string()).min(1),
  })
  .strict();

/** A Calico BGPFilter (name + spec with importV4/exportV4/importV6/exportV6 rules); checked by the RIB's compiler. */
const bgpFilterSchema = z
  .object({
    name: z.string().min(1),
    spec: z.record(z.string(), z.unknown()),
  })
  .strict();

const kernelPolicySchema = z
  .object({
    /** IP pools with their encapsulation (decides which learned routes BGP programs, and via tunl0). */
    pools: z
      .array(
        z
          .object({
            cidr,
            ipipMode: z.enum(['Never', 'Always', 'CrossSubnet']).optional(),
            vxlanMode: z.enum(['Never', 'Always', 'CrossSubnet']).optional(),
          })
          .strict(),
      )
      .default([]),
    /** BGPConfiguration programClusterRoutes. */
    programClusterRoutes: z.enum(['Enabled', 'Disabled', 'EnabledIPIPOnly', 'EnabledNoEncapOnly']).optional(),
    /** This node's subnet (IPIP CrossSubnet). */
    localSubnet: cidr.optional(),
    rejectCidrs: z.array(cidr).optional(),
    tunnelDevice: z.string().min(1).max(15).optional(),
  })
  .strict();

export const configSchema = z
  .object({
    asNumber: asn.default(64512),
    routerId: ipv4,
    listenAddress: ip.optional(),
    listenPort: z.number().int().min(0).max(65535).default(179),
    /** Whether to listen at all (tests with only active peers may turn it off). */
    listen: z.boolean().default(true),
    holdTime: holdTime.default(90),
    keepaliveTime: z.number().int().min(1).optional(),
    /** Calico's BIRD uses 5 s ("connect retry time 5"); RFC 4271 suggests 120 s. */
    connectRetryTime: z.number().positive().default(5),
    /** Wait after a session error before reconnecting (BIRD's "error wait time", 5 s). */
    idleHoldTime: z.number().positive().default(5),
    routeReflectorClusterId: ipv4.optional(),
    /** Prefixes this node originates (IPAM blocks affine to it); always exported. */
    prefixes: z.array(cidr).default([]),
    /** Calico's export rule: besides originated prefixes, only routes inside these pools are exported. */
    ipPools: z.array(cidr).default([]),
    kernel: z
      .object({
        install: z.boolean().default(true),
        table: z.number().int().min(1).max(0xffffffff).default(254),
        protocol: z.number().int().min(1).max(255).default(RTPROT_CALICO_BGP),
        /** Originated prefixes are installed as blackhole routes (as Calico does for its blocks). */
        blackholeOriginated: z.boolean().default(false),
        /**
         * netlink: rtnetlink on the main thread (default); worker: on a worker thread (kernel inserts
         * overlap with UPDATE processing, but a second V8 isolate costs ~35 MiB RSS); ip: `ip -batch`.
         */
        writer: z.enum(['worker', 'netlink', 'ip']).default('netlink'),
      })
      .strict()
      .default({ install: true, table: 254, protocol: RTPROT_CALICO_BGP, blackholeOriginated: false, writer: 'netlink' }),
    gracefulRestart: grSchema.default({ enabled: true, restartTime: 120, staleTime: 360, deferralTime: 60 }),
    /** Unix socket serving status as JSON (`calico-bgp status`). */
    statusSocket: z.string().optional(),
    /** Also write the status as JSON to this file whenever it changes (throttled). */
    statusFile: z.string().optional(),
    logLevel: z.enum(['debug', 'info', 'warn', 'error']).default('info'),
    peers: z.array(peerSchema).default([]),
    /** BGPFilters by name; peers list the ones that apply to them in `filters`. */
    bgpFilters: z.array(bgpFilterSchema).optional(),
    /** Communities added to exported routes inside (or equal to) a CIDR, as Calico's apply_communities. */
    prefixAdvertisements: z.array(prefixAdvertisementSchema).optional(),
    /** Calico's kernel programming rule (calico_kernel_programming); absent: every best route is programmed. */
    kernelPolicy: kernelPolicySchema.optional(),
  })
  .strict();

export type SpeakerConfig = z.output<typeof configSchema>;
export type PeerConfig = z.output<typeof peerSchema>;
export type SpeakerConfigInput = z.input<typeof configSchema>;

function formatIssues(err: z.ZodError, where: string): string {
  return err.issues
    .map((i) => {
      const path = i.path.length ? i.path.map((p) => (typeof p === 'number' ? `[${p}]` : `.${String(p)}`)).join('').replace(/^\./, '') : '(top level)';
      return `${where}: ${path}: ${i.message}`;
    })
    .join('\n');
}

/** Validates a config object (already parsed from YAML/JSON). Throws ConfigError with every problem listed. */
export function parseConfig(raw: unknown, where = 'config'): SpeakerConfig {
  const r = configSchema.safeParse(raw ?? {});
  if (!r.success) throw new ConfigError(`invalid BGP speaker configuration\n${formatIssues(r.error, where)}`);
  const cfg = r.data;
  const filterNames = new Set<string>();
  for (const [i, f] of (cfg.bgpFilters ?? []).entries()) {
    if (filterNames.has(f.name)) throw new ConfigError(`${where}: bgpFilters[${i}].name: duplicate BGPFilter ${f.name}`);
    filterNames.add(f.name);
    try {
      compileBGPFilter(f as BGPFilterInput);
    } catch (err) {
      throw new ConfigError(`${where}: bgpFilters[${i}]: ${(err as Error).message}`);
    }
  }
  for (const [i, a] of (cfg.prefixAdvertisements ?? []).entries()) {
    for (const [j, c] of a.communities.entries()) {
      try {
        parseCommunity(c);
      } catch {
        throw new ConfigError(`${where}: prefixAdvertisements[${i}].communities[${j}]: ${JSON.stringify(c)} is not a community (expected aa:nn with 16-bit parts, or aa:nn:mm with 32-bit parts)`);
      }
    }
  }
  try {
    if (cfg.kernelPolicy) calicoKernelPolicy(cfg.kernelPolicy);
  } catch (err) {
    throw new ConfigError(`${where}: kernelPolicy: ${(err as Error).message}`);
  }
  const seen = new Set<string>();
  for (const [i, p] of cfg.peers.entries()) {
    const key = `${p.address}:${p.port}`;
    if (seen.has(p.address)) throw new ConfigError(`${where}: peers[${i}].address: duplicate peer ${p.address}`);
    seen.add(p.address);
    void key;
    for (const [j, f] of (p.filters ?? []).entries()) {
      if (!filterNames.has(f)) throw new ConfigError(`${where}: peers[${i}].filters[${j}]: no BGPFilter named ${JSON.stringify(f)} in bgpFilters`);
    }
    if (p.password && p.passwordFile) throw new ConfigError(`${where}: peers[${i}]: give password or passwordFile, not both`);
    if (p.passwordFile) {
      try {
        p.password = readFileSync(p.passwordFile, 'utf8').trim();
      } catch (err) {
        throw new ConfigError(`${where}: peers[${i}].passwordFile: cannot read ${p.passwordFile}: ${(err as Error).message}`);
      }
    }
    const localAs = p.localAsNumber ?? cfg.asNumber;
    if (p.routeReflectorClient && p.asNumber !== localAs) {
      throw new ConfigError(`${where}: peers[${i}].routeReflectorClient: route reflector clients must be iBGP (AS ${localAs}), got AS ${p.asNumber}`);
    }
    if (p.reachableBy !== undefined && isIP(p.reachableBy) !== isIP(p.address)) {
      throw new ConfigError(`${where}: peers[${i}].reachableBy: ${p.reachableBy} is not an address of the peer's family (IPv${isIP(p.address)})`);
    }
  }
  return cfg;
}

export function loadConfigFile(file: string): SpeakerConfig {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new ConfigError(`cannot read config file ${file}: ${(err as Error).message}`);
  }
  let raw: unknown;
  try {
    raw = file.endsWith('.json') ? JSON.parse(text) : YAML.parse(text);
  } catch (err) {
    throw new ConfigError(`cannot parse ${file}: ${(err as Error).message}`);
  }
  return parseConfig(raw, file);
}
