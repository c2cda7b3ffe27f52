/**
 * Non-gRPC requests that arrive over HTTP/2 (e.g. `curl --http2 …/health`
 * over TLS, where ALPN cannot tell curl from a gRPC client) are handed to an
 * ordinary request/response handler through these small adapters, one per
 * transport. The request is a readable stream of the request body (so the JSON
 * gateway's and v2's POST/PUT bodies arrive as over HTTP/1.1); the response
 * sends its headers with the first write and every write as it is made, within
 * HTTP/2 flow control, so streamed answers (a gateway watch) arrive as they happen.
 */
import { EventEmitter } from 'node:events';
import type { IncomingHttpHeaders, OutgoingHttpHeaders, ServerHttp2Stream } from 'node:http2';
import { PassThrough } from 'node:stream';
import type { HttpRequestLike, HttpResponseLike } from '../http/types.js';
import type { H2Stream } from './h2/connection.js';

export type PlainHttpHandler = (req: HttpRequestLike, res: HttpResponseLike) => void;

function headerValue(value: string | number | readonly string[]): string {
  return typeof value === 'object' ? value.join(', ') : String(value);
}

/** HTTP/1.1 connection headers have no place in an HTTP/2 response (RFC 9113 §8.2.2). */
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'transfer-encoding', 'upgrade', 'trailer']);

/** The request: its body as a readable stream, with the fields the handlers read. */
function requestOf(
  headers: IncomingHttpHeaders,
  socket: unknown,
): { req: HttpRequestLike; body: PassThrough } {
  const body = new PassThrough();
  const method = headers[':method'];
  const url = headers[':path'];
  const req = Object.assign(body, {
    method: typeof method === 'string' ? method : undefined,
    url: typeof url === 'string' ? url : undefined,
    headers,
    socket,
  });
  return { req, body };
}

/** Where a response's parts go, per transport. */
interface ResponseSink {
  /** Status and headers; `end` when there is no body at all. */
  head(status: number, headers: Array<[string, string]>, end: boolean): void;
  /** One piece of the body; false when the stream holds more than it should (wait for drain). */
  write(chunk: Buffer): boolean;
  /** Calls `onDrain` once what was written has gone out (below the transport's high-water mark). */
  whenDrained(onDrain: () => void): void;
  /** Bytes written and not yet sent. */
  readonly buffered: number;
  end(): void;
  readonly closed: boolean;
}

/**
 * A response with the surface of Node's (writeHead/write/end, 'drain' and 'close'): headers
 * go out with the first write (or flushHeaders), each write is sent as it is made within the
 * transport's flow control, so a gateway watch streams its events as over HTTP/1.1.
 */
class StreamingResponse extends EventEmitter implements HttpResponseLike {
  statusCode = 200;
  headersSent = false;
  writableEnded = false;
  private readonly headers = new Map<string, string>();
  /** A write returned false: writableLength reports the backlog until 'drain'. */
  private needDrain = false;
  private closeEmitted = false;

  constructor(private readonly sink: ResponseSink) {
    super();
  }

  get writableLength(): number {
    return this.needDrain ? this.sink.buffered : 0;
  }

  setHeader(name: string, value: string | number | readonly string[]): this {
    const key = name.toLowerCase();
    if (!HOP_BY_HOP.has(key)) this.headers.set(key, headerValue(value));
    return this;
  }

  writeHead(status: number): this {
    this.statusCode = status;
    return this;
  }

  flushHeaders(): void {
    this.sendHead(false);
  }

  write(chunk: string | Buffer): boolean {
    if (this.writableEnded || this.sink.closed) return false;
    this.sendHead(false);
    const data = typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : chunk;
    if (data.length === 0) return true;
    const ok = this.sink.write(data);
    if (!ok && !this.needDrain) {
      this.needDrain = true;
      this.sink.whenDrained(() => {
        this.needDrain = false;
        this.emit('drain');
      });
    }
    return ok;
  }

  /** HTTP/2 trailers are not sent for plain responses (grpc-gateway sends none unless asked). */
  addTrailers(_headers: Record<string, string>): void {}

  end(body?: string | Buffer): this {
    if (this.writableEnded) return this;
    const data = body === undefined ? undefined : typeof body === 'string' ? Buffer.from(body) : body;
    if (!this.headersSent && (data === undefined || data.length === 0)) {
      this.sendHead(true);
    } else {
      if (data !== undefined && data.length > 0) this.write(data);
      if (!this.sink.closed) this.sink.end();
    }
    this.writableEnded = true;
    this.emit('finish');
    this.markClosed();
    return this;
  }

  /** 'close' once: the response ended, or the stream went away first. */
  markClosed(): void {
    if (this.closeEmitted) return;
    this.closeEmitted = true;
    this.emit('close');
  }

  private sendHead(end: boolean): void {
    if (this.headersSent || this.sink.closed) return;
    this.headersSent = true;
    this.sink.head(this.statusCode, [...this.headers], end);
  }
}

function nativeSink(stream: H2Stream): ResponseSink {
  return {
    head: (status, headers, end) => {
      if (!stream.closed) stream.conn.sendPlainHead(stream, status, headers, end);
    },
    write: (chunk) => stream.writeMessage(chunk),
    whenDrained: (onDrain) => void stream.drained().then(onDrain),
    get buffered() {
      return stream.bufferedBytes;
    },
    end: () => stream.conn.endPlain(stream),
    get closed() {
      return stream.closed;
    },
  };
}

function nodeSink(stream: ServerHttp2Stream): ResponseSink {
  const gone = () => stream.destroyed || stream.closed;
  return {
    head: (status, headers, end) => {
      if (gone()) return;
      const out: OutgoingHttpHeaders = { ':status': status };
      for (const [name, value] of headers) out[name] = value;
      stream.respond(out, { endStream: end });
    },
    write: (chunk) => stream.write(chunk),
    whenDrained: (onDrain) => {
      stream.once('drain', onDrain);
    },
    get buffered() {
      return stream.writableLength;
    },
    end: () => stream.end(),
    get closed() {
      return gone();
    },
  };
}

export function servePlainNative(
  handler: PlainHttpHandler,
  stream: H2Stream,
  headers: IncomingHttpHeaders,
): void {
  const res = new StreamingResponse(nativeSink(stream));
  const { req, body } = requestOf(headers, stream.conn.transportSocket);
  stream.attach({
    onData: (chunk) => body.write(chunk),
    onEnd: () => body.end(),
    onClose: () => {
      body.destroy();
      res.markClosed();
    },
  });
  // A request without a body (GET) may have ended with its HEADERS frame already.
  if (stream.remoteEnded) body.end();
  handler(req, res);
}

export function servePlainNode(
  handler: PlainHttpHandler,
  stream: ServerHttp2Stream,
  headers: IncomingHttpHeaders,
): void {
  stream.on('error', () => {});
  const res = new StreamingResponse(nodeSink(stream));
  const { req, body } = requestOf(headers, stream.session?.socket);
  stream.pipe(body);
  stream.once('close', () => res.markClosed());
  handler(req, res);
}
