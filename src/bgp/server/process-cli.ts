// Process plumbing shared by calico-bgp's two run modes (`--config` in cli.ts, `--datastore` in
// ../calico/cli.ts): the JSON logger on stderr and the stop signals.
import pino from 'pino';
import type { Logger } from './speaker.ts';

export function makeLogger(level: string): Logger {
  const p = pino({ level, base: { component: 'bgp' } }, pino.destination({ fd: 2, sync: false }));
  return { debug: (m) => p.debug(m), info: (m) => p.info(m), warn: (m) => p.warn(m), error: (m) => p.error(m) };
}

/**
 * SIGTERM stops for a graceful restart (routes kept), SIGINT stops fully; the process exits when
 * `stop` settles (1 if it failed), and never hangs on the way out (a stuck kernel write, a peer
 * not reading): it gives up after 15 s.
 */
export function exitOnStopSignals(log: Logger, stop: (graceful: boolean) => Promise<void>): void {
  let stopping = false;
  const onSignal = (graceful: boolean, sig: string): void => {
    if (stopping) return;
    stopping = true;
    log.info(`${sig}: stopping${graceful ? ' for a graceful restart (routes kept)' : ''}`);
    setTimeout(() => {
      log.error('stop did not finish within 15 s; exiting anyway');
      process.exit(1);
    }, 15_000).unref();
    stop(graceful).then(
      () => process.exit(0),
      (err: unknown) => {
        log.error(`stop failed: ${err instanceof Error ? err.message : String(err)}`);
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => onSignal(true, 'SIGTERM'));
  process.on('SIGINT', () => onSignal(false, 'SIGINT'));
}
