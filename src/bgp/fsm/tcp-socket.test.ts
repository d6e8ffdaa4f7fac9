// GTSM (RFC 5082) on real loopback sockets: with ttlSecurity the kernel drops what arrives with a
// TTL below 256 - hops, so a connection only works when the other end sends with TTL 255.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { Md5Listener, connectTcp, applyTtlSecurity, setTtlSecurity, sockaddr, TcpSocketError } from './tcp-socket.ts';

function firstData(sock: net.Socket, ms: number): Promise<string | null> {
  return new Promise((resolve) => {
    const t = setTimeout(() => resolve(null), ms);
    sock.once('data', (b: Buffer) => {
      clearTimeout(t);
      resolve(b.toString());
    });
  });
}

for (const lo of ['127.0.0.1', '::1']) void test(`ttlSecurity (${lo}): our listener answers with TTL 255, so a GTSM client connects; the accepted side sends with 255 only when it has ttlSecurity too`, async () => {
  const accepted: net.Socket[] = [];
  const l = new Md5Listener({ address: lo, port: 0 }, (s) => accepted.push(s));
  await new Promise((r) => setTimeout(r, 10));
  const port = (l.server.address() as net.AddressInfo).port;
  try {
    // A GTSM client (1 hop: needs TTL 255): the SYN-ACK of our listener has TTL 255.
    const a = connectTcp({ remoteAddress: lo, remotePort: port, ttlSecurity: 1, timeoutMs: 2000 });
    const client = await a.promise;
    for (let i = 0; i < 100 && accepted.length < 1; i++) await new Promise((r) => setTimeout(r, 10));
    const server = accepted[0]!;
    // Without ttlSecurity the accepted socket sends with TTL 64 (BIRD's multihop): the GTSM client drops it.
    applyTtlSecurity(server, undefined);
    server.write('low');
    assert.equal(await firstData(client, 300), null, 'a TTL-64 segment must not reach a GTSM socket');
    // With ttlSecurity it sends with 255 and the (retransmitted) data arrives.
    applyTtlSecurity(server, 1);
    const got = await firstData(client, 5000);
    assert.ok(got?.startsWith('low'), `expected the data once the sender uses TTL 255, got ${got}`);
    // And the GTSM client's own segments (TTL 255) reach the server.
    client.write('hi');
    assert.equal(await firstData(server, 2000), 'hi');
    client.destroy();
    server.destroy();
  } finally {
    l.close();
  }
});

void test('ttlSecurity: a connect to a listener that answers with the default TTL never completes', async () => {
  const srv = net.createServer((s) => s.destroy());
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const port = (srv.address() as net.AddressInfo).port;
  try {
    const a = connectTcp({ remoteAddress: '127.0.0.1', remotePort: port, ttlSecurity: 1, timeoutMs: 500 });
    await assert.rejects(a.promise, (e: unknown) => e instanceof TcpSocketError && e.code === 'connect-timeout');
    // A multi-hop allowance (TTL >= 256 - 200 = 56) accepts the default TTL 64.
    const b = connectTcp({ remoteAddress: '127.0.0.1', remotePort: port, ttlSecurity: 200, timeoutMs: 2000 });
    (await b.promise).destroy();
  } finally {
    srv.close();
  }
});

void test('ttlSecurity: hop counts outside 1-255 are refused with a clear error', () => {
  assert.throws(() => setTtlSecurity(-1, 4, 0), /hop count must be 1-255, got 0/);
  assert.throws(() => setTtlSecurity(-1, 4, 256), /hop count must be 1-255, got 256/);
});

void test('sockaddr: IPv4 and IPv6 text (told apart without net.isIPv6), bad text is a labelled error', () => {
  const v4 = sockaddr('198.18.0.1', 179);
  assert.equal(v4.length, 16);
  assert.deepEqual([...v4.subarray(4, 8)], [198, 18, 0, 1]);
  const v6 = sockaddr('fd00:198:18::1', 179);
  assert.equal(v6.length, 28);
  assert.equal(v6.readUInt16BE(2), 179);
  assert.equal(v6.readUInt16BE(8), 0xfd00);
  assert.equal(v6.readUInt16BE(22), 1);
  assert.equal(sockaddr('::', 0).length, 28);
  for (const bad of ['1:2:3:4:5:6:7:8:9', '1::2::3', 'fd00::zz', '1:2:3', '198.18.0.256']) {
    assert.throws(() => sockaddr(bad, 179), (e: unknown) => e instanceof TcpSocketError && e.message.includes(bad), bad);
  }
});
