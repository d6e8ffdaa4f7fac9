// ByteReader / ByteWriter: the one cursor pair every decoder and encoder in this folder uses.
// Big-endian (network order). The reader never reads outside [start, end): a short read throws
// BgpMessageError with the code/subcode the reader was created with, so a decoder that forgets
// an explicit length check still fails with a protocol error, never a RangeError.
import { BgpMessageError, ERROR_CODE, HEADER_ERROR } from './types.ts';

export class ByteReader {
  readonly buf: Uint8Array;
  pos: number;
  readonly end: number;
  /** NOTIFICATION code/subcode used when a read runs past `end`. */
  readonly errorCode: number;
  readonly errorSubcode: number;

  constructor(
    buf: Uint8Array,
    start = 0,
    end = buf.length,
    errorCode: number = ERROR_CODE.MESSAGE_HEADER_ERROR,
    errorSubcode: number = HEADER_ERROR.BAD_MESSAGE_LENGTH,
  ) {
    if (start < 0 || end > buf.length || start > end) {
      throw new RangeError(`ByteReader: window [${start}, ${end}) outside buffer of ${buf.length} bytes`);
    }
    this.buf = buf;
    this.pos = start;
    this.end = end;
    this.errorCode = errorCode;
    this.errorSubcode = errorSubcode;
  }

  get remaining(): number {
    return this.end - this.pos;
  }

  /** Throws the reader's protocol error unless `n` more bytes are available. */
  need(n: number, what: string): void {
    if (this.pos + n > this.end) {
      throw new BgpMessageError(
        this.errorCode,
        this.errorSubcode,
        new Uint8Array(0),
        `${what}: need ${n} bytes at offset ${this.pos}, only ${this.end - this.pos} left`,
      );
    }
  }

  u8(what = 'u8'): number {
    this.need(1, what);
    return this.buf[this.pos++]!;
  }

  u16(what = 'u16'): number {
    this.need(2, what);
    const b = this.buf;
    const p = this.pos;
    this.pos = p + 2;
    return (b[p]! << 8) | b[p + 1]!;
  }

  u32(what = 'u32'): number {
    this.need(4, what);
    const b = this.buf;
    const p = this.pos;
    this.pos = p + 4;
    return ((b[p]! << 24) | (b[p + 1]! << 16) | (b[p + 2]! << 8) | b[p + 3]!) >>> 0;
  }

  /** A view (no copy) of the next n bytes. */
  view(n: number, what = 'bytes'): Uint8Array {
    this.need(n, what);
    const v = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return v;
  }

  /** A copy of the next n bytes (safe to keep). */
  bytes(n: number, what = 'bytes'): Uint8Array {
    this.need(n, what);
    const v = this.buf.slice(this.pos, this.pos + n);
    this.pos += n;
    return v;
  }

  skip(n: number, what = 'skip'): void {
    this.need(n, what);
    this.pos += n;
  }

  /** A reader over the next n bytes (same error code), advancing this one past them. */
  sub(n: number, what = 'field', errorCode = this.errorCode, errorSubcode = this.errorSubcode): ByteReader {
    this.need(n, what);
    const r = new ByteReader(this.buf, this.pos, this.pos + n, errorCode, errorSubcode);
    this.pos += n;
    return r;
  }
}

export class ByteWriter {
  buf: Uint8Array;
  pos = 0;

  constructor(initialSize = 4096) {
    this.buf = new Uint8Array(Math.max(16, initialSize));
  }

  get length(): number {
    return this.pos;
  }

  ensure(n: number): void {
    const need = this.pos + n;
    if (need <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < need) size *= 2;
    const nb = new Uint8Array(size);
    nb.set(this.buf.subarray(0, this.pos));
    this.buf = nb;
  }

  u8(v: number): void {
    this.ensure(1);
    this.buf[this.pos++] = v & 0xff;
  }

  u16(v: number): void {
    this.ensure(2);
    const b = this.buf;
    b[this.pos++] = (v >>> 8) & 0xff;
    b[this.pos++] = v & 0xff;
  }

  u32(v: number): void {
    this.ensure(4);
    const b = this.buf;
    b[this.pos++] = (v >>> 24) & 0xff;
    b[this.pos++] = (v >>> 16) & 0xff;
    b[this.pos++] = (v >>> 8) & 0xff;
    b[this.pos++] = v & 0xff;
  }

  bytes(v: Uint8Array): void {
    this.ensure(v.length);
    this.buf.set(v, this.pos);
    this.pos += v.length;
  }

  /** Overwrite a u8 at an earlier position. */
  setU8(at: number, v: number): void {
    this.buf[at] = v & 0xff;
  }

  /** Overwrite a u16 at an earlier position (for length fields written after their content). */
  setU16(at: number, v: number): void {
    this.buf[at] = (v >>> 8) & 0xff;
    this.buf[at + 1] = v & 0xff;
  }

  /** Bytes written since `from` (a view). */
  viewFrom(from: number): Uint8Array {
    return this.buf.subarray(from, this.pos);
  }

  /** A copy of everything written. */
  finish(): Uint8Array {
    return this.buf.slice(0, this.pos);
  }
}
