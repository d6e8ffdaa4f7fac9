// FrameReader: splits at every byte offset, byte-at-a-time feeding, header errors raised from
// the header alone (before the body arrives), views stay valid after later pushes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FrameReader, KEEPALIVE_BYTES, decodeMessage, ERROR_CODE, HEADER_ERROR } from './index.ts';
import type { Frame } from './index.ts';
import { assertBgpError, concat, frame, hex, toHex, updateFrame } from './test-helpers.ts';

const OPEN = hex(`
  ffffffffffffffffffffffffffffffff 002d 01
  04 fde9 005a c6120001 10 02 0e 0104000100 01 0200 4104 0000fde9`);
const UPDATE = updateFrame('18 c61301', '40 01 01 00 40 02 06 02 01 0000fde9 40 03 04 c6120001', '18 c61300 18 c61302');
const NOTIF = hex('ffffffffffffffffffffffffffffffff 0021 03 06 02 0b 6d61696e74656e616e6365');
const RR = hex('ffffffffffffffffffffffffffffffff 0017 05 0001 00 01');
const STREAM = concat(OPEN, KEEPALIVE_BYTES, UPDATE, RR, KEEPALIVE_BYTES, NOTIF);
const EXPECTED = [OPEN, KEEPALIVE_BYTES, UPDATE, RR, KEEPALIVE_BYTES, NOTIF].map(toHex);

function drain(fr: FrameReader, out: Frame[]): void {
  for (let f = fr.next(); f !== null; f = fr.next()) out.push(f);
}

void test('single message split at every byte offset', () => {
  for (const msg of [OPEN, UPDATE, NOTIF, RR, KEEPALIVE_BYTES]) {
    for (let i = 0; i <= msg.length; i++) {
      const fr = new FrameReader();
      const got: Frame[] = [];
      fr.push(msg.slice(0, i));
      drain(fr, got);
      assert.equal(got.length, i === msg.length ? 1 : 0, `split ${i}: message complete only when all bytes are in`);
      fr.push(msg.slice(i));
      drain(fr, got);
      assert.equal(got.length, 1, `split at ${i}`);
      assert.equal(toHex(got[0]!.bytes), toHex(msg));
      assert.equal(got[0]!.type, msg[18]);
      assert.equal(fr.buffered, 0);
    }
  }
});

void test('stream of six messages split at every offset (two chunks) and every pair of offsets (three chunks)', () => {
  for (let i = 0; i <= STREAM.length; i++) {
    const fr = new FrameReader();
    const got: Frame[] = [];
    fr.push(STREAM.slice(0, i));
    drain(fr, got);
    fr.push(STREAM.slice(i));
    drain(fr, got);
    assert.deepEqual(got.map((f) => toHex(f.bytes)), EXPECTED, `split at ${i}`);
  }
  for (let i = 0; i <= STREAM.length; i += 3) {
    for (let j = i; j <= STREAM.length; j += 5) {
      const fr = new FrameReader();
      const got: Frame[] = [];
      for (const part of [STREAM.slice(0, i), STREAM.slice(i, j), STREAM.slice(j)]) {
        fr.push(part);
        drain(fr, got);
      }
      assert.deepEqual(got.map((f) => toHex(f.bytes)), EXPECTED, `splits at ${i}, ${j}`);
    }
  }
});

void test('byte-at-a-time feeding; frames handed out stay intact after later pushes', () => {
  const fr = new FrameReader();
  const got: Frame[] = [];
  for (let i = 0; i < STREAM.length; i++) {
    fr.push(STREAM.subarray(i, i + 1));
    drain(fr, got);
  }
  assert.deepEqual(got.map((f) => toHex(f.bytes)), EXPECTED);
  // All frames decode.
  for (const f of got) decodeMessage(f, { fourOctetAs: true });
});

void test('many messages in one chunk, and frames outlive buffer compaction', () => {
  const many = concat(...Array.from({ length: 200 }, () => UPDATE));
  const fr = new FrameReader();
  const got: Frame[] = [];
  fr.push(many.subarray(0, 1000));
  drain(fr, got);
  const firstCopy = toHex(got[0]!.bytes);
  fr.push(many.subarray(1000, 5000));
  drain(fr, got);
  fr.push(many.subarray(5000));
  drain(fr, got);
  assert.equal(got.length, 200);
  assert.equal(toHex(got[0]!.bytes), firstCopy);
  for (const f of got) assert.equal(toHex(f.bytes), toHex(UPDATE));
});

void test('bad marker is detected from the first bytes, before 19 are in', () => {
  const fr = new FrameReader();
  fr.push(hex('ffff00'));
  assertBgpError(() => fr.next(), ERROR_CODE.MESSAGE_HEADER_ERROR, HEADER_ERROR.CONNECTION_NOT_SYNCHRONIZED);
  // Poisoned: stays failed.
  assertBgpError(() => fr.next(), ERROR_CODE.MESSAGE_HEADER_ERROR, HEADER_ERROR.CONNECTION_NOT_SYNCHRONIZED);
});

void test('bad length is rejected from the header alone (the body never has to arrive)', () => {
  const m = 'ffffffffffffffffffffffffffffffff';
  const cases: [string, number, Uint8Array][] = [
    [`${m} 0012 04`, HEADER_ERROR.BAD_MESSAGE_LENGTH, hex('0012')], // < 19
    [`${m} 1001 02`, HEADER_ERROR.BAD_MESSAGE_LENGTH, hex('1001')], // 4097 > 4096
    [`${m} ffff 02`, HEADER_ERROR.BAD_MESSAGE_LENGTH, hex('ffff')],
    [`${m} 001c 01`, HEADER_ERROR.BAD_MESSAGE_LENGTH, hex('001c')], // OPEN < 29
    [`${m} 0016 02`, HEADER_ERROR.BAD_MESSAGE_LENGTH, hex('0016')], // UPDATE < 23
    [`${m} 0014 03`, HEADER_ERROR.BAD_MESSAGE_LENGTH, hex('0014')], // NOTIFICATION < 21
    [`${m} 0014 04`, HEADER_ERROR.BAD_MESSAGE_LENGTH, hex('0014')], // KEEPALIVE != 19
    [`${m} 0013 06`, HEADER_ERROR.BAD_MESSAGE_TYPE, hex('06')],
    [`${m} 0013 00`, HEADER_ERROR.BAD_MESSAGE_TYPE, hex('00')],
    [`${m} 0100 ff`, HEADER_ERROR.BAD_MESSAGE_TYPE, hex('ff')],
  ];
  for (const [h, sub, data] of cases) {
    const fr = new FrameReader();
    fr.push(hex(h));
    assertBgpError(() => fr.next(), ERROR_CODE.MESSAGE_HEADER_ERROR, sub, data);
  }
});

void test('RFC 8654 extended messages: up to 65535 once enabled, never for OPEN/KEEPALIVE', () => {
  const big = frame(2, concat(hex('0000 0000'), new Uint8Array(5000)));
  const fr = new FrameReader();
  fr.push(big.subarray(0, 19));
  assertBgpError(() => fr.next(), ERROR_CODE.MESSAGE_HEADER_ERROR, HEADER_ERROR.BAD_MESSAGE_LENGTH);
  const fr2 = new FrameReader({ extendedMessage: true });
  fr2.push(big);
  const f = fr2.next();
  assert.ok(f);
  assert.equal(f.bytes.length, big.length);
  const fr3 = new FrameReader({ extendedMessage: true });
  fr3.push(hex('ffffffffffffffffffffffffffffffff 1388 01'));
  assertBgpError(() => fr3.next(), ERROR_CODE.MESSAGE_HEADER_ERROR, HEADER_ERROR.BAD_MESSAGE_LENGTH);
});
