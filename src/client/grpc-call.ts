import http2 from 'node:http2';
import { AsyncQueue } from './async-queue.js';
import { encodeFrame, FrameDecoder } from './grpc-frame.js';
import { decodeGrpcMessage, GrpcCode, GrpcError } from './grpc-status.js';

/** Extra request headers (gRPC metadata), e.g. etcd's auth `token`. */
export type Metadata = Record<string, string>;

const STREAM_HIGH_WATER = 256;

export function requestHeaders(path: string, metadata: Metadata, deadline: number | undefined) {
  const headers: http2.OutgoingHttpHeaders = {
    ':method': 'POST',
    ':path': path,
    'content-type': 'application/grpc',
    te: 'trailers',
    ...metadata,
  };
  if (deadline !== undefined) headers['grpc-timeout'] = `${Math.max(1, Math.ceil(deadline - Date.now()))}m`;
  return headers;
}

/**
 * Tracks the outcome of one HTTP/2 stream carrying a gRPC call: status from
 * trailers (or a trailers-only response), HTTP-level failures, resets.
 */
class CallStatus {
  httpStatus: number | undefined;
  grpcStatus: number | undefined;
  grpcMessage = '';

  onHeaders(headers: http2.IncomingHttpHeaders): void {
    const status = headers[':status'];
    if (status !== undefined) this.httpStatus = Number(status);
    const grpcStatus = headers['grpc-status'];
    if (grpcStatus !== undefined) {
      this.grpcStatus = Number(grpcStatus);
      const msg = headers['grpc-message'];
      this.grpcMessage = decodeGrpcMessage(typeof msg === 'string' ? msg : '');
    }
  }

  /** The error this call ended with, or undefined for OK. */
  outcome(rstCode: number): GrpcError | undefined {
    if (this.grpcStatus === GrpcCode.OK) return undefined;
    if (this.grpcStatus !== undefined) return new GrpcError(this.grpcStatus, this.grpcMessage);
    if (this.httpStatus !== undefined && this.httpStatus !== 200) {
      return new GrpcError(
        httpToGrpc(this.httpStatus),
        `unexpected HTTP status code received from server: ${this.httpStatus}`,
      );
    }
    if (rstCode === http2.constants.NGHTTP2_CANCEL)
      return new GrpcError(GrpcCode.CANCELLED, 'context canceled');
    return new GrpcError(GrpcCode.UNAVAILABLE, `stream closed without status (HTTP/2 code ${rstCode})`);
  }
}

function httpToGrpc(status: number): number {
  switch (status) {
    case 400:
      return GrpcCode.INTERNAL;
    case 401:
      return GrpcCode.UNAUTHENTICATED;
    case 403:
      return GrpcCode.PERMISSION_DENIED;
    case 404:
      return GrpcCode.UNIMPLEMENTED;
    case 429:
    case 502:
    case 503:
    case 504:
      return GrpcCode.UNAVAILABLE;
    default:
      return GrpcCode.UNKNOWN;
  }
}

export function deadlineError(): GrpcError {
  return new GrpcError(GrpcCode.DEADLINE_EXCEEDED, 'context deadline exceeded');
}

/** Sends one request message and resolves with the single response message. */
export function unaryCall(
  session: http2.ClientHttp2Session,
  path: string,
  body: Uint8Array,
  metadata: Metadata,
  deadline: number | undefined,
): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const req = session.request(requestHeaders(path, metadata, deadline));
    const status = new CallStatus();
    const decoder = new FrameDecoder();
    const messages: Buffer[] = [];
    let settled = false;
    let timer: NodeJS.Timeout | undefined;
    const settle = (err: GrpcError | undefined, value?: Buffer) => {
      if (settled) return;
      settled = true;
      if (timer !== undefined) clearTimeout(timer);
      if (err !== undefined) reject(err);
      else resolve(value as Buffer);
    };
    if (deadline !== undefined) {
      timer = setTimeout(
        () => {
          req.close(http2.constants.NGHTTP2_CANCEL);
          settle(deadlineError());
        },
        Math.max(0, deadline - Date.now()),
      );
    }
    req.on('response', (h) => status.onHeaders(h));
    req.on('trailers', (h) => status.onHeaders(h));
    req.on('data', (chunk: Buffer) => {
      try {
        messages.push(...decoder.push(chunk));
      } catch (e) {
        req.close(http2.constants.NGHTTP2_CANCEL);
        settle(new GrpcError(GrpcCode.INTERNAL, (e as Error).message));
      }
    });
    req.on('error', (e: Error) => settle(new GrpcError(GrpcCode.UNAVAILABLE, e.message)));
    req.on('close', () => {
      const err = status.outcome(req.rstCode ?? 0);
      if (err !== undefined) return settle(err);
      if (messages.length !== 1 || decoder.pendingBytes() !== 0) {
        return settle(
          new GrpcError(GrpcCode.INTERNAL, `expected one response message, got ${messages.length}`),
        );
      }
      settle(undefined, messages[0]);
    });
    req.end(encodeFrame(body));
  });
}

/**
 * A bidirectional (or server-streaming) call: send() request messages,
 * iterate the responses; iteration throws a GrpcError if the call ends with
 * a non-OK status.
 */
export class BidiCall implements AsyncIterable<Buffer> {
  private readonly queue: AsyncQueue<Buffer>;
  private readonly status = new CallStatus();
  private readonly decoder = new FrameDecoder();
  private timer: NodeJS.Timeout | undefined;
  private finished = false;

  constructor(
    private readonly req: http2.ClientHttp2Stream,
    deadline: number | undefined,
  ) {
    this.queue = new AsyncQueue<Buffer>(
      STREAM_HIGH_WATER,
      () => req.pause(),
      () => req.resume(),
    );
    if (deadline !== undefined) {
      this.timer = setTimeout(() => this.fail(deadlineError()), Math.max(0, deadline - Date.now()));
    }
    req.on('response', (h) => this.status.onHeaders(h));
    req.on('trailers', (h) => this.status.onHeaders(h));
    req.on('data', (chunk: Buffer) => {
      try {
        for (const m of this.decoder.push(chunk)) this.queue.push(m);
      } catch (e) {
        this.fail(new GrpcError(GrpcCode.INTERNAL, (e as Error).message));
      }
    });
    req.on('error', (e: Error) => this.fail(new GrpcError(GrpcCode.UNAVAILABLE, e.message)));
    req.on('close', () => this.finish(this.status.outcome(req.rstCode ?? 0)));
  }

  /** Queues one request message; false means the transport buffer is full (wait for drain). */
  send(message: Uint8Array): boolean {
    if (this.finished || this.req.writableEnded) return false;
    return this.req.write(encodeFrame(message));
  }

  /** Half-closes: no more requests; responses keep coming. */
  end(): void {
    if (!this.req.writableEnded) this.req.end();
  }

  /** Abandons the call (RST_STREAM CANCEL). */
  cancel(): void {
    this.fail(new GrpcError(GrpcCode.CANCELLED, 'context canceled'));
  }

  next(): Promise<IteratorResult<Buffer>> {
    return this.queue.next();
  }

  [Symbol.asyncIterator](): AsyncIterator<Buffer> {
    return { next: () => this.queue.next() };
  }

  private fail(err: GrpcError): void {
    if (!this.req.closed) this.req.close(http2.constants.NGHTTP2_CANCEL);
    this.finish(err);
  }

  private finish(err: GrpcError | undefined): void {
    if (this.finished) return;
    this.finished = true;
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.queue.close(err);
  }
}
