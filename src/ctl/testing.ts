// Test harness for calicoctl's command logic: runCalicoctl against an in-memory datastore
// (MemoryKv, Calico's defaults applied on write), capturing stdout, stderr and the exit code.
import { MemoryKv, memoryDatastore } from '../datastore/index.ts';
import { applyDefaults, type AnyResource } from '../model/index.ts';
import { runCalicoctl } from './cli.ts';
import type { CtlDeps, CtlIO } from './commands.ts';

export function harness(version = 'v9.9.9') {
  const kv = new MemoryKv();
  const deps: CtlDeps = {
    connect: () => ({ ...memoryDatastore({ prepare: (r: AnyResource) => applyDefaults(r) }, kv), close: async () => {} }),
    defaultConfigPath: '/nonexistent/calicoctl.cfg',
    version: { version, gitCommit: 'abc123' },
  };
  const run = async (argv: string[], stdin = '') => {
    let out = '';
    let err = '';
    const io: CtlIO = { out: (s) => void (out += s), err: (s) => void (err += s), readStdin: async () => stdin, env: {} };
    const code = await runCalicoctl(argv, io, deps);
    return { code, out, err };
  };
  return { kv, run };
}
