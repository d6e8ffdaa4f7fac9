// calicoctl datastore migrate {export,import,lock,unlock} (calicoctl/commands/datastore/migrate):
// the parts that make sense on an etcd v3 datastore. lock and unlock flip ClusterInformation
// `default`'s spec.datastoreReady (false: components treat the datastore as locked); export,
// of a locked datastore only, prints every v3 resource (YAML Lists, `---` after each kind),
// `===`, ClusterInformation (JSON), `===`, and the IPAM objects (JSON) as calicoctl does; import
// moves an export into a Kubernetes datastore, which calico-ts does not have, so it is refused
// with calicoctl's words for an etcdv3 target. Errors come back bare (cobra prints them on
// stderr), after the version check for export, lock and unlock; import skips that check.
import type { DatastoreClient } from '../datastore/index.ts';
import { lookupKind, toList, type AnyResource } from '../model/index.ts';
import { cause, checkedClient, requireLocked } from './admin-steps.ts';
import { CommandFailed, sortTiers, withSession, type CtlDeps, type CtlIO } from './commands.ts';
import { goShape } from './go-shape.ts';
import { encodeOutput } from './output.ts';


/** `datastore migrate import -f F`: only a Kubernetes datastore can be imported into. */
export async function runMigrateImport(io: CtlIO, deps: CtlDeps, opts: { config?: string; filename?: string }): Promise<void> {
  await withSession(io, deps, opts.config, async (session) => {
    session.open('version');
    const type = session.config?.datastoreType ?? 'etcdv3';
    throw new CommandFailed(`invalid datastore type: ${type} to import to for datastore migration. Datastore type must be kubernetes`);
  });
}

/** `datastore migrate lock` / `unlock`: datastoreReady false / true on ClusterInformation default. */
export async function runMigrateLock(io: CtlIO, deps: CtlDeps, lock: boolean, opts: { config?: string; allowVersionMismatch?: boolean }): Promise<void> {
  const what = lock ? 'locking' : 'unlocking';
  await withSession(io, deps, opts.config, async (session) => {
    const ds = await checkedClient(session, deps, opts);
    if (lock) {
      try {
        await ds.resources.ensureInitialized();
      } catch (err) {
        throw new CommandFailed(`unable to initialize cluster information for the datastore migration: ${cause(err)}`);
      }
    }
    let ci: AnyResource;
    try {
      ci = await ds.resources.get('ClusterInformation', 'default');
    } catch (err) {
      throw new CommandFailed(`error retrieving ClusterInformation for ${what}: ${cause(err)}`);
    }
    try {
      await ds.resources.update({ ...ci, spec: { ...(ci.spec ?? {}), datastoreReady: !lock } } as AnyResource);
    } catch (err) {
      throw new CommandFailed(`error updating ClusterInformation for ${what}: ${cause(err)}`);
    }
    io.out(lock ? 'Datastore locked.\n' : 'Datastore unlocked.\n');
  });
}

// export.go's allV3Resources: the order resources are exported (tiers before policies, nodes
// before the per-node configuration that names them).
const EXPORTED = [
  'ippools', 'bgppeers', 'tiers', 'globalnetworkpolicies', 'stagedglobalnetworkpolicies', 'globalnetworksets', 'hostendpoints',
  'kubecontrollersconfigurations', 'networkpolicies', 'stagednetworkpolicies', 'stagedkubernetesnetworkpolicies', 'networksets',
  'nodes', 'bgpconfigurations', 'felixconfigurations', 'ipreservations', 'bgpfilters',
];
// export.go lists these two across all namespaces; the other namespaced kinds go through the
// plain get path, which defaults the namespace to "default" (so only those are exported).
const ALL_NAMESPACES = new Set(['networkpolicies', 'networksets']);
const IPTABLES_ACTIONS = ['defaultEndpointToHostAction', 'iptablesFilterAllowAction', 'iptablesMangleAllowAction', 'iptablesFilterDenyAction'];
const TUNNEL_HANDLES = ['ipip-tunnel-addr-', 'vxlan-tunnel-addr-', 'wireguard-tunnel-addr-'];

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const title = (s: string): string => s.toLowerCase().replace(/(^|\s)(\S)/g, (_m, a: string, b: string) => a + b.toUpperCase());

/** A renamed `node.<etcd name>` per-node configuration, if the node has a Kubernetes name. */
function renamePerNode(res: AnyResource, nodeMap: Map<string, string>): void {
  const name = res.metadata.name ?? '';
  if (name.startsWith('node.')) {
    const k8s = nodeMap.get(name.slice(5));
    if (k8s !== undefined) res.metadata.name = `node.${k8s}`;
  }
}

function renameTunnelHandle(id: string, nodeMap: Map<string, string>): string {
  for (const p of TUNNEL_HANDLES) {
    if (id.startsWith(p)) {
      const k8s = nodeMap.get(id.slice(p.length));
      if (k8s !== undefined) return p + k8s;
    }
  }
  return id;
}

/** model.AllocationBlock as Go marshals it, with node names mapped as export.go maps them. */
function exportBlock(raw: Obj, nodeMap: Map<string, string>): Obj {
  const attrs = Array.isArray(raw.attributes)
    ? raw.attributes.map((a) => {
        if (!isObj(a)) return a;
        const out: Obj = {};
        if (typeof a.handle_id === 'string') out.handle_id = renameTunnelHandle(a.handle_id, nodeMap);
        for (const k of ['secondary', 'alternateOwnerAttrs'] as const) {
          if (isObj(a[k])) {
            const m = { ...(a[k] as Record<string, string>) };
            const k8s = nodeMap.get(m.node ?? '');
            if (k8s !== undefined) m.node = k8s;
            out[k] = m;
          }
        }
        if (a.releasedAt !== undefined) out.releasedAt = a.releasedAt;
        return out;
      })
    : (raw.attributes ?? null);
  let affinity = typeof raw.affinity === 'string' ? raw.affinity : null;
  const host = affinity?.startsWith('host:') ? affinity.slice(5) : affinity?.startsWith('virtual:') ? affinity.slice(8) : '';
  if (host && nodeMap.has(host)) affinity = `host:${nodeMap.get(host)!}`;
  const seq = isObj(raw.sequenceNumberForAllocation) ? Object.fromEntries(Object.entries(raw.sequenceNumberForAllocation).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) : (raw.sequenceNumberForAllocation ?? null);
  return {
    cidr: raw.cidr,
    affinity,
    ...(raw.affinity_claim_time !== undefined ? { affinity_claim_time: raw.affinity_claim_time } : {}),
    allocations: raw.allocations ?? null,
    unallocated: raw.unallocated ?? null,
    attributes: attrs,
    sequenceNumber: raw.sequenceNumber ?? 0,
    sequenceNumberForAllocation: seq,
    deleted: raw.deleted ?? false,
    ...(raw.hostAffinity !== undefined ? { hostAffinity: raw.hostAffinity } : {}),
  };
}

/** The IPAM objects as migrateIPAM marshals them: Key, Value, TTL per object; empty lists left out. */
async function exportIpam(ds: DatastoreClient, nodeMap: Map<string, string>): Promise<Obj> {
  const parse = (v: string): Obj => {
    const o: unknown = JSON.parse(v);
    return isObj(o) ? o : {};
  };
  const blocks = (await ds.kv.range('/calico/ipam/v2/assignment/')).kvs.map((kv) => ({ Key: kv.key, Value: exportBlock(parse(kv.value), nodeMap), TTL: 0 }));
  const affinities = (await ds.kv.range('/calico/ipam/v2/host/')).kvs.map((kv) => {
    const m = /^\/calico\/ipam\/v2\/host\/([^/]+)\/(.*)$/.exec(kv.key);
    const key = m && nodeMap.has(m[1]!) ? `/calico/ipam/v2/host/${nodeMap.get(m[1]!)!}/${m[2]!}` : kv.key;
    const v = parse(kv.value);
    return { Key: key, Value: { state: v.state ?? '', deleted: v.deleted ?? false }, TTL: 0 };
  });
  const handles = (await ds.kv.range('/calico/ipam/v2/handle/')).kvs.map((kv) => {
    const id = kv.key.slice('/calico/ipam/v2/handle/'.length);
    const v = parse(kv.value);
    const block = isObj(v.block) ? Object.fromEntries(Object.entries(v.block).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) : null;
    return { Key: `/calico/ipam/v2/handle/${renameTunnelHandle(id, nodeMap)}`, Value: { block, deleted: v.deleted ?? false }, TTL: 0 };
  });
  const config = await ds.kv.get('/calico/ipam/v2/config');
  const out: Obj = {};
  if (affinities.length) out.block_affinities = affinities;
  if (blocks.length) out.blocks = blocks;
  if (handles.length) out.handles = handles;
  if (config) {
    const v = parse(config.value);
    const value: Obj = {};
    for (const k of ['strict_affinity', 'auto_allocate_blocks', 'maxBlocksPerHost', 'kubeVirtVMAddressPersistence', 'ipCooldownSeconds']) if (v[k] !== undefined && v[k] !== false && v[k] !== 0) value[k] = v[k];
    out.config = { Key: '/calico/ipam/v2/config', Value: value, TTL: 0 };
  }
  return out;
}

/** `datastore migrate export`: a locked datastore's contents, in the layout import reads. */
export async function runMigrateExport(io: CtlIO, deps: CtlDeps, opts: { config?: string; allowVersionMismatch?: boolean }): Promise<void> {
  await withSession(io, deps, opts.config, async (session) => {
    const ds = await checkedClient(session, deps, opts);
    await requireLocked(ds, 'datastore is not locked. Run the `calicoctl datastore migrate lock` command in order to begin migration');
    const nodeMap = new Map<string, string>();
    for (const plural of EXPORTED) {
      const info = lookupKind(plural)!;
      let listed;
      try {
        listed = await ds.resources.list(info.kind, info.namespaced && !ALL_NAMESPACES.has(plural) ? { namespace: 'default' } : {});
      } catch (err) {
        throw new CommandFailed(cause(err));
      }
      let items = (info.kind === 'Tier' ? sortTiers(listed.items) : listed.items).map((r) => {
        const c = structuredClone(r);
        for (const k of ['uid', 'resourceVersion', 'creationTimestamp', 'deletionTimestamp', 'deletionGracePeriodSeconds'] as const) delete (c.metadata as Obj)[k];
        return c;
      });
      if (plural === 'networkpolicies') items = items.filter((r) => !(r.metadata.name ?? '').startsWith('knp.default.'));
      if (plural === 'nodes') {
        for (const n of items) {
          const refs = (n.spec as { orchRefs?: { orchestrator?: string; nodeName?: string }[] } | undefined)?.orchRefs ?? [];
          let k8s = '';
          for (const r of refs) if (r.orchestrator === 'k8s') k8s = r.nodeName ?? '';
          if (!k8s) {
            throw new CommandFailed(`unable to process metadata for export for Node resource: node ${n.metadata.name ?? ''} missing a 'k8s' orchestrator reference. Unable to export data unless every node has a 'k8s' orchestrator reference`);
          }
          nodeMap.set(n.metadata.name ?? '', k8s);
          n.metadata.name = k8s;
        }
      }
      if (plural === 'felixconfigurations') {
        for (const f of items) {
          renamePerNode(f, nodeMap);
          const spec = (f.spec ?? {}) as Obj;
          for (const k of IPTABLES_ACTIONS) if (typeof spec[k] === 'string' && spec[k]) spec[k] = title(spec[k]);
        }
      }
      if (plural === 'bgpconfigurations') for (const b of items) renamePerNode(b, nodeMap);
      io.out(encodeOutput(goShape(toList(info.kind, items, String(listed.revision))), 'yaml'));
      io.out('---\n');
    }
    io.out('===\n');
    try {
      io.out(`${encodeOutput(goShape(await ds.resources.get('ClusterInformation', 'default')), 'json')}\n`);
    } catch (err) {
      throw new CommandFailed(cause(err));
    }
    io.out('===\n');
    let ipam: Obj;
    try {
      ipam = await exportIpam(ds, nodeMap);
    } catch (err) {
      throw new CommandFailed(cause(err));
    }
    io.out(`${encodeOutput(ipam, 'json')}\n`);
  });
}
