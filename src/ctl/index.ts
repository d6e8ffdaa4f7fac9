// calico-ts calicoctl: Calico's resource CLI over the etcd v3 datastore. See docs/calicoctl.md.
export { runCalicoctl, defaultDeps, processIO, readVersion, CALICOCTL_CALL_TIMEOUT_MS } from './cli.ts';
export { CommandFailed, type CtlDeps, type CtlIO } from './commands.ts';
export { loadClientConfig, parseClientConfig, DEFAULT_CONFIG_PATH, CtlConfigError } from './config.ts';
export { mergePatch, patchResource, changeLabels } from './patch.ts';
export { renderTable, tabwrite, goFloat } from './table.ts';
export { compileTemplate } from './template.ts';
export { encodeOutput } from './output.ts';
export { goShape } from './go-shape.ts';
