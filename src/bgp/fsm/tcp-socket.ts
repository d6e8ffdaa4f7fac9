// TCP sockets made with libc through koffi, so that options that must be in place BEFORE the
// first SYN (TCP_MD5SIG, RFC 2385) can be set; the socket is then handed to node:net by fd.
// A connect with a wrong or missing MD5 key never completes (the peer silently drops our SYNs),
// so connects are non-blocking and polled, never a blocking call on the event loop.
import koffi from 'koffi';
import net from 'node:net';
import { ipToBytes, tryParseIP } from '../../lib/index.ts';

const AF_INET = 2;
const AF_INET6 = 10;
const SOCK_STREAM = 1;

/**
 * IPv6 or not, for an address that is validated elsewhere (config, sockaddr below, the kernel's
 * own socket addresses). Not `net.isIPv6`: its first call compiles Node's IPv6 regex (~8 ms CPU
 * of every speaker start).
 */
function isV6(address: string): boolean {
  return address.includes(':');
}
const SOCK_NONBLOCK = 0o4000;
const SOCK_CLOEXEC = 0o2000000;
const SOL_SOCKET = 1;
const SO_REUSEADDR = 2;
const SO_ERROR = 4;
const IPPROTO_IP = 0;
const IPPROTO_TCP = 6;
const IPPROTO_IPV6 = 41;
const IPV6_V6ONLY = 26;
const IP_TTL = 2;
const IP_MINTTL = 21;
const IPV6_UNICAST_HOPS = 16;
const IPV6_MINHOPCOUNT = 73;
/** RFC 5082: GTSM packets leave with the maximum TTL / hop limit. */
export const GTSM_TTL = 255;
/** Other sessions: the TTL of BIRD's `multihop` (its default hop count), which confd renders for every peer without GTSM. */
export const SESSION_TTL = 64;
const TCP_MD5SIG = 14;
const TCP_MD5SIG_MAXKEYLEN = 80;
const POLLOUT = 4;
const EINPROGRESS = 115;

export class TcpSocketError extends Error {
  readonly code: 'socket-failed' | 'md5-failed' | 'ttl-failed' | 'bind-failed' | 'listen-failed' | 'connect-failed' | 'connect-timeout' | 'bad-key';
  readonly errno: number;
  constructor(code: TcpSocketError['code'], message: string, errno = 0) {
    super(message);
    this.name = 'TcpSocketError';
    this.code = code;
    this.errno = errno;
  }
}

interface Libc {
  socket: (domain: number, type: number, proto: number) => number;
  setsockopt: (fd: number, level: number, name: number, val: Buffer, len: number) => number;
  getsockopt: (fd: number, level: number, name: number, val: Buffer, len: Buffer) => number;
  bind: (fd: number, addr: Buffer, len: number) => number;
  connect: (fd: number, addr: Buffer, len: number) => number;
  listen: (fd: number, backlog: number) => number;
  close: (fd: number) => number;
  poll: (fds: Buffer, n: number, timeout: number) => number;
  strerror: (errnum: number) => string;
}
let libc: Libc | null = null;
function lib(): Libc {
  if (libc) return libc;
  const l = koffi.load('libc.so.6');
  libc = {
    socket: l.func('int socket(int, int, int)') as Libc['socket'],
    setsockopt: l.func('int setsockopt(int, int, int, void *, uint32_t)') as Libc['setsockopt'],
    getsockopt: l.func('int getsockopt(int, int, int, void *, void *)') as Libc['getsockopt'],
    bind: l.func('int bind(int, void *, uint32_t)') as Libc['bind'],
    connect: l.func('int connect(int, void *, uint32_t)') as Libc['connect'],
    listen: l.func('int listen(int, int)') as Libc['listen'],
    close: l.func('int close(int)') as Libc['close'],
    poll: l.func('int poll(void *, unsigned long, int)') as Libc['poll'],
    strerror: l.func('const char *strerror(int)') as Libc['strerror'],
  };
  return libc;
}
function errText(): { errno: number; text: string } {
  const e = koffi.errno();
  return { errno: e, text: lib().strerror(e) };
}

/** struct sockaddr_in / sockaddr_in6 for an address (an IPv6 zone is ignored) and port. */
export function sockaddr(address: string, port: number): Buffer {
  const zone = address.indexOf('%');
  const ip = tryParseIP(zone >= 0 ? address.slice(0, zone) : address);
  if (!ip) throw new TcpSocketError('bind-failed', `not an IP address: ${address}`);
  const b = Buffer.alloc(ip.family === 6 ? 28 : 16);
  b.writeUInt16LE(ip.family === 6 ? AF_INET6 : AF_INET, 0);
  b.writeUInt16BE(port, 2);
  b.set(ipToBytes(ip), ip.family === 6 ? 8 : 4);
  return b;
}

/**
 * Installs (key non-empty) or removes (key null/empty) the RFC 2385 key for `peer` on `fd`.
 * On a listening socket the key is inherited by accepted connections from that peer.
 */
export function setMd5Key(fd: number, peer: string, key: string | null): void {
  const k = Buffer.from(key ?? '', 'utf8');
  if (k.length > TCP_MD5SIG_MAXKEYLEN) throw new TcpSocketError('bad-key', `TCP MD5 password for ${peer} is ${k.length} bytes; at most ${TCP_MD5SIG_MAXKEYLEN} allowed`);
  const s = Buffer.alloc(216);
  sockaddr(peer, 0).copy(s, 0);
  s.writeUInt16LE(k.length, 130);
  k.copy(s, 136);
  if (lib().setsockopt(fd, IPPROTO_TCP, TCP_MD5SIG, s, s.length) !== 0) {
    const e = errText();
    // Removing a key that is not there is not an error for us.
    if (!k.length && e.errno === 2) return;
    throw new TcpSocketError('md5-failed', `cannot ${k.length ? 'set' : 'remove'} TCP MD5 key for ${peer}: ${e.text}`, e.errno);
  }
}

function setInt(fd: number, level: number, name: number, value: number, what: string): void {
  const b = Buffer.alloc(4);
  b.writeInt32LE(value);
  if (lib().setsockopt(fd, level, name, b, 4) !== 0) {
    const e = errText();
    throw new TcpSocketError('ttl-failed', `cannot set ${what} to ${value}: ${e.text}`, e.errno);
  }
}

/** Sets the TTL (IPv4) / unicast hop limit (IPv6) of packets sent on `fd`; -1 = the system default. */
export function setTtl(fd: number, family: 4 | 6, ttl: number): void {
  if (family === 6) setInt(fd, IPPROTO_IPV6, IPV6_UNICAST_HOPS, ttl, 'IPV6_UNICAST_HOPS');
  else setInt(fd, IPPROTO_IP, IP_TTL, ttl, 'IP_TTL');
}

/**
 * GTSM (RFC 5082) as BIRD's `ttl security on` with `multihop <hops>` does it: packets leave with
 * TTL 255, and the kernel drops received packets whose TTL (hop limit) is below 256 - hops
 * (IP_MINTTL / IPV6_MINHOPCOUNT): a directly connected peer (1 hop) must arrive with 255.
 */
export function setTtlSecurity(fd: number, family: 4 | 6, hops: number): void {
  if (!Number.isInteger(hops) || hops < 1 || hops > 255) throw new TcpSocketError('ttl-failed', `TTL security hop count must be 1-255, got ${hops}`);
  setTtl(fd, family, GTSM_TTL);
  if (family === 6) setInt(fd, IPPROTO_IPV6, IPV6_MINHOPCOUNT, 256 - hops, 'IPV6_MINHOPCOUNT');
  else setInt(fd, IPPROTO_IP, IP_MINTTL, 256 - hops, 'IP_MINTTL');
}

/** The file descriptor behind a connected node:net socket (Linux TCP handles expose it). */
function socketFd(sock: net.Socket): number {
  const fd = (sock as unknown as { _handle?: { fd?: number } })._handle?.fd;
  if (typeof fd !== 'number' || fd < 0) throw new TcpSocketError('ttl-failed', 'socket has no file descriptor');
  return fd;
}

/**
 * For an accepted connection (the listener sends with TTL 255, as BIRD's does): GTSM with
 * `ttlSecurity` hops, or SESSION_TTL when the peer has none.
 */
export function applyTtlSecurity(sock: net.Socket, ttlSecurity: number | undefined): void {
  const fd = socketFd(sock);
  const family = isV6(sock.localAddress ?? '') && !(sock.localAddress ?? '').startsWith('::ffff:') ? 6 : 4;
  if (ttlSecurity) setTtlSecurity(fd, family, ttlSecurity);
  else setTtl(fd, family, SESSION_TTL);
}

function newSocket(family: 4 | 6): number {
  const fd = lib().socket(family === 6 ? AF_INET6 : AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    const e = errText();
    throw new TcpSocketError('socket-failed', `socket(): ${e.text}`, e.errno);
  }
  return fd;
}

export interface ListenOptions {
  address: string;
  port: number;
  /** Peer address → MD5 password. */
  md5?: ReadonlyMap<string, string>;
}

/** A listening socket (already bound and listening) whose MD5 keys can change while it listens. */
export class Md5Listener {
  readonly fd: number;
  readonly server: net.Server;
  readonly address: string;
  readonly port: number;
  constructor(opts: ListenOptions, onConnection: (s: net.Socket) => void) {
    const fam = isV6(opts.address) ? 6 : 4;
    const fd = newSocket(fam);
    const one = Buffer.alloc(4);
    one.writeInt32LE(1);
    try {
      lib().setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, one, 4);
      if (fam === 6) lib().setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, one, 4);
      // Like BIRD's listening socket: SYN-ACKs leave with TTL 255, so a GTSM peer connecting to
      // us accepts them; accepted sockets are set per peer (applyTtlSecurity).
      setTtl(fd, fam, GTSM_TTL);
      for (const [peer, key] of opts.md5 ?? []) setMd5Key(fd, peer, key);
      const sa = sockaddr(opts.address, opts.port);
      if (lib().bind(fd, sa, sa.length) !== 0) {
        const e = errText();
        throw new TcpSocketError('bind-failed', `cannot listen on ${fam === 6 ? `[${opts.address}]` : opts.address}:${opts.port}: ${e.text}`, e.errno);
      }
      if (lib().listen(fd, 128) !== 0) {
        const e = errText();
        throw new TcpSocketError('listen-failed', `listen(): ${e.text}`, e.errno);
      }
    } catch (err) {
      lib().close(fd);
      throw err;
    }
    this.fd = fd;
    this.address = opts.address;
    this.port = opts.port;
    this.server = net.createServer({ noDelay: true }, onConnection);
    this.server.listen({ fd });
  }
  setKey(peer: string, key: string | null): void {
    setMd5Key(this.fd, peer, key);
  }
  close(): void {
    this.server.close();
  }
}

export interface ConnectOptions {
  remoteAddress: string;
  remotePort: number;
  localAddress?: string;
  md5?: string;
  /** GTSM hop count (BGPPeer ttlSecurity): TTL 255 out, at least 256 - hops in, from the SYN on. */
  ttlSecurity?: number;
  /** Give up after this long (ms). */
  timeoutMs: number;
}

/** A cancellable non-blocking connect; resolves with a connected node:net socket. */
export function connectTcp(opts: ConnectOptions): { promise: Promise<net.Socket>; cancel: () => void } {
  let cancelled = false;
  let timer: NodeJS.Timeout | undefined;
  let fd = -1;
  const cleanup = (): void => {
    if (timer) clearTimeout(timer);
    if (fd >= 0) lib().close(fd);
    fd = -1;
  };
  const promise = new Promise<net.Socket>((resolve, reject) => {
    try {
      const fam = isV6(opts.remoteAddress) ? 6 : 4;
      fd = newSocket(fam);
      if (opts.md5) setMd5Key(fd, opts.remoteAddress, opts.md5);
      if (opts.ttlSecurity) setTtlSecurity(fd, fam, opts.ttlSecurity);
      else setTtl(fd, fam, SESSION_TTL);
      if (opts.localAddress) {
        const la = sockaddr(opts.localAddress, 0);
        if (lib().bind(fd, la, la.length) !== 0) {
          const e = errText();
          throw new TcpSocketError('bind-failed', `cannot bind source address ${opts.localAddress}: ${e.text}`, e.errno);
        }
      }
      const ra = sockaddr(opts.remoteAddress, opts.remotePort);
      if (lib().connect(fd, ra, ra.length) !== 0) {
        const e = errText();
        if (e.errno !== EINPROGRESS) throw new TcpSocketError('connect-failed', `connect to ${opts.remoteAddress}:${opts.remotePort}: ${e.text}`, e.errno);
      }
    } catch (err) {
      cleanup();
      reject(err instanceof Error ? err : new Error(String(err)));
      return;
    }
    const started = Date.now();
    const pfd = Buffer.alloc(8);
    const check = (): void => {
      timer = undefined;
      if (cancelled) return;
      pfd.writeInt32LE(fd, 0);
      pfd.writeInt16LE(POLLOUT, 4);
      pfd.writeInt16LE(0, 6);
      const n = lib().poll(pfd, 1, 0);
      if (n > 0) {
        const err = Buffer.alloc(4);
        const len = Buffer.alloc(4);
        len.writeUInt32LE(4);
        lib().getsockopt(fd, SOL_SOCKET, SO_ERROR, err, len);
        const code = err.readInt32LE(0);
        if (code !== 0) {
          cleanup();
          reject(new TcpSocketError('connect-failed', `connect to ${opts.remoteAddress}:${opts.remotePort}: ${lib().strerror(code)}`, code));
          return;
        }
        const sock = new net.Socket({ fd, readable: true, writable: true });
        sock.setNoDelay(true);
        fd = -1; // owned by the socket now
        resolve(sock);
        return;
      }
      if (Date.now() - started >= opts.timeoutMs) {
        cleanup();
        reject(new TcpSocketError('connect-timeout', `connect to ${opts.remoteAddress}:${opts.remotePort} timed out after ${opts.timeoutMs} ms${opts.md5 ? ' (check the MD5 password on both sides)' : ''}`));
        return;
      }
      const elapsed = Date.now() - started;
      timer = setTimeout(check, elapsed < 100 ? 5 : 50);
    };
    timer = setTimeout(check, 1);
  });
  return {
    promise,
    cancel: () => {
      cancelled = true;
      cleanup();
    },
  };
}
