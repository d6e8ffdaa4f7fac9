// Demo: the built-in BGP speaker peering with a real BIRD 2 in two network namespaces made for
// the demo: the session comes up, routes land in both kernels, and a ping between the two
// "workload" addresses proves they carry traffic. Everything is removed afterwards.
import path from 'node:path';
import { Lab, e2eSkipReason, sh, ping, run as runCmd } from '../../test/e2e/lib/netns.ts';
import { startBird, birdEstablished } from '../../test/e2e/lib/bird.ts';
import { startSpeaker, REPO } from '../../test/e2e/lib/speaker.ts';
import { waitFor } from '../../test/e2e/lib/wait.ts';

export const title = 'bgp: our speaker (calico-bgp) peering with BIRD 2 — session, routes in the kernel, ping';

const indent = (s: string): string =>
  s
    .trimEnd()
    .split('\n')
    .map((l) => `   ${l}`)
    .join('\n');

export async function run(): Promise<void> {
  const skip = e2eSkipReason(['bird', 'birdc']);
  if (skip) {
    console.log(`(skipped: ${skip})`);
    return;
  }
  const lab = new Lab('d');
  try {
    const a = lab.netns('host-a');
    const b = lab.netns('host-b');
    lab.veth({ ns: a, ifname: 'eth0', addrs: ['198.18.10.1/24'] }, { ns: b, ifname: 'eth0', addrs: ['198.18.10.2/24'] });
    sh(['ip', '-n', a, 'addr', 'add', '198.19.1.1/32', 'dev', 'lo']);
    sh(['ip', '-n', b, 'addr', 'add', '198.19.2.1/32', 'dev', 'lo']);
    console.log(`namespaces ${a} (calico-bgp, AS 64512, block 198.19.1.0/26) and ${b} (BIRD 2, AS 64512, block 198.19.2.0/26), veth 198.18.10.0/24`);

    const bird = await startBird(
      lab,
      'bird',
      b,
      `router id 198.18.10.2;
protocol device { scan time 1; }
protocol kernel { ipv4 { import none; export filter { if proto = "blocks" then reject; accept; }; }; }
protocol static blocks { ipv4; route 198.19.2.0/26 blackhole; }
protocol bgp mesh { local as 64512; neighbor 198.18.10.1 as 64512; direct; graceful restart;
  connect retry time 1; error wait time 1, 5; ipv4 { import all; export all; }; }
`,
    );
    const t0 = performance.now();
    const sp = await startSpeaker(lab, 'calico-bgp', a, {
      asNumber: 64512,
      routerId: '198.18.10.1',
      logLevel: 'info',
      connectRetryTime: 1,
      prefixes: ['198.19.1.0/26'],
      ipPools: ['198.19.0.0/16'],
      peers: [{ address: '198.18.10.2', asNumber: 64512, description: 'node-to-node mesh' }],
    });
    await waitFor('session Established', () => birdEstablished(bird, 'mesh'));
    await waitFor('routes in both kernels', () =>
      sh(['ip', '-n', a, 'route', 'show', 'proto', '81']).includes('198.19.2.0/26') && sh(['ip', '-n', b, 'route', 'show', '198.19.1.0/26']).includes('via'),
    );
    console.log(`Established and routes installed ${(performance.now() - t0).toFixed(0)} ms after starting calico-bgp\n`);

    console.log('$ calico-bgp status --socket <statusSocket>');
    const st = await runCmd([path.join(REPO, 'bin/calico-bgp'), 'status', '--socket', sp.statusSocket]);
    console.log(indent(st.stdout));
    console.log(`\n$ ip -n ${a} route show proto 81      # routes our speaker installed (protocol 81)`);
    console.log(indent(sh(['ip', '-n', a, 'route', 'show', 'proto', '81'])));
    console.log(`\n$ birdc show route 198.19.1.0/26       # BIRD learned our block`);
    console.log(indent((await bird.birdc('show route 198.19.1.0/26')).split('\n').slice(1).join('\n')));
    console.log(`\n$ ping -c 3 -I 198.19.1.1 198.19.2.1   # workload to workload, through the BGP routes only`);
    console.log(indent(ping(a, '198.19.1.1', '198.19.2.1', 3).split('\n').slice(-3).join('\n')));

    await lab.stop(sp.daemon, 5000, 'SIGINT');
    console.log(`\nafter a normal stop (SIGINT): ${sh(['ip', '-n', a, 'route', 'show', 'proto', '81']).trim() === '' ? 'our kernel routes removed' : 'ROUTES LEFT BEHIND'}; ` +
      `graceful restart (SIGTERM) would keep them — see test/e2e/bgp-gr.test.ts`);
  } finally {
    await lab.cleanup();
  }
}
