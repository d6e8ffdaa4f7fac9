// Table output exactly as calicoctl prints it: Go's text/tabwriter with minwidth 5, tabwidth 1,
// padding 3, padchar ' ' and every cell tab-terminated — so each column is as wide as its
// widest cell plus 3 (at least 5), and lines keep their trailing padding — followed by an
// empty line. Per-kind headings and cell values follow calicoctl/resourcemgr.

import type { AnyResource } from '../model/index.ts';

/** Lays out rows like Go's tabwriter.NewWriter(w, 5, 1, 3, ' ', 0) with tab-terminated cells. */
export function tabwrite(rows: readonly (readonly string[])[], minwidth = 5, padding = 3): string {
  const cols = Math.max(0, ...rows.map((r) => r.length));
  const widths: number[] = [];
  for (let c = 0; c < cols; c++) {
    let w = minwidth;
    for (const r of rows) if (c < r.length) w = Math.max(w, [...r[c]!].length + padding);
    widths.push(w);
  }
  return rows.map((r) => r.map((cell, c) => cell + ' '.repeat(widths[c]! - [...cell].length)).join('') + '\n').join('');
}

/** Go's %v for a float64 (strconv 'g', shortest): 1000000 → 1e+06, 10 → 10, 0.5 → 0.5. */
export function goFloat(f: number): string {
  if (!Number.isFinite(f)) return f > 0 ? '+Inf' : f < 0 ? '-Inf' : 'NaN';
  if (f === 0) return Object.is(f, -0) ? '-0' : '0';
  const [mant, expStr] = f.toExponential().split('e') as [string, string];
  const exp = Number(expStr);
  if (exp < -4 || exp >= 6) {
    const e = Math.abs(exp);
    return `${mant}e${exp < 0 ? '-' : '+'}${e < 10 ? '0' : ''}${e}`;
  }
  return String(f);
}

type Obj = Record<string, unknown>;
const get = (o: unknown, ...path: string[]): unknown => {
  let v: unknown = o;
  for (const p of path) v = v && typeof v === 'object' ? (v as Obj)[p] : undefined;
  return v;
};
/** Go's fmt for template values: nil → '<nil>' (as text/template prints a nil pointer). */
const str = (v: unknown, nil = '<nil>'): string => (v === undefined || v === null ? nil : typeof v === 'object' ? JSON.stringify(v) : String(v));
const boolish = (v: unknown): string => (v === undefined || v === null ? 'false' : String(v));
const list = (v: unknown): string[] => (Array.isArray(v) ? v.map((x) => str(x, '')) : v && typeof v === 'object' ? Object.entries(v as Obj).map(([k, x]) => `${k}=${str(x, '')}`).sort() : v === undefined || v === null ? [] : [str(v)]);
/** calicoctl's join / joinAndTruncate template functions. */
export function joinAndTruncate(v: unknown, sep: string, max = 0): string {
  let out = '';
  const items = list(v);
  for (let i = 0; i < items.length; i++) {
    if (i > 0) out += sep;
    out += items[i];
    if (max > 0 && out.length > max) return out.slice(0, max - 3) + '...';
  }
  return out;
}
const order = (v: unknown): string => (typeof v === 'number' ? goFloat(v) : str(v));

export interface TableContext {
  /** BGPConfiguration default's asNumber, or 64512, or 'unknown' (calicoctl's `config "asnumber"`). */
  asNumber(): string;
}

type Cell = (r: AnyResource, ctx: TableContext) => string;

interface KindTable {
  readonly headings: readonly string[];
  readonly wide: readonly string[];
  readonly cells: Readonly<Record<string, Cell>>;
}

const NAME: Cell = (r) => str(r.metadata.name, '');
const NAMESPACE: Cell = (r) => str(r.metadata.namespace, '');
const spec = (r: AnyResource, ...p: string[]) => get(r.spec, ...p);

const globalPolicyCells: Record<string, Cell> = {
  NAME,
  ORDER: (r) => order(spec(r, 'order')),
  SELECTOR: (r) => str(spec(r, 'selector'), ''),
  TIER: (r) => str(spec(r, 'tier'), ''),
};
const policyCells: Record<string, Cell> = { ...globalPolicyCells, NAMESPACE };

const TABLES: Readonly<Record<string, KindTable>> = {
  BGPConfiguration: {
    headings: ['NAME', 'LOGSEVERITY', 'MESHENABLED', 'ASNUMBER'],
    wide: ['NAME', 'LOGSEVERITY', 'MESHENABLED', 'ASNUMBER'],
    cells: {
      NAME,
      LOGSEVERITY: (r) => str(spec(r, 'logSeverityScreen'), ''),
      MESHENABLED: (r) => (spec(r, 'nodeToNodeMeshEnabled') === undefined ? '-' : str(spec(r, 'nodeToNodeMeshEnabled'))),
      ASNUMBER: (r) => (spec(r, 'asNumber') === undefined ? '-' : str(spec(r, 'asNumber'))),
    },
  },
  BGPFilter: {
    headings: ['NAME', 'NUMEXPORTV4', 'NUMIMPORTV4', 'NUMEXPORTV6', 'NUMIMPORTV6'],
    wide: ['NAME', 'NUMEXPORTV4', 'NUMIMPORTV4', 'NUMEXPORTV6', 'NUMIMPORTV6'],
    cells: {
      NAME,
      NUMEXPORTV4: (r) => String(list(spec(r, 'exportV4')).length),
      NUMIMPORTV4: (r) => String(list(spec(r, 'importV4')).length),
      NUMEXPORTV6: (r) => String(list(spec(r, 'exportV6')).length),
      NUMIMPORTV6: (r) => String(list(spec(r, 'importV6')).length),
    },
  },
  BGPPeer: {
    headings: ['NAME', 'PEERIP', 'NODE', 'ASN'],
    wide: ['NAME', 'PEERIP', 'NODE', 'ASN'],
    cells: {
      NAME,
      PEERIP: (r) => str(spec(r, 'peerIP'), ''),
      NODE: (r) => {
        const node = str(spec(r, 'node'), '');
        if (node) return node;
        const sel = str(spec(r, 'nodeSelector'), '');
        return sel || '(global)';
      },
      ASN: (r) => str(spec(r, 'asNumber') ?? 0),
    },
  },
  CalicoNodeStatus: {
    headings: ['NAME', 'NODE'],
    wide: ['NAME', 'NODE', 'CLASSES'],
    cells: { NAME, NODE: (r) => str(spec(r, 'node'), ''), CLASSES: (r) => joinAndTruncate(spec(r, 'classes'), ',') },
  },
  ClusterInformation: {
    headings: ['NAME', 'CLUSTERGUID', 'CLUSTERTYPE', 'CALICOVERSION', 'DATASTOREREADY'],
    wide: ['NAME', 'CLUSTERGUID', 'CLUSTERTYPE', 'CALICOVERSION', 'DATASTOREREADY'],
    cells: {
      NAME,
      CLUSTERGUID: (r) => str(spec(r, 'clusterGUID'), ''),
      CLUSTERTYPE: (r) => str(spec(r, 'clusterType'), ''),
      CALICOVERSION: (r) => str(spec(r, 'calicoVersion'), ''),
      DATASTOREREADY: (r) => str(spec(r, 'datastoreReady')),
    },
  },
  FelixConfiguration: { headings: ['NAME'], wide: ['NAME'], cells: { NAME } },
  KubeControllersConfiguration: { headings: ['NAME'], wide: ['NAME'], cells: { NAME } },
  GlobalNetworkPolicy: { headings: ['NAME', 'TIER'], wide: ['NAME', 'TIER', 'ORDER', 'SELECTOR'], cells: globalPolicyCells },
  StagedGlobalNetworkPolicy: { headings: ['NAME', 'TIER'], wide: ['NAME', 'TIER', 'ORDER', 'SELECTOR'], cells: globalPolicyCells },
  NetworkPolicy: { headings: ['NAME', 'TIER'], wide: ['NAME', 'TIER', 'ORDER', 'SELECTOR'], cells: policyCells },
  StagedNetworkPolicy: { headings: ['NAME', 'TIER'], wide: ['NAME', 'TIER', 'ORDER', 'SELECTOR'], cells: policyCells },
  StagedKubernetesNetworkPolicy: {
    headings: ['NAME'],
    wide: ['NAME', 'PODSELECTOR'],
    cells: { NAME, NAMESPACE, PODSELECTOR: (r) => str(spec(r, 'podSelector'), '') },
  },
  GlobalNetworkSet: { headings: ['NAME'], wide: ['NAME', 'NETS'], cells: { NAME, NETS: (r) => joinAndTruncate(spec(r, 'nets'), ',', 80) } },
  NetworkSet: { headings: ['NAME'], wide: ['NAME', 'NETS'], cells: { NAME, NAMESPACE, NETS: (r) => joinAndTruncate(spec(r, 'nets'), ',', 80) } },
  HostEndpoint: {
    headings: ['NAME', 'NODE'],
    wide: ['NAME', 'NODE', 'INTERFACE', 'IPS', 'PROFILES'],
    cells: {
      NAME,
      NODE: (r) => str(spec(r, 'node'), ''),
      INTERFACE: (r) => str(spec(r, 'interfaceName'), ''),
      IPS: (r) => joinAndTruncate(spec(r, 'expectedIPs'), ','),
      PROFILES: (r) => joinAndTruncate(spec(r, 'profiles'), ','),
    },
  },
  IPAMConfiguration: {
    headings: ['NAME', 'STRICTAFFINITY', 'AUTOALLOCATEBLOCKS'],
    wide: ['NAME', 'STRICTAFFINITY', 'AUTOALLOCATEBLOCKS', 'MAXBLOCKSPERHOST'],
    cells: {
      NAME,
      STRICTAFFINITY: (r) => boolish(spec(r, 'strictAffinity')),
      AUTOALLOCATEBLOCKS: (r) => boolish(spec(r, 'autoAllocateBlocks')),
      MAXBLOCKSPERHOST: (r) => str(spec(r, 'maxBlocksPerHost') ?? 0),
    },
  },
  IPPool: {
    headings: ['NAME', 'CIDR', 'SELECTOR'],
    wide: ['NAME', 'CIDR', 'NAT', 'IPIPMODE', 'VXLANMODE', 'DISABLED', 'DISABLEBGPEXPORT', 'SELECTOR', 'ASSIGNMENTMODE'],
    cells: {
      NAME,
      CIDR: (r) => str(spec(r, 'cidr'), ''),
      NAT: (r) => boolish(spec(r, 'natOutgoing')),
      IPIPMODE: (r) => str(spec(r, 'ipipMode'), '') || 'Never',
      VXLANMODE: (r) => str(spec(r, 'vxlanMode'), '') || 'Never',
      DISABLED: (r) => boolish(spec(r, 'disabled')),
      DISABLEBGPEXPORT: (r) => boolish(spec(r, 'disableBGPExport')),
      SELECTOR: (r) => str(spec(r, 'nodeSelector'), ''),
      ASSIGNMENTMODE: (r) => str(spec(r, 'assignmentMode')),
    },
  },
  IPReservation: { headings: ['NAME'], wide: ['NAME', 'CIDRS'], cells: { NAME, CIDRS: (r) => joinAndTruncate(spec(r, 'reservedCIDRs'), ',', 80) } },
  Node: {
    headings: ['NAME'],
    wide: ['NAME', 'ASN', 'IPV4', 'IPV6'],
    cells: {
      NAME,
      ASN: (r, ctx) => {
        const bgp = spec(r, 'bgp');
        if (!bgp) return '';
        const asn = get(bgp, 'asNumber');
        return asn !== undefined && asn !== null && asn !== 0 ? str(asn) : `(${ctx.asNumber()})`;
      },
      IPV4: (r) => str(spec(r, 'bgp', 'ipv4Address'), ''),
      IPV6: (r) => str(spec(r, 'bgp', 'ipv6Address'), ''),
    },
  },
  Profile: { headings: ['NAME'], wide: ['NAME', 'LABELS'], cells: { NAME, LABELS: (r) => joinAndTruncate(spec(r, 'labelsToApply'), ',') } },
  Tier: { headings: ['NAME', 'ORDER'], wide: ['NAME', 'ORDER'], cells: { NAME, ORDER: (r) => order(spec(r, 'order')) } },
  WorkloadEndpoint: {
    headings: ['WORKLOAD', 'NODE', 'NETWORKS', 'INTERFACE'],
    wide: ['NAME', 'WORKLOAD', 'NODE', 'NETWORKS', 'INTERFACE', 'PROFILES', 'NATS'],
    cells: {
      NAME,
      NAMESPACE,
      NODE: (r) => str(spec(r, 'node'), ''),
      ORCHESTRATOR: (r) => str(spec(r, 'orchestrator'), ''),
      WORKLOAD: (r) => str(spec(r, 'workload'), '') || str(spec(r, 'pod'), ''),
      NETWORKS: (r) => joinAndTruncate(spec(r, 'ipNetworks'), ','),
      NATS: (r) => joinAndTruncate((spec(r, 'ipNATs') as Obj[] | undefined)?.map((n) => `{${str(n.internalIP, '')} ${str(n.externalIP, '')}}`), ','),
      PROFILES: (r) => joinAndTruncate(spec(r, 'profiles'), ','),
      INTERFACE: (r) => str(spec(r, 'interfaceName'), ''),
    },
  },
};

function tableFor(kind: string): KindTable {
  return TABLES[kind] ?? { headings: ['NAME'], wide: ['NAME'], cells: { NAME } };
}


export class UnknownHeadingError extends Error {
  readonly code = 'CALICOCTL_UNKNOWN_HEADING';
}

/**
 * One calicoctl table for resources of one kind: headings (default, wide or custom columns),
 * NAMESPACE first for namespaced kinds when asked, a row per resource, then an empty line.
 */
export function renderTable(
  kind: string,
  items: readonly AnyResource[],
  options: { wide?: boolean; columns?: readonly string[]; printNamespace?: boolean },
  ctx: TableContext,
): string {
  const t = tableFor(kind);
  const cells = t.cells;
  let headings = [...(options.columns ?? (options.wide ? t.wide : t.headings))];
  if (options.printNamespace && !options.columns && cells.NAMESPACE) headings = ['NAMESPACE', ...headings];
  for (const h of headings) {
    if (!cells[h]) {
      throw new UnknownHeadingError(`unknown heading ${h}, valid values are: ${Object.keys(cells).sort().join(', ')}`);
    }
  }
  const rows: string[][] = [headings];
  for (const r of items) rows.push(headings.map((h) => cells[h]!(r, ctx)));
  // every cell is tab-terminated: the empty trailing cell adds nothing
  return tabwrite(rows) + '\n';
}

/** Whether rendering these columns needs the cluster AS number (Node ASN column). */
export function needsAsNumber(kind: string, options: { wide?: boolean; columns?: readonly string[] }): boolean {
  if (kind !== 'Node') return false;
  const t = tableFor(kind);
  return (options.columns ?? (options.wide ? t.wide : t.headings)).includes('ASN');
}
