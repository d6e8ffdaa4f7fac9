// Fuzzing with a fixed seed: random bytes and mutated valid messages (bit flips, byte writes,
// truncation, length-field edits, splices), fed both to decodeMessage and through FrameReader in
// random chunks. Property: decoding returns a result or throws BgpMessageError — nothing else,
// and never hangs. Successfully decoded messages must re-encode and decode to the same value.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  BgpEncodeError,
  BgpMessageError,
  ByteReader,
  FrameReader,
  decodeMessage,
  decodeOpen,
  decodeUpdate,
  encodeMessage,
  makePrefix,
  packAdvertisements,
  parsePrefix,
} from './index.ts';
import type { BgpMessage, CodecContext, DecodeResult, UpdateMessage } from './index.ts';
import { hex, rng, toHex, updateFrame } from './test-helpers.ts';

const SEED = 0x5eed_b6b;
const ITERATIONS = 12000;

const CTXS: CodecContext[] = [
  { fourOctetAs: true },
  { fourOctetAs: false },
  { fourOctetAs: true, addPath: new Set([0x0101, 0x0201]), ebgp: true },
  { fourOctetAs: false, extendedMessage: true },
];

function corpus(): Uint8Array[] {
  const ctx4: CodecContext = { fourOctetAs: true };
  const out: Uint8Array[] = [
    hex('ffffffffffffffffffffffffffffffff 002d 01 04 fde9 005a c6120001 10 02 0e 0104000100 01 0200 4104 0000fde9'),
    hex('ffffffffffffffffffffffffffffffff 0021 03 06 02 0b 6d61696e74656e616e6365'),
    hex('ffffffffffffffffffffffffffffffff 0017 05 0001 00 01'),
    hex('ffffffffffffffffffffffffffffffff 0013 04'),
    updateFrame(
      '18 c61301',
      `40 01 01 00 40 02 0a 02 02 0000fde9 fa56ea01 40 03 04 c6120001 80 04 04 00000064 40 05 04 000000c8 40 06 00
       c0 07 08 0000fde9 c6120002 c0 08 08 fde90001 ffffff01 80 09 04 c6120003 80 0a 08 c6120004 c6120005
       c0 10 08 0002fde900000064 c0 20 0c fa56ea01 00000001 00000002 e0 63 02 beef`,
      '18 c61300 20 c6120101 0a c640 00',
    ),
    updateFrame(
      '',
      `40 01 01 02 40 02 06 02 02 fde9 5ba0 40 03 04 c6120001 c0 07 06 5ba0 c6120002
       c0 11 0a 02 02 0000fde9 fa56ea01 c0 12 08 fa56ea01 c6120002`,
      '18 c61300',
    ),
    updateFrame(
      '',
      `80 0e 35 0002 01 20 fd000198001800000000000000000001 fe800000000000000000000000000001 00
       40 fd00019800180001 30 fd0001980018 40 01 01 00 40 02 00 40 05 04 00000064`,
      '',
    ),
    updateFrame('', '80 0f 0c 0002 01 40 fd00019800180001', ''),
    updateFrame('', '80 0e 19 0001 01 10 fd000198001800000000000000000001 00 18 c61300 40 01 01 00 40 02 06 02 01 0000fde9', ''),
    updateFrame(
      '00000007 18 c61301',
      `80 0e 22 0002 01 10 fd000198001800000000000000000001 00 00000009 40 fd00019800180001 40 01 01 00 40 02 00 40 03 04 c6120001`,
      '00000001 18 c61300 00000002 18 c61300',
    ),
    encodeMessage(
      {
        type: 'OPEN',
        version: 4,
        myAs: 4200000001,
        holdTime: 90,
        bgpId: '198.18.0.2',
        capabilities: [
          { kind: 'MULTIPROTOCOL', afi: 2, safi: 1 },
          { kind: 'GRACEFUL_RESTART', restartState: true, notification: true, restartTime: 120, families: [{ afi: 1, safi: 1, forwardingState: true }] },
          { kind: 'ADD_PATH', families: [{ afi: 1, safi: 1, mode: 3 }] },
          { kind: 'FQDN', hostname: 'node-1', domain: 'lab' },
          { kind: 'EXTENDED_NEXT_HOP', entries: [{ afi: 1, safi: 1, nextHopAfi: 2 }] },
        ],
      },
      ctx4,
    ),
  ];
  const prefixes = Array.from({ length: 40 }, (_, i) => makePrefix(1, new Uint8Array([10, i, 0, 0]), 16 + (i % 17)));
  out.push(...packAdvertisements({ origin: 0, asPath: [{ type: 2, asns: [65001] }], communities: [1, 2] }, { afi: 1, nextHop: '198.18.0.1' }, prefixes, ctx4));
  out.push(encodeMessage({ type: 'UPDATE', withdrawn: prefixes.slice(0, 9), attributes: {}, nlri: [] }, ctx4));
  out.push(
    encodeMessage(
      {
        type: 'UPDATE',
        withdrawn: [],
        attributes: { origin: 0, asPath: [{ type: 2, asns: [4200000001, 65001] }], aggregator: { asn: 4200000002, address: '198.18.0.1' } },
        nlri: [],
        mpReach: { afi: 2, safi: 1, nextHop: 'fd00::1', nlri: [parsePrefix('fd00:1::/32')] },
      },
      { fourOctetAs: false },
    ),
  );
  return out;
}

/** Same comparable form as the round-trip test, with unknown attributes sorted by type. */
function norm(x: unknown): unknown {
  if (x instanceof Uint8Array) return toHex(x);
  if (Array.isArray(x)) return x.map(norm);
  if (x && typeof x === 'object') {
    if ('key' in x && 'len' in x && 'afi' in x) {
      const p = x as { key: string; pathId?: number };
      return p.pathId === undefined ? p.key : `${p.pathId}:${p.key}`;
    }
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(x)) {
      if (v === undefined) continue;
      out[k] = k === 'unknown' ? norm([...(v as { typeCode: number }[])].sort((a, b) => a.typeCode - b.typeCode)) : norm(v);
    }
    return out;
  }
  return x;
}

const TYPES = new Set(['OPEN', 'UPDATE', 'NOTIFICATION', 'KEEPALIVE', 'ROUTE_REFRESH']);

interface Stats {
  ok: number;
  bgpErrors: Map<string, number>;
  taw: number;
  reencoded: number;
}

function checkOutcome(fn: () => DecodeResult, input: Uint8Array, ctx: CodecContext, stats: Stats): DecodeResult | null {
  let r: DecodeResult;
  try {
    r = fn();
  } catch (e) {
    if (e instanceof BgpMessageError) {
      assert.ok(e.code >= 1 && e.code <= 7, `code ${e.code}`);
      assert.ok(e.data instanceof Uint8Array);
      const k = `${e.code}/${e.subcode}`;
      stats.bgpErrors.set(k, (stats.bgpErrors.get(k) ?? 0) + 1);
      return null;
    }
    assert.fail(`input ${toHex(input)} ctx ${JSON.stringify({ ...ctx, addPath: ctx.addPath && [...ctx.addPath] })} threw a non-protocol error: ${e instanceof Error ? e.stack : String(e)}`);
  }
  assert.ok(r && TYPES.has(r.message.type), 'result carries a message');
  assert.equal(typeof r.treatAsWithdraw, 'boolean');
  assert.ok(Array.isArray(r.errors) && Array.isArray(r.discarded));
  stats.ok++;
  if (r.treatAsWithdraw) stats.taw++;
  return r;
}

function reencode(r: DecodeResult, ctx: CodecContext, input: Uint8Array, stats: Stats): void {
  if (r.treatAsWithdraw || r.errors.length > 0 || r.message.type === 'NOTIFICATION') return;
  let bytes: Uint8Array;
  try {
    bytes = encodeMessage(r.message, ctx);
  } catch (e) {
    // The only acceptable refusal: a merged 4-octet path grew the message past the limit.
    if (e instanceof BgpEncodeError && /max \d+/.test(e.message)) return;
    throw new Error(`re-encoding the decode of ${toHex(input)} failed: ${e instanceof Error ? e.stack : String(e)}`, { cause: e });
  }
  const again = decodeMessage(bytes, ctx);
  assert.deepEqual(norm(again.message as BgpMessage), norm(r.message), `re-encode mismatch for ${toHex(input)}`);
  stats.reencoded++;
}

/**
 * Differential check: the body decoders given a ByteReader window inside a larger buffer full of
 * random bytes must produce exactly what decodeMessage produced on the exact-size copy. A read
 * past the window would see the random bytes and diverge.
 */
function windowed(input: Uint8Array, ctx: CodecContext, r: () => number): void {
  if (input.length < 19 || (input[18] !== 1 && input[18] !== 2)) return;
  const pre = Math.floor(r() * 8);
  const padded = new Uint8Array(pre + input.length + 64);
  for (let i = 0; i < padded.length; i++) padded[i] = Math.floor(r() * 256);
  padded.set(input, pre);
  const outcome = (fn: () => unknown): unknown => {
    try {
      const v = fn() as DecodeResult | BgpMessage;
      return norm('message' in v ? { m: v.message, t: v.treatAsWithdraw, e: v.errors } : { m: v, t: false, e: [] });
    } catch (e) {
      if (e instanceof BgpMessageError) return `error ${e.code}/${e.subcode}`;
      throw e;
    }
  };
  const exact = outcome(() => decodeMessage(input, ctx));
  if (typeof exact === 'string' && exact.startsWith('error 1/')) return; // header problems: no body decode
  const reader = new ByteReader(padded, pre + 19, pre + input.length, input[18] === 1 ? 2 : 3, input[18] === 1 ? 0 : 1);
  const win = outcome(() => (input[18] === 1 ? decodeOpen(reader, ctx) : decodeUpdate(reader, ctx)));
  assert.deepEqual(win, exact, `windowed decode differs for ${toHex(input)}`);
}

function mutate(src: Uint8Array, r: () => number): Uint8Array {
  const int = (n: number): number => Math.floor(r() * n);
  let b = src.slice();
  const ops = 1 + int(3);
  for (let k = 0; k < ops; k++) {
    switch (int(8)) {
      case 0: // bit flips in the body
        for (let i = 0, n = 1 + int(4); i < n; i++) {
          const at = 19 + int(Math.max(1, b.length - 19));
          if (at < b.length) b[at]! ^= 1 << int(8);
        }
        break;
      case 1: // random byte
        if (b.length > 19) b[19 + int(b.length - 19)] = int(256);
        break;
      case 2: // truncate, fixing the header length
        b = b.slice(0, Math.max(19, int(b.length + 1)));
        b[16] = b.length >> 8;
        b[17] = b.length & 0xff;
        break;
      case 3: // truncate without fixing the header
        b = b.slice(0, int(b.length + 1));
        break;
      case 4: // header length edit
        {
          const v = r() < 0.5 ? b.length + int(9) - 4 : int(65536);
          if (b.length >= 18) {
            b[16] = (v >> 8) & 0xff;
            b[17] = v & 0xff;
          }
        }
        break;
      case 5: // a length-like byte inside the body (attribute/segment/prefix lengths)
        if (b.length > 21) {
          const at = 19 + int(b.length - 19);
          b[at] = [0, 1, 2, 3, 4, 5, 8, 0x20, 0x21, 0x80, 0x81, 0xff][int(12)]!;
        }
        break;
      case 6: // withdrawn / attribute total length edit (UPDATE)
        if (b.length > 23 && b[18] === 2) {
          const at = r() < 0.5 ? 19 : 21 + ((b[19]! << 8) | b[20]!);
          if (at + 1 < b.length) {
            const v = int(b.length);
            b[at] = v >> 8;
            b[at + 1] = v & 0xff;
          }
        }
        break;
      case 7: // splice: duplicate a slice of the body
        if (b.length > 20) {
          const from = 19 + int(b.length - 19);
          const len = 1 + int(Math.min(40, b.length - from));
          const at = 19 + int(b.length - 19);
          const nb = new Uint8Array(b.length + len);
          nb.set(b.subarray(0, at));
          nb.set(b.subarray(from, from + len), at);
          nb.set(b.subarray(at), at + len);
          b = nb;
          if (r() < 0.7) {
            b[16] = (b.length >> 8) & 0xff;
            b[17] = b.length & 0xff;
          }
        }
        break;
    }
  }
  return b;
}

function randomFrame(r: () => number): Uint8Array {
  const int = (n: number): number => Math.floor(r() * n);
  const len = int(200);
  const b = new Uint8Array(len);
  for (let i = 0; i < len; i++) b[i] = int(256);
  if (r() < 0.8 && len >= 19) {
    b.fill(0xff, 0, 16);
    b[16] = len >> 8;
    b[17] = len & 0xff;
    b[18] = 1 + int(5);
  }
  return b;
}

void test(`fuzz: ${ITERATIONS} random and mutated messages (seed 0x${SEED.toString(16)}) decode to a result or a BgpMessageError`, { timeout: 120_000 }, () => {
  const r = rng(SEED);
  const int = (n: number): number => Math.floor(r() * n);
  const seeds = corpus();
  const stats: Stats = { ok: 0, bgpErrors: new Map(), taw: 0, reencoded: 0 };
  const t0 = performance.now();
  for (let iter = 0; iter < ITERATIONS; iter++) {
    const input = r() < 0.15 ? randomFrame(r) : mutate(seeds[int(seeds.length)]!, r);
    const ctx = CTXS[int(CTXS.length)]!;
    const res = checkOutcome(() => decodeMessage(input, ctx), input, ctx, stats);
    if (res) reencode(res, ctx, input, stats);
    windowed(input, ctx, r);
    // Through the framer, in random chunks, followed by a valid KEEPALIVE.
    if (iter % 4 === 0) {
      const fr = new FrameReader({ extendedMessage: ctx.extendedMessage ?? false });
      const stream = new Uint8Array(input.length + 19);
      stream.set(input);
      stream.set(hex('ffffffffffffffffffffffffffffffff 0013 04'), input.length);
      let pos = 0;
      let frames = 0;
      let failed = false;
      while (pos < stream.length && !failed) {
        const n = 1 + int(64);
        fr.push(stream.subarray(pos, pos + n));
        pos += n;
        for (;;) {
          let f;
          try {
            f = fr.next();
          } catch (e) {
            assert.ok(e instanceof BgpMessageError, `FrameReader threw ${String(e)} for ${toHex(input)}`);
            failed = true;
            break;
          }
          if (f === null) break;
          frames++;
          assert.ok(frames <= 2 + stream.length / 19, 'framer makes progress without looping');
          checkOutcome(() => decodeMessage(f, ctx), f.bytes, ctx, stats);
        }
      }
    }
  }
  const ms = performance.now() - t0;
  // The corpus exercises both outcomes, and many distinct error codes.
  assert.ok(stats.ok > ITERATIONS / 10, `decoded ${stats.ok}`);
  assert.ok(stats.bgpErrors.size >= 12, `distinct error codes seen: ${[...stats.bgpErrors.keys()].join(' ')}`);
  assert.ok(stats.taw > 50, `treat-as-withdraw results: ${stats.taw}`);
  assert.ok(stats.reencoded > 500, `re-encoded ${stats.reencoded}`);
  console.log(
    `fuzz: ${ITERATIONS} inputs in ${ms.toFixed(0)} ms; ${stats.ok} decoded (${stats.taw} treat-as-withdraw, ${stats.reencoded} re-encoded), errors: ${[...stats.bgpErrors.entries()]
      .sort()
      .map(([k, v]) => `${k}x${v}`)
      .join(' ')}`,
  );
});

void test('fuzz: pure random byte streams through FrameReader never throw anything but BgpMessageError', { timeout: 60_000 }, () => {
  const r = rng(SEED + 1);
  for (let iter = 0; iter < 3000; iter++) {
    const fr = new FrameReader();
    const len = Math.floor(r() * 300);
    const b = new Uint8Array(len);
    for (let i = 0; i < len; i++) b[i] = r() < 0.6 ? 0xff : Math.floor(r() * 256);
    fr.push(b);
    try {
      for (let f = fr.next(), n = 0; f !== null; f = fr.next(), n++) {
        assert.ok(n < 100);
        try {
          decodeMessage(f, CTXS[iter % CTXS.length]!);
        } catch (e) {
          assert.ok(e instanceof BgpMessageError, String(e));
        }
      }
    } catch (e) {
      assert.ok(e instanceof BgpMessageError, String(e));
    }
  }
});

void test('fuzz sanity: every seed decodes cleanly in at least one context', () => {
  for (const c of corpus()) {
    const clean = [{ fourOctetAs: true }, ...CTXS].some((ctx) => {
      try {
        const r = decodeMessage(c, ctx);
        return TYPES.has(r.message.type) && r.errors.length === 0;
      } catch {
        return false;
      }
    });
    assert.ok(clean, `seed ${toHex(c)} decodes`);
  }
  const u = decodeMessage(corpus()[4]!, { fourOctetAs: true }).message as UpdateMessage;
  assert.equal(u.nlri.length, 4);
});
