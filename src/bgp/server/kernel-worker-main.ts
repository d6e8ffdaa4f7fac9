// The kernel writer thread (started by WorkerKernel): owns a NetlinkKernel and applies batches.
import { parentPort, workerData } from 'node:worker_threads';
import { NetlinkKernel } from './kernel.ts';
import { decodeRoutes, encodeRoutes } from './kernel-worker.ts';

const opts = workerData as { table: number; protocol: number };
const port = parentPort!;
let kernel: NetlinkKernel | null = null;
let openError: string | null = null;
try {
  kernel = new NetlinkKernel(opts);
} catch (err) {
  openError = err instanceof Error ? err.message : String(err);
}

port.on('message', (m: { id: number; op: 'apply' | 'list' | 'close'; replace?: string; remove?: string }) => {
  const reply = (p: Promise<unknown>): void => {
    p.then(
      (result) => port.postMessage({ id: m.id, ok: true, result }),
      (err: unknown) => port.postMessage({ id: m.id, ok: false, error: err instanceof Error ? err.message : String(err) }),
    );
  };
  if (!kernel) {
    port.postMessage({ id: m.id, ok: false, error: `netlink unavailable: ${openError}` });
    return;
  }
  const k = kernel;
  if (m.op === 'apply') reply(k.apply({ replace: decodeRoutes(m.replace ?? ''), remove: decodeRoutes(m.remove ?? '') }));
  else if (m.op === 'list') reply(k.list().then(encodeRoutes));
  else reply(k.close().then(() => port.close()));
});
