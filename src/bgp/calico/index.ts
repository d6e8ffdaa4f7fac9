// Calico's BGP configuration from the datastore: peering rules (pure), the speaker config they
// give, the watcher that applies them live, and Calico's status views.
export {
  computePlan,
  emptyState,
  fileSecrets,
  hashRouterId,
  birdFilterName,
  parseIPPort,
  asNumberOf,
  durationSeconds,
  PeeringError,
  PEER_TYPE_DISPLAY,
  DEFAULT_AS,
  DEFAULT_BGP_PORT,
} from './peering.ts';
export type { CalicoBgpState, CalicoBgpPlan, CalicoPeer, CommunityRule, PeerKind, PeeringOptions, SecretResolver } from './peering.ts';
export { BgpStateStore, BGP_WATCH_PREFIXES } from './state.ts';
export { toSpeakerConfig, logLevelOf } from './speaker-config.ts';
export type { LocalSettings } from './speaker-config.ts';
export { DatastoreBgp } from './watcher.ts';
export type { DatastoreBgpDeps, DatastoreBgpOptions, DatastoreBgpStats } from './watcher.ts';
export { formatNodeStatus, calicoNodeStatus, calicoNodeRoutes } from './status.ts';
export type { SpeakerRoute } from './status.ts';
export { startFromDatastore, runFromDatastore, datastoreMain, nodeStatus, DEFAULT_SECRETS_DIR, DEFAULT_STATUS_SOCKET } from './cli.ts';
export type { DatastoreRunOptions, DatastoreRun } from './cli.ts';
