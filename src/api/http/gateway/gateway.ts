// etcd 3.4's HTTP/JSON gateway on the client port: every v3 RPC as a POST of
// JSON under /v3/ (and /v3beta/), answered as grpc-gateway answers it. Each
// request is dispatched in-process to the service implementation the gRPC
// server runs (see registry.ts), with the caller's token taken from the
// Authorization header, so results and errors are the gRPC API's own.
import { posix } from 'node:path';
import { RequestQueue } from '../../grpc/request-queue.js';
import { GrpcError, Status, type StatusCode, toStatus } from '../../grpc/status.js';
import type { BidiStreamHandler, ServerStreamHandler, UnaryHandler } from '../../grpc/types.js';
import type { HttpRequestLike, HttpResponseLike } from '../types.js';
import { BodyTooLarge, JsonValueStream, readWholeBody } from './body.js';
import { GatewayCallContext, gatewayMetadata, gatewayTimeoutMs } from './call-context.js';
import {
  type GatewayRequest,
  type GatewayResponse,
  isGatewayRequest,
  isGatewayResponse,
  writeCallError,
  writeGoTextError,
} from './http-io.js';
import { type GoJson, GoJsonError, readValue } from './json/go-json.js';
import { JsonpbError } from './json/json-to-wire.js';
import { decodeRequest, methodTypes, requestBytes, responseJson, tooLarge } from './messages.js';
import { type BoundMethod, GatewayServices } from './registry.js';
import { GATEWAY_ROUTES } from './routes.js';
import type { MethodSchema } from './schema/types.js';
import { JsonStreamSink } from './stream-sink.js';

export interface JsonGatewayOptions {
  /** The largest request message the member's gRPC server accepts. */
  maxRequestBytes: number;
  /** Unsent bytes of a streaming answer before a client that does not read is cut off. Default 64 MiB. */
  maxPendingResponseBytes?: number;
}

/** Serves a request when it belongs to the gateway; false to let the caller route it. */
export type GatewayHandler = (req: HttpRequestLike, res: HttpResponseLike) => boolean;

/** A failure with its status; `fromServer` when the member (not the gateway) gave it. */
class CallFailure extends Error {
  constructor(
    readonly code: StatusCode,
    message: string,
    readonly fromServer: boolean,
  ) {
    super(message);
  }
}

/** JSON that does not make a request message: Go's text, with the gateway's status for it. */
function unreadable(err: unknown, code: StatusCode): CallFailure {
  if (err instanceof GoJsonError || err instanceof JsonpbError)
    return new CallFailure(code, err.message, false);
  const s = toStatus(err);
  return new CallFailure(s.code, s.message, true);
}

/** Requests queued for a streaming call before reading the body pauses. */
const QUEUE_HIGH_WATER = 64;

export class JsonGateway {
  /** Register the member's services here (registerServices(gateway.services, ...)). */
  readonly services = new GatewayServices();
  private readonly maxRequestBytes: number;
  private readonly maxPendingResponseBytes: number;

  constructor(opts: JsonGatewayOptions) {
    this.maxRequestBytes = opts.maxRequestBytes;
    this.maxPendingResponseBytes = opts.maxPendingResponseBytes ?? 64 * 1024 * 1024;
  }

  /** The handler for the client port's HTTP/1.1 requests. */
  readonly handle: GatewayHandler = (req, res) => {
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    const rawPath = q < 0 ? url : url.slice(0, q);
    if (!rawPath.startsWith('/v3')) return false;
    let path: string;
    try {
      path = decodeURIComponent(rawPath);
    } catch {
      return false;
    }
    // etcd's accessController: /v3beta/ is the same tree.
    if (path.startsWith('/v3beta/')) path = `/v3/${path.slice('/v3beta/'.length)}`;
    if (path !== '/v3' && !path.startsWith('/v3/')) return false;
    // Go's ServeMux: the subtree root and unclean paths are redirected.
    const clean = path === '/v3' ? '/v3/' : muxCleanPath(path);
    if (clean !== path) {
      redirect(req, res, q < 0 ? clean : `${clean}${url.slice(q)}`);
      return true;
    }
    this.route(path, req, res);
    return true;
  };

  /** grpc-gateway's ServeMux: POST on a known pattern, else 405 or 404 in Go's plain text. */
  private route(path: string, req: HttpRequestLike, res: HttpResponseLike): void {
    const components = path.slice(1).split('/');
    const last = components[components.length - 1] as string;
    const colon = last.lastIndexOf(':');
    if (colon === 0) {
      writeGoTextError(res, 404, 'Not Found');
      return;
    }
    // A ":verb" suffix: etcd's patterns have none, so it never matches.
    const verb = colon > 0 ? last.slice(colon + 1) : '';
    if (colon > 0) components[components.length - 1] = last.slice(0, colon);
    const grpcPath =
      verb === '' && components[0] === 'v3' ? GATEWAY_ROUTES[components.slice(1).join('/')] : undefined;
    if (grpcPath === undefined) {
      writeGoTextError(res, 404, 'Not Found');
      return;
    }
    if (req.method !== 'POST') {
      writeGoTextError(res, 405, 'Method Not Allowed');
      return;
    }
    if (!isGatewayRequest(req) || !isGatewayResponse(res)) {
      // The HTTP/2 adapters of the client port pass no request body.
      writeGoTextError(res, 505, 'HTTP Version Not Supported: the JSON gateway is served over HTTP/1.1');
      return;
    }
    this.call(`/${grpcPath}`, req, res).catch((err: unknown) => {
      // Nothing above should throw; if it does, the client still gets an answer.
      const s = toStatus(err);
      writeCallError(res, s.code, s.message, false);
    });
  }

  private async call(grpcPath: string, req: GatewayRequest, res: GatewayResponse): Promise<void> {
    const types = methodTypes(grpcPath);
    if (types === undefined) throw new Error(`no schema for ${grpcPath}`);
    let ctx: GatewayCallContext;
    try {
      ctx = new GatewayCallContext(grpcPath, gatewayMetadata(req), gatewayTimeoutMs(req));
    } catch (err) {
      const s = toStatus(err);
      writeCallError(res, s.code, s.message, false);
      return;
    }
    // The client going away cancels the call, as it cancels grpc-gateway's context.
    res.once('close', () => ctx.end());
    const bound = this.services.method(grpcPath);
    if (bound?.kind === 'bidiStream') await this.bidiStream(bound, types, req, res, ctx);
    else if (bound?.kind === 'serverStream') await this.serverStream(bound, types, req, res, ctx);
    else await this.unary(bound, grpcPath, types, req, res, ctx);
  }

  /** The request of a single-request call: the body's first JSON value (an empty body is the empty message). */
  private async singleRequest(req: GatewayRequest, types: MethodSchema): Promise<Uint8Array> {
    let body: Buffer;
    try {
      body = await readWholeBody(req, this.bodyLimit());
    } catch (err) {
      if (err instanceof BodyTooLarge)
        throw new CallFailure(
          Status.RESOURCE_EXHAUSTED,
          tooLarge(err.size, this.maxRequestBytes).message,
          true,
        );
      throw err;
    }
    let value: GoJson;
    try {
      const r = readValue(body, 0, true);
      value = r.kind === 'value' ? r.value : { t: 'null' };
      return requestBytes(types, value);
    } catch (err) {
      throw unreadable(err, Status.INVALID_ARGUMENT);
    }
  }

  private async unary(
    bound: BoundMethod | undefined,
    grpcPath: string,
    types: MethodSchema,
    req: GatewayRequest,
    res: GatewayResponse,
    ctx: GatewayCallContext,
  ): Promise<void> {
    try {
      const bytes = await this.singleRequest(req, types);
      if (bound === undefined)
        throw new CallFailure(Status.UNIMPLEMENTED, this.unknownMethod(grpcPath), true);
      const request = this.serverSide(() => decodeRequest(bound, bytes, this.maxRequestBytes));
      const handler = bound.handler as UnaryHandler<unknown, unknown>;
      const response = await this.withDeadline(ctx, async () => {
        try {
          return await handler(request, ctx);
        } catch (err) {
          const s = toStatus(err);
          throw new CallFailure(s.code, s.message, true);
        }
      });
      if (res.writableEnded) return;
      const json = this.serverSide(() => responseJson(bound, types, response));
      res.statusCode = 200;
      res.setHeader('Content-Type', 'application/json');
      res.setHeader('Grpc-Metadata-Content-Type', 'application/grpc');
      res.end(json);
    } catch (err) {
      if (res.writableEnded) return;
      if (err instanceof CallFailure) writeCallError(res, err.code, err.message, err.fromServer);
      else throw err;
    } finally {
      ctx.end();
    }
  }

  private async serverStream(
    bound: BoundMethod,
    types: MethodSchema,
    req: GatewayRequest,
    res: GatewayResponse,
    ctx: GatewayCallContext,
  ): Promise<void> {
    let request: unknown;
    try {
      const bytes = await this.singleRequest(req, types);
      request = this.serverSide(() => decodeRequest(bound, bytes, this.maxRequestBytes));
    } catch (err) {
      if (!(err instanceof CallFailure) || err.fromServer) {
        // The member refused the message: the stream fails with that status.
        const s = err instanceof CallFailure ? err : toStatus(err);
        this.sinkFor(bound, types, res, ctx).fail(s.code, s.message);
        ctx.end();
        return;
      }
      writeCallError(res, err.code, err.message, false);
      ctx.end();
      return;
    }
    const sink = this.sinkFor(bound, types, res, ctx);
    const handler = bound.handler as ServerStreamHandler<unknown, unknown>;
    await this.runStream(res, sink, ctx, () => handler(request, sink, ctx));
  }

  private async bidiStream(
    bound: BoundMethod,
    types: MethodSchema,
    req: GatewayRequest,
    res: GatewayResponse,
    ctx: GatewayCallContext,
  ): Promise<void> {
    const values = new JsonValueStream(req, this.bodyLimit());
    // grpc-gateway reads the first request before anything else; a body it
    // cannot read fails the call (as a plain error: UNKNOWN, 500).
    let first: Uint8Array | undefined;
    try {
      const v = await values.next();
      first = v === undefined ? undefined : requestBytes(types, v);
    } catch (err) {
      const f = err instanceof BodyTooLarge ? undefined : unreadable(err, Status.UNKNOWN);
      writeCallError(res, Status.UNKNOWN, f?.message ?? (err as Error).message, false);
      ctx.end();
      return;
    }
    let pumping = true;
    let resumePump: (() => void) | undefined;
    const queue = new RequestQueue<unknown>(
      {
        pause: () => {
          pumping = false;
        },
        resume: () => {
          pumping = true;
          resumePump?.();
        },
      },
      QUEUE_HIGH_WATER,
    );
    const push = (bytes: Uint8Array) => {
      try {
        queue.push(decodeRequest(bound, bytes, this.maxRequestBytes));
        return true;
      } catch (err) {
        queue.fail(err);
        return false;
      }
    };
    ctx.signal.addEventListener('abort', () =>
      queue.fail(new GrpcError(Status.CANCELLED, 'context canceled')),
    );
    if (first === undefined) queue.end();
    else if (push(first)) {
      // Later requests: any that cannot be read ends the client's side of the stream.
      void (async () => {
        while (!ctx.signal.aborted) {
          if (!pumping) await new Promise<void>((r) => (resumePump = r));
          let next: Uint8Array | undefined;
          try {
            const v = await values.next();
            next = v === undefined ? undefined : requestBytes(types, v);
          } catch {
            next = undefined;
          }
          if (next === undefined) {
            queue.end();
            return;
          }
          if (!push(next)) return;
        }
      })();
    }
    const sink = this.sinkFor(bound, types, res, ctx);
    const handler = bound.handler as BidiStreamHandler<unknown, unknown>;
    await this.runStream(res, sink, ctx, () => handler(queue, sink, ctx));
  }

  private sinkFor(
    bound: BoundMethod,
    types: MethodSchema,
    res: GatewayResponse,
    ctx: GatewayCallContext,
  ): JsonStreamSink<unknown> {
    return new JsonStreamSink<unknown>(
      res,
      (m) => responseJson(bound, types, m),
      this.maxPendingResponseBytes,
      () => ctx.end(),
    );
  }

  private async runStream(
    res: GatewayResponse,
    sink: JsonStreamSink<unknown>,
    ctx: GatewayCallContext,
    run: () => void | Promise<void>,
  ): Promise<void> {
    try {
      await this.withDeadline(ctx, async () => {
        await run();
      });
      sink.finish();
    } catch (err) {
      if (err instanceof CallFailure && !err.fromServer && !sink.started) {
        // grpc-gateway was still waiting for the stream's headers: a plain error answer.
        writeCallError(res, err.code, err.message, false);
        return;
      }
      const s = err instanceof CallFailure ? err : toStatus(err);
      sink.fail(s.code, s.message);
    } finally {
      ctx.end();
    }
  }

  /** Runs `fn`, failing with DEADLINE_EXCEEDED once the call's Grpc-Timeout has passed. */
  private async withDeadline<T>(ctx: GatewayCallContext, fn: () => Promise<T>): Promise<T> {
    const ms = ctx.timeoutMs;
    if (ms === undefined) return fn();
    let timer: NodeJS.Timeout | undefined;
    const expired = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        reject(new CallFailure(Status.DEADLINE_EXCEEDED, 'context deadline exceeded', false));
        ctx.end();
      }, ms);
    });
    try {
      return await Promise.race([fn(), expired]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** Runs what the member itself would do with the message; its failures are the member's answer. */
  private serverSide<T>(fn: () => T): T {
    try {
      return fn();
    } catch (err) {
      const s = toStatus(err);
      throw new CallFailure(s.code, s.message, true);
    }
  }

  /** A body larger than any acceptable request (JSON and base64 take up to ~4x the bytes of the message). */
  private bodyLimit(): number {
    return 4 * this.maxRequestBytes + 64 * 1024;
  }

  /** grpc-go's answer for a method without a handler. */
  private unknownMethod(grpcPath: string): string {
    const slash = grpcPath.lastIndexOf('/');
    const service = grpcPath.slice(1, slash);
    const method = grpcPath.slice(slash + 1);
    if (this.services.hasService(service)) return `unknown method ${method} for service ${service}`;
    return `unknown service ${service}`;
  }
}

/** Go's ServeMux cleanPath: path.Clean, keeping a trailing slash. */
function muxCleanPath(p: string): string {
  let np = posix.normalize(p);
  if (np.endsWith('/') && np !== '/' && !p.endsWith('/')) np = np.slice(0, -1);
  if (p.endsWith('/') && !np.endsWith('/')) np += '/';
  return np;
}

/** Go's http.Redirect with 301: a short HTML body for GET and HEAD only. */
function redirect(req: HttpRequestLike, res: HttpResponseLike, location: string): void {
  res.statusCode = 301;
  res.setHeader('Location', location);
  if (req.method === 'GET' || req.method === 'HEAD') {
    res.setHeader('Content-Type', 'text/html; charset=utf-8');
    res.end(req.method === 'GET' ? `<a href="${location}">Moved Permanently</a>.\n\n` : '');
    return;
  }
  res.end();
}
