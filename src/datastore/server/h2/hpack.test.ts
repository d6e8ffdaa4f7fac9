import assert from 'node:assert/strict';
import { test } from 'node:test';
import { encodeHeaders, HpackDecoder, HpackError, huffmanDecode, huffmanEncode } from './hpack.ts';

const hex = (s: string) => Buffer.from(s.replace(/\s+/g, ''), 'hex');

void test('RFC 7541 C.4: three requests with Huffman coding share one dynamic table', () => {
  const d = new HpackDecoder();
  assert.deepEqual(d.decode(hex('8286 8441 8cf1 e3c2 e5f2 3a6b a0ab 90f4 ff')), [
    [':method', 'GET'],
    [':scheme', 'http'],
    [':path', '/'],
    [':authority', 'www.example.com'],
  ]);
  assert.deepEqual(d.decode(hex('8286 84be 5886 a8eb 1064 9cbf')), [
    [':method', 'GET'],
    [':scheme', 'http'],
    [':path', '/'],
    [':authority', 'www.example.com'],
    ['cache-control', 'no-cache'],
  ]);
  assert.deepEqual(d.decode(hex('8287 85bf 4088 25a8 49e9 5ba9 7d7f 8925 a849 e95b b8e8 b4bf')), [
    [':method', 'GET'],
    [':scheme', 'https'],
    [':path', '/index.html'],
    [':authority', 'www.example.com'],
    ['custom-key', 'custom-value'],
  ]);
});

void test('RFC 7541 C.5: eviction from a 256-byte dynamic table', () => {
  const d = new HpackDecoder(256);
  // The first block starts with a size update to 256 (the example's table size).
  const first = Buffer.concat([Buffer.from([0x3f, 0xe1, 0x01]), hex(
    `4803 3330 3258 0770 7269 7661 7465 611d 4d6f 6e2c 2032 3120 4f63 7420 3230 3133 2032 303a 3133 3a32 3120 474d 546e 1768 7474 7073 3a2f 2f77 7777 2e65 7861 6d70 6c65 2e63 6f6d`,
  )]);
  assert.deepEqual(d.decode(first), [
    [':status', '302'],
    ['cache-control', 'private'],
    ['date', 'Mon, 21 Oct 2013 20:13:21 GMT'],
    ['location', 'https://www.example.com'],
  ]);
  // ":status: 307" evicts ":status: 302"; the others are referenced from the table.
  assert.deepEqual(d.decode(hex('4803 3330 37c1 c0bf')), [
    [':status', '307'],
    ['cache-control', 'private'],
    ['date', 'Mon, 21 Oct 2013 20:13:21 GMT'],
    ['location', 'https://www.example.com'],
  ]);
});

void test('Huffman: every byte value round-trips, and bad padding or EOS is refused', () => {
  const all = Array.from({ length: 256 }, (_, i) => String.fromCharCode(i)).join('');
  const enc = huffmanEncode(all);
  assert.equal(huffmanDecode(enc, 0, enc.length), all);
  assert.equal(huffmanDecode(hex('f1e3 c2e5 f23a 6ba0 ab90 f4ff'), 0, 12), 'www.example.com');
  // 'a' is 00011 (5 bits): padding with zeros is not the EOS prefix.
  assert.throws(() => huffmanDecode(Buffer.from([0x18]), 0, 1), HpackError);
  // a full byte of padding (8 one-bits) is too long
  assert.throws(() => huffmanDecode(Buffer.from([0x1f, 0xff]), 0, 2), HpackError);
  // EOS (30 one-bits) inside the string
  assert.throws(() => huffmanDecode(Buffer.from([0xff, 0xff, 0xff, 0xff]), 0, 4), HpackError);
});

void test('decoder errors: bad index, truncation, late size update, oversize update', () => {
  assert.throws(() => new HpackDecoder().decode(Buffer.from([0xbe])), /beyond the dynamic table/);
  assert.throws(() => new HpackDecoder().decode(Buffer.from([0x80])), /index 0/);
  assert.throws(() => new HpackDecoder().decode(Buffer.from([0x00, 0x05, 0x61])), /longer than the header block/);
  assert.throws(() => new HpackDecoder().decode(Buffer.from([0x82, 0x20])), /after a header field/);
  assert.throws(() => new HpackDecoder().decode(Buffer.from([0x3f, 0xe2, 0x1f])), /above the limit/);
  assert.throws(() => new HpackDecoder().decode(Buffer.from([0x0f, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f])), HpackError);
});

void test('encodeHeaders output decodes back (static matches, name indexes and new names)', () => {
  const list: [string, string][] = [
    [':status', '200'],
    ['content-type', 'application/grpc'],
    ['grpc-status', '3'],
    ['grpc-message', 'etcdserver: key not found %20 x'],
  ];
  assert.deepEqual(new HpackDecoder().decode(encodeHeaders(list)), list);
  assert.deepEqual([...encodeHeaders([[':status', '200']])], [0x88]);
});

void test('a repeated block is served from the cache only while the dynamic table is unchanged', () => {
  const d = new HpackDecoder();
  d.decode(hex('8286 8441 8cf1 e3c2 e5f2 3a6b a0ab 90f4 ff')); // inserts :authority www.example.com
  const onlyIndexed = Buffer.from([0xbe]); // dynamic index 62: the newest entry
  assert.deepEqual(d.decode(onlyIndexed), [[':authority', 'www.example.com']]);
  assert.equal(d.decode(onlyIndexed), d.decode(onlyIndexed), 'same list from the cache');
  d.decode(hex('5886 a8eb 1064 9cbf')); // inserts cache-control: no-cache, now index 62
  assert.deepEqual(d.decode(onlyIndexed), [['cache-control', 'no-cache']]);
  assert.deepEqual(d.decode(Buffer.from([0xbf])), [[':authority', 'www.example.com']]);
});
