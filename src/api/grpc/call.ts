/**
 * One gRPC call on one HTTP/2 stream: reads request frames, runs the handler,
 * writes response frames, and ends the stream with exactly one status.
 *
 * Hot path (unary): data → decode → handler → encode → respond + end + trailers.
 * Everything optional (AbortController, timers, close listeners) is created
 * only when a call needs it.
 */
import {
  constants,
  type IncomingHttpHeaders,
  type OutgoingHttpHeaders,
  type ServerHttp2Stream,
} from 'node:http2';
import { encodeFrame, FrameReader, type MessageCodec } from './framing.js';
import { RequestQueue } from './request-queue.js';
import { encodeGrpcMessage, GrpcError, Status, type StatusCode, toStatus } from './status.js';
import type {
  BidiStreamHandler,
  CallContext,
  ClientStreamHandler,
  ResponseSink,
  ServerStreamHandler,
  UnaryHandler,
} from './types.js';

/** A registered method with its handler; the generic parameters stay intact. */
export type RegisteredMethod<Req, Res> = {
  readonly path: string;
  readonly requestCodec: MessageCodec<Req>;
  readonly responseCodec: MessageCodec<Res>;
} & (
  | { readonly kind: 'unary'; readonly handler: UnaryHandler<Req, Res> }
  | { readonly kind: 'serverStream'; readonly handler: ServerStreamHandler<Req, Res> }
  | { readonly kind: 'clientStream'; readonly handler: ClientStreamHandler<Req, Res> }
  | { readonly kind: 'bidiStream'; readonly handler: BidiStreamHandler<Req, Res> }
);

export interface CallLimits {
  readonly maxReceiveMessageBytes: number;
  /** A streaming call whose unsent responses exceed this is failed. */
  readonly maxPendingResponseBytes: number;
  /** Queued request messages before reading pauses (streaming requests). */
  readonly requestQueueHighWater: number;
}

// Frozen so that any attempt by the runtime to mutate shared header objects
// fails loudly instead of leaking state between calls.
const RESPONSE_HEADERS: OutgoingHttpHeaders = Object.freeze({
  ':status': 200,
  'content-type': 'application/grpc',
});
const OK_TRAILERS: OutgoingHttpHeaders = Object.freeze({ 'grpc-status': '0' });
const WAIT_FOR_TRAILERS = Object.freeze({ waitForTrailers: true });
const END_STREAM = Object.freeze({ endStream: true });

function ignoreStreamError(): void {
  // Stream errors surface as 'close' (handled there); without a listener they
  // would be thrown as uncaught exceptions and take the process down.
}

function sendOkTrailers(this: ServerHttp2Stream): void {
  this.sendTrailers(OK_TRAILERS);
}

function isThenable<T>(value: T | Promise<T>): value is Promise<T> {
  return typeof (value as { then?: unknown } | null)?.then === 'function';
}

export function statusHeaders(code: StatusCode, message: string): OutgoingHttpHeaders {
  const headers: OutgoingHttpHeaders = { 'grpc-status': String(code) };
  if (message !== '') headers['grpc-message'] = encodeGrpcMessage(message);
  return headers;
}

/** Ends a stream that never reached a handler with a trailers-only response. */
export function respondWithStatus(stream: ServerHttp2Stream, code: StatusCode, message: string): void {
  stream.on('error', ignoreStreamError);
  if (stream.destroyed || stream.closed) return;
  stream.respond({ ...RESPONSE_HEADERS, ...statusHeaders(code, message) }, END_STREAM);
  closeReadSide(stream);
}

/** After an early status, stop the client uploading more (RST NO_ERROR, as grpc-go does). */
function closeReadSide(stream: ServerHttp2Stream): void {
  if (!stream.readableEnded) stream.close(constants.NGHTTP2_NO_ERROR);
}

export class ServerCall<Req, Res> implements CallContext, ResponseSink<Res> {
  readonly method: string;
  private ended_ = false;
  private headersSent = false;
  private controller: AbortController | undefined;
  private timer: NodeJS.Timeout | undefined;
  private trailers: OutgoingHttpHeaders = OK_TRAILERS;
  private received = false;
  private queue: RequestQueue<Req> | undefined;
  private readonly reader: FrameReader;

  constructor(
    private readonly stream: ServerHttp2Stream,
    readonly metadata: IncomingHttpHeaders,
    private readonly def: RegisteredMethod<Req, Res>,
    private readonly limits: CallLimits,
    readonly timeoutMs: number | undefined,
  ) {
    this.method = def.path;
    this.reader = new FrameReader(limits.maxReceiveMessageBytes);
  }

  get ended(): boolean {
    return this.ended_;
  }

  get signal(): AbortSignal {
    if (!this.controller) {
      this.controller = new AbortController();
      if (this.ended_) this.controller.abort();
      else this.watchClose();
    }
    return this.controller.signal;
  }

  start(): void {
    const stream = this.stream;
    stream.on('error', ignoreStreamError);
    if (this.timeoutMs !== undefined) {
      this.timer = setTimeout(
        () => this.finish(Status.DEADLINE_EXCEEDED, 'context deadline exceeded'),
        this.timeoutMs,
      );
      this.watchClose();
    }
    const streamingRequest = this.def.kind === 'clientStream' || this.def.kind === 'bidiStream';
    if (streamingRequest) this.startRequestStream();
    else if (this.def.kind === 'serverStream') this.watchClose();
    stream.on('data', (chunk: Buffer) => this.onData(chunk));
    stream.on('end', () => this.onEnd());
  }

  // ---------------------------------------------------------------- input

  private onData(chunk: Buffer): void {
    if (this.ended_) return;
    try {
      this.reader.push(chunk, (payload) => this.onMessage(payload));
    } catch (err) {
      this.fail(err);
    }
  }

  private onMessage(payload: Buffer): void {
    if (this.ended_) return;
    let request: Req;
    try {
      request = this.def.requestCodec.decode(payload);
    } catch (err) {
      const reason = err instanceof Error ? err.message : String(err);
      throw new GrpcError(Status.INTERNAL, `grpc: error unmarshalling request: ${reason}`);
    }
    if (this.queue) {
      this.queue.push(request);
      return;
    }
    // Unary request: only the first message counts.
    if (this.received) return;
    this.received = true;
    this.runSingleRequest(request);
  }

  private onEnd(): void {
    if (this.ended_) return;
    if (!this.reader.idle) {
      this.finish(Status.INTERNAL, 'grpc: stream ended inside a message frame');
      return;
    }
    if (this.queue) this.queue.end();
    else if (!this.received)
      this.finish(Status.INTERNAL, 'grpc: no request message received for a unary call');
  }

  private startRequestStream(): void {
    const stream = this.stream;
    const queue = new RequestQueue<Req>(
      { pause: () => stream.pause(), resume: () => stream.resume() },
      this.limits.requestQueueHighWater,
    );
    this.queue = queue;
    this.watchClose();
    const def = this.def;
    if (def.kind === 'bidiStream') this.settle(this.invoke(() => def.handler(queue, this, this)));
    else if (def.kind === 'clientStream') this.settleUnary(this.invoke(() => def.handler(queue, this)));
  }

  private runSingleRequest(request: Req): void {
    const def = this.def;
    if (def.kind === 'unary') this.settleUnary(this.invoke(() => def.handler(request, this)));
    else if (def.kind === 'serverStream') this.settle(this.invoke(() => def.handler(request, this, this)));
  }

  /** Runs a handler, turning a synchronous throw into a rejected result. */
  private invoke<T>(run: () => T | Promise<T>): T | Promise<T> {
    try {
      return run();
    } catch (err) {
      return Promise.reject(err);
    }
  }

  private settleUnary(result: Res | Promise<Res>): void {
    if (isThenable(result)) {
      result.then(
        (res) => this.respondUnary(res),
        (err) => this.fail(err),
      );
    } else {
      this.respondUnary(result);
    }
  }

  private settle(result: void | Promise<void>): void {
    if (isThenable(result)) {
      result.then(
        () => this.finish(Status.OK, ''),
        (err) => this.fail(err),
      );
    } else {
      this.finish(Status.OK, '');
    }
  }

  // ---------------------------------------------------------------- output

  private respondUnary(response: Res): void {
    if (this.ended_) return;
    let frame: Uint8Array;
    try {
      frame = encodeFrame(this.def.responseCodec, response);
    } catch (err) {
      this.finish(
        Status.INTERNAL,
        `grpc: error while marshaling: ${err instanceof Error ? err.message : err}`,
      );
      return;
    }
    this.markEnded();
    const stream = this.stream;
    if (stream.destroyed || stream.closed) return;
    stream.respond(RESPONSE_HEADERS, WAIT_FOR_TRAILERS);
    stream.once('wantTrailers', sendOkTrailers);
    stream.end(frame);
  }

  write(message: Res): boolean {
    if (this.ended_) return false;
    const stream = this.stream;
    if (stream.destroyed || stream.closed) return false;
    const frame = encodeFrame(this.def.responseCodec, message);
    if (stream.writableLength + frame.length > this.limits.maxPendingResponseBytes) {
      this.finish(
        Status.RESOURCE_EXHAUSTED,
        'grpc: server send buffer full: client is not reading responses',
      );
      return false;
    }
    this.sendHeaders();
    return stream.write(frame);
  }

  drained(): Promise<void> {
    const stream = this.stream;
    if (this.ended_ || !stream.writableNeedDrain) return Promise.resolve();
    return new Promise((resolve) => {
      const done = (): void => {
        stream.off('drain', done);
        stream.off('close', done);
        resolve();
      };
      stream.on('drain', done);
      stream.on('close', done);
    });
  }

  private sendHeaders(): void {
    if (this.headersSent) return;
    this.headersSent = true;
    this.stream.respond(RESPONSE_HEADERS, WAIT_FOR_TRAILERS);
    this.stream.once('wantTrailers', () => this.stream.sendTrailers(this.trailers));
  }

  private fail(err: unknown): void {
    const { code, message } = toStatus(err);
    this.finish(code, message);
  }

  /** Ends the call with a status (once; later calls are ignored). */
  finish(code: StatusCode, message: string): void {
    if (this.ended_) return;
    this.markEnded();
    const stream = this.stream;
    if (stream.destroyed || stream.closed) return;
    if (!this.headersSent) {
      this.headersSent = true;
      stream.respond({ ...RESPONSE_HEADERS, ...statusHeaders(code, message) }, END_STREAM);
    } else {
      this.trailers = code === Status.OK ? OK_TRAILERS : statusHeaders(code, message);
      stream.end();
    }
    closeReadSide(stream);
  }

  private markEnded(): void {
    this.ended_ = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.queue?.fail(new GrpcError(Status.CANCELLED, 'grpc: the call has ended'));
    this.controller?.abort();
  }

  private closeWatched = false;

  /** Observes client cancellation (RST_STREAM) and connection loss. */
  private watchClose(): void {
    if (this.closeWatched) return;
    this.closeWatched = true;
    this.stream.once('close', () => {
      if (!this.ended_) this.markEnded();
    });
  }
}
