// calicoctl ipam split (calicoctl/commands/ipam/split.go): replace an IP pool, on a locked
// datastore, by 2^k pools of equal size that cover it, named split-<pool>-<i>, each a copy of
// the old pool (labels, annotations, spec) with its own CIDR and disabled: false. The steps
// and messages are calicoctl's: the old pool is disabled first, then the CIDR is split (a bad
// count fails here, leaving the old pool disabled, as in Calico), then the new pools are
// written and the old one removed without releasing its block affinities (the new pools
// cover those blocks). Calico creates the new pools one by one past its overlap check
// ("UnsafeCreate"), then removes the old one; ours does both in one etcd transaction
// (ResourceClient.replaceWith), so a failure leaves the old pool (disabled) and no new pool.
import { formatCIDR, maskCIDR, tryParseCIDR, familyBits } from '../lib/index.ts';
import type { AnyResource } from '../model/index.ts';
import { cause, checkedClient, requireLocked } from './admin-steps.ts';
import { CommandFailed, withSession, type CtlDeps, type CtlIO } from './commands.ts';


/** split.go's splitCIDR: `parts` (a power of two, at least 2) equal CIDRs covering `cidr`. */
export function splitCIDR(cidr: string, parts: number): string[] {
  const power = Math.log2(parts);
  if (Number.isNaN(power) || power === 0 || !Number.isFinite(power) || Math.trunc(power) !== power) {
    throw new Error(`number to split CIDR into is not a valid power of 2: ${parts}`);
  }
  const c = tryParseCIDR(cidr);
  if (!c) throw new Error(`error reading CIDR ${cidr} before attempting to split it`);
  const bits = familyBits(c.family);
  if (power + c.prefix > bits) throw new Error(`the CIDR ${cidr} is not large enough to be split into ${parts} parts`);
  const prefix = c.prefix + power;
  const size = 1n << BigInt(bits - prefix);
  const base = maskCIDR(c).ip;
  return Array.from({ length: parts }, (_, i) => formatCIDR({ family: c.family, ip: base + BigInt(i) * size, prefix }));
}

/** Go's strconv.Atoi, with its error text. */
function atoi(s: string): number {
  if (!/^[+-]?[0-9]+$/.test(s)) throw new Error(`strconv.Atoi: parsing ${JSON.stringify(s)}: invalid syntax`);
  const n = Number(s);
  if (!Number.isSafeInteger(n)) throw new Error(`strconv.Atoi: parsing ${JSON.stringify(s)}: value out of range`);
  return n;
}

export async function runIpamSplit(io: CtlIO, deps: CtlDeps, count: string, opts: { config?: string; cidr?: string; name?: string; allowVersionMismatch?: boolean }): Promise<void> {
  await withSession(io, deps, opts.config, async (session) => {
    const ds = await checkedClient(session, deps, opts);
    let parts: number;
    try {
      parts = atoi(count);
    } catch (err) {
      throw new CommandFailed(`error reading number to split IP pools into. ${count} is not a valid number: ${(err as Error).message}`);
    }
    const cidr = opts.cidr ?? '';
    const name = opts.name ?? '';
    if (!cidr && !name) throw new CommandFailed('no name or CIDR provided. Provide a name or CIDR to denote the IP pool to split');
    await requireLocked(ds, 'datastore is not locked. Run the `calicoctl datastore migrate lock` command in order split the IP pools');
    let old: AnyResource | undefined;
    if (name) {
      try {
        old = await ds.resources.get('IPPool', name);
      } catch (err) {
        throw new CommandFailed(`unable to find IP pool with name ${name}: ${cause(err)}`);
      }
    } else {
      try {
        for (const p of (await ds.resources.list('IPPool')).items) if ((p.spec as { cidr?: string }).cidr === cidr) old = p;
      } catch {
        throw new CommandFailed(`unable to list IP pools to find the pool specified by ${cidr}`);
      }
    }
    if (!old) throw new CommandFailed(`unable to find IP pool ${name} covering the specified CIDR ${cidr}`);
    try {
      old = await ds.resources.update({ ...old, spec: { ...old.spec, disabled: true } } as AnyResource);
    } catch {
      throw new CommandFailed(`error disabling IP pool ${cidr}`);
    }
    const oldName = old.metadata.name ?? '';
    const oldCidr = String((old.spec as { cidr?: string }).cidr ?? '');
    let cidrs: string[];
    try {
      cidrs = splitCIDR(oldCidr, parts);
    } catch (err) {
      throw new CommandFailed(`error splitting the CIDR ${oldCidr} into ${parts} CIDRs: ${(err as Error).message}`);
    }
    const m = old.metadata;
    const pools = cidrs.map((c, i) => {
      const newName = `split-${oldName.length + 8 > 253 ? oldName.slice(0, 245) : oldName}-${i}`;
      return {
        ...old,
        metadata: { name: newName, ...(m.labels ? { labels: m.labels } : {}), ...(m.annotations ? { annotations: m.annotations } : {}) },
        spec: { ...old.spec, cidr: c, disabled: false },
      } as AnyResource;
    });
    try {
      await ds.resources.replaceWith(old, pools);
    } catch (err) {
      // nothing was written: say which side failed, in calicoctl's words for that step
      const clash = pools.find((p) => err instanceof Error && err.message.includes(`IPPool(${p.metadata.name ?? ''})`));
      throw new CommandFailed(
        clash
          ? `error using unsafe create to make split pool with cidr ${String(clash.spec?.cidr)}: ${cause(err)}`
          : `error removing the IP pool that was split ${oldName}: ${cause(err)}`,
      );
    }
    io.out(`IP Pool ${oldName} was successfully split into ${parts} smaller pools.`);
    for (const p of pools) io.out(`Created ${p.metadata.name ?? ''} with CIDR ${String(p.spec?.cidr)}.\n`);
    io.out('Please refer to the documentation for final steps.');
  });
}
