/**
 * One gRPC call: reads request frames, runs the handler, writes response
 * frames, and ends the stream with exactly one status. Transport-independent
 * (see transport.ts).
 *
 * Hot path (unary): data → decode → handler → encode → respondUnary.
 * Everything optional (AbortController, timers) is created only when a call
 * needs it.
 */
import type { IncomingHttpHeaders } from 'node:http2';
import { TLSSocket } from 'node:tls';
import { encodeFrame, FrameReader, type MessageCodec } from './framing.js';
import { RequestQueue } from './request-queue.js';
import { GrpcError, Status, type StatusCode, toStatus } from './status.js';
import type { CallEvents, CallStream } from './transport.js';
import type {
  BidiStreamHandler,
  CallContext,
  ClientCertificate,
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

/**
 * The decoder's reason in the words of etcd's Go decoder where they differ only in
 * wording: a message cut short is "premature EOF" here and "unexpected EOF" there.
 */
function goDecodeError(err: unknown): string {
  const reason = err instanceof Error ? err.message : String(err);
  return reason === 'premature EOF' ? 'unexpected EOF' : reason;
}

function isThenable<T>(value: T | Promise<T>): value is Promise<T> {
  return typeof (value as { then?: unknown } | null)?.then === 'function';
}

export class ServerCall<Req, Res> implements CallContext, ResponseSink<Res>, CallEvents {
  readonly method: string;
  private ended_ = false;
  private controller: AbortController | undefined;
  private timer: NodeJS.Timeout | undefined;
  private received = false;
  private queue: RequestQueue<Req> | undefined;
  private readonly reader: FrameReader;

  constructor(
    private readonly stream: CallStream,
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

  clientCertificate(): ClientCertificate | undefined {
    const socket = this.stream.socket?.();
    if (!(socket instanceof TLSSocket)) return undefined;
    const cert = socket.getPeerCertificate();
    if (cert === null || cert === undefined || Object.keys(cert).length === 0) return undefined;
    const cn: string | string[] | undefined = cert.subject?.CN;
    return { authorized: socket.authorized, commonName: Array.isArray(cn) ? cn[0] : cn };
  }

  get signal(): AbortSignal {
    if (!this.controller) {
      this.controller = new AbortController();
      if (this.ended_) this.controller.abort();
    }
    return this.controller.signal;
  }

  start(): void {
    if (this.timeoutMs !== undefined) {
      this.timer = setTimeout(
        () => this.finish(Status.DEADLINE_EXCEEDED, 'context deadline exceeded'),
        this.timeoutMs,
      );
    }
    this.stream.attach(this);
    if (this.def.kind === 'clientStream' || this.def.kind === 'bidiStream') this.startRequestStream();
  }

  // ---------------------------------------------------------------- input

  onData(chunk: Buffer): void {
    if (this.ended_) return;
    try {
      this.reader.push(chunk, (payload) => this.onMessage(payload));
    } catch (err) {
      this.fail(err);
    }
  }

  onEnd(): void {
    if (this.ended_) return;
    // grpc-go's answers (what etcd sends): its reader hits io.ErrUnexpectedEOF inside a
    // message and io.EOF before one; a single-request call reports them as UNKNOWN with the
    // bare Go text, a streaming one (through toRPCErr) as INTERNAL.
    if (!this.reader.idle) {
      this.finish(this.queue ? Status.INTERNAL : Status.UNKNOWN, 'unexpected EOF');
      return;
    }
    if (this.queue) this.queue.end();
    else if (!this.received) this.finish(Status.UNKNOWN, 'EOF');
  }

  /** Client reset or connection lost: nobody is listening any more. */
  onClose(): void {
    if (!this.ended_) this.markEnded();
  }

  private onMessage(payload: Buffer): void {
    if (this.ended_) return;
    let request: Req;
    try {
      request = this.def.requestCodec.decode(payload);
    } catch (err) {
      throw new GrpcError(Status.INTERNAL, `grpc: error unmarshalling request: ${goDecodeError(err)}`);
    }
    if (this.queue) {
      this.queue.push(request);
      return;
    }
    // Unary and server-streaming requests: only the first message counts.
    if (this.received) return;
    this.received = true;
    this.runSingleRequest(request);
  }

  private startRequestStream(): void {
    const stream = this.stream;
    const queue = new RequestQueue<Req>(
      { pause: () => stream.pause(), resume: () => stream.resume() },
      this.limits.requestQueueHighWater,
    );
    this.queue = queue;
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
    this.stream.respondUnary(frame);
  }

  write(message: Res): boolean {
    if (this.ended_ || this.stream.closed) return false;
    const frame = encodeFrame(this.def.responseCodec, message);
    if (this.stream.bufferedBytes + frame.length > this.limits.maxPendingResponseBytes) {
      this.finish(
        Status.RESOURCE_EXHAUSTED,
        'grpc: server send buffer full: client is not reading responses',
      );
      return false;
    }
    return this.stream.writeMessage(frame);
  }

  drained(): Promise<void> {
    if (this.ended_) return Promise.resolve();
    return this.stream.drained();
  }

  private fail(err: unknown): void {
    const { code, message } = toStatus(err);
    this.finish(code, message);
  }

  /** Ends the call with a status (once; later calls are ignored). */
  finish(code: StatusCode, message: string): void {
    if (this.ended_) return;
    this.markEnded();
    this.stream.finish(code, message);
  }

  private markEnded(): void {
    this.ended_ = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.queue?.fail(new GrpcError(Status.CANCELLED, 'grpc: the call has ended'));
    this.controller?.abort();
  }
}
