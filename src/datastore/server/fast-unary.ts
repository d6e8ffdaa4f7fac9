// Unary gRPC calls answered straight on the HTTP/2 stream, bypassing grpc-js's per-call
// machinery. grpc-js sends a unary response's trailers only after the data frame's write
// callback, i.e. in a second socket write (a second packet and a second client wake-up per
// call). Here the response is submitted with `waitForTrailers` and `end(frame)`, so nghttp2
// asks for the trailers while it serialises the data frame and HEADERS + DATA + trailers
// leave in one write. Streaming methods, compressed requests and unknown paths still go
// to grpc-js. The same service implementations serve both paths.
import type { IncomingHttpHeaders, ServerHttp2Stream, ServerStreamResponseOptions } from 'node:http2';
import { createRequire } from 'node:module';
import * as grpc from '@grpc/grpc-js';
import { mark } from './trace.ts';

// ---- Responses of one event-loop turn leave in as few TCP segments as possible ----
// Node's HTTP/2 layer writes a response's HEADERS + DATA in one write and, a loop turn later
// (after that write completes), the trailers in a second one: two packets and two client
// wake-ups per call (measured with strace). So a socket that gets a response is corked
// (TCP_CORK) and uncorked two loop turns later, after the trailer write: the kernel sends the
// whole response, and every other response written meanwhile, as one segment. Uncorking
// always happens (a late trailer is simply sent on its own), so the cork never holds data
// for longer than the loop turn. Sockets that refuse TCP_CORK (unix sockets) are left alone.
type SetSockOpt = (fd: number, level: number, name: number, val: Buffer, len: number) => number;
let setsockopt: SetSockOpt | null | undefined;
function sockopt(): SetSockOpt | null {
  if (setsockopt === undefined) {
    try {
      const koffi = createRequire(import.meta.url)('koffi') as { load(l: string): { func(sig: string): SetSockOpt } };
      setsockopt = koffi.load('libc.so.6').func('int setsockopt(int, int, int, const void *, uint32_t)');
    } catch {
      setsockopt = null;
    }
  }
  return setsockopt;
}
const IPPROTO_TCP = 6;
const TCP_CORK = 3;
const ONE = Buffer.from(new Int32Array([1]).buffer);
const ZERO = Buffer.from(new Int32Array([0]).buffer);
/** fd of each session's socket; -1 if it cannot be corked. */
const sessionFd = new WeakMap<object, number>();
const corked = new Set<number>();
let uncorkScheduled = false;
function uncorkAll(): void {
  uncorkScheduled = false;
  for (const fd of corked) setsockopt?.(fd, IPPROTO_TCP, TCP_CORK, ZERO, 4);
  corked.clear();
}
function cork(stream: ServerHttp2Stream): void {
  const session = stream.session;
  if (!session) return;
  let fd = sessionFd.get(session);
  if (fd === undefined) {
    const raw = (session.socket as unknown as { _handle?: { fd?: number } } | undefined)?._handle?.fd;
    const f = sockopt();
    // Probe once: uncorked is the state the socket is in anyway.
    fd = typeof raw === 'number' && raw >= 0 && f && f(raw, IPPROTO_TCP, TCP_CORK, ZERO, 4) === 0 ? raw : -1;
    sessionFd.set(session, fd);
  }
  if (fd < 0 || corked.has(fd)) return;
  if (setsockopt!(fd, IPPROTO_TCP, TCP_CORK, ONE, 4) !== 0) return;
  corked.add(fd);
  if (!uncorkScheduled) {
    uncorkScheduled = true;
    setImmediate(() => setImmediate(uncorkAll));
  }
}

type UnaryImpl = (call: { request: object; metadata: grpc.Metadata; cancelled: boolean }, cb: (err: unknown, res?: unknown) => void) => void;

interface Method {
  deserialize: (buf: Buffer) => object;
  /** The response as a whole gRPC message: 5-byte prefix + protobuf. */
  frame: (v: unknown) => Buffer;
  impl: UnaryImpl;
}

/** Prefixes a serialized message (for methods without a frame encoder). */
function framed(serialize: (v: unknown) => Buffer): (v: unknown) => Buffer {
  return (v) => {
    const payload = serialize(v);
    const frame = Buffer.allocUnsafe(5 + payload.length);
    frame[0] = 0;
    frame.writeUInt32BE(payload.length, 1);
    payload.copy(frame, 5);
    return frame;
  };
}

// Only what a client needs (as grpc-go sends them): every header the client's HTTP/2 layer
// and grpc-js turn into objects and metadata costs client CPU on every call. No
// grpc-encoding means identity; no grpc-message means an empty message.
const RESPONSE_HEADERS = { ':status': 200, 'content-type': 'application/grpc' };
const OK_TRAILERS = { 'grpc-status': '0' };
// No `date` header (Node adds one by default; gRPC does not use it, grpc-go does not send
// it, and it changes every second, so HPACK cannot keep it indexed).
// (`sendDate` is read by Node's respond() but missing from its type declarations.)
const RESPOND_OPTIONS: ServerStreamResponseOptions = { waitForTrailers: true, ...{ sendDate: false } };
const TRAILERS_ONLY_OPTIONS: ServerStreamResponseOptions = { endStream: true, ...{ sendDate: false } };

type StreamHandler = (this: unknown, extra: unknown, stream: ServerHttp2Stream, headers: IncomingHttpHeaders) => void;

export class FastUnary {
  readonly methods = new Map<string, Method>();
  readonly maxReceive: number;

  constructor(maxReceive: number) {
    this.maxReceive = maxReceive;
  }

  /**
   * Makes `server.addService` also register the unary methods here, and routes their HTTP/2
   * streams to `handle`. Returns false (grpc-js serves everything) if this grpc-js version
   * lacks the hooks.
   */
  install(server: grpc.Server): boolean {
    const s = server as unknown as Record<string, StreamHandler | undefined>;
    const hooks = ['_streamHandler', '_channelzHandler'] as const;
    if (hooks.some((k) => typeof s[k] !== 'function')) return false;
    const add = server.addService.bind(server);
    server.addService = (def: grpc.ServiceDefinition, impl: grpc.UntypedServiceImplementation) => {
      add(def, impl);
      for (const [name, md] of Object.entries(def)) {
        if (md.requestStream || md.responseStream) continue;
        const fn = (impl[name] ?? impl[md.originalName ?? '']) as UnaryImpl | undefined;
        if (!fn) continue;
        const frame = (md as { serializeFrame?: (v: unknown) => Buffer }).serializeFrame;
        this.methods.set(md.path, {
          deserialize: md.requestDeserialize as (buf: Buffer) => object,
          frame: frame ?? framed(md.responseSerialize as (v: unknown) => Buffer),
          impl: fn,
        });
      }
    };
    for (const k of hooks) {
      const orig = s[k]!;
      const handle = this.handle.bind(this);
      s[k] = function (this: unknown, extra, stream, headers) {
        if (handle(stream, headers)) return;
        orig.call(this, extra, stream, headers);
      };
    }
    return true;
  }

  /** Takes the stream if it is a plain unary call we serve; false hands it to grpc-js. */
  handle(stream: ServerHttp2Stream, headers: IncomingHttpHeaders): boolean {
    const m = this.methods.get(headers[':path'] ?? '');
    if (!m) return false;
    const ct = headers['content-type'];
    if (typeof ct !== 'string' || !ct.startsWith('application/grpc')) return false;
    const enc = headers['grpc-encoding'];
    if (enc !== undefined && enc !== 'identity') return false;

    stream.once('error', () => {
      /* the peer went away; 'close' follows and any late answer is dropped */
    });
    const chunks: Buffer[] = [];
    let len = 0;
    let failed = false;
    stream.on('data', (c: Buffer) => {
      if (failed) return;
      len += c.length;
      chunks.push(c);
      if (len >= 5) {
        const head = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks);
        const msgLen = head.readUInt32BE(1);
        if (msgLen > this.maxReceive) {
          failed = true;
          fail(stream, grpc.status.RESOURCE_EXHAUSTED, `Received message larger than max (${msgLen} vs ${this.maxReceive})`);
        }
      }
    });
    stream.once('end', () => {
      if (failed) return;
      const buf = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, len);
      if (buf.length < 5 || buf.length !== 5 + buf.readUInt32BE(1)) {
        fail(stream, grpc.status.INTERNAL, buf.length === 0 ? 'Received no messages for unary call' : 'Expected exactly one gRPC message for a unary call');
        return;
      }
      if (buf[0] !== 0) {
        fail(stream, grpc.status.INTERNAL, 'Compressed message received without grpc-encoding');
        return;
      }
      let request: object;
      try {
        request = m.deserialize(buf.subarray(5));
      } catch (e) {
        fail(stream, grpc.status.INTERNAL, `Error deserializing request: ${(e as Error).message}`);
        return;
      }
      mark('decoded');
      let metadata: grpc.Metadata | undefined;
      const call = {
        request,
        // built only if a handler reads it (none of the KV/Lease handlers do)
        get metadata() {
          return (metadata ??= grpc.Metadata.fromHttp2Headers(headers));
        },
        get cancelled() {
          return stream.destroyed || stream.closed;
        },
      };
      try {
        m.impl(call, (err, res) => answer(stream, m, err, res));
      } catch (e) {
        fail(stream, grpc.status.UNKNOWN, (e as Error).message);
      }
    });
    return true;
  }
}

function answer(stream: ServerHttp2Stream, m: Method, err: unknown, res: unknown): void {
  if (stream.destroyed || stream.closed) return;
  if (err) {
    const e = err as Partial<grpc.StatusObject>;
    fail(stream, e.code ?? grpc.status.UNKNOWN, e.details ?? (err as Error).message ?? 'Unknown error');
    return;
  }
  let frame: Buffer;
  try {
    frame = m.frame(res);
  } catch (e) {
    fail(stream, grpc.status.INTERNAL, `Error serializing response: ${(e as Error).message}`);
    return;
  }
  try {
    cork(stream);
    stream.respond(RESPONSE_HEADERS, RESPOND_OPTIONS);
    stream.once('wantTrailers', () => {
      if (!stream.destroyed) stream.sendTrailers(OK_TRAILERS);
    });
    stream.end(frame);
    mark('responded');
  } catch {
    /* stream closed between the check and the send: nothing left to answer */
  }
}

/** A trailers-only response: the status travels in the single HEADERS frame. */
function fail(stream: ServerHttp2Stream, code: number, details: string): void {
  if (stream.destroyed || stream.closed || stream.headersSent) return;
  try {
    stream.respond(
      { ':status': 200, 'content-type': 'application/grpc', 'grpc-status': String(code), 'grpc-message': encodeURI(details) },
      TRAILERS_ONLY_OPTIONS,
    );
  } catch {
    /* stream closed meanwhile */
  }
}
