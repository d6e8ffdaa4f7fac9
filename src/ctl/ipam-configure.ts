// calicoctl ipam configure (calicoctl/commands/ipam/configure.go, libcalico-go ipam
// Get/SetIPAMConfig): IPAM's own configuration object at /calico/ipam/v2/config — strict
// affinity, max blocks per host, KubeVirt address persistence, IP cool-down — read (Calico's
// defaults when absent), changed, checked and written back with the revision it was read at.
// Messages are calicoctl's.
import { IPAM_CONFIG_KEY } from '../model/index.ts';
import { cause, checkedClient } from './admin-steps.ts';
import { CommandFailed, withSession, type CtlDeps, type CtlIO } from './commands.ts';

export interface IpamConfigureOptions {
  config?: string;
  strictAffinity?: string;
  maxBlocksPerHost?: string;
  kubeVirtIpPersistence?: string;
  ipCooldownSeconds?: string;
  allowVersionMismatch?: boolean;
}

/** model.IPAMConfig as Go marshals it (omitempty fields). */
interface IpamConfig {
  strict_affinity: boolean;
  auto_allocate_blocks: boolean;
  maxBlocksPerHost: number;
  kubeVirtVMAddressPersistence: string | undefined;
  ipCooldownSeconds: number;
}

/** Go's strconv.ParseBool. */
function parseBool(s: string): boolean | undefined {
  if (['1', 't', 'T', 'TRUE', 'true', 'True'].includes(s)) return true;
  if (['0', 'f', 'F', 'FALSE', 'false', 'False'].includes(s)) return false;
  return undefined;
}

function parseInt10(s: string): number | undefined {
  return /^[+-]?[0-9]+$/.test(s) && Number.isSafeInteger(Number(s)) ? Number(s) : undefined;
}

function encode(c: IpamConfig): string {
  return JSON.stringify({
    ...(c.strict_affinity ? { strict_affinity: true } : {}),
    ...(c.auto_allocate_blocks ? { auto_allocate_blocks: true } : {}),
    ...(c.maxBlocksPerHost ? { maxBlocksPerHost: c.maxBlocksPerHost } : {}),
    ...(c.kubeVirtVMAddressPersistence !== undefined ? { kubeVirtVMAddressPersistence: c.kubeVirtVMAddressPersistence } : {}),
    ...(c.ipCooldownSeconds ? { ipCooldownSeconds: c.ipCooldownSeconds } : {}),
  });
}

export async function runIpamConfigure(io: CtlIO, deps: CtlDeps, opts: IpamConfigureOptions): Promise<void> {
  // pflag parses the Int flag before anything runs.
  let cooldown = -1;
  if (opts.ipCooldownSeconds !== undefined) {
    const n = parseInt10(opts.ipCooldownSeconds);
    if (n === undefined) throw new CommandFailed(`invalid argument "${opts.ipCooldownSeconds}" for "--ip-cooldown-seconds" flag: strconv.ParseInt: parsing "${opts.ipCooldownSeconds}": invalid syntax`);
    cooldown = n;
  }
  await withSession(io, deps, opts.config, async (session) => {
    const ds = await checkedClient(session, deps, opts);
    const fail = (err: unknown): CommandFailed => new CommandFailed(cause(err));
    let strict: boolean | undefined;
    if (opts.strictAffinity) {
      strict = parseBool(opts.strictAffinity);
      if (strict === undefined) throw new CommandFailed('invalid value. Use true or false to set strictaffinity');
    }
    let maxBlocks: number | undefined;
    if (opts.maxBlocksPerHost) {
      maxBlocks = parseInt10(opts.maxBlocksPerHost);
      if (maxBlocks === undefined) throw new CommandFailed('invalid value for maxblockhost. Use a valid number');
    }
    let persistence: string | undefined;
    if (opts.kubeVirtIpPersistence) {
      if (opts.kubeVirtIpPersistence !== 'Enabled' && opts.kubeVirtIpPersistence !== 'Disabled') throw new CommandFailed('invalid value for --kubevirt-ip-persistence. Use Enabled or Disabled');
      persistence = opts.kubeVirtIpPersistence;
    }
    const setCooldown = cooldown >= 0;
    if (strict === undefined && maxBlocks === undefined && persistence === undefined && !setCooldown) {
      throw new CommandFailed('at least one configuration option must be specified');
    }
    let stored;
    try {
      stored = await ds.kv.get(IPAM_CONFIG_KEY);
    } catch (err) {
      throw fail(err);
    }
    let current: IpamConfig;
    if (stored) {
      let raw: Record<string, unknown>;
      try {
        raw = JSON.parse(stored.value) as Record<string, unknown>;
      } catch {
        throw new CommandFailed(`error: IPAM config at ${IPAM_CONFIG_KEY} is not valid JSON`);
      }
      current = {
        strict_affinity: raw.strict_affinity === true,
        auto_allocate_blocks: raw.auto_allocate_blocks === true,
        maxBlocksPerHost: typeof raw.maxBlocksPerHost === 'number' ? raw.maxBlocksPerHost : 0,
        kubeVirtVMAddressPersistence: typeof raw.kubeVirtVMAddressPersistence === 'string' ? raw.kubeVirtVMAddressPersistence : undefined,
        ipCooldownSeconds: typeof raw.ipCooldownSeconds === 'number' ? raw.ipCooldownSeconds : 0,
      };
    } else {
      // No configuration yet: Calico's defaults.
      current = { strict_affinity: false, auto_allocate_blocks: true, maxBlocksPerHost: 0, kubeVirtVMAddressPersistence: 'Enabled', ipCooldownSeconds: 0 };
    }
    const next: IpamConfig = {
      ...current,
      ...(strict !== undefined ? { strict_affinity: strict } : {}),
      ...(maxBlocks !== undefined ? { maxBlocksPerHost: maxBlocks } : {}),
      ...(persistence !== undefined ? { kubeVirtVMAddressPersistence: persistence } : {}),
      ...(setCooldown ? { ipCooldownSeconds: cooldown } : {}),
    };
    if (encode(next) !== encode(current) || !stored) {
      if (!next.strict_affinity && !next.auto_allocate_blocks) throw new CommandFailed("error: Cannot disable 'StrictAffinity' and 'AutoAllocateBlocks' at the same time");
      if (next.maxBlocksPerHost > 0 && !next.strict_affinity) throw new CommandFailed('error: MaxBlocksPerHost requires StrictAffinity to be enabled');
    }
    if (encode(next) !== encode(current)) {
      let r;
      try {
        r = await ds.kv.txn({
          compare: [stored ? { key: IPAM_CONFIG_KEY, target: 'mod', op: '=', value: stored.modRevision } : { key: IPAM_CONFIG_KEY, target: 'create', op: '=', value: 0 }],
          success: [{ type: 'put', key: IPAM_CONFIG_KEY, value: encode(next) }],
          failure: [],
        });
      } catch (err) {
        throw new CommandFailed(`error: ${fail(err).message}`);
      }
      if (!r.succeeded) throw new CommandFailed('error: update conflict: IPAMConfig(default)');
    }
    if (strict !== undefined) io.out(`Successfully set StrictAffinity to: ${String(strict)}\n`);
    if (maxBlocks !== undefined) io.out(`Successfully set MaxBlocksPerHost to: ${maxBlocks}\n`);
    if (persistence !== undefined) io.out(`Successfully set KubeVirtVMAddressPersistence to: ${persistence}\n`);
    if (setCooldown) io.out(`Successfully set IPCooldownSeconds to: ${cooldown}\n`);
  });
}
