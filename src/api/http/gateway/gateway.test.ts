// The gateway in-process, over a real HTTP/1.1 server, with stand-in services:
// what the call context carries, deadlines, cancellation, unimplemented
// methods, and a watch body read while answers stream back (full duplex).
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import {
  KVDefinition,
  type RangeRequest,
  type RangeResponse,
  WatchDefinition,
  type WatchResponse,
} from '../../../pb/etcdserverpb/rpc.js';
import { GrpcError, Status } from '../../grpc/status.js';
import type { CallContext } from '../../grpc/types.js';
import { JsonGateway } from './gateway.js';

const response = (count: number): RangeResponse => ({
  header: { clusterId: 1n, memberId: 2n, revision: 3, raftTerm: 4 },
  kvs: [],
  more: false,
  count,
});

const watchAnswer = (watchId: number): WatchResponse => ({
  header: undefined,
  watchId,
  created: true,
  canceled: false,
  compactRevision: 0,
  cancelReason: '',
  fragment: false,
  events: [],
});

describe('JSON gateway in-process', () => {
  const gateway = new JsonGateway({ maxRequestBytes: 64 * 1024 });
  let server: http.Server;
  let port = 0;
  let lastContext: CallContext | undefined;
  let streamEnded: Promise<string> | undefined;

  before(async () => {
    gateway.services.addService(KVDefinition, {
      range: async (req: RangeRequest, ctx) => {
        lastContext = ctx;
        if (req.key.toString() === 'missing') throw new GrpcError(Status.NOT_FOUND, 'no <such> key');
        if (req.key.toString() === 'slow') {
          await new Promise((resolve) => ctx.signal.addEventListener('abort', resolve));
        }
        return response(req.limit);
      },
    });
    gateway.services.addService(WatchDefinition, {
      watch: async (requests, sink) => {
        let ended = 'requests ended';
        let done: (how: string) => void = () => undefined;
        streamEnded = new Promise((resolve) => {
          done = resolve;
        });
        try {
          for await (const r of requests) {
            if (r.requestUnion?.$case === 'cancelRequest') {
              ended = 'refused';
              throw new GrpcError(Status.FAILED_PRECONDITION, 'stop');
            }
            if (r.requestUnion?.$case === 'createRequest')
              sink.write(watchAnswer(r.requestUnion.createRequest.watchId));
          }
        } catch (err) {
          if (ended !== 'refused') ended = `requests failed: ${(err as Error).message}`;
          throw err;
        } finally {
          done(ended);
        }
      },
    });
    server = http.createServer((req, res) => {
      if (!gateway.handle(req, res)) {
        res.statusCode = 404;
        res.end('not the gateway');
      }
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
  });
  after(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  const post = (
    path: string,
    body: string,
    headers: Record<string, string> = {},
  ): Promise<{
    status: number;
    headers: http.IncomingHttpHeaders;
    trailers: NodeJS.Dict<string>;
    body: string;
  }> =>
    new Promise((resolve, reject) => {
      const req = http.request(
        { port, host: '127.0.0.1', method: 'POST', path, headers, agent: false },
        (res) => {
          let text = '';
          res.setEncoding('utf8');
          res.on('data', (d: string) => {
            text += d;
          });
          res.on('end', () =>
            resolve({
              status: res.statusCode ?? 0,
              headers: res.headers,
              trailers: res.trailers,
              body: text,
            }),
          );
        },
      );
      req.on('error', reject);
      req.end(body);
    });

  test('a unary call: JSON in, JSON out, the caller’s headers as call metadata', async () => {
    const r = await post('/v3/kv/range', '{"key":"YQ==","limit":"7"}', {
      Authorization: 'tok',
      'Grpc-Metadata-Token': 'tok2',
      Accept: 'application/json',
    });
    assert.equal(r.status, 200);
    assert.equal(r.headers['content-type'], 'application/json');
    assert.equal(r.headers['grpc-metadata-content-type'], 'application/grpc');
    assert.equal(
      r.body,
      '{"header":{"cluster_id":"1","member_id":"2","revision":"3","raft_term":"4"},"count":"7"}',
    );
    const md = lastContext?.metadata ?? {};
    assert.equal(md.authorization, 'tok');
    assert.equal(md.token, 'tok2');
    assert.equal(md['grpcgateway-accept'], 'application/json');
    assert.equal(md['x-forwarded-for'], '127.0.0.1');
    assert.equal(md['x-forwarded-host'], `127.0.0.1:${port}`);
    assert.equal(lastContext?.method, '/etcdserverpb.KV/Range');
    assert.equal(lastContext?.signal.aborted, true, 'the call is over once answered');
  });

  test('a service error: grpc-gateway’s status, body and content-type trailer', async () => {
    const r = await post('/v3/kv/range', '{"key":"bWlzc2luZw=="}');
    assert.equal(r.status, 404);
    assert.equal(
      r.body,
      '{"error":"no \\u003csuch\\u003e key","message":"no \\u003csuch\\u003e key","code":5}',
    );
    assert.equal(r.headers.trailer, 'Grpc-Trailer-Content-Type');
    assert.equal(r.trailers['grpc-trailer-content-type'], 'application/grpc');
  });

  test('Grpc-Timeout: the call is cancelled at its deadline and answers 504', async () => {
    const started = Date.now();
    const r = await post('/v3/kv/range', `{"key":"${Buffer.from('slow').toString('base64')}"}`, {
      'Grpc-Timeout': '200m',
    });
    assert.equal(r.status, 504);
    assert.equal(
      r.body,
      '{"error":"context deadline exceeded","message":"context deadline exceeded","code":4}',
    );
    assert.ok(Date.now() - started >= 190);
    assert.equal(lastContext?.timeoutMs, 200);
    assert.equal(lastContext?.signal.aborted, true);
    const bad = await post('/v3/kv/range', '{}', { 'Grpc-Timeout': '5x' });
    assert.equal(bad.status, 400);
    assert.equal(
      bad.body,
      '{"error":"invalid grpc-timeout: 5x","message":"invalid grpc-timeout: 5x","code":3}',
    );
  });

  test('a method the member does not serve is UNIMPLEMENTED, as from its gRPC server', async () => {
    const r = await post('/v3/kv/put', '{"key":"YQ=="}');
    assert.equal(r.status, 501);
    assert.equal(r.body, errorJson('unknown method Put for service etcdserverpb.KV', 12));
    const lock = await post('/v3/lock/lock', '{}');
    assert.equal(lock.body, errorJson('unknown service v3lockpb.Lock', 12));
  });

  test('a watch body is read while its answers stream back', async () => {
    const lines: string[] = [];
    let onLine: (() => void) | undefined;
    const req = http.request({ port, host: '127.0.0.1', method: 'POST', path: '/v3/watch', agent: false });
    const res = await new Promise<http.IncomingMessage>((resolve) => {
      req.on('response', resolve);
      req.flushHeaders();
      req.write('{"create_request":{"key":"YQ==","watch_id":"1"}}');
    });
    assert.equal(res.statusCode, 200);
    assert.equal(res.headers['transfer-encoding'], 'chunked');
    let buffered = '';
    res.setEncoding('utf8');
    res.on('data', (d: string) => {
      buffered += d;
      for (let i = buffered.indexOf('\n'); i >= 0; i = buffered.indexOf('\n')) {
        lines.push(buffered.slice(0, i));
        buffered = buffered.slice(i + 1);
        onLine?.();
      }
    });
    const nextLine = (n: number) =>
      new Promise<void>((resolve) => {
        onLine = () => {
          if (lines.length >= n) resolve();
        };
        onLine();
      });
    await nextLine(1);
    // Split across writes, the second request still arrives whole.
    req.write('{"create_request":{"key":"Yg==",');
    await new Promise((r) => setTimeout(r, 50));
    req.write('"watch_id":"2"}}\n');
    await nextLine(2);
    assert.deepEqual(lines, [
      '{"result":{"watch_id":"1","created":true}}',
      '{"result":{"watch_id":"2","created":true}}',
    ]);
    // A request that fails in the service ends the stream with an error object.
    const rest = new Promise<string>((resolve) => res.on('end', () => resolve(buffered)));
    req.end('{"cancel_request":{"watch_id":"1"}}');
    assert.equal(
      await rest,
      '{"error":{"grpc_code":9,"http_code":412,"message":"stop","http_status":"Precondition Failed"}}',
    );
  });

  test('a client that hangs up cancels its stream', async () => {
    streamEnded = undefined;
    const req = http.request({ port, host: '127.0.0.1', method: 'POST', path: '/v3/watch', agent: false });
    req.on('error', () => undefined);
    await new Promise<void>((resolve) => {
      req.on('response', (res) => {
        res.once('data', () => resolve());
      });
      req.write('{"create_request":{"key":"YQ=="}}');
    });
    req.destroy();
    assert.equal(await streamEnded, 'requests failed: context canceled');
  });

  test('a first request that cannot be read fails the stream as grpc-gateway does (500, UNKNOWN)', async () => {
    const r = await post('/v3/watch', '{"create_request":[]}');
    assert.equal(r.status, 500);
    assert.equal(
      r.body,
      errorJson('json: cannot unmarshal array into Go value of type map[string]json.RawMessage', 2),
    );
  });

  test('not the gateway’s paths, or bodies it cannot read over HTTP/2', async () => {
    assert.equal((await post('/v2/keys/x', '')).body, 'not the gateway');
    assert.equal((await post('/v3beta', '')).body, 'not the gateway');
    let status = 0;
    let body = '';
    const handled = gateway.handle(
      { method: 'POST', url: '/v3/kv/range', headers: {} },
      {
        statusCode: 0,
        setHeader: () => undefined,
        end: (b?: string) => {
          status = 505;
          body = b ?? '';
        },
      },
    );
    assert.equal(handled, true);
    assert.equal(status, 505);
    assert.match(body, /HTTP\/1\.1/);
  });
});

function errorJson(message: string, code: number): string {
  return `{"error":${JSON.stringify(message)},"message":${JSON.stringify(message)},"code":${code}}`;
}
