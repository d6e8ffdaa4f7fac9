// calico-ts/bgp: the built-in BGP speaker. The codec, FSM and RIB are usable on their own.
export * as packet from './packet/index.ts';
export * as fsm from './fsm/index.ts';
export * as rib from './rib/index.ts';
export {
  Speaker,
  SpeakerError,
  parseConfig,
  loadConfigFile,
  ConfigError,
  RTPROT_CALICO_BGP,
  formatStatusTable,
  readStatus,
  KernelSync,
  IpBatchKernel,
  NetlinkKernel,
  MemoryKernel,
} from './server/index.ts';
export { main as calicoBgpMain } from './server/cli.ts';
/**
 * Configuration from the datastore (Calico's peering rules, `calicoctl node status` text), loaded
 * on demand so the file-configured speaker does not pay for the datastore client at start-up.
 */
export const loadCalico = (): Promise<typeof import('./calico/index.ts')> => import('./calico/index.ts');
export type { SpeakerConfig, SpeakerConfigInput, PeerConfig, SpeakerStatus, PeerStatus, KernelRoutes, KernelRoute, Logger } from './server/index.ts';
