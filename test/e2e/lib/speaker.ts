// Our speaker (bin/calico-bgp) as a real process in a test namespace, queried through its
// status socket.
import { writeFileSync, existsSync } from 'node:fs';
import path from 'node:path';
import type { Lab, Daemon } from './netns.ts';
import { waitFor, WaitAbort } from './wait.ts';
import { readStatus, type SpeakerStatus, type SpeakerConfigInput } from '../../../src/bgp/index.ts';

export const REPO = path.resolve(import.meta.dirname, '../../..');

export interface SpeakerProc {
  name: string;
  ns: string;
  configFile: string;
  statusSocket: string;
  daemon: Daemon;
  status(): Promise<SpeakerStatus>;
  peerState(address: string): Promise<string | undefined>;
}

/** Writes the config (statusSocket filled in) and starts `calico-bgp --config` inside `ns`. */
export async function startSpeaker(lab: Lab, name: string, ns: string, cfg: SpeakerConfigInput): Promise<SpeakerProc> {
  const statusSocket = path.join(lab.dir, `${name}.sock`);
  const configFile = path.join(lab.dir, `${name}.json`);
  writeFileSync(configFile, JSON.stringify({ logLevel: 'debug', ...cfg, statusSocket }, null, 2));
  const daemon = lab.spawn(name, ns, [path.join(REPO, 'bin/calico-bgp'), '--config', configFile]);
  const sp: SpeakerProc = {
    name,
    ns,
    configFile,
    statusSocket,
    daemon,
    status: () => readStatus(statusSocket),
    async peerState(address: string) {
      return (await sp.status()).peers.find((p) => p.address === address)?.state;
    },
  };
  await waitFor(`${name} status socket`, async () => {
    if (daemon.child.exitCode !== null) throw new WaitAbort(`calico-bgp exited ${daemon.child.exitCode}: ${daemon.log().slice(-2000)}`);
    return existsSync(statusSocket) && !!(await sp.status());
  }, { timeoutMs: 15_000 });
  return sp;
}
