// Test-only helpers: hex parsing with comments, and a tiny header/length builder that is
// independent of the codec's encoder (used to build golden and malformed vectors).
import assert from 'node:assert/strict';
import { BgpMessageError } from './types.ts';

/** Hex with whitespace and '#' comments (to end of line) allowed. */
export function hex(s: string): Uint8Array {
  const clean = s
    .split('\n')
    .map((l) => l.replace(/#.*$/, ''))
    .join('')
    .replace(/[\s_]/g, '');
  if (clean.length % 2 !== 0 || /[^0-9a-fA-F]/.test(clean)) throw new Error(`bad hex: ${clean}`);
  const out = new Uint8Array(clean.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(clean.slice(2 * i, 2 * i + 2), 16);
  return out;
}

export function toHex(b: Uint8Array): string {
  return Buffer.from(b).toString('hex');
}

export function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

/** A whole message: marker + computed length + type + body. */
export function frame(type: number, body: Uint8Array | string): Uint8Array {
  const b = typeof body === 'string' ? hex(body) : body;
  const len = 19 + b.length;
  const h = new Uint8Array(19).fill(0xff);
  h[16] = len >> 8;
  h[17] = len & 0xff;
  h[18] = type;
  return concat(h, b);
}

/** UPDATE body from hand-written withdrawn / attributes / NLRI hex (lengths computed). */
export function updateBody(withdrawn: string, attrs: string, nlri: string): Uint8Array {
  const w = hex(withdrawn);
  const a = hex(attrs);
  const n = hex(nlri);
  return concat(new Uint8Array([w.length >> 8, w.length & 0xff]), w, new Uint8Array([a.length >> 8, a.length & 0xff]), a, n);
}

export function updateFrame(withdrawn: string, attrs: string, nlri: string): Uint8Array {
  return frame(2, updateBody(withdrawn, attrs, nlri));
}

/** Assert fn throws a BgpMessageError with the code/subcode (and data if given). */
export function assertBgpError(fn: () => unknown, code: number, subcode: number, data?: Uint8Array): BgpMessageError {
  let caught: unknown;
  try {
    fn();
  } catch (e) {
    caught = e;
  }
  assert.ok(caught instanceof BgpMessageError, `expected BgpMessageError ${code}/${subcode}, got ${caught instanceof Error ? caught.stack : String(caught)}`);
  assert.equal(caught.code, code, `code (message: ${caught.message})`);
  assert.equal(caught.subcode, subcode, `subcode (message: ${caught.message})`);
  if (data) assert.equal(toHex(caught.data), toHex(data), 'NOTIFICATION data');
  assert.ok(caught.message.length > 10, 'error message says what failed');
  return caught;
}

/** Deterministic PRNG (mulberry32). */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
