// Sysctls of a network namespace (/proc/sys/net/... is per netns, resolved when the file is
// opened): the main thread switches into the namespace around a synchronous read/write.
import { readFileSync, writeFileSync } from 'node:fs';
import { NetlinkError } from './codec.ts';
import { withNetns } from './socket.ts';

/**
 * `net.ipv4.conf.cali1.proxy_arp` → /proc/sys/net/ipv4/conf/cali1/proxy_arp. A key containing '/'
 * is taken as a path below /proc/sys (for interface names with dots: `net/ipv4/conf/eth0.1/rp_filter`).
 */
export function sysctlPath(key: string): string {
  if (typeof key !== 'string' || !/^[A-Za-z0-9_.\/-]+$/.test(key) || key.includes('..') || key.startsWith('/')) {
    throw new NetlinkError('unsupported', `sysctl "${String(key)}": expected a dotted key such as net.ipv4.ip_forward`);
  }
  return `/proc/sys/${key.includes('/') ? key : key.replace(/\./g, '/')}`;
}

export function readSysctl(key: string, netns?: string): string {
  const p = sysctlPath(key);
  return withNetns(netns, () => {
    try {
      return readFileSync(p, 'utf8').trim();
    } catch (e) {
      throw new NetlinkError('unsupported', `cannot read sysctl ${key} (${p})${netns ? ` in netns ${netns}` : ''}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
    }
  });
}

export function writeSysctl(key: string, value: string | number, netns?: string): void {
  const p = sysctlPath(key);
  withNetns(netns, () => {
    try {
      writeFileSync(p, String(value));
    } catch (e) {
      throw new NetlinkError('unsupported', `cannot set sysctl ${key}=${value} (${p})${netns ? ` in netns ${netns}` : ''}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
    }
  });
}
