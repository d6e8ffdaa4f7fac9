// Runs the speaker from the datastore: a Syncer (list + watch) over the BGP-relevant kinds feeds
// the state store; after each burst of updates (debounced) the plan is recomputed and applied
// live through Speaker.reconfigure, which touches only peers that were added, removed or
// changed. Changes the speaker cannot apply live (AS, router id, cluster id, listen settings)
// restart the speaker object in-process as a graceful restart: kernel routes stay, peers keep
// our routes as stale and sessions come back within seconds — the process keeps running.
//
// If the datastore goes away the syncer retries by itself and the speaker keeps running with
// the last configuration (routes stay); when it returns, the syncer resumes and any change is
// applied. One serialized apply chain; syncer callbacks only record and schedule.
import { decodeSyncUpdate, DatastoreErrorCode, type DatastoreClient, type Syncer, type SyncStatus, type SyncUpdate } from '../../datastore/index.ts';
import { IPAM_PREFIX, type AnyResource } from '../../model/index.ts';
import { Speaker, SpeakerError, silentLogger, type Logger, type SpeakerConfig, type SpeakerDeps } from '../server/index.ts';
import { computePlan, type CalicoBgpPlan, type PeeringOptions } from './peering.ts';
import { toSpeakerConfig, type LocalSettings } from './speaker-config.ts';
import { calicoNodeStatus, calicoNodeRoutes } from './status.ts';
import { BgpStateStore, BGP_WATCH_PREFIXES } from './state.ts';

/** End-of-RIB wait after an in-process restart (seconds). */
export const IN_PROCESS_DEFERRAL_S = 5;

export interface DatastoreBgpDeps {
  /** `resources` is needed only to publish CalicoNodeStatus. */
  client: Pick<DatastoreClient, 'syncer'> & Partial<Pick<DatastoreClient, 'resources'>>;
  logger?: Logger;
  /** Passed to every Speaker (kernel writer, connected subnets); tests use MemoryKernel. */
  speakerDeps?: Omit<SpeakerDeps, 'logger'>;
}

export interface DatastoreBgpOptions {
  nodeName: string;
  local?: LocalSettings;
  peering?: PeeringOptions;
  /** Quiet period before recomputing after updates (coalesces bursts). Default 100 ms. */
  debounceMs?: number;
  /** Recompute this often even without datastore changes, so edited secret files apply. Default 30 s; 0 = off. */
  resyncMs?: number;
}

export interface DatastoreBgpStats {
  /** Configurations applied (start, reconfigure or in-process restart). */
  applies: number;
  reconfigures: number;
  restarts: number;
  lastError: string | null;
  syncStatus: SyncStatus | 'not-started';
}

export class DatastoreBgp {
  private readonly deps: DatastoreBgpDeps;
  private readonly opts: DatastoreBgpOptions;
  private readonly log: Logger;
  private readonly store = new BgpStateStore();
  private syncer: Syncer | null = null;
  private current: Speaker | null = null;
  private lastConfig: string | null = null;
  private inSync = false;
  private timer: NodeJS.Timeout | null = null;
  private chain: Promise<void> = Promise.resolve();
  private stopped = false;
  private lastPlanValue: CalicoBgpPlan | null = null;
  private lastWarnings = '';
  private appliedWaiters: Array<() => void> = [];
  private statusTimer: NodeJS.Timeout | null = null;
  private resyncTimer: NodeJS.Timeout | null = null;
  private readonly statusWritten = new Map<string, number>();
  private lastApplyAt = new Date();
  readonly stats: DatastoreBgpStats = { applies: 0, reconfigures: 0, restarts: 0, lastError: null, syncStatus: 'not-started' };

  constructor(deps: DatastoreBgpDeps, opts: DatastoreBgpOptions) {
    this.deps = deps;
    this.opts = opts;
    this.log = deps.logger ?? silentLogger;
  }

  /** The running speaker (null until the first plan could be applied). */
  get speaker(): Speaker | null {
    return this.current;
  }

  get lastPlan(): CalicoBgpPlan | null {
    return this.lastPlanValue;
  }

  start(): void {
    if (this.syncer) return;
    this.syncer = this.deps.client.syncer(
      {
        onUpdates: (u) => this.onUpdates(u),
        onStatus: (s) => this.onStatus(s),
      },
      { prefixes: BGP_WATCH_PREFIXES, onError: (e) => this.log.warn(`datastore: ${e.message} (retrying; BGP keeps running with the last configuration)`) },
    );
    this.syncer.start();
    const resync = this.opts.resyncMs ?? 30_000;
    if (resync > 0) {
      this.resyncTimer = setInterval(() => this.schedule(), resync);
      this.resyncTimer.unref();
    }
    if (this.deps.client.resources) {
      this.statusTimer = setInterval(() => {
        this.chain = this.chain.then(() => this.publishNodeStatus()).catch((err: unknown) => this.log.warn(`CalicoNodeStatus: ${err instanceof Error ? err.message : String(err)}`));
      }, 1000);
      this.statusTimer.unref();
    }
  }

  /** Stops watching, then the speaker (graceful: routes stay in the kernel). */
  async stop(opts: { graceful: boolean } = { graceful: false }): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    if (this.statusTimer) clearInterval(this.statusTimer);
    if (this.resyncTimer) clearInterval(this.resyncTimer);
    await this.syncer?.stop();
    await this.chain;
    await this.current?.stop(opts);
    this.current = null;
  }

  /** Resolves after the next apply attempt finishes (tests). */
  nextApply(): Promise<void> {
    return new Promise((r) => this.appliedWaiters.push(r));
  }

  private onUpdates(updates: readonly SyncUpdate[]): void {
    for (const u of updates) {
      try {
        if (u.key.startsWith(IPAM_PREFIX)) {
          this.store.setIpamKey(u.key, u.type === 'set' ? u.value : undefined);
          continue;
        }
        const d = decodeSyncUpdate(u);
        this.store.setResource(d.kind, d.name, d.type === 'set' ? d.resource : undefined);
      } catch (err) {
        this.log.warn(`datastore: ignoring ${u.key}: ${(err as Error).message}`);
      }
    }
    this.schedule();
  }

  private onStatus(s: SyncStatus): void {
    this.stats.syncStatus = s;
    this.log.info(`datastore sync status: ${s}`);
    if (s === 'in-sync') {
      this.inSync = true;
      this.schedule();
    }
  }

  private schedule(): void {
    if (!this.inSync || this.stopped) return;
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = null;
      this.chain = this.chain.then(() => this.apply()).catch((err: unknown) => {
        this.stats.lastError = err instanceof Error ? err.message : String(err);
        this.log.error(`applying BGP configuration failed: ${this.stats.lastError}`);
      });
    }, this.opts.debounceMs ?? 100);
  }

  private async apply(): Promise<void> {
    try {
      await this.applyOnce();
    } finally {
      const w = this.appliedWaiters;
      this.appliedWaiters = [];
      for (const f of w) f();
    }
  }

  private async applyOnce(): Promise<void> {
    if (this.stopped) return;
    let cfg: SpeakerConfig;
    try {
      const plan = computePlan(this.store, this.opts.nodeName, this.opts.peering);
      const r = toSpeakerConfig(plan, this.opts.local);
      cfg = r.config;
      this.lastPlanValue = plan;
      const warnings = [...plan.warnings, ...r.warnings].join('\n');
      if (warnings && warnings !== this.lastWarnings) for (const w of [...plan.warnings, ...r.warnings]) this.log.warn(w);
      this.lastWarnings = warnings;
    } catch (err) {
      this.stats.lastError = (err as Error).message;
      this.log.error(`cannot compute BGP configuration for node ${this.opts.nodeName}: ${this.stats.lastError}${this.current ? ' (keeping the running configuration)' : ' (waiting for the datastore to change)'}`);
      return;
    }
    const text = JSON.stringify(cfg);
    if (text === this.lastConfig && this.current) return;
    const speakerDeps: SpeakerDeps = { ...this.deps.speakerDeps, logger: this.log };
    if (!this.current) {
      const sp = new Speaker(cfg, speakerDeps);
      await sp.start();
      this.current = sp;
      this.lastConfig = text;
      this.stats.applies++;
      this.stats.lastError = null;
      return;
    }
    try {
      const r = this.current.reconfigure(cfg);
      this.stats.reconfigures++;
      this.log.info(`datastore change applied live: added ${r.added.join(',') || '-'}, removed ${r.removed.join(',') || '-'}, changed ${r.changed.join(',') || '-'}`);
    } catch (err) {
      if (!(err instanceof SpeakerError && err.code === 'bgp-reconfigure-unsupported')) throw err;
      this.log.info(`${err.message.replace(/^reconfigure: /, '')}: restarting the speaker in-process as a graceful restart (kernel routes kept)`);
      await this.current.stop({ graceful: true });
      this.current = null;
      // The sessions come back within a connect-retry interval, so the restarted speaker waits
      // at most IN_PROCESS_DEFERRAL_S for End-of-RIBs (a configured peer that is down would
      // otherwise hold back our advertisements for the whole deferral time).
      const gr = cfg.gracefulRestart;
      const sp = new Speaker({ ...cfg, gracefulRestart: { ...gr, deferralTime: Math.min(gr.deferralTime, IN_PROCESS_DEFERRAL_S) } }, speakerDeps);
      await sp.start();
      this.current = sp;
      this.stats.restarts++;
    }
    this.lastConfig = text;
    this.stats.applies++;
    this.stats.lastError = null;
    this.lastApplyAt = new Date();
  }

  /**
   * Fills in the status of the CalicoNodeStatus resources that ask for this node (spec.node),
   * every spec.updatePeriodSeconds (default 10; 0 = never), with the classes they request
   * (Agent, BGP, Routes). A write conflict is retried on the next tick.
   */
  private async publishNodeStatus(): Promise<void> {
    const resources = this.deps.client.resources;
    if (!resources || !this.current || this.stopped) return;
    const now = Date.now();
    for (const [name, cns] of this.store.nodeStatuses) {
      const spec = (cns.spec ?? {}) as { node?: string; classes?: string[]; updatePeriodSeconds?: number };
      if (spec.node !== this.opts.nodeName) continue;
      const period = spec.updatePeriodSeconds ?? 10;
      if (period <= 0 || now - (this.statusWritten.get(name) ?? 0) < period * 1000) continue;
      const st = this.current.status();
      const full = calicoNodeStatus(st, { lastReconfiguration: this.lastApplyAt }) as { agent: unknown; bgp: unknown; lastUpdated: string };
      const classes = new Set(spec.classes ?? []);
      const status: Record<string, unknown> = { ...((cns.status as Record<string, unknown>) ?? {}), lastUpdated: full.lastUpdated };
      if (classes.has('Agent')) status.agent = full.agent;
      if (classes.has('BGP')) status.bgp = full.bgp;
      if (classes.has('Routes')) status.routes = calicoNodeRoutes(await this.current.routes(), st.peers, { ignoredInterfaces: this.lastPlanValue?.ignoredInterfaces ?? [] });
      this.statusWritten.set(name, now);
      try {
        await resources.update({ ...cns, status } as AnyResource);
      } catch (err) {
        const code = (err as { code?: unknown }).code;
        if (code === DatastoreErrorCode.UpdateConflict || code === DatastoreErrorCode.Unavailable) {
          this.log.debug(`CalicoNodeStatus ${name}: ${(err as Error).message} (retrying)`);
          this.statusWritten.delete(name);
        } else {
          // E.g. too large (a big routes list): not retried every second, only every period.
          this.log.warn(`CalicoNodeStatus ${name}: cannot write the status: ${(err as Error).message} (next try in ${period} s)`);
        }
      }
    }
  }
}
