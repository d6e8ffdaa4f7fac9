// BIRD 2 in a test namespace: start it with a config, query it with birdc, stop it by PID.
import { writeFileSync, readFileSync, existsSync } from 'node:fs';
import path from 'node:path';
import { run, type Lab, type Daemon } from './netns.ts';
import { waitFor, WaitAbort } from './wait.ts';

export interface Bird {
  name: string;
  ns: string;
  ctl: string;
  confFile: string;
  daemon: Daemon;
  birdc(cmd: string): Promise<string>;
  /** `show protocols` rows: name → state ("Established", "Active", ...). */
  protocols(): Promise<Map<string, { state: string; info: string }>>;
  /** Prefixes in BIRD's master table for a family (`show route`), with their next hops. */
  routes(family?: 4 | 6): Promise<Map<string, string[]>>;
  reconfigure(conf: string): Promise<void>;
}

/** Starts BIRD in the foreground (so the lab owns its PID) with `conf`. */
export async function startBird(lab: Lab, name: string, ns: string, conf: string, extraArgs: string[] = []): Promise<Bird> {
  const confFile = path.join(lab.dir, `${name}.conf`);
  const ctl = path.join(lab.dir, `${name}.ctl`);
  writeFileSync(confFile, conf);
  const daemon = lab.spawn(name, ns, ['bird', '-f', '-c', confFile, '-s', ctl, ...extraArgs]);
  const birdc = async (cmd: string): Promise<string> => (await run(['birdc', '-s', ctl, ...cmd.split(' ')], { timeoutMs: 10_000 })).stdout;
  await waitFor(`${name} control socket`, async () => {
    if (daemon.child.exitCode !== null) throw new WaitAbort(`bird exited: ${readFileSync(daemon.logFile, 'utf8')}`);
    return existsSync(ctl) && (await birdc('show status')).includes('Daemon is up');
  });
  return {
    name,
    ns,
    ctl,
    confFile,
    daemon,
    birdc,
    async protocols() {
      const out = await birdc('show protocols');
      const m = new Map<string, { state: string; info: string }>();
      for (const line of out.split('\n')) {
        // Name Proto Table State Since Info
        const f = line.trim().split(/\s+/);
        if (f.length >= 4 && f[1] === 'BGP') m.set(f[0]!, { state: f.slice(5).join(' ') || f[3]!, info: line });
      }
      return m;
    },
    async routes(family = 4) {
      const out = await birdc(`show route table master${family}`);
      const m = new Map<string, string[]>();
      let cur = '';
      for (const line of out.split('\n')) {
        const pm = /^([0-9a-f.:]+\/\d+)\s/.exec(line);
        if (pm) {
          cur = pm[1]!;
          m.set(cur, []);
        }
        const via = /via ([0-9a-f.:]+)/.exec(line);
        if (via && cur) m.get(cur)!.push(via[1]!);
      }
      return m;
    },
    async reconfigure(c: string) {
      writeFileSync(confFile, c);
      await birdc('configure');
    },
  };
}

/** True when BIRD reports the BGP protocol `proto` as Established. */
export async function birdEstablished(b: Bird, proto: string): Promise<boolean> {
  const out = await b.birdc(`show protocols ${proto}`);
  return /Established/.test(out);
}
