import assert from 'node:assert/strict';
import http2 from 'node:http2';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { RangeRequest, RangeResponse } from '../pb/etcdserverpb/rpc.js';
import { parseEndpoint } from './endpoint.js';
import { EtcdClient } from './etcd-client.js';
import { encodeFrame, FrameDecoder } from './grpc-frame.js';
import { encodeGrpcMessage, GrpcCode, GrpcError } from './grpc-status.js';

describe('framing', () => {
  test('messages survive any split of the byte stream', () => {
    const a = Buffer.from('hello');
    const b = Buffer.alloc(70_000, 7);
    const wire = Buffer.concat([encodeFrame(a), encodeFrame(Buffer.alloc(0)), encodeFrame(b)]);
    for (const step of [1, 3, 5, 4096, wire.length]) {
      const dec = new FrameDecoder();
      const got: Buffer[] = [];
      for (let i = 0; i < wire.length; i += step) got.push(...dec.push(wire.subarray(i, i + step)));
      assert.equal(got.length, 3);
      assert.deepEqual(got[0], a);
      assert.equal(got[1]?.length, 0);
      assert.deepEqual(got[2], b);
      assert.equal(dec.pendingBytes(), 0);
    }
  });

  test('oversized and compressed frames are refused', () => {
    assert.throws(() => new FrameDecoder(10).push(encodeFrame(Buffer.alloc(11))), /exceeds the limit/);
    const compressed = encodeFrame(Buffer.from('x'));
    compressed[0] = 1;
    assert.throws(() => new FrameDecoder().push(compressed), /compressed/);
  });
});

describe('endpoints', () => {
  test('scheme decides TLS; scheme-less follows the client TLS setting', () => {
    assert.deepEqual(parseEndpoint('http://127.0.0.1:2379', true), {
      raw: 'http://127.0.0.1:2379',
      authority: '127.0.0.1:2379',
      host: '127.0.0.1',
      secure: false,
    });
    assert.equal(parseEndpoint('https://h:1', false).secure, true);
    assert.equal(parseEndpoint('localhost:2379', false).secure, false);
    assert.equal(parseEndpoint('localhost:2379', true).secure, true);
    assert.equal(parseEndpoint('[::1]:2379', false).host, '::1');
    assert.throws(() => parseEndpoint('unix://x', false), /unsupported endpoint scheme/);
  });
});

/** A tiny h2c gRPC server that answers KV.Range according to the requested key. */
function startFakeServer(): Promise<http2.Http2Server> {
  const server = http2.createServer();
  server.on('stream', (stream, headers) => {
    const chunks: Buffer[] = [];
    stream.on('data', (c: Buffer) => chunks.push(c));
    stream.on('end', () => {
      const [msg] = new FrameDecoder().push(Buffer.concat(chunks));
      const req = RangeRequest.decode(msg ?? Buffer.alloc(0));
      const key = req.key.toString();
      if (headers[':path'] !== '/etcdserverpb.KV/Range') {
        stream.respond(
          { ':status': 200, 'content-type': 'application/grpc', 'grpc-status': '12' },
          { endStream: true },
        );
        return;
      }
      if (key === 'hang') return;
      if (key === 'fail') {
        stream.respond({ ':status': 200, 'content-type': 'application/grpc' }, { waitForTrailers: true });
        stream.on('wantTrailers', () =>
          stream.sendTrailers({ 'grpc-status': '11', 'grpc-message': encodeGrpcMessage('mvcc: 100% gone') }),
        );
        stream.end();
        return;
      }
      const resp = RangeResponse.encode(
        RangeResponse.fromPartial({ count: 1, kvs: [{ key: req.key, value: Buffer.from('v') }] }),
      ).finish();
      stream.respond({ ':status': 200, 'content-type': 'application/grpc' }, { waitForTrailers: true });
      stream.on('wantTrailers', () => stream.sendTrailers({ 'grpc-status': '0' }));
      stream.end(encodeFrame(resp));
    });
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

describe('EtcdClient over h2c', () => {
  let server: http2.Http2Server;
  let endpoint = '';
  let deadPort = 0;

  before(async () => {
    server = await startFakeServer();
    endpoint = `127.0.0.1:${(server.address() as AddressInfo).port}`;
    const dead = await startFakeServer();
    deadPort = (dead.address() as AddressInfo).port;
    await new Promise((r) => dead.close(r));
  });
  after(() => new Promise((r) => server.close(r)));

  test('a unary call decodes the response', async () => {
    const c = new EtcdClient({ endpoints: [endpoint] });
    try {
      const r = await c.range({ key: Buffer.from('a') }, { deadline: Date.now() + 2000 });
      assert.equal(r.count, 1);
      assert.equal(r.kvs[0]?.value.toString(), 'v');
    } finally {
      c.close();
    }
  });

  test('grpc-status trailers become a GrpcError with the decoded message', async () => {
    const c = new EtcdClient({ endpoints: [endpoint] });
    try {
      await assert.rejects(
        c.range({ key: Buffer.from('fail') }, { deadline: Date.now() + 2000 }),
        (e: unknown) => {
          assert.ok(e instanceof GrpcError);
          assert.equal(e.code, GrpcCode.OUT_OF_RANGE);
          assert.equal(e.message, 'mvcc: 100% gone');
          return true;
        },
      );
      await assert.rejects(c.cluster.memberList({}, { deadline: Date.now() + 2000 }), {
        code: GrpcCode.UNIMPLEMENTED,
      });
    } finally {
      c.close();
    }
  });

  test('an unreachable endpoint fails over to the next one', async () => {
    const c = new EtcdClient({ endpoints: [`127.0.0.1:${deadPort}`, endpoint] });
    try {
      const r = await c.range({ key: Buffer.from('b') }, { deadline: Date.now() + 3000 });
      assert.equal(r.kvs[0]?.key.toString(), 'b');
    } finally {
      c.close();
    }
  });

  test('deadlines end calls with DEADLINE_EXCEEDED, also when no endpoint is reachable', async () => {
    const c = new EtcdClient({ endpoints: [endpoint] });
    const started = Date.now();
    try {
      await assert.rejects(c.range({ key: Buffer.from('hang') }, { deadline: Date.now() + 300 }), {
        code: GrpcCode.DEADLINE_EXCEEDED,
      });
    } finally {
      c.close();
    }
    const dead = new EtcdClient({ endpoints: [`127.0.0.1:${deadPort}`] });
    try {
      await assert.rejects(dead.range({ key: Buffer.from('x') }, { deadline: Date.now() + 300 }), {
        code: GrpcCode.DEADLINE_EXCEEDED,
      });
    } finally {
      dead.close();
    }
    assert.ok(Date.now() - started < 2000);
  });
});
