// gRPC over our HTTP/2 connections (connection.ts): method routing, message framing, status
// trailers, and call objects for unary and streaming handlers. Service definitions are the
// ones @grpc/proto-loader builds (path, request decoder, response encoder); handlers have
// grpc-js's shapes, so the same service code could run on either server.
import { EventEmitter } from 'node:events';
import type { Duplex } from 'node:stream';
import { H2Connection, type H2Stream, type StreamHandler, type StreamReceiver } from './connection.ts';
import { encodeHeaders, type HeaderList } from './hpack.ts';
import { mark } from '../trace.ts';

/** gRPC status codes used here. */
const Status = { OK: 0, CANCELLED: 1, UNKNOWN: 2, INTERNAL: 13, UNIMPLEMENTED: 12, RESOURCE_EXHAUSTED: 8 } as const;

export interface StatusLike {
  code?: number;
  details?: string;
  message?: string;
}

export interface MethodDef {
  path: string;
  requestStream: boolean;
  responseStream: boolean;
  requestDeserialize: (buf: Buffer) => unknown;
  responseSerialize: (v: never) => Buffer;
  /** Optional: the response with its 5-byte gRPC message prefix, in one buffer. */
  serializeFrame?: (v: never) => Buffer;
  originalName?: string;
}

type UnaryHandler = (call: UnaryCall, cb: (err: StatusLike | null | undefined, res?: unknown) => void) => void;
type StreamingHandler = (call: StreamCall) => void;

interface Route {
  def: MethodDef;
  unary: UnaryHandler | null;
  streaming: StreamingHandler | null;
  frame: (v: unknown) => Buffer;
}


/** grpc-message is percent-encoded (gRPC over HTTP/2 spec): everything outside 0x20–0x7e and '%'. */
function percentEncode(s: string): string {
  let out = '';
  for (const b of Buffer.from(s, 'utf8')) {
    out += b >= 0x20 && b <= 0x7e && b !== 0x25 ? String.fromCharCode(b) : '%' + b.toString(16).toUpperCase().padStart(2, '0');
  }
  return out;
}

function statusBlock(code: number, details: string, withHttp: boolean): Buffer {
  const h: HeaderList = withHttp
    ? [
        [':status', '200'],
        ['content-type', 'application/grpc'],
      ]
    : [];
  h.push(['grpc-status', String(code)]);
  if (details) h.push(['grpc-message', percentEncode(details)]);
  return encodeHeaders(h);
}

function frameWith(serialize: (v: never) => Buffer): (v: unknown) => Buffer {
  return (v) => {
    const payload = serialize(v as never);
    const f = Buffer.allocUnsafe(5 + payload.length);
    f[0] = 0;
    f.writeUInt32BE(payload.length, 1);
    payload.copy(f, 5);
    return f;
  };
}

/** Metadata as a plain map of the request's non-reserved headers (lower-case names). */
export type RequestMetadata = Map<string, string>;

function metadataOf(headers: HeaderList): RequestMetadata {
  const m = new Map<string, string>();
  for (const [k, v] of headers) if (!k.startsWith(':') && !k.startsWith('grpc-') && k !== 'content-type' && k !== 'te') m.set(k, v);
  return m;
}

/** Ends a call with a status: trailers (after data) or trailers-only. */
function endWith(stream: H2Stream, err: StatusLike | null): void {
  if (stream.closed || stream.localClosed) return;
  if (!err) {
    if (!stream.headersSent) stream.sendHeaders(stream.conn.okHeaders());
    stream.sendTrailers(stream.conn.okTrailers);
    return;
  }
  const code = typeof err.code === 'number' ? err.code : Status.UNKNOWN;
  const details = err.details ?? err.message ?? 'Unknown error';
  if (stream.headersSent) stream.sendTrailers(statusBlock(code, details, false));
  else stream.sendTrailersOnly(statusBlock(code, details, true));
}

/**
 * Feeds a DATA chunk to the call's reader; on a bad or oversized message the call ends with
 * its status and false is returned (the call reads nothing more).
 */
function readChunk(stream: H2Stream, reader: MessageReader, chunk: Buffer, msgs: Buffer[]): boolean {
  try {
    reader.push(chunk, msgs);
    return true;
  } catch (status) {
    endWith(stream, status as StatusLike);
    return false;
  }
}

/** Reassembles length-prefixed gRPC messages from DATA chunks. */
class MessageReader {
  private chunks: Buffer[] = [];
  private len = 0;
  private readonly max: number;

  constructor(max: number) {
    this.max = max;
  }

  /** Complete messages in `chunk`; throws a status on a bad or oversized message. */
  push(chunk: Buffer, out: Buffer[]): void {
    this.chunks.push(chunk);
    this.len += chunk.length;
    while (this.len >= 5) {
      const head = this.chunks[0]!.length >= 5 ? this.chunks[0]! : Buffer.concat(this.chunks);
      const msgLen = head.readUInt32BE(1);
      if (msgLen > this.max) throw { code: Status.RESOURCE_EXHAUSTED, details: `grpc: received message larger than max (${msgLen} vs. ${this.max})` };
      if (this.len < 5 + msgLen) return;
      const all = this.chunks.length === 1 ? this.chunks[0]! : Buffer.concat(this.chunks, this.len);
      const flag = all[0]!;
      const msg = all.subarray(5, 5 + msgLen);
      if (all.length > 5 + msgLen) {
        const rest = all.subarray(5 + msgLen);
        this.chunks = [rest];
        this.len = rest.length;
      } else {
        this.chunks.length = 0;
        this.len = 0;
      }
      // no decompressor is installed (as in etcd), so a compressed message is an error
      if (flag === 1) throw { code: Status.INTERNAL, details: 'grpc: compressed flag set with identity or empty encoding' };
      if (flag !== 0) throw { code: Status.INTERNAL, details: `grpc: received unexpected payload format ${flag}` };
      out.push(msg);
    }
  }

  get partial(): boolean {
    return this.len > 0;
  }
}

export interface UnaryCall {
  request: unknown;
  readonly metadata: RequestMetadata;
  readonly cancelled: boolean;
}

/**
 * A unary call. A class, not an object literal with getters: a literal's getters are new
 * closures per call, so every call object got its own hidden class (V8 keeps accessors in the
 * map). Those maps live in old space until a full GC, and through the getters' closures they
 * held each call's stream, request and buffers, so every request survived two scavenges and
 * was promoted: ~1.7 KB per request, scavenges of ~2 ms instead of ~0.5 ms.
 */
class UnaryCallImpl implements UnaryCall {
  request: unknown;
  private readonly stream: H2Stream;
  private readonly headers: HeaderList;
  private md: RequestMetadata | undefined = undefined;

  constructor(request: unknown, stream: H2Stream, headers: HeaderList) {
    this.request = request;
    this.stream = stream;
    this.headers = headers;
  }

  get metadata(): RequestMetadata {
    return (this.md ??= metadataOf(this.headers));
  }

  get cancelled(): boolean {
    return this.stream.reset;
  }
}

/**
 * Bytes a streaming call may have waiting for the client's flow-control window before `write`
 * asks the writer to pause (it returns false; 'drain' follows once the client has taken them).
 */
const STREAM_HIGH_WATER = 4 << 20;

/**
 * A streaming call: 'data' per request message, 'end' when the client half-closes, 'cancelled'
 * if it goes away, 'drain' when responses held back by a slow reader have all been sent.
 */
export class StreamCall extends EventEmitter {
  /** The request of a server-streaming call. */
  request: unknown = undefined;
  readonly metadata: RequestMetadata;
  private readonly stream: H2Stream;
  private readonly frame: (v: unknown) => Buffer;
  cancelled = false;

  constructor(stream: H2Stream, frame: (v: unknown) => Buffer, metadata: RequestMetadata) {
    super();
    this.stream = stream;
    this.frame = frame;
    this.metadata = metadata;
    stream.onDrained = () => this.emit('drain');
  }

  /**
   * Sends a response message. False when the call is over (nothing sent) or when the client
   * is not reading fast enough: the message is queued, but the writer should wait for 'drain'.
   */
  write(msg: unknown): boolean {
    if (this.stream.closed || this.stream.localClosed) return false;
    if (!this.stream.headersSent) this.stream.sendHeaders(this.stream.conn.okHeaders());
    this.stream.sendData(this.frame(msg));
    return this.stream.queuedBytes < STREAM_HIGH_WATER;
  }

  /** Ends the call: OK, or with the given status. */
  end(status?: StatusLike): void {
    endWith(this.stream, status ?? null);
  }
}

export interface GrpcServerOptions {
  /** Largest request message accepted (bytes, after decompression). */
  maxReceiveBytes: number;
}

export class GrpcServer implements StreamHandler {
  private readonly routes = new Map<string, Route>();
  private readonly conns = new Set<H2Connection>();
  private readonly maxReceive: number;
  private closing = false;

  constructor(opts: GrpcServerOptions) {
    this.maxReceive = opts.maxReceiveBytes;
  }

  /** Registers a service (a proto-loader definition) with handlers keyed by method name. */
  addService(def: Record<string, MethodDef>, impl: Record<string, unknown>): void {
    for (const [name, md] of Object.entries(def)) {
      const fn = (impl[name] ?? impl[md.originalName ?? '']) as ((...a: never[]) => void) | undefined;
      if (!fn) continue;
      const streaming = md.requestStream || md.responseStream;
      this.routes.set(md.path, {
        def: md,
        unary: streaming ? null : (fn as unknown as UnaryHandler),
        streaming: streaming ? (fn as unknown as StreamingHandler) : null,
        frame: md.serializeFrame ? (md.serializeFrame as (v: unknown) => Buffer) : frameWith(md.responseSerialize),
      });
    }
  }

  /** Serves HTTP/2 on a connected socket (plain TCP, unix or TLS with ALPN h2). */
  handleConnection(socket: Duplex): void {
    if (this.closing) {
      socket.destroy();
      return;
    }
    const c = new H2Connection(socket, this);
    this.conns.add(c);
    c.onClose = () => this.conns.delete(c);
  }

  /** GOAWAY to every connection; resolves when they are closed or after `graceMs` (then cut). */
  async close(graceMs = 1000): Promise<void> {
    this.closing = true;
    for (const c of this.conns) c.goAway();
    const t0 = Date.now();
    while (this.conns.size && Date.now() - t0 < graceMs) await new Promise((r) => setTimeout(r, 20));
    for (const c of [...this.conns]) c.destroy();
  }

  onRequest(stream: H2Stream, headers: HeaderList, endStream: boolean): void {
    // The fields routed on, read from the list each time. (A WeakMap from the decoder's shared
    // lists to their parsed fields made every request's objects survive scavenges.)
    let path = '';
    let method = '';
    let contentType = '';
    let encoding = 'identity';
    for (let i = 0; i < headers.length; i++) {
      const [k, v] = headers[i]!;
      if (k === ':path') path = v;
      else if (k === ':method') method = v;
      else if (k === 'content-type') contentType = v;
      else if (k === 'grpc-encoding') encoding = v;
    }
    if (method !== 'POST' || !(contentType === 'application/grpc' || contentType.startsWith('application/grpc+') || contentType.startsWith('application/grpc;'))) {
      // not gRPC: an HTTP error (grpc-go answers 415 for a wrong content type)
      stream.sendTrailersOnly(encodeHeaders([[':status', method !== 'POST' ? '405' : '415'], ['content-type', 'text/plain']]));
      return;
    }
    const route = this.routes.get(path);
    if (!route) {
      const slash = path.lastIndexOf('/');
      const service = path.slice(1, slash);
      const known = [...this.routes.keys()].some((p) => p.startsWith(`/${service}/`));
      endWith(stream, { code: Status.UNIMPLEMENTED, details: known ? `unknown method ${path.slice(slash + 1)} for service ${service}` : `unknown service ${service}` });
      return;
    }
    // etcd registers no decompressor: grpc-go refuses any other grpc-encoding before reading
    if (encoding !== 'identity' && encoding !== '') {
      endWith(stream, { code: Status.UNIMPLEMENTED, details: `grpc: Decompressor is not installed for grpc-encoding "${encoding}"` });
      return;
    }
    const reader = new MessageReader(this.maxReceive);
    if (route.unary) this.unary(stream, route, headers, reader, endStream);
    else this.streaming(stream, route, headers, reader, endStream);
  }

  private unary(stream: H2Stream, route: Route, headers: HeaderList, reader: MessageReader, endStream: boolean): void {
    const msgs: Buffer[] = [];
    let failed = false;
    const finish = () => {
      if (failed) return;
      if (msgs.length !== 1 || reader.partial) {
        endWith(stream, { code: Status.INTERNAL, details: msgs.length === 0 ? 'grpc: received no request message' : 'grpc: expected exactly one request message for a unary call' });
        return;
      }
      let request: unknown;
      try {
        request = route.def.requestDeserialize(msgs[0]!);
      } catch (e) {
        endWith(stream, { code: Status.INTERNAL, details: `grpc: error unmarshalling request: ${(e as Error).message}` });
        return;
      }
      mark('decoded');
      const call = new UnaryCallImpl(request, stream, headers);
      try {
        route.unary!(call, (err, res) => {
          if (stream.closed || stream.localClosed) return;
          if (err) return endWith(stream, err);
          let frame: Buffer;
          try {
            frame = route.frame(res);
          } catch (e) {
            return endWith(stream, { code: Status.INTERNAL, details: `grpc: error while marshaling: ${(e as Error).message}` });
          }
          stream.sendHeaders(stream.conn.okHeaders());
          stream.sendData(frame);
          stream.sendTrailers(stream.conn.okTrailers);
          mark('responded');
        });
      } catch (e) {
        endWith(stream, { code: Status.UNKNOWN, details: (e as Error).message });
      }
    };
    if (endStream) return finish();
    stream.receiver = {
      onData(chunk) {
        if (!failed) failed = !readChunk(stream, reader, chunk, msgs);
      },
      onEnd: finish,
      onReset() {
        failed = true;
      },
    } satisfies StreamReceiver;
  }

  private streaming(stream: H2Stream, route: Route, headers: HeaderList, reader: MessageReader, endStream: boolean): void {
    const call = new StreamCall(stream, route.frame, metadataOf(headers));
    const clientStreams = route.def.requestStream;
    let started = false;
    let ended = false;
    const msgs: Buffer[] = [];
    const start = () => {
      started = true;
      try {
        route.streaming!(call);
      } catch (e) {
        endWith(stream, { code: Status.UNKNOWN, details: (e as Error).message });
      }
    };
    /** The server ends the call (a bad request message): the handler hears 'close' and nothing more. */
    const fail = (status: StatusLike | null) => {
      ended = true;
      msgs.length = 0;
      if (status) endWith(stream, status);
      if (started) call.emit('close');
    };
    const deliver = (): void => {
      for (const m of msgs.splice(0)) {
        // a server-streaming call reads one request, as grpc-go's handlers do; more are ignored
        if (!clientStreams && started) return;
        let req: unknown;
        try {
          req = route.def.requestDeserialize(m);
        } catch (e) {
          return fail({ code: Status.INTERNAL, details: `grpc: error unmarshalling request: ${(e as Error).message}` });
        }
        if (!clientStreams) {
          call.request = req;
          start();
        } else {
          call.emit('data', req);
          if (ended || stream.closed || stream.localClosed) return;
        }
      }
    };
    const end = () => {
      if (ended) return;
      ended = true;
      if (reader.partial) {
        endWith(stream, { code: Status.INTERNAL, details: 'grpc: client half-closed inside a message' });
        if (started) call.emit('close');
        return;
      }
      if (!started) {
        if (!clientStreams) return endWith(stream, { code: Status.INTERNAL, details: 'grpc: received no request message' });
        start();
      }
      if (clientStreams) call.emit('end');
    };
    if (clientStreams) start();
    if (endStream) return end();
    stream.receiver = {
      onData(chunk) {
        if (ended) return;
        if (readChunk(stream, reader, chunk, msgs)) deliver();
        else fail(null);
      },
      onEnd: end,
      onReset() {
        if (call.cancelled) return;
        call.cancelled = true;
        call.emit('cancelled');
        call.emit('close');
      },
    } satisfies StreamReceiver;
  }
}
