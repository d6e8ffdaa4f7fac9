// What calico-bgp does once its code is loaded (shared by src/cmd/calico-bgp.ts, which loads the
// bundle or the sources, and calico-bgp-snapshot.ts, whose code is already in the V8 snapshot).
type Bgp = Pick<typeof import('../bgp/index.ts'), 'calicoBgpMain' | 'loadCalico'>;

export async function runCalicoBgp(bgp: Bgp, argv: string[]): Promise<void> {
  // `calico-bgp --datastore [...]`: peers and prefixes from the datastore (docs/bgp.md).
  if (argv.includes('--datastore')) (await bgp.loadCalico()).datastoreMain(argv.slice(2).filter((a) => a !== '--datastore'));
  else await bgp.calicoBgpMain(argv);
}
