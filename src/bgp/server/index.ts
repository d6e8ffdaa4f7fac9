// Public surface of the speaker (src/bgp/server).
export { Speaker, SpeakerError, silentLogger } from './speaker.ts';
export type { Logger, SpeakerDeps } from './speaker.ts';
export { parseConfig, loadConfigFile, configSchema, ConfigError, RTPROT_CALICO_BGP } from './config.ts';
export type { SpeakerConfig, SpeakerConfigInput, PeerConfig } from './config.ts';
export { KernelSync, IpBatchKernel, NetlinkKernel, MemoryKernel, KernelError } from './kernel.ts';
export type { KernelRoutes, KernelRoute, KernelBatch, KernelApplyResult } from './kernel.ts';
export { formatStatusTable, readStatus, StatusServer, writeStatusFile } from './status.ts';
export type { SpeakerStatus, PeerStatus } from './status.ts';
