// One HTTP/2 server connection (RFC 9113) carrying gRPC: the frame layer, flow control and
// stream states, with nothing a gRPC server does not use (no push, no priorities, no
// upgrade from HTTP/1). Everything written while handling one socket read, or one batch of
// answers, leaves in a single socket write: a unary response is HEADERS + DATA + trailers
// in one segment, the way grpc-go answers.
import type { Duplex } from 'node:stream';
import { encodeHeaders, encodeInt, encodeLiteral, HpackDecoder, HpackError, type HeaderList } from './hpack.ts';

export const PREFACE = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', 'latin1');

const FrameType = { DATA: 0, HEADERS: 1, PRIORITY: 2, RST_STREAM: 3, SETTINGS: 4, PUSH_PROMISE: 5, PING: 6, GOAWAY: 7, WINDOW_UPDATE: 8, CONTINUATION: 9 } as const;
const Flag = { END_STREAM: 0x1, ACK: 0x1, END_HEADERS: 0x4, PADDED: 0x8, PRIORITY: 0x20 } as const;
const H2Error = {
  NO_ERROR: 0,
  PROTOCOL_ERROR: 1,
  INTERNAL_ERROR: 2,
  FLOW_CONTROL_ERROR: 3,
  STREAM_CLOSED: 5,
  FRAME_SIZE_ERROR: 6,
  REFUSED_STREAM: 7,
  CANCEL: 8,
  COMPRESSION_ERROR: 9,
  ENHANCE_YOUR_CALM: 11,
} as const;

/** Our receive settings. */
const MAX_FRAME_SIZE = 16384;
/** Per-stream receive window we announce: above the largest request, so a request never waits for a window update. */
const STREAM_WINDOW = 4 << 20;
/** Connection receive window (the initial 65,535 is raised at once). */
const CONN_WINDOW = 64 << 20;
const MAX_HEADER_BLOCK = 256 * 1024;
// Success responses' header blocks: with incremental indexing (first use on a connection)
// and plain literals (when the peer's table is too small to hold our two entries).
const CT: [string, string] = ['content-type', 'application/grpc'];
const OK: [string, string] = ['grpc-status', '0'];
/** Table size of both our entries (name + value + 32 each, RFC 7541 §4.1). */
const DYN_ENTRIES_SIZE = CT[0].length + CT[1].length + 32 + OK[0].length + OK[1].length + 32;
const OK_HEADERS_INDEXING = (() => {
  const out: number[] = [0x88];
  encodeInt(out, 31, 6, 0x40); // literal with incremental indexing, name: static 31 (content-type)
  encodeLiteral(out, CT[1]);
  return Buffer.from(out);
})();
const OK_HEADERS_LITERAL = encodeHeaders([[':status', '200'], CT]);
const OK_TRAILERS_INDEXING = (() => {
  const out: number[] = [0x40]; // literal with incremental indexing, new name
  encodeLiteral(out, OK[0]);
  encodeLiteral(out, OK[1]);
  return Buffer.from(out);
})();
const OK_TRAILERS_LITERAL = encodeHeaders([OK]);
/** The same fields once inserted: our entry at dynamic position 0 or 1 (index 62 or 63). */
const OK_HEADERS_INDEXED = [0, 1].map((pos) => Buffer.from([0x88, 0x80 | (62 + pos)]));
const OK_TRAILERS_INDEXED = [0, 1].map((pos) => Buffer.from([0x80 | (62 + pos)]));

/** Output staging buffer: its first size, and the most kept between writes. */
const OUT_INITIAL = 16 * 1024;
const OUT_KEEP = 256 * 1024;

class ConnError extends Error {
  readonly code: number;
  constructor(code: number, msg: string) {
    super(msg);
    this.code = code;
  }
}

/** What the connection needs from the layer above (the gRPC server). */
export interface StreamHandler {
  /** A new stream's request headers; the handler answers it or sets `stream.receiver` for its data. */
  onRequest(stream: H2Stream, headers: HeaderList, endStream: boolean): void;
}

export interface StreamReceiver {
  onData(chunk: Buffer): void;
  onEnd(): void;
  /** The stream ended abnormally (RST_STREAM from the peer, connection lost). */
  onReset(): void;
}

/**
 * A header block, or a function making it when its frame is written: blocks that refer to the
 * connection's HPACK state (`okTrailers`) must be made in the order they go out.
 */
export type HeaderBlock = Buffer | (() => Buffer);

export class H2Stream {
  readonly id: number;
  readonly conn: H2Connection;
  receiver: StreamReceiver | null = null;
  remoteClosed = false;
  localClosed = false;
  reset = false;
  headersSent = false;
  sendWindow: number;
  private recvUnacked = 0;
  /** DATA payload waiting for send window, and the trailers to follow it. */
  private queue: Buffer[] = [];
  private queuedTrailers: HeaderBlock | null = null;
  /** Bytes of DATA payload waiting for the peer's flow-control window. */
  queuedBytes = 0;
  /** Called when everything queued has been written (the peer opened its window again). */
  onDrained: (() => void) | null = null;

  constructor(conn: H2Connection, id: number, sendWindow: number) {
    this.conn = conn;
    this.id = id;
    this.sendWindow = sendWindow;
  }

  get closed(): boolean {
    return this.reset || (this.localClosed && this.remoteClosed);
  }

  /** Response headers (a prebuilt HPACK block). */
  sendHeaders(block: Buffer): void {
    if (this.reset || this.localClosed || this.headersSent) return;
    this.headersSent = true;
    this.conn.headers(Flag.END_HEADERS, this.id, block);
  }

  sendData(payload: Buffer): void {
    if (this.reset || this.localClosed) return;
    if (this.queue.length) {
      this.queue.push(payload);
      this.queuedBytes += payload.length;
    } else this.writeData(payload);
  }

  /** Trailers (END_STREAM); queued behind data still waiting for window. */
  sendTrailers(block: HeaderBlock): void {
    if (this.reset || this.localClosed) return;
    if (this.queue.length) {
      this.queuedTrailers = block;
      return;
    }
    this.finish(block);
  }

  /** The whole response in the HEADERS frame (gRPC "trailers-only"). */
  sendTrailersOnly(block: Buffer): void {
    if (this.reset || this.localClosed) return;
    this.headersSent = true;
    this.finish(block);
  }

  private finish(block: HeaderBlock): void {
    this.localClosed = true;
    this.conn.headers(Flag.END_HEADERS | Flag.END_STREAM, this.id, typeof block === 'function' ? block() : block);
    // The client is still sending: tell it we need nothing more (as grpc-go does).
    if (!this.remoteClosed) this.conn.rst(this, H2Error.NO_ERROR);
    this.conn.maybeForget(this);
  }

  private writeData(payload: Buffer): void {
    let off = 0;
    while (off < payload.length) {
      const n = Math.min(payload.length - off, this.conn.peerMaxFrame, this.sendWindow, this.conn.sendWindow);
      if (n <= 0) {
        this.queue.unshift(off ? payload.subarray(off) : payload);
        this.queuedBytes += payload.length - off;
        this.conn.blocked.add(this);
        return;
      }
      this.conn.frame(FrameType.DATA, 0, this.id, off === 0 && n === payload.length ? payload : payload.subarray(off, off + n));
      this.sendWindow -= n;
      this.conn.sendWindow -= n;
      off += n;
    }
  }

  /** Called when windows grew: sends what waits. */
  drain(): void {
    const q = this.queue;
    this.queue = [];
    this.queuedBytes = 0;
    for (let i = 0; i < q.length; i++) {
      this.writeData(q[i]!);
      if (this.queue.length) {
        for (let j = i + 1; j < q.length; j++) {
          this.queue.push(q[j]!);
          this.queuedBytes += q[j]!.length;
        }
        return;
      }
    }
    this.conn.blocked.delete(this);
    if (this.queuedTrailers) {
      const t = this.queuedTrailers;
      this.queuedTrailers = null;
      this.finish(t);
      return;
    }
    this.onDrained?.();
  }

  /** Receive flow control: bytes the layer above has taken. */
  consumed(n: number): void {
    this.recvUnacked += n;
    if (!this.remoteClosed && this.recvUnacked >= STREAM_WINDOW / 4) {
      this.conn.windowUpdate(this.id, this.recvUnacked);
      this.recvUnacked = 0;
    }
  }
}

export class H2Connection {
  readonly socket: Duplex;
  private readonly handler: StreamHandler;
  private readonly decoder = new HpackDecoder();
  private readonly streams = new Map<number, H2Stream>();
  readonly blocked = new Set<H2Stream>();
  private buf: Buffer | null = null;
  private prefaceSeen = false;
  private lastStreamId = 0;
  /** A header block split over CONTINUATION frames. */
  private headerParts: { id: number; endStream: boolean; parts: Buffer[]; size: number } | null = null;
  /** Frames staged for the next socket write. */
  private outBuf = Buffer.allocUnsafe(OUT_INITIAL);
  private outLen = 0;
  private flushScheduled = false;
  private dead = false;
  private goingAway = false;
  peerMaxFrame = 16384;
  private peerInitialWindow = 65535;
  sendWindow = 65535;
  private recvUnacked = 0;
  onClose: (() => void) | null = null;
  // HPACK encoder state (responses): the peer's table size we use, a size update owed at the
  // start of the next header block, and our own inserted entries, newest first.
  private encTableMax = 4096;
  private pendingSizeUpdate: Buffer | null = null;
  private dyn: ('ct' | 'ok')[] = [];

  constructor(socket: Duplex, handler: StreamHandler) {
    this.socket = socket;
    this.handler = handler;
    // Our SETTINGS: INITIAL_WINDOW_SIZE (4), MAX_FRAME_SIZE (5); then the connection window.
    const s = Buffer.alloc(12);
    s.writeUInt16BE(4, 0);
    s.writeUInt32BE(STREAM_WINDOW, 2);
    s.writeUInt16BE(5, 6);
    s.writeUInt32BE(MAX_FRAME_SIZE, 8);
    this.frame(FrameType.SETTINGS, 0, 0, s);
    this.windowUpdate(0, CONN_WINDOW - 65535);
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('error', () => this.destroy());
    socket.on('close', () => this.destroy());
    socket.on('end', () => this.destroy());
  }

  // ---- output ----

  frame(type: number, flags: number, id: number, payload: Buffer): void {
    if (this.dead) return;
    const len = payload.length;
    if (this.outLen + 9 + len > this.outBuf.length) this.grow(9 + len);
    const b = this.outBuf;
    const o = this.outLen;
    b[o] = len >>> 16;
    b[o + 1] = (len >>> 8) & 0xff;
    b[o + 2] = len & 0xff;
    b[o + 3] = type;
    b[o + 4] = flags;
    b[o + 5] = id >>> 24;
    b[o + 6] = (id >>> 16) & 0xff;
    b[o + 7] = (id >>> 8) & 0xff;
    b[o + 8] = id & 0xff;
    if (len) b.set(payload, o + 9);
    this.outLen = o + 9 + len;
    if (!this.flushScheduled) {
      this.flushScheduled = true;
      queueMicrotask(this.flushFn);
    }
  }

  private grow(need: number): void {
    const n = Buffer.allocUnsafe(Math.max(this.outBuf.length * 2, this.outLen + need));
    this.outBuf.copy(n, 0, 0, this.outLen);
    this.outBuf = n;
  }

  private readonly flushFn = () => this.flush();

  /** Writes everything queued in one socket write (a copy: the staging buffer is reused). */
  flush(): void {
    this.flushScheduled = false;
    if (this.dead || this.outLen === 0) return;
    const data = Buffer.allocUnsafe(this.outLen);
    this.outBuf.copy(data, 0, 0, this.outLen);
    this.outLen = 0;
    if (this.outBuf.length > OUT_KEEP) this.outBuf = Buffer.allocUnsafe(OUT_INITIAL);
    this.socket.write(data);
  }

  /** A HEADERS frame; a table size update we owe goes first in its block. */
  headers(flags: number, id: number, block: Buffer): void {
    if (this.pendingSizeUpdate) {
      block = Buffer.concat([this.pendingSizeUpdate, block]);
      this.pendingSizeUpdate = null;
    }
    this.frame(FrameType.HEADERS, flags, id, block);
  }

  /**
   * The success response's header block (`:status: 200`, `content-type: application/grpc`)
   * and trailers (`grpc-status: 0`). The first use inserts the non-static field into the
   * peer's dynamic table (as grpc-go does); later responses refer to it by index, so the
   * peer's decoder does no string work at all. Blocks must be sent in the order they are
   * asked for (the index depends on what was inserted before).
   */
  okHeaders(): Buffer {
    return this.indexedOr('ct', OK_HEADERS_INDEXING, OK_HEADERS_LITERAL, OK_HEADERS_INDEXED);
  }

  readonly okTrailers = (): Buffer => {
    return this.indexedOr('ok', OK_TRAILERS_INDEXING, OK_TRAILERS_LITERAL, OK_TRAILERS_INDEXED);
  };

  /** `indexed[i]` refers to our entry at dynamic position i (index 62 + i). */
  private indexedOr(entry: 'ct' | 'ok', inserting: Buffer, literal: Buffer, indexed: readonly Buffer[]): Buffer {
    const pos = this.dyn.indexOf(entry);
    if (pos >= 0) return indexed[pos]!;
    if (this.encTableMax < DYN_ENTRIES_SIZE) return literal;
    this.dyn.unshift(entry);
    return inserting;
  }

  windowUpdate(id: number, n: number): void {
    const p = Buffer.allocUnsafe(4);
    p.writeUInt32BE(n, 0);
    this.frame(FrameType.WINDOW_UPDATE, 0, id, p);
  }

  rst(stream: H2Stream, code: number): void {
    const p = Buffer.allocUnsafe(4);
    p.writeUInt32BE(code, 0);
    this.frame(FrameType.RST_STREAM, 0, stream.id, p);
    stream.reset = true;
    this.forget(stream);
  }

  maybeForget(stream: H2Stream): void {
    if (stream.closed) this.forget(stream);
  }

  private forget(stream: H2Stream): void {
    this.streams.delete(stream.id);
    this.blocked.delete(stream);
    if (this.goingAway && this.streams.size === 0) this.endSocket();
  }

  /** GOAWAY: no new streams; the socket ends once the open ones are done. */
  goAway(code: number = H2Error.NO_ERROR, msg = ''): void {
    if (this.dead || this.goingAway) return;
    this.goingAway = true;
    const p = Buffer.alloc(8 + Buffer.byteLength(msg));
    p.writeUInt32BE(this.lastStreamId, 0);
    p.writeUInt32BE(code, 4);
    p.write(msg, 8);
    this.frame(FrameType.GOAWAY, 0, 0, p);
    if (this.streams.size === 0 || code !== H2Error.NO_ERROR) this.endSocket();
  }

  private endSocket(): void {
    this.flush();
    this.socket.end();
    // a peer that never closes its side is cut off
    setTimeout(() => this.destroy(), 2000).unref();
  }

  destroy(): void {
    if (this.dead) return;
    this.flush();
    this.dead = true;
    this.socket.destroy();
    const streams = [...this.streams.values()];
    this.streams.clear();
    for (const s of streams) {
      s.reset = true;
      s.receiver?.onReset();
    }
    this.onClose?.();
  }

  // ---- input ----

  private onData(chunk: Buffer): void {
    if (this.dead) return;
    let b = this.buf ? Buffer.concat([this.buf, chunk]) : chunk;
    this.buf = null;
    try {
      let off = 0;
      if (!this.prefaceSeen) {
        if (b.length < PREFACE.length) {
          if (!PREFACE.subarray(0, b.length).equals(b)) throw new ConnError(H2Error.PROTOCOL_ERROR, 'not an HTTP/2 connection preface');
          this.buf = b;
          return;
        }
        if (!b.subarray(0, PREFACE.length).equals(PREFACE)) throw new ConnError(H2Error.PROTOCOL_ERROR, 'not an HTTP/2 connection preface');
        this.prefaceSeen = true;
        off = PREFACE.length;
      }
      while (b.length - off >= 9) {
        const len = (b[off]! << 16) | (b[off + 1]! << 8) | b[off + 2]!;
        if (len > MAX_FRAME_SIZE) throw new ConnError(H2Error.FRAME_SIZE_ERROR, `frame of ${len} bytes exceeds SETTINGS_MAX_FRAME_SIZE`);
        if (b.length - off < 9 + len) break;
        const type = b[off + 3]!;
        const flags = b[off + 4]!;
        const id = ((b[off + 5]! & 0x7f) << 24) | (b[off + 6]! << 16) | (b[off + 7]! << 8) | b[off + 8]!;
        this.onFrame(type, flags, id, b.subarray(off + 9, off + 9 + len));
        if (this.dead) return;
        off += 9 + len;
      }
      if (off < b.length) {
        // keep the partial frame (copied: the socket's buffer is not ours to hold)
        b = b.subarray(off);
        this.buf = Buffer.from(b);
      }
    } catch (e) {
      const ce = e instanceof ConnError ? e : e instanceof HpackError ? new ConnError(H2Error.COMPRESSION_ERROR, e.message) : new ConnError(H2Error.INTERNAL_ERROR, (e as Error).message);
      this.goAway(ce.code, ce.message);
      this.destroySoon();
    }
    this.flush();
  }

  private destroySoon(): void {
    this.flush();
    setImmediate(() => this.destroy());
  }

  private onFrame(type: number, flags: number, id: number, p: Buffer): void {
    if (this.headerParts && type !== FrameType.CONTINUATION) throw new ConnError(H2Error.PROTOCOL_ERROR, 'expected CONTINUATION');
    switch (type) {
      case FrameType.DATA:
        return this.onDataFrame(flags, id, p);
      case FrameType.HEADERS:
        return this.onHeadersFrame(flags, id, p);
      case FrameType.CONTINUATION: {
        const hp = this.headerParts;
        if (!hp || hp.id !== id) throw new ConnError(H2Error.PROTOCOL_ERROR, 'unexpected CONTINUATION');
        hp.parts.push(Buffer.from(p));
        hp.size += p.length;
        if (hp.size > MAX_HEADER_BLOCK) throw new ConnError(H2Error.ENHANCE_YOUR_CALM, 'header block too large');
        if (flags & Flag.END_HEADERS) {
          this.headerParts = null;
          this.onHeaderBlock(id, Buffer.concat(hp.parts), hp.endStream);
        }
        return;
      }
      case FrameType.PRIORITY:
        if (p.length !== 5) throw new ConnError(H2Error.FRAME_SIZE_ERROR, 'PRIORITY frame size');
        return;
      case FrameType.RST_STREAM: {
        if (id === 0 || p.length !== 4) throw new ConnError(H2Error.PROTOCOL_ERROR, 'bad RST_STREAM');
        const s = this.streams.get(id);
        if (s) {
          s.reset = true;
          this.forget(s);
          s.receiver?.onReset();
        }
        return;
      }
      case FrameType.SETTINGS:
        if (id !== 0) throw new ConnError(H2Error.PROTOCOL_ERROR, 'SETTINGS on a stream');
        if (flags & Flag.ACK) return;
        if (p.length % 6) throw new ConnError(H2Error.FRAME_SIZE_ERROR, 'SETTINGS frame size');
        for (let i = 0; i < p.length; i += 6) this.setting(p.readUInt16BE(i), p.readUInt32BE(i + 2));
        this.frame(FrameType.SETTINGS, Flag.ACK, 0, Buffer.alloc(0));
        return;
      case FrameType.PING:
        if (id !== 0 || p.length !== 8) throw new ConnError(H2Error.PROTOCOL_ERROR, 'bad PING');
        if (!(flags & Flag.ACK)) this.frame(FrameType.PING, Flag.ACK, 0, Buffer.from(p));
        return;
      case FrameType.GOAWAY:
        // the client will open no more streams; the open ones finish normally
        this.goingAway = true;
        if (this.streams.size === 0) this.endSocket();
        return;
      case FrameType.WINDOW_UPDATE: {
        if (p.length !== 4) throw new ConnError(H2Error.FRAME_SIZE_ERROR, 'WINDOW_UPDATE frame size');
        const inc = p.readUInt32BE(0) & 0x7fffffff;
        if (id === 0) {
          if (inc === 0) throw new ConnError(H2Error.PROTOCOL_ERROR, 'WINDOW_UPDATE of 0');
          this.sendWindow += inc;
          if (this.sendWindow > 0x7fffffff) throw new ConnError(H2Error.FLOW_CONTROL_ERROR, 'connection window overflow');
          for (const s of [...this.blocked]) {
            s.drain();
            if (this.sendWindow <= 0) break;
          }
        } else {
          const s = this.streams.get(id);
          if (!s) return;
          if (inc === 0) return this.rst(s, H2Error.PROTOCOL_ERROR);
          s.sendWindow += inc;
          if (this.blocked.has(s)) s.drain();
        }
        return;
      }
      case FrameType.PUSH_PROMISE:
        throw new ConnError(H2Error.PROTOCOL_ERROR, 'PUSH_PROMISE from a client');
      default:
        return; // unknown frame types are ignored
    }
  }

  private setting(key: number, value: number): void {
    if (key === 2 && value > 1) throw new ConnError(H2Error.PROTOCOL_ERROR, 'SETTINGS_ENABLE_PUSH');
    if (key === 4) {
      if (value > 0x7fffffff) throw new ConnError(H2Error.FLOW_CONTROL_ERROR, 'SETTINGS_INITIAL_WINDOW_SIZE too large');
      const delta = value - this.peerInitialWindow;
      this.peerInitialWindow = value;
      for (const s of this.streams.values()) s.sendWindow += delta;
      if (delta > 0) for (const s of [...this.blocked]) s.drain();
    } else if (key === 1) {
      // the peer's decoder table size: ours must not exceed it (a size update says so)
      const max = Math.min(value, 4096);
      if (max < this.encTableMax) {
        const out: number[] = [];
        if (max < DYN_ENTRIES_SIZE) {
          encodeInt(out, 0, 5, 0x20); // evict everything we inserted
          this.dyn = [];
        }
        encodeInt(out, max, 5, 0x20);
        this.pendingSizeUpdate = Buffer.from(out);
        this.encTableMax = max;
      }
    } else if (key === 5) {
      if (value < 16384 || value > 16777215) throw new ConnError(H2Error.PROTOCOL_ERROR, 'SETTINGS_MAX_FRAME_SIZE out of range');
      this.peerMaxFrame = value;
    }
    // Others are advisory for a server.
  }

  private unpad(flags: number, p: Buffer, extra = 0): Buffer {
    if (!(flags & Flag.PADDED) && extra === 0) return p;
    let start = 0;
    let end = p.length;
    if (flags & Flag.PADDED) {
      if (p.length < 1) throw new ConnError(H2Error.PROTOCOL_ERROR, 'padded frame without pad length');
      const pad = p[0]!;
      start = 1;
      end -= pad;
    }
    start += extra;
    if (end < start) throw new ConnError(H2Error.PROTOCOL_ERROR, 'padding exceeds the frame');
    return p.subarray(start, end);
  }

  private onDataFrame(flags: number, id: number, p: Buffer): void {
    if (id === 0) throw new ConnError(H2Error.PROTOCOL_ERROR, 'DATA on stream 0');
    // connection-level flow control counts the whole frame
    this.recvUnacked += p.length;
    if (this.recvUnacked >= CONN_WINDOW / 4) {
      this.windowUpdate(0, this.recvUnacked);
      this.recvUnacked = 0;
    }
    const s = this.streams.get(id);
    if (!s) {
      if (id > this.lastStreamId) throw new ConnError(H2Error.PROTOCOL_ERROR, 'DATA on an idle stream');
      return; // a stream we closed or reset: late frames are dropped
    }
    if (s.remoteClosed) {
      this.rst(s, H2Error.STREAM_CLOSED);
      s.receiver?.onReset();
      return;
    }
    const data = this.unpad(flags, p);
    if (p.length - data.length) s.consumed(p.length - data.length);
    if (data.length) {
      s.receiver?.onData(data);
      s.consumed(data.length);
    }
    if (flags & Flag.END_STREAM) {
      s.remoteClosed = true;
      s.receiver?.onEnd();
      this.maybeForget(s);
    }
  }

  private onHeadersFrame(flags: number, id: number, p: Buffer): void {
    if (id === 0) throw new ConnError(H2Error.PROTOCOL_ERROR, 'HEADERS on stream 0');
    const block = this.unpad(flags, p, flags & Flag.PRIORITY ? 5 : 0);
    const endStream = (flags & Flag.END_STREAM) !== 0;
    if (!(flags & Flag.END_HEADERS)) {
      this.headerParts = { id, endStream, parts: [Buffer.from(block)], size: block.length };
      return;
    }
    this.onHeaderBlock(id, block, endStream);
  }

  private onHeaderBlock(id: number, block: Buffer, endStream: boolean): void {
    // The block is decoded even for streams we will refuse: the HPACK state must follow.
    const headers = this.decoder.decode(block);
    const existing = this.streams.get(id);
    if (existing) {
      // trailers from the client: they must end the stream
      if (!endStream || existing.remoteClosed) throw new ConnError(H2Error.PROTOCOL_ERROR, 'HEADERS on an open stream without END_STREAM');
      existing.remoteClosed = true;
      existing.receiver?.onEnd();
      this.maybeForget(existing);
      return;
    }
    if (id % 2 === 0 || id <= this.lastStreamId) throw new ConnError(H2Error.PROTOCOL_ERROR, `invalid stream id ${id}`);
    this.lastStreamId = id;
    const s = new H2Stream(this, id, this.peerInitialWindow);
    if (this.goingAway) {
      this.rst(s, H2Error.REFUSED_STREAM);
      return;
    }
    this.streams.set(id, s);
    s.remoteClosed = endStream;
    this.handler.onRequest(s, headers, endStream);
    if (endStream) this.maybeForget(s);
  }
}
