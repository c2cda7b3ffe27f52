/**
 * A lean gRPC server: methods are registered by full path
 * ("/etcdserverpb.KV/Put") and dispatched straight from the transport, with
 * no compatibility layers. Two transports sit under the same handler API:
 * 'native' (our HTTP/2 in h2/, the default: ≈ 7× less CPU per call) and
 * 'node' (node:http2), kept as a reference implementation.
 */
import http2, { type IncomingHttpHeaders, type ServerHttp2Session, type ServerHttp2Stream } from 'node:http2';
import type net from 'node:net';
import { type CallLimits, type RegisteredMethod, ServerCall } from './call.js';
import type { MessageCodec } from './framing.js';
import { Connection, type H2Limits, type H2Stream } from './h2/connection.js';
import { NodeCallStream } from './node-transport.js';
import { type PlainHttpHandler, servePlainNative, servePlainNode } from './plain-http.js';
import { Status } from './status.js';
import { parseGrpcTimeout } from './timeout.js';
import type { CallStream } from './transport.js';
import type {
  BidiStreamHandler,
  ClientStreamHandler,
  ServerStreamHandler,
  ServiceDefinition,
  ServiceImplementation,
  UnaryHandler,
} from './types.js';

export type GrpcTransport = 'native' | 'node';

export interface GrpcServerOptions {
  /** HTTP/2 implementation; default 'native'. */
  transport?: GrpcTransport;
  /** Largest request message accepted; etcd uses --max-request-bytes + 512 KiB. Default 2 MiB. */
  maxReceiveMessageBytes?: number;
  /** Unsent response bytes per streaming call before it is failed. Default 64 MiB. */
  maxPendingResponseBytes?: number;
  /** Request messages queued per streaming call before reading pauses. Default 64. */
  requestQueueHighWater?: number;
  /** HTTP/2 SETTINGS_MAX_CONCURRENT_STREAMS per connection. Default 100000. */
  maxConcurrentStreams?: number;
  /** Per-stream receive window (SETTINGS_INITIAL_WINDOW_SIZE). Default 1 MiB. */
  streamWindowBytes?: number;
  /** Per-connection receive window. Default 16 MiB. */
  connectionWindowBytes?: number;
  /**
   * HTTP/2 requests that are not gRPC (content-type not application/grpc*),
   * e.g. /health over TLS: served by this ordinary HTTP handler, on both
   * transports. Without it: 415 with a gRPC status, as grpc-go answers.
   */
  http2Fallback?: PlainHttpHandler;
  /**
   * node transport only, superseded by http2Fallback (which wins when both are
   * given): raw access to the node:http2 stream of a non-gRPC request.
   */
  onNonGrpcStream?: (stream: ServerHttp2Stream, headers: IncomingHttpHeaders) => void;
  /** Wraps the stream of each call to a registered method (the member's gRPC metrics observe it). */
  observeCall?: (
    stream: CallStream,
    path: string,
    kind: RegisteredMethod<unknown, unknown>['kind'],
    headers?: IncomingHttpHeaders,
  ) => CallStream;
}

type StartCall = (stream: CallStream, headers: IncomingHttpHeaders) => void;

const DEFAULTS = {
  transport: 'native' as GrpcTransport,
  maxReceiveMessageBytes: 2 * 1024 * 1024,
  maxPendingResponseBytes: 64 * 1024 * 1024,
  requestQueueHighWater: 64,
  maxConcurrentStreams: 100_000,
  streamWindowBytes: 1024 * 1024,
  connectionWindowBytes: 16 * 1024 * 1024,
};

/** Above this many unsent bytes a stream's writes report back-pressure (native transport). */
const STREAM_HIGH_WATER_BYTES = 64 * 1024;

export class GrpcServer {
  readonly transport: GrpcTransport;
  private readonly methods = new Map<string, StartCall>();
  private readonly services = new Set<string>();
  private readonly sessions = new Set<ServerHttp2Session>();
  private readonly connections = new Set<Connection>();
  private readonly limits: CallLimits;
  private readonly h2Limits: H2Limits;
  private readonly options: typeof DEFAULTS;
  private readonly onNonGrpcStream: (stream: ServerHttp2Stream, headers: IncomingHttpHeaders) => void;
  private readonly http2Fallback: PlainHttpHandler | undefined;
  private readonly observeCall: GrpcServerOptions['observeCall'];
  private http2Server_: http2.Http2Server | undefined;

  constructor(options: GrpcServerOptions = {}) {
    const o = { ...DEFAULTS, ...options };
    this.options = o;
    this.transport = o.transport;
    this.limits = {
      maxReceiveMessageBytes: o.maxReceiveMessageBytes,
      maxPendingResponseBytes: o.maxPendingResponseBytes,
      requestQueueHighWater: o.requestQueueHighWater,
    };
    this.h2Limits = {
      streamWindowBytes: o.streamWindowBytes,
      connectionWindowBytes: o.connectionWindowBytes,
      maxConcurrentStreams: o.maxConcurrentStreams,
      maxHeaderListBytes: 1024 * 1024,
      streamHighWaterBytes: STREAM_HIGH_WATER_BYTES,
    };
    this.http2Fallback = options.http2Fallback;
    this.observeCall = options.observeCall;
    const fallback = options.http2Fallback;
    this.onNonGrpcStream = fallback
      ? (stream, headers) => servePlainNode(fallback, stream, headers)
      : (options.onNonGrpcStream ?? rejectNonGrpc);
  }

  /**
   * Takes over a connection whose first bytes are the HTTP/2 client preface
   * (plain TCP after sniffing, or TLS after ALPN "h2").
   */
  acceptConnection(socket: net.Socket): void {
    if (this.transport === 'node') {
      this.http2Server.emit('connection', socket);
      return;
    }
    const connection = new Connection(
      socket,
      { dispatch: (s, h) => this.dispatchNative(s, h) },
      this.h2Limits,
    );
    this.connections.add(connection);
    connection.onClosed(() => this.connections.delete(connection));
    connection.start();
  }

  /** The node:http2 server behind the 'node' transport (created on first use). */
  get http2Server(): http2.Http2Server {
    if (!this.http2Server_) this.http2Server_ = this.createNodeServer();
    return this.http2Server_;
  }
  /** Registers every handler in `impl` under the service's method paths. */
  addService<S extends ServiceDefinition>(service: S, impl: ServiceImplementation<S>): this {
    for (const key of Object.keys(impl)) {
      const def = service.methods[key];
      if (!def) throw new Error(`${service.fullName} has no method "${key}"`);
      const handler = impl[key as keyof S['methods']];
      if (handler === undefined) continue;
      const path = `/${service.fullName}/${def.name}`;
      const kind = def.requestStream
        ? def.responseStream
          ? 'bidiStream'
          : 'clientStream'
        : def.responseStream
          ? 'serverStream'
          : 'unary';
      this.register({
        path,
        kind,
        requestCodec: def.requestType,
        responseCodec: def.responseType,
        handler,
      } as RegisteredMethod<unknown, unknown>);
    }
    return this;
  }

  addUnary<Req, Res>(
    path: string,
    req: MessageCodec<Req>,
    res: MessageCodec<Res>,
    handler: UnaryHandler<Req, Res>,
  ): this {
    return this.register({ path, kind: 'unary', requestCodec: req, responseCodec: res, handler });
  }

  addServerStream<Req, Res>(
    path: string,
    req: MessageCodec<Req>,
    res: MessageCodec<Res>,
    handler: ServerStreamHandler<Req, Res>,
  ): this {
    return this.register({ path, kind: 'serverStream', requestCodec: req, responseCodec: res, handler });
  }

  addClientStream<Req, Res>(
    path: string,
    req: MessageCodec<Req>,
    res: MessageCodec<Res>,
    handler: ClientStreamHandler<Req, Res>,
  ): this {
    return this.register({ path, kind: 'clientStream', requestCodec: req, responseCodec: res, handler });
  }

  addBidiStream<Req, Res>(
    path: string,
    req: MessageCodec<Req>,
    res: MessageCodec<Res>,
    handler: BidiStreamHandler<Req, Res>,
  ): this {
    return this.register({ path, kind: 'bidiStream', requestCodec: req, responseCodec: res, handler });
  }

  /** node transport: dispatches one node:http2 stream. */
  handleStream(stream: ServerHttp2Stream, headers: IncomingHttpHeaders): void {
    if (!isGrpcContentType(headers['content-type'])) {
      this.onNonGrpcStream(stream, headers);
      return;
    }
    this.dispatch(new NodeCallStream(stream), headers);
  }

  private dispatchNative(stream: H2Stream, headers: Record<string, string>): void {
    const contentType = headers['content-type'];
    if (!isGrpcContentType(contentType)) {
      if (this.http2Fallback) servePlainNative(this.http2Fallback, stream, headers);
      else stream.refuse(415, Status.INTERNAL, `invalid gRPC request content-type "${contentType ?? ''}"`);
      return;
    }
    this.dispatch(stream, headers);
  }

  /** Routes a gRPC request stream to its method, or ends it with a status. */
  private dispatch(stream: CallStream, headers: IncomingHttpHeaders): void {
    const path = headers[':path'] ?? '';
    const start = this.methods.get(path);
    if (start === undefined) {
      stream.finish(Status.UNIMPLEMENTED, this.unknownMethodMessage(path));
      return;
    }
    const encoding = headers['grpc-encoding'];
    if (encoding !== undefined && encoding !== 'identity') {
      stream.finish(
        Status.UNIMPLEMENTED,
        `grpc: Decompressor is not installed for grpc-encoding "${encoding}"`,
      );
      return;
    }
    start(stream, headers);
  }

  /** Sends GOAWAY on every connection; `force` also resets in-flight calls. */
  close(force = false): Promise<void> {
    const nodeSessions = [...this.sessions].map(
      (session) =>
        new Promise<void>((resolve) => {
          if (session.closed || session.destroyed) return resolve();
          session.once('close', () => resolve());
          if (force) session.destroy();
          else session.close();
        }),
    );
    const native = [...this.connections].map(
      (connection) =>
        new Promise<void>((resolve) => {
          connection.onClosed(resolve);
          if (force) connection.destroy();
          else connection.shutdown();
        }),
    );
    return Promise.all([...nodeSessions, ...native]).then(() => undefined);
  }

  private register<Req, Res>(def: RegisteredMethod<Req, Res>): this {
    if (!/^\/[^/]+\/[^/]+$/.test(def.path)) throw new Error(`bad gRPC method path ${def.path}`);
    if (this.methods.has(def.path)) throw new Error(`method ${def.path} registered twice`);
    const limits = this.limits;
    this.methods.set(def.path, (stream, headers) => {
      let timeoutMs: number | undefined;
      try {
        timeoutMs = parseGrpcTimeout(headers['grpc-timeout']);
      } catch (err) {
        stream.finish(Status.INTERNAL, (err as Error).message);
        return;
      }
      const observed = this.observeCall?.(stream, def.path, def.kind, headers) ?? stream;
      new ServerCall<Req, Res>(observed, headers, def, limits, timeoutMs).start();
    });
    this.services.add(def.path.slice(1, def.path.lastIndexOf('/')));
    return this;
  }

  /** grpc-go's wording, which clients and tests may match on. */
  private unknownMethodMessage(path: string): string {
    const slash = path.lastIndexOf('/');
    if (!path.startsWith('/') || slash <= 0) return `malformed method name: ${JSON.stringify(path)}`;
    const service = path.slice(1, slash);
    const method = path.slice(slash + 1);
    if (this.services.has(service)) return `unknown method ${method} for service ${service}`;
    return `unknown service ${service}`;
  }

  private createNodeServer(): http2.Http2Server {
    const o = this.options;
    const server = http2.createServer({
      settings: {
        maxConcurrentStreams: o.maxConcurrentStreams,
        initialWindowSize: o.streamWindowBytes,
        enablePush: false,
        maxHeaderListSize: 1024 * 1024,
      },
      // Node's default (10 MB) refuses new streams under load with many
      // in-flight responses; this bound is per connection.
      maxSessionMemory: 256,
    });
    server.on('session', (session) => this.onSession(session));
    server.on('stream', (stream, headers) => this.handleStream(stream, headers));
    server.on('sessionError', () => {
      // Session errors end that session ('close' cleans up); never the process.
    });
    return server;
  }

  private onSession(session: ServerHttp2Session): void {
    this.sessions.add(session);
    session.on('error', () => {
      // Reported through 'close'; a broken connection must not crash the server.
    });
    session.once('close', () => this.sessions.delete(session));
    try {
      session.setLocalWindowSize(this.options.connectionWindowBytes);
    } catch {
      // Session already closing: nothing to tune.
    }
  }
}

function isGrpcContentType(value: string | undefined): boolean {
  if (value === undefined || !value.startsWith('application/grpc')) return false;
  const next = value.charCodeAt(16);
  // "application/grpc", "application/grpc+proto", "application/grpc;..."
  return Number.isNaN(next) || next === 0x2b || next === 0x3b;
}

function rejectNonGrpc(stream: ServerHttp2Stream, headers: IncomingHttpHeaders): void {
  stream.on('error', () => {});
  if (stream.destroyed || stream.closed) return;
  stream.respond(
    {
      ':status': 415,
      'content-type': 'text/plain',
      'grpc-status': String(Status.INTERNAL),
      'grpc-message': `invalid gRPC request content-type "${headers['content-type'] ?? ''}"`,
    },
    { endStream: true },
  );
}
