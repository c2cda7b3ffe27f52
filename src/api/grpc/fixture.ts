/**
 * Shared by the gRPC and listener tests: a small server wired to etcd's real
 * service definitions, and a raw HTTP/2 client that shows exactly what goes
 * over the wire.
 */
import http2, { type IncomingHttpHeaders } from 'node:http2';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  KVDefinition,
  MaintenanceDefinition,
  type ResponseHeader,
  WatchDefinition,
  type WatchResponse,
} from '../../pb/etcdserverpb/rpc.js';
import { type ClientListener, createClientListener } from '../listener.js';
import { GrpcServer, type GrpcTransport } from './server.js';
import { GrpcError, Status } from './status.js';

export const MEMBER_ID = 0x8e9e05c52164694dn;
export const HEADER: ResponseHeader = {
  clusterId: 0xcdef0123456789abn,
  memberId: MEMBER_ID,
  revision: 42,
  raftTerm: 3,
};
export const MAX_RECEIVE = 4096;

/** Observations the tests assert on. */
export interface FixtureState {
  aborted: string[];
  snapshotWritesBeforeDrain: number;
  snapshotSent: number;
  lastToken: string | undefined;
}

export interface Fixture {
  listener: ClientListener;
  state: FixtureState;
  address: string;
}

function watchCreated(id: number): WatchResponse {
  return {
    header: HEADER,
    watchId: id,
    created: true,
    canceled: false,
    compactRevision: 0,
    cancelReason: '',
    fragment: false,
    events: [],
  };
}

function waitForAbort(signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }));
}

export function buildServer(state: FixtureState, transport: GrpcTransport = 'native'): GrpcServer {
  const grpc = new GrpcServer({ maxReceiveMessageBytes: MAX_RECEIVE, transport });
  grpc.addService(KVDefinition, {
    put: (req, ctx) => {
      const token = ctx.metadata.token;
      state.lastToken = typeof token === 'string' ? token : undefined;
      const key = req.key.toString();
      if (key === 'fail') throw new GrpcError(Status.FAILED_PRECONDITION, 'etcdserver: nöt 100% ok\n');
      if (key === 'bug') throw new Error('plain bug');
      if (key === 'slow') {
        return waitForAbort(ctx.signal).then(() => {
          state.aborted.push('put');
          return { header: HEADER };
        });
      }
      return { header: { ...HEADER, revision: HEADER.revision + req.value.length } };
    },
    range: async (req) => {
      await sleep(1);
      return { header: HEADER, kvs: [], more: false, count: req.limit };
    },
  });
  grpc.addService(WatchDefinition, {
    watch: async (requests, sink, ctx) => {
      let next = 1;
      ctx.signal.addEventListener('abort', () => state.aborted.push('watch'));
      for await (const req of requests) {
        if (req.requestUnion?.$case === 'createRequest') sink.write(watchCreated(next++));
        else if (req.requestUnion?.$case === 'cancelRequest') throw new GrpcError(Status.CANCELLED, 'bye');
      }
    },
  });
  grpc.addService(MaintenanceDefinition, {
    // Streams 2000 chunks of 4 KiB honouring back-pressure.
    snapshot: async (_req, sink, ctx) => {
      const blob = Buffer.alloc(4096, 7);
      state.snapshotWritesBeforeDrain = -1;
      for (let i = 0; i < 2000; i++) {
        if (ctx.signal.aborted) {
          state.aborted.push('snapshot');
          return;
        }
        const more = sink.write({ header: HEADER, remainingBytes: (1999 - i) * 4096, blob });
        state.snapshotSent = i + 1;
        if (!more) {
          if (state.snapshotWritesBeforeDrain < 0) state.snapshotWritesBeforeDrain = i + 1;
          await sink.drained();
        }
      }
    },
  });
  return grpc;
}

export async function startFixture(transport: GrpcTransport = 'native'): Promise<Fixture> {
  const state: FixtureState = {
    aborted: [],
    snapshotWritesBeforeDrain: -1,
    snapshotSent: 0,
    lastToken: undefined,
  };
  const listener = await createClientListener({
    host: '127.0.0.1',
    port: 0,
    grpc: buildServer(state, transport),
    http1: (req, res) => {
      if (req.url === '/health') {
        res.setHeader('content-type', 'application/json');
        res.end('{"health":"true"}');
        return;
      }
      res.statusCode = 404;
      res.end('404 page not found\n');
    },
  });
  return { listener, state, address: `127.0.0.1:${listener.port}` };
}

export interface RawResponse {
  headers: IncomingHttpHeaders;
  trailers: IncomingHttpHeaders;
  data: Buffer;
  /** grpc-status from trailers, or from headers for a trailers-only response. */
  status: number;
  message: string | undefined;
}

/** One request over a fresh h2c connection; `body` is written in the given pieces. */
export function rawRequest(
  port: number,
  headers: http2.OutgoingHttpHeaders,
  body: Buffer[],
  session?: http2.ClientHttp2Session,
): Promise<RawResponse> {
  const client = session ?? http2.connect(`http://127.0.0.1:${port}`);
  return new Promise((resolve, reject) => {
    client.on('error', reject);
    const req = client.request({
      ':method': 'POST',
      'content-type': 'application/grpc',
      te: 'trailers',
      ...headers,
    });
    const chunks: Buffer[] = [];
    let responseHeaders: IncomingHttpHeaders = {};
    let trailers: IncomingHttpHeaders = {};
    req.on('response', (h) => {
      responseHeaders = h;
    });
    req.on('trailers', (t) => {
      trailers = t;
    });
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('error', reject);
    req.on('close', () => {
      if (!session) client.close();
      const source = trailers['grpc-status'] !== undefined ? trailers : responseHeaders;
      const message = source['grpc-message'];
      resolve({
        headers: responseHeaders,
        trailers,
        data: Buffer.concat(chunks),
        status: Number(source['grpc-status'] ?? Number.NaN),
        message: typeof message === 'string' ? message : undefined,
      });
    });
    for (const piece of body) req.write(piece);
    req.end();
  });
}
