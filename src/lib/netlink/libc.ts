// The few libc calls netlink needs, bound with koffi (loaded lazily on first use so that pure
// users of the codec never load the FFI). Thin shell: no logic beyond errno capture.
import { createRequire } from 'node:module';
import { NetlinkError } from './codec.ts';
import { errnoName } from './constants.ts';

type KoffiFn = ((...args: unknown[]) => number) & { async: (...args: unknown[]) => void };

export interface Libc {
  socket(domain: number, type: number, protocol: number): number;
  bind(fd: number, addr: Buffer, len: number): number;
  setsockopt(fd: number, level: number, name: number, val: Buffer, len: number): number;
  getsockopt(fd: number, level: number, name: number, val: Buffer, len: Buffer): number;
  getsockname(fd: number, addr: Buffer, len: Buffer): number;
  send(fd: number, buf: Buffer, len: number, flags: number): number;
  recv(fd: number, buf: Buffer, len: number, flags: number): number;
  close(fd: number): number;
  setns(fd: number, nstype: number): number;
  /** poll(2) on one fd for POLLIN on a libuv/koffi worker thread; resolves with poll's result. */
  pollInAsync(fd: number, timeoutMs: number): Promise<number>;
  errno(): number;
}

let cached: Libc | undefined;

export function libc(): Libc {
  if (cached) return cached;
  const require = createRequire(import.meta.url);
  // koffi ships a CommonJS entry; createRequire keeps this module free of top-level FFI loading.
  const koffi = require('koffi') as {
    load(name: string): { func(sig: string): KoffiFn };
    errno(): number;
  };
  let lib: { func(sig: string): KoffiFn };
  try {
    lib = koffi.load('libc.so.6');
  } catch (e) {
    throw new NetlinkError('unsupported', `cannot load libc.so.6 through koffi: ${(e as Error).message}`);
  }
  const f = (sig: string) => lib.func(sig);
  const poll = f('int poll(void *fds, unsigned long nfds, int timeout)');
  const l = {
    socket: f('int socket(int, int, int)'),
    bind: f('int bind(int, const void *, uint32_t)'),
    setsockopt: f('int setsockopt(int, int, int, const void *, uint32_t)'),
    getsockopt: f('int getsockopt(int, int, int, void *, void *)'),
    getsockname: f('int getsockname(int, void *, void *)'),
    send: f('intptr_t send(int, const void *, size_t, int)'),
    recv: f('intptr_t recv(int, void *, size_t, int)'),
    close: f('int close(int)'),
    setns: f('int setns(int, int)'),
    pollInAsync(fd: number, timeoutMs: number): Promise<number> {
      const pfd = Buffer.alloc(8);
      pfd.writeInt32LE(fd, 0);
      pfd.writeInt16LE(1 /* POLLIN */, 4);
      return new Promise((resolve, reject) => {
        poll.async(pfd, 1, timeoutMs, (err: unknown, res: number) => {
          if (err) reject(err instanceof Error ? err : new Error(String(err)));
          else resolve(res);
        });
      });
    },
    errno: () => koffi.errno(),
  };
  cached = l as unknown as Libc;
  return cached;
}

/** Throws a NetlinkError('syscall-failed') naming the call and errno when rc < 0. */
export function check(rc: number, what: string): number {
  if (rc < 0) {
    const e = libc().errno();
    throw new NetlinkError('syscall-failed', `${what} failed: ${errnoName(e)}`, e);
  }
  return rc;
}
