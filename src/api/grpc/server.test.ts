import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import * as grpcJs from '@grpc/grpc-js';
import {
  PutRequest,
  PutResponse,
  RangeRequest,
  RangeResponse,
  SnapshotRequest,
  SnapshotResponse,
  WatchRequest,
  WatchResponse,
} from '../../pb/etcdserverpb/rpc.js';
import { createClientListener } from '../listener.js';
import {
  buildServer,
  type Fixture,
  HEADER,
  MAX_RECEIVE,
  MEMBER_ID,
  rawRequest,
  startFixture,
} from './fixture.js';
import { frameBytes } from './framing.js';
import { GrpcServer } from './server.js';
import { decodeGrpcMessage, Status } from './status.js';

type Codec<T> = { encode(m: T): { finish(): Uint8Array }; decode(b: Uint8Array): T };
const ser =
  <T>(c: Codec<T>) =>
  (m: T): Buffer =>
    Buffer.from(c.encode(m).finish());
const des =
  <T>(c: Codec<T>) =>
  (b: Buffer): T =>
    c.decode(b);

function put(key: string, valueBytes = 3): PutRequest {
  return PutRequest.create({ key: Buffer.from(key), value: Buffer.alloc(valueBytes, 1) });
}

let fx: Fixture;
let client: grpcJs.Client;

for (const transport of ['native', 'node'] as const) {
  describe(`transport ${transport}`, () => {
    before(async () => {
      fx = await startFixture(transport);
      client = new grpcJs.Client(fx.address, grpcJs.credentials.createInsecure());
    });

    after(async () => {
      client.close();
      await fx.listener.close(true);
    });

    function unaryPut(
      req: PutRequest,
      metadata = new grpcJs.Metadata(),
      options: grpcJs.CallOptions = {},
    ): Promise<PutResponse> {
      return new Promise((resolve, reject) => {
        client.makeUnaryRequest(
          '/etcdserverpb.KV/Put',
          ser(PutRequest),
          des(PutResponse),
          req,
          metadata,
          options,
          (err, res) => (err ? reject(err) : resolve(res!)),
        );
      });
    }

    async function rejection(p: Promise<unknown>): Promise<grpcJs.ServiceError> {
      try {
        await p;
      } catch (err) {
        return err as grpcJs.ServiceError;
      }
      assert.fail('expected the call to fail');
    }

    describe('gRPC server with @grpc/grpc-js as client', () => {
      test('unary Put returns a header with a 64-bit member id; metadata reaches the handler', async () => {
        const md = new grpcJs.Metadata();
        md.set('token', 'abc.123');
        const res = await unaryPut(put('k', 10), md);
        assert.equal(res.header?.memberId, MEMBER_ID);
        assert.equal(res.header?.revision, HEADER.revision + 10);
        assert.equal(fx.state.lastToken, 'abc.123');
      });

      test('async unary handler (Range)', async () => {
        const res = await new Promise<RangeResponse>((resolve, reject) =>
          client.makeUnaryRequest(
            '/etcdserverpb.KV/Range',
            ser(RangeRequest),
            des(RangeResponse),
            RangeRequest.create({ key: Buffer.from('a'), limit: 17 }),
            (err, r) => (err ? reject(err) : resolve(r!)),
          ),
        );
        assert.equal(res.count, 17);
      });

      test('GrpcError sets status and a percent-encoded message', async () => {
        const err = await rejection(unaryPut(put('fail')));
        assert.equal(err.code, Status.FAILED_PRECONDITION);
        assert.equal(err.details, 'etcdserver: nöt 100% ok\n');
      });

      test('a plain exception is UNKNOWN and the server keeps serving', async () => {
        const err = await rejection(unaryPut(put('bug')));
        assert.equal(err.code, Status.UNKNOWN);
        assert.equal(err.details, 'plain bug');
        assert.equal((await unaryPut(put('ok'))).header?.revision, HEADER.revision + 3);
      });

      test('unknown method and unknown service are UNIMPLEMENTED with grpc-go wording', async () => {
        const call = (path: string) =>
          new Promise((resolve, reject) =>
            client.makeUnaryRequest(path, ser(PutRequest), des(PutResponse), put('x'), (err, r) =>
              err ? reject(err) : resolve(r),
            ),
          );
        const m = await rejection(call('/etcdserverpb.KV/Nope'));
        assert.equal(m.code, Status.UNIMPLEMENTED);
        assert.equal(m.details, 'unknown method Nope for service etcdserverpb.KV');
        const s = await rejection(call('/etcdserverpb.Nope/Put'));
        assert.equal(s.code, Status.UNIMPLEMENTED);
        assert.equal(s.details, 'unknown service etcdserverpb.Nope');
      });

      test('oversized request is RESOURCE_EXHAUSTED', async () => {
        const err = await rejection(unaryPut(put('big', MAX_RECEIVE + 100)));
        assert.equal(err.code, Status.RESOURCE_EXHAUSTED);
        assert.match(
          err.details,
          new RegExp(`^grpc: received message larger than max \\(\\d+ vs\\. ${MAX_RECEIVE}\\)$`),
        );
      });

      test('deadline: DEADLINE_EXCEEDED and the handler sees its signal abort', async () => {
        const before = fx.state.aborted.filter((a) => a === 'put').length;
        const err = await rejection(
          unaryPut(put('slow'), new grpcJs.Metadata(), { deadline: Date.now() + 100 }),
        );
        assert.equal(err.code, Status.DEADLINE_EXCEEDED);
        for (let i = 0; i < 50 && fx.state.aborted.filter((a) => a === 'put').length === before; i++)
          await sleep(10);
        assert.equal(fx.state.aborted.filter((a) => a === 'put').length, before + 1);
      });

      test('bidi Watch: several creates answered in order, then the client half-closes', async () => {
        const call = client.makeBidiStreamRequest(
          '/etcdserverpb.Watch/Watch',
          ser(WatchRequest),
          des(WatchResponse),
        );
        const got: WatchResponse[] = [];
        const done = new Promise<void>((resolve, reject) => {
          call.on('data', (r: WatchResponse) => got.push(r));
          call.on('error', reject);
          call.on('status', (s: grpcJs.StatusObject) =>
            s.code === 0 ? resolve() : reject(new Error(s.details)),
          );
        });
        for (let i = 0; i < 3; i++) {
          call.write(
            WatchRequest.create({
              requestUnion: { $case: 'createRequest', createRequest: { key: Buffer.from(`k${i}`) } },
            }),
          );
        }
        call.end();
        await done;
        assert.deepEqual(
          got.map((r) => [r.watchId, r.created, r.header?.memberId]),
          [
            [1, true, MEMBER_ID],
            [2, true, MEMBER_ID],
            [3, true, MEMBER_ID],
          ],
        );
      });

      test('bidi: an error thrown mid-stream ends the call with its status', async () => {
        const call = client.makeBidiStreamRequest(
          '/etcdserverpb.Watch/Watch',
          ser(WatchRequest),
          des(WatchResponse),
        );
        const status = new Promise<grpcJs.StatusObject>((resolve) => {
          call.on('status', resolve);
          call.on('error', () => {});
          call.on('data', () => {});
        });
        call.write(
          WatchRequest.create({ requestUnion: { $case: 'cancelRequest', cancelRequest: { watchId: 1 } } }),
        );
        const s = await status;
        assert.equal(s.code, Status.CANCELLED);
        assert.equal(s.details, 'bye');
        call.end();
      });

      test('client cancel of a bidi stream aborts the handler signal', async () => {
        const call = client.makeBidiStreamRequest(
          '/etcdserverpb.Watch/Watch',
          ser(WatchRequest),
          des(WatchResponse),
        );
        call.on('error', () => {});
        const first = new Promise((resolve) => call.once('data', resolve));
        call.write(
          WatchRequest.create({
            requestUnion: { $case: 'createRequest', createRequest: { key: Buffer.from('c') } },
          }),
        );
        await first;
        const before = fx.state.aborted.filter((a) => a === 'watch').length;
        call.cancel();
        for (let i = 0; i < 100 && fx.state.aborted.filter((a) => a === 'watch').length === before; i++)
          await sleep(10);
        assert.equal(fx.state.aborted.filter((a) => a === 'watch').length, before + 1);
      });

      test('a 3 MiB request crosses the 1 MiB stream window (window updates) and arrives intact', async () => {
        const big = new GrpcServer({ transport, maxReceiveMessageBytes: 8 * 1024 * 1024 });
        big.addUnary('/etcdserverpb.KV/Put', PutRequest, PutResponse, (req) => ({
          header: { ...HEADER, revision: req.value.length + (req.value.every((b) => b === 0xab) ? 0 : 1) },
        }));
        const listener = await createClientListener({
          host: '127.0.0.1',
          port: 0,
          grpc: big,
          http1: (_q, r) => r.end(),
        });
        const bigClient = new grpcJs.Client(
          `127.0.0.1:${listener.port}`,
          grpcJs.credentials.createInsecure(),
          {
            'grpc.max_send_message_length': 16 * 1024 * 1024,
          },
        );
        try {
          const value = Buffer.alloc(3 * 1024 * 1024, 0xab);
          const res = await new Promise<PutResponse>((resolve, reject) =>
            bigClient.makeUnaryRequest(
              '/etcdserverpb.KV/Put',
              ser(PutRequest),
              des(PutResponse),
              PutRequest.create({ key: Buffer.from('big'), value }),
              (err, r) => (err ? reject(err) : resolve(r!)),
            ),
          );
          assert.equal(res.header?.revision, value.length);
        } finally {
          bigClient.close();
          await listener.close(true);
        }
      });

      test('graceful close lets an idle connection go and resolves', async () => {
        const state = { aborted: [], snapshotWritesBeforeDrain: -1, snapshotSent: 0, lastToken: undefined };
        const listener = await createClientListener({
          host: '127.0.0.1',
          port: 0,
          grpc: buildServer(state, transport),
          http1: (_q, r) => r.end(),
        });
        const c = new grpcJs.Client(`127.0.0.1:${listener.port}`, grpcJs.credentials.createInsecure());
        try {
          const ok = await new Promise<PutResponse>((resolve, reject) =>
            c.makeUnaryRequest(
              '/etcdserverpb.KV/Put',
              ser(PutRequest),
              des(PutResponse),
              put('g'),
              (err, r) => (err ? reject(err) : resolve(r!)),
            ),
          );
          assert.equal(ok.header?.memberId, MEMBER_ID);
          const closed = listener.close(false).then(() => 'closed');
          const timeout = sleep(3000).then(() => 'timeout');
          assert.equal(await Promise.race([closed, timeout]), 'closed');
        } finally {
          c.close();
        }
      });

      test('server stream: all 2000 snapshot chunks arrive; back-pressure was signalled', async () => {
        const call = client.makeServerStreamRequest(
          '/etcdserverpb.Maintenance/Snapshot',
          ser(SnapshotRequest),
          des(SnapshotResponse),
          {},
        );
        let count = 0;
        let last = -1;
        await new Promise<void>((resolve, reject) => {
          call.on('data', (r: SnapshotResponse) => {
            count++;
            last = r.remainingBytes;
          });
          call.on('error', reject);
          call.on('status', (s: grpcJs.StatusObject) =>
            s.code === 0 ? resolve() : reject(new Error(s.details)),
          );
        });
        assert.equal(count, 2000);
        assert.equal(last, 0);
        assert.ok(fx.state.snapshotWritesBeforeDrain > 0, 'write() never returned false');
      });
    });

    describe('gRPC server with the real etcdctl 3.4 (grpc-go) as client', () => {
      const etcdctl = (...args: string[]): Promise<string> =>
        new Promise((resolve, reject) =>
          execFile(
            'etcdctl',
            [`--endpoints=${fx.address}`, '--command-timeout=5s', ...args],
            { env: { ...process.env, ETCDCTL_API: '3' } },
            (err, stdout, stderr) => (err ? reject(new Error(`${err.message}: ${stderr}`)) : resolve(stdout)),
          ),
        );

      test('put prints OK', async () => {
        assert.equal((await etcdctl('put', 'foo', 'bar')).trim(), 'OK');
      });

      test('get -w json shows the 64-bit member id and numeric revision exactly', async () => {
        const out = await etcdctl('get', 'foo', '--limit=5', '-w', 'json');
        assert.match(out, new RegExp(`"member_id":${MEMBER_ID}\\b`));
        assert.match(out, /"revision":42\b/);
        assert.match(out, /"count":5\b/);
      });
    });

    describe('gRPC server with a raw HTTP/2 client', () => {
      test('unary: headers, one framed message, trailers with grpc-status 0', async () => {
        const body = frameBytes(PutRequest.encode(put('raw')).finish());
        const res = await rawRequest(fx.listener.port, { ':path': '/etcdserverpb.KV/Put' }, [body]);
        assert.equal(res.headers[':status'], 200);
        assert.equal(res.headers['content-type'], 'application/grpc');
        assert.equal(res.trailers['grpc-status'], '0');
        assert.equal(res.data.readUInt32BE(1), res.data.length - 5);
        assert.equal(PutResponse.decode(res.data.subarray(5)).header?.memberId, MEMBER_ID);
      });

      test('request frame split across many DATA frames is reassembled', async () => {
        const body = frameBytes(PutRequest.encode(put('split', 1000)).finish());
        const pieces = [];
        for (let i = 0; i < body.length; i += 7) pieces.push(body.subarray(i, i + 7));
        const res = await rawRequest(fx.listener.port, { ':path': '/etcdserverpb.KV/Put' }, pieces);
        assert.equal(res.status, 0);
        assert.equal(PutResponse.decode(res.data.subarray(5)).header?.revision, HEADER.revision + 1000);
      });

      test('bidi: several messages in one DATA frame', async () => {
        const create = (k: string) =>
          frameBytes(
            WatchRequest.encode(
              WatchRequest.create({
                requestUnion: { $case: 'createRequest', createRequest: { key: Buffer.from(k) } },
              }),
            ).finish(),
          );
        const res = await rawRequest(fx.listener.port, { ':path': '/etcdserverpb.Watch/Watch' }, [
          Buffer.concat([create('a'), create('b'), create('c'), create('d')]),
        ]);
        assert.equal(res.status, 0);
        const ids: number[] = [];
        for (let off = 0; off < res.data.length; ) {
          const len = res.data.readUInt32BE(off + 1);
          ids.push(WatchResponse.decode(res.data.subarray(off + 5, off + 5 + len)).watchId);
          off += 5 + len;
        }
        assert.deepEqual(ids, [1, 2, 3, 4]);
      });

      test('malformed protobuf is INTERNAL, trailers-only, and the server survives', async () => {
        const garbage = frameBytes(Buffer.from([0x0a, 0xff, 0xff, 0xff, 0xff, 0x0f]));
        const res = await rawRequest(fx.listener.port, { ':path': '/etcdserverpb.KV/Put' }, [garbage]);
        assert.equal(res.headers['grpc-status'], String(Status.INTERNAL));
        assert.match(decodeGrpcMessage(res.message ?? ''), /^grpc: error unmarshalling request: /);
        const ok = await rawRequest(fx.listener.port, { ':path': '/etcdserverpb.KV/Put' }, [
          frameBytes(PutRequest.encode(put('after')).finish()),
        ]);
        assert.equal(ok.status, 0);
      });

      test('unknown method: trailers-only UNIMPLEMENTED', async () => {
        const res = await rawRequest(fx.listener.port, { ':path': '/etcdserverpb.KV/Nope' }, [
          frameBytes(Buffer.alloc(0)),
        ]);
        assert.equal(res.headers[':status'], 200);
        assert.equal(res.headers['grpc-status'], String(Status.UNIMPLEMENTED));
        assert.equal(res.message, 'unknown method Nope for service etcdserverpb.KV');
      });

      test('oversized frame header: RESOURCE_EXHAUSTED without reading the body', async () => {
        const header = Buffer.from([0, 0, 1, 0, 0]); // 65536-byte message announced
        const res = await rawRequest(fx.listener.port, { ':path': '/etcdserverpb.KV/Put' }, [header]);
        assert.equal(res.status, Status.RESOURCE_EXHAUSTED);
        assert.equal(res.message, `grpc: received message larger than max (65536 vs. ${MAX_RECEIVE})`);
      });

      test('compressed request without support: UNIMPLEMENTED', async () => {
        const res = await rawRequest(
          fx.listener.port,
          { ':path': '/etcdserverpb.KV/Put', 'grpc-encoding': 'gzip' },
          [frameBytes(Buffer.alloc(0))],
        );
        assert.equal(res.status, Status.UNIMPLEMENTED);
        assert.equal(res.message, 'grpc: Decompressor is not installed for grpc-encoding "gzip"');
      });

      test('stream ending inside a frame is UNKNOWN "unexpected EOF", as grpc-go answers', async () => {
        const res = await rawRequest(fx.listener.port, { ':path': '/etcdserverpb.KV/Put' }, [
          Buffer.from([0, 0, 0, 0, 9, 1]),
        ]);
        assert.equal(res.status, Status.UNKNOWN);
        assert.equal(res.message, 'unexpected EOF');
      });

      test('non-gRPC content-type on HTTP/2 is 415', async () => {
        const res = await rawRequest(
          fx.listener.port,
          { ':path': '/etcdserverpb.KV/Put', 'content-type': 'text/plain' },
          [],
        );
        assert.equal(res.headers[':status'], 415);
      });

      test('non-gRPC request on HTTP/2 goes to http2Fallback (100 KiB body crosses the client window)', async () => {
        const plain = new GrpcServer({
          transport,
          http2Fallback: (req, res) => {
            res.statusCode = req.url === '/health' ? 200 : 404;
            res.setHeader('Content-Type', 'text/plain');
            res.end(`${req.method} ${req.url} ${'x'.repeat(100 * 1024)}`);
          },
        });
        const listener = await createClientListener({
          host: '127.0.0.1',
          port: 0,
          grpc: plain,
          http1: (_q, r) => r.end(),
        });
        try {
          const res = await rawRequest(
            listener.port,
            { ':method': 'GET', ':path': '/health', 'content-type': 'text/plain' },
            [],
          );
          assert.equal(res.headers[':status'], 200);
          assert.equal(res.headers['content-type'], 'text/plain');
          assert.equal(res.data.length, 'GET /health '.length + 100 * 1024);
          assert.ok(res.data.toString().startsWith('GET /health x'));
          const missing = await rawRequest(
            listener.port,
            { ':method': 'GET', ':path': '/nope', 'content-type': 'text/plain' },
            [],
          );
          assert.equal(missing.headers[':status'], 404);
        } finally {
          await listener.close(true);
        }
      });

      test('grpc-timeout honoured for a raw client', async () => {
        const res = await rawRequest(
          fx.listener.port,
          { ':path': '/etcdserverpb.KV/Put', 'grpc-timeout': '50m' },
          [frameBytes(PutRequest.encode(put('slow')).finish())],
        );
        assert.equal(res.status, Status.DEADLINE_EXCEEDED);
      });
    });
  });
}
