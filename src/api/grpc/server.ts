/**
 * A lean gRPC server over node:http2: methods are registered by full path
 * ("/etcdserverpb.KV/Put") and dispatched straight from the HTTP/2 'stream'
 * event, without Node's HTTP/2 compatibility layer or grpc-js.
 */
import http2, { type IncomingHttpHeaders, type ServerHttp2Session, type ServerHttp2Stream } from 'node:http2';
import { type CallLimits, type RegisteredMethod, respondWithStatus, ServerCall } from './call.js';
import type { MessageCodec } from './framing.js';
import { Status } from './status.js';
import { parseGrpcTimeout } from './timeout.js';
import type {
  BidiStreamHandler,
  ClientStreamHandler,
  ServerStreamHandler,
  ServiceDefinition,
  ServiceImplementation,
  UnaryHandler,
} from './types.js';

export interface GrpcServerOptions {
  /** Largest request message accepted; etcd uses --max-request-bytes + 512 KiB. Default 2 MiB. */
  maxReceiveMessageBytes?: number;
  /** Unsent response bytes per streaming call before it is failed. Default 64 MiB. */
  maxPendingResponseBytes?: number;
  /** Request messages queued per streaming call before reading pauses. Default 64. */
  requestQueueHighWater?: number;
  /** HTTP/2 SETTINGS_MAX_CONCURRENT_STREAMS per connection. Default 2^32-1, like etcd. */
  maxConcurrentStreams?: number;
  /** Per-stream receive window (SETTINGS_INITIAL_WINDOW_SIZE). Default 1 MiB. */
  streamWindowBytes?: number;
  /** Per-connection receive window. Default 16 MiB. */
  connectionWindowBytes?: number;
  /**
   * HTTP/2 requests that are not gRPC (content-type not application/grpc*).
   * Default: 415 with a gRPC status, as grpc-go answers.
   */
  onNonGrpcStream?: (stream: ServerHttp2Stream, headers: IncomingHttpHeaders) => void;
}

type AnyRegisteredMethod = { start(stream: ServerHttp2Stream, headers: IncomingHttpHeaders): void };

const DEFAULTS = {
  maxReceiveMessageBytes: 2 * 1024 * 1024,
  maxPendingResponseBytes: 64 * 1024 * 1024,
  requestQueueHighWater: 64,
  maxConcurrentStreams: 2 ** 32 - 1,
  streamWindowBytes: 1024 * 1024,
  connectionWindowBytes: 16 * 1024 * 1024,
};

export class GrpcServer {
  /** The HTTP/2 server; feed it sockets with `emit('connection', socket)`. */
  readonly http2Server: http2.Http2Server;
  private readonly methods = new Map<string, AnyRegisteredMethod>();
  private readonly services = new Set<string>();
  private readonly sessions = new Set<ServerHttp2Session>();
  private readonly limits: CallLimits;
  private readonly onNonGrpcStream: (stream: ServerHttp2Stream, headers: IncomingHttpHeaders) => void;
  private readonly connectionWindowBytes: number;

  constructor(options: GrpcServerOptions = {}) {
    const o = { ...DEFAULTS, ...options };
    this.limits = {
      maxReceiveMessageBytes: o.maxReceiveMessageBytes,
      maxPendingResponseBytes: o.maxPendingResponseBytes,
      requestQueueHighWater: o.requestQueueHighWater,
    };
    this.connectionWindowBytes = o.connectionWindowBytes;
    this.onNonGrpcStream = options.onNonGrpcStream ?? rejectNonGrpc;
    this.http2Server = http2.createServer({
      settings: {
        maxConcurrentStreams: o.maxConcurrentStreams,
        initialWindowSize: o.streamWindowBytes,
        enablePush: false,
        // Let a client send up to 16 MiB of headers, as grpc-go allows.
        maxHeaderListSize: 16 * 1024 * 1024,
      },
      // Node's default (10 MB) refuses new streams under load with many
      // in-flight responses; this bound is per connection.
      maxSessionMemory: 256,
    });
    this.http2Server.on('session', (session) => this.onSession(session));
    this.http2Server.on('stream', (stream, headers) => this.handleStream(stream, headers));
    this.http2Server.on('sessionError', () => {
      // Session errors end that session ('close' cleans up); never the process.
    });
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

  /** Dispatches one HTTP/2 stream; public so other HTTP/2 servers can delegate. */
  handleStream(stream: ServerHttp2Stream, headers: IncomingHttpHeaders): void {
    const contentType = headers['content-type'];
    if (!isGrpcContentType(contentType)) {
      this.onNonGrpcStream(stream, headers);
      return;
    }
    const path = headers[':path'] ?? '';
    const method = this.methods.get(path);
    if (method === undefined) {
      respondWithStatus(stream, Status.UNIMPLEMENTED, this.unknownMethodMessage(path));
      return;
    }
    const encoding = headers['grpc-encoding'];
    if (encoding !== undefined && encoding !== 'identity') {
      respondWithStatus(
        stream,
        Status.UNIMPLEMENTED,
        `grpc: Decompressor is not installed for grpc-encoding "${encoding}"`,
      );
      return;
    }
    method.start(stream, headers);
  }

  /** Sends GOAWAY and stops accepting; `force` also resets in-flight calls. */
  close(force = false): Promise<void> {
    const closing = [...this.sessions].map(
      (session) =>
        new Promise<void>((resolve) => {
          if (session.closed || session.destroyed) return resolve();
          session.once('close', () => resolve());
          if (force) session.destroy();
          else session.close();
        }),
    );
    return Promise.all(closing).then(() => undefined);
  }

  private register<Req, Res>(def: RegisteredMethod<Req, Res>): this {
    if (!/^\/[^/]+\/[^/]+$/.test(def.path)) throw new Error(`bad gRPC method path ${def.path}`);
    if (this.methods.has(def.path)) throw new Error(`method ${def.path} registered twice`);
    const limits = this.limits;
    this.methods.set(def.path, {
      start(stream, headers) {
        let timeoutMs: number | undefined;
        try {
          timeoutMs = parseGrpcTimeout(headers['grpc-timeout']);
        } catch (err) {
          respondWithStatus(stream, Status.INTERNAL, (err as Error).message);
          return;
        }
        new ServerCall<Req, Res>(stream, headers, def, limits, timeoutMs).start();
      },
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

  private onSession(session: ServerHttp2Session): void {
    this.sessions.add(session);
    session.on('error', () => {
      // Reported through 'close'; a broken connection must not crash the server.
    });
    session.once('close', () => this.sessions.delete(session));
    try {
      session.setLocalWindowSize(this.connectionWindowBytes);
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
