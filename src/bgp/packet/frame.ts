import type { Frame } from './types.ts';
export interface FrameReaderOptions {
  /** RFC 8654 negotiated: accept messages up to 65535 bytes (can be switched later). */
  extendedMessage?: boolean;
}
/**
 * Push chunks from the socket, pull complete messages. Validates marker, length (19..4096 or
 * ..65535) and per-type lengths from the header alone, before buffering the body; throws
 * BgpMessageError (Message Header Error / ROUTE-REFRESH Message Error) on a bad header.
 */
export class FrameReader {
  extendedMessage: boolean;
  constructor(options: FrameReaderOptions = {}) { this.extendedMessage = options.extendedMessage ?? false; }
  push(chunk: Uint8Array): void { void chunk; throw new Error('not implemented'); }
  /** Next complete message, or null if more bytes are needed. */
  next(): Frame | null { throw new Error('not implemented'); }
  /** Bytes buffered but not yet returned. */
  get buffered(): number { return 0; }
}
