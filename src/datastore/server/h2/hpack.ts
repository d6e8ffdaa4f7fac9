// HPACK (RFC 7541): the header decoder an HTTP/2 server needs for its clients' requests, and
// the few encodings its responses use. The decoder keeps the connection's dynamic table;
// the encoder never indexes (literal without indexing), so the peer's decoder table is never
// touched by us and a response's header block can be prebuilt once.

export class HpackError extends Error {}

// ---- Static table (RFC 7541 Appendix A) ----
const STATIC: readonly (readonly [string, string])[] = [
  [':authority', ''], [':method', 'GET'], [':method', 'POST'], [':path', '/'], [':path', '/index.html'],
  [':scheme', 'http'], [':scheme', 'https'], [':status', '200'], [':status', '204'], [':status', '206'],
  [':status', '304'], [':status', '400'], [':status', '404'], [':status', '500'], ['accept-charset', ''],
  ['accept-encoding', 'gzip, deflate'], ['accept-language', ''], ['accept-ranges', ''], ['accept', ''],
  ['access-control-allow-origin', ''], ['age', ''], ['allow', ''], ['authorization', ''], ['cache-control', ''],
  ['content-disposition', ''], ['content-encoding', ''], ['content-language', ''], ['content-length', ''],
  ['content-location', ''], ['content-range', ''], ['content-type', ''], ['cookie', ''], ['date', ''],
  ['etag', ''], ['expect', ''], ['expires', ''], ['from', ''], ['host', ''], ['if-match', ''],
  ['if-modified-since', ''], ['if-none-match', ''], ['if-range', ''], ['if-unmodified-since', ''],
  ['last-modified', ''], ['link', ''], ['location', ''], ['max-forwards', ''], ['proxy-authenticate', ''],
  ['proxy-authorization', ''], ['range', ''], ['referer', ''], ['refresh', ''], ['retry-after', ''],
  ['server', ''], ['set-cookie', ''], ['strict-transport-security', ''], ['transfer-encoding', ''],
  ['user-agent', ''], ['vary', ''], ['via', ''], ['www-authenticate', ''],
];

// ---- Huffman code (RFC 7541 Appendix B) ----
// The code is canonical: codes are assigned in order of (length, symbol), so the bit length
// of each of the 257 symbols (256 = EOS) defines it completely.
const CODE_LENGTHS = [
  13, 23, 28, 28, 28, 28, 28, 28, 28, 24, 30, 28, 28, 30, 28, 28, 28, 28, 28, 28, 28, 28, 30, 28, 28, 28, 28, 28, 28, 28, 28, 28,
  6, 10, 10, 12, 13, 6, 8, 11, 10, 10, 8, 11, 8, 6, 6, 6, 5, 5, 5, 6, 6, 6, 6, 6, 6, 6, 7, 8, 15, 6, 12, 10,
  13, 6, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 8, 7, 8, 13, 19, 13, 14, 6,
  15, 5, 6, 5, 6, 5, 6, 6, 6, 5, 7, 7, 6, 6, 6, 5, 6, 7, 6, 5, 5, 6, 7, 7, 7, 7, 7, 15, 11, 14, 13, 28,
  20, 22, 20, 20, 22, 22, 22, 23, 22, 23, 23, 23, 23, 23, 24, 23, 24, 24, 22, 23, 24, 23, 23, 23, 23, 21, 22, 23, 22, 23, 23, 24,
  22, 21, 20, 22, 22, 23, 23, 21, 23, 22, 22, 24, 21, 22, 23, 23, 21, 21, 22, 21, 23, 22, 23, 23, 20, 22, 22, 22, 23, 22, 22, 23,
  26, 26, 20, 19, 22, 23, 22, 25, 26, 26, 26, 27, 27, 26, 24, 25, 19, 21, 26, 27, 27, 26, 27, 24, 21, 21, 26, 26, 28, 27, 27, 27,
  20, 24, 20, 21, 22, 21, 21, 23, 22, 22, 25, 25, 24, 24, 26, 23, 26, 27, 26, 26, 27, 27, 27, 27, 27, 28, 27, 27, 27, 27, 27, 26,
  30,
];
const EOS = 256;

/** Canonical codes, as [code, length] per symbol. */
export const HUFFMAN_CODES: readonly (readonly [number, number])[] = (() => {
  const order = CODE_LENGTHS.map((len, sym) => [len, sym] as const).sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  const out: [number, number][] = new Array(257);
  let code = 0;
  let prevLen = order[0]![0];
  order.forEach(([len, sym], i) => {
    if (i > 0) code = (code + 1) * 2 ** (len - prevLen);
    prevLen = len;
    out[sym] = [code, len];
  });
  return out;
})();

// Decoding walks a binary tree stored in flat arrays: node i's children are at
// child[2i] (bit 0) and child[2i+1] (bit 1); a leaf holds -1 - symbol.
const child = new Int32Array(2 * 512).fill(0);
(() => {
  let nodes = 1;
  HUFFMAN_CODES.forEach(([code, len], sym) => {
    let n = 0;
    for (let b = len - 1; b >= 0; b--) {
      const bit = Math.floor(code / 2 ** b) % 2;
      const slot = 2 * n + bit;
      if (b === 0) {
        child[slot] = -1 - sym;
      } else {
        if (child[slot] === 0) child[slot] = nodes++;
        n = child[slot]!;
      }
    }
  });
})();

export function huffmanDecode(buf: Uint8Array, start: number, end: number): string {
  let out = '';
  let n = 0;
  let depth = 0; // bits consumed since the last symbol
  let allOnes = true;
  for (let i = start; i < end; i++) {
    const byte = buf[i]!;
    for (let b = 7; b >= 0; b--) {
      const bit = (byte >> b) & 1;
      const next = child[2 * n + bit]!;
      depth++;
      allOnes &&= bit === 1;
      if (next < 0) {
        const sym = -1 - next;
        if (sym === EOS) throw new HpackError('Huffman string contains EOS');
        out += String.fromCharCode(sym);
        n = 0;
        depth = 0;
        allOnes = true;
      } else if (next === 0) {
        throw new HpackError('invalid Huffman code');
      } else {
        n = next;
      }
    }
  }
  // Padding: fewer than 8 bits, all ones (the EOS prefix).
  if (depth > 7 || !allOnes) throw new HpackError('invalid Huffman padding');
  return out;
}

export function huffmanEncode(s: string): Buffer {
  const bytes: number[] = [];
  let acc = 0;
  let bits = 0;
  for (let i = 0; i < s.length; i++) {
    const [code, len] = HUFFMAN_CODES[s.charCodeAt(i) & 0xff]!;
    for (let b = len - 1; b >= 0; b--) {
      acc = (acc << 1) | (Math.floor(code / 2 ** b) % 2);
      if (++bits === 8) {
        bytes.push(acc);
        acc = 0;
        bits = 0;
      }
    }
  }
  if (bits > 0) bytes.push(((acc << (8 - bits)) | ((1 << (8 - bits)) - 1)) & 0xff);
  return Buffer.from(bytes);
}

// ---- Integers (RFC 7541 §5.1) ----
export function encodeInt(out: number[], value: number, prefixBits: number, firstByteFlags: number): void {
  const max = (1 << prefixBits) - 1;
  if (value < max) {
    out.push(firstByteFlags | value);
    return;
  }
  out.push(firstByteFlags | max);
  value -= max;
  while (value >= 128) {
    out.push((value % 128) | 128);
    value = Math.floor(value / 128);
  }
  out.push(value);
}

/** Header list of one block, in order (names lower-case as HTTP/2 requires). */
export type HeaderList = [string, string][];

/** Decoder state of one connection (the peer's encoder's dynamic table, mirrored). */
export class HpackDecoder {
  private readonly table: [string, string][] = []; // newest first
  private size = 0;
  /** The most our SETTINGS_HEADER_TABLE_SIZE allows (4096 unless we announce otherwise). */
  private maxAllowed: number;
  private max: number;
  private pos = 0;
  /** Bumped by every change of the dynamic table. */
  private version = 0;
  /**
   * Blocks that left the table unchanged, by their bytes: decoding them again gives the same
   * list while the table is unchanged. A client repeats the same block for every call of a
   * method (indexed fields plus a literal :path), so most requests skip the decode. The lists
   * are shared: callers must not modify them.
   */
  private readonly cache = new Map<string, HeaderList>();
  private cacheVersion = 0;

  constructor(maxTableSize = 4096) {
    this.maxAllowed = maxTableSize;
    this.max = maxTableSize;
  }

  decode(block: Uint8Array): HeaderList {
    const cacheable = block.length <= 512;
    let key = '';
    if (cacheable) {
      if (this.cacheVersion !== this.version) {
        this.cache.clear();
        this.cacheVersion = this.version;
      }
      key = Buffer.from(block.buffer, block.byteOffset, block.length).toString('latin1');
      const hit = this.cache.get(key);
      if (hit) return hit;
    }
    const before = this.version;
    const out = this.decodeFields(block);
    if (cacheable && this.version === before) {
      if (this.cache.size >= 64) this.cache.clear();
      this.cache.set(key, out);
    }
    return out;
  }

  private decodeFields(block: Uint8Array): HeaderList {
    const out: HeaderList = [];
    this.pos = 0;
    let sawHeader = false;
    while (this.pos < block.length) {
      const b = block[this.pos]!;
      if (b & 0x80) {
        // indexed header field
        const idx = this.int(block, 7);
        out.push(this.entry(idx));
        sawHeader = true;
      } else if (b & 0x40) {
        // literal with incremental indexing
        const idx = this.int(block, 6);
        const name = idx === 0 ? this.str(block) : this.entry(idx)[0];
        const value = this.str(block);
        out.push([name, value]);
        this.add(name, value);
        sawHeader = true;
      } else if (b & 0x20) {
        // dynamic table size update: only at the start of a block
        if (sawHeader) throw new HpackError('dynamic table size update after a header field');
        const size = this.int(block, 5);
        if (size > this.maxAllowed) throw new HpackError(`dynamic table size update ${size} above the limit ${this.maxAllowed}`);
        this.max = size;
        this.version++;
        this.evict(0);
      } else {
        // literal without indexing (0000) or never indexed (0001)
        const idx = this.int(block, 4);
        const name = idx === 0 ? this.str(block) : this.entry(idx)[0];
        out.push([name, this.str(block)]);
        sawHeader = true;
      }
    }
    return out;
  }

  private int(buf: Uint8Array, prefixBits: number): number {
    const max = (1 << prefixBits) - 1;
    let v = buf[this.pos++]! & max;
    if (v < max) return v;
    let m = 1;
    for (;;) {
      if (this.pos >= buf.length) throw new HpackError('truncated integer');
      const b = buf[this.pos++]!;
      v += (b & 127) * m;
      m *= 128;
      if (v > 0x7fffffff) throw new HpackError('integer overflow');
      if ((b & 128) === 0) return v;
    }
  }

  private str(buf: Uint8Array): string {
    if (this.pos >= buf.length) throw new HpackError('truncated string');
    const huff = (buf[this.pos]! & 0x80) !== 0;
    const len = this.int(buf, 7);
    const end = this.pos + len;
    if (end > buf.length) throw new HpackError('string longer than the header block');
    const s = huff ? huffmanDecode(buf, this.pos, end) : Buffer.from(buf.buffer, buf.byteOffset + this.pos, len).toString('latin1');
    this.pos = end;
    return s;
  }

  private entry(idx: number): [string, string] {
    if (idx === 0) throw new HpackError('index 0');
    if (idx <= STATIC.length) return STATIC[idx - 1] as [string, string];
    const e = this.table[idx - STATIC.length - 1];
    if (!e) throw new HpackError(`index ${idx} beyond the dynamic table`);
    return e;
  }

  private add(name: string, value: string): void {
    this.version++;
    const size = name.length + value.length + 32;
    this.evict(size);
    if (size <= this.max) {
      this.table.unshift([name, value]);
      this.size += size;
    }
  }

  private evict(room: number): void {
    while (this.table.length && this.size + room > this.max) {
      const [n, v] = this.table.pop()!;
      this.size -= n.length + v.length + 32;
    }
  }
}

/**
 * A header block of literal fields without indexing (names as new literals or static
 * indexes, values raw), for responses: it leaves the peer's dynamic table alone.
 */
export function encodeHeaders(headers: HeaderList): Buffer {
  const out: number[] = [];
  for (const [name, value] of headers) {
    const exact = STATIC.findIndex(([n, v]) => n === name && v === value);
    if (exact >= 0) {
      encodeInt(out, exact + 1, 7, 0x80);
      continue;
    }
    const nameIdx = STATIC.findIndex(([n]) => n === name);
    if (nameIdx >= 0) {
      encodeInt(out, nameIdx + 1, 4, 0);
    } else {
      out.push(0);
      encodeLiteral(out, name);
    }
    encodeLiteral(out, value);
  }
  return Buffer.from(out);
}

/** A string literal (Huffman-coded when shorter). */
export function encodeLiteral(out: number[], s: string): void {
  const raw = Buffer.from(s, 'latin1');
  const huff = huffmanEncode(s);
  const use = huff.length < raw.length ? huff : raw;
  encodeInt(out, use.length, 7, use === huff ? 0x80 : 0);
  for (const b of use) out.push(b);
}
