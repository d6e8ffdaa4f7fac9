// The calico-bgp command line (src/cmd/calico-bgp.ts is the thin entry point that calls main()).
// calico-bgp: runs the built-in BGP speaker on its own from a config file.
//   calico-bgp --config speaker.yaml            run (SIGTERM: graceful restart stop, SIGINT: full stop, SIGHUP: reload)
//   calico-bgp status --socket /run/x.sock      show peers (Calico's node status table, or -o json)
//   calico-bgp check-config --config f.yaml     validate a config file
import module from 'node:module';
import { Command, Option } from 'commander';
import { Speaker } from './speaker.ts';
import { exitOnStopSignals, makeLogger } from './process-cli.ts';
import { loadConfigFile, parseConfig, ConfigError, type SpeakerConfig } from './config.ts';
import { formatStatusTable, readStatus } from './status.ts';

interface RunOpts {
  config: string;
  routerId?: string;
  as?: string;
  listenPort?: string;
  logLevel?: string;
  statusSocket?: string;
}

function loadWithFlags(o: RunOpts): SpeakerConfig {
  const base = loadConfigFile(o.config);
  const merged: Record<string, unknown> = { ...base };
  if (o.routerId) merged.routerId = o.routerId;
  if (o.as) merged.asNumber = Number(o.as);
  if (o.listenPort) merged.listenPort = Number(o.listenPort);
  if (o.logLevel) merged.logLevel = o.logLevel;
  if (o.statusSocket) merged.statusSocket = o.statusSocket;
  return parseConfig(merged, `${o.config} (with command-line flags)`);
}

/** CPU time (user + system) of this process so far, in ms. */
function cpuMs(): number {
  const c = process.cpuUsage();
  return (c.user + c.system) / 1000;
}

async function runSpeaker(o: RunOpts): Promise<void> {
  const t0 = performance.now();
  const c0 = cpuMs();
  const cfg = loadWithFlags(o);
  const log = makeLogger(cfg.logLevel);
  const speaker = new Speaker(cfg, { logger: log });
  const t1 = performance.now();
  const c1 = cpuMs();
  await speaker.start();
  const c2 = cpuMs();
  const ms = (x: number): number => Math.round(x);
  log.info(
    `start-up: listening ${ms(performance.now())} ms after the process began (config ${ms(t1 - t0)} ms, speaker start ${ms(performance.now() - t1)} ms); ` +
      `CPU ${ms(c2)} ms: ${ms(c0)} before reading the config, ${ms(c1 - c0)} config, ${ms(c2 - c1)} speaker start` +
      (process.execArgv.some((a) => a.startsWith('--snapshot-blob')) ? ' (from the startup snapshot)' : ''),
  );
  // Persist Node's compile cache now (src/cmd enables it), not only at a clean exit: a speaker
  // that is killed would otherwise leave it cold, and the next start pays for stripping types
  // again (~0.3 s of CPU and ~35 MiB more RSS, the type stripper's wasm).
  module.flushCompileCache?.();
  exitOnStopSignals(log, (graceful) => speaker.stop({ graceful }));
  process.on('SIGHUP', () => {
    try {
      const next = loadWithFlags(o);
      const r = speaker.reconfigure(next);
      log.info(`SIGHUP: reloaded ${o.config}: added ${r.added.join(',') || '-'}, removed ${r.removed.join(',') || '-'}, changed ${r.changed.join(',') || '-'}`);
    } catch (err) {
      log.error(`SIGHUP: config not applied: ${err instanceof Error ? err.message : String(err)}`);
    }
  });
}

/** Runs the calico-bgp command line; resolves when a one-shot command is done (the speaker keeps running). */
export async function main(argv: string[]): Promise<void> {
const program = new Command('calico-bgp')
  .description("calico-ts's built-in BGP speaker")
  .enablePositionalOptions()
  .option('-c, --config <file>', 'speaker configuration (YAML or JSON)')
  .option('--router-id <ip>', 'override routerId')
  .option('--as <number>', 'override asNumber')
  .option('--listen-port <port>', 'override listenPort')
  .option('--status-socket <path>', 'override statusSocket')
  .addOption(new Option('--log-level <level>', 'override logLevel').choices(['debug', 'info', 'warn', 'error']))
  .action(async (o: RunOpts) => {
    if (!o.config) program.error('calico-bgp: --config <file> is required (see docs/bgp.md)');
    await runSpeaker(o);
  });

program
  .command('status')
  .description('show the peers of a running speaker')
  .requiredOption('-s, --socket <path>', 'the speaker statusSocket')
  .addOption(new Option('-o, --output <format>', 'output format').choices(['table', 'json']).default('table'))
  .action(async (o: { socket: string; output: string }) => {
    const s = await readStatus(o.socket);
    if (o.output === 'json') process.stdout.write(JSON.stringify(s, null, 2) + '\n');
    else process.stdout.write(`calico-bgp is running (AS ${s.asNumber}, router id ${s.routerId}, ${s.locRibRoutes} routes, ${s.kernelRoutes} in the kernel)\n\n${formatStatusTable(s)}`);
  });

program
  .command('check-config')
  .description('validate a configuration file and print it with defaults filled in')
  .requiredOption('-c, --config <file>', 'speaker configuration')
  .action((o: { config: string }) => {
    const cfg = loadConfigFile(o.config);
    process.stdout.write(JSON.stringify({ ...cfg, peers: cfg.peers.map((p) => ({ ...p, password: p.password ? '<set>' : undefined })) }, null, 2) + '\n');
  });

try {
  await program.parseAsync(argv);
} catch (err) {
  const msg = err instanceof ConfigError ? err.message : err instanceof Error ? `calico-bgp: ${err.message}` : String(err);
  process.stderr.write(msg + '\n');
  process.exit(2);
}
}
