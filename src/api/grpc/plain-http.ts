/**
 * Non-gRPC requests that arrive over HTTP/2 (e.g. `curl --http2 …/health`
 * over TLS, where ALPN cannot tell curl from a gRPC client) are handed to an
 * ordinary request/response handler through these small adapters, one per
 * transport. The request/response shapes are the server's HTTP handler types.
 */
import type { IncomingHttpHeaders, OutgoingHttpHeaders, ServerHttp2Stream } from 'node:http2';
import type { HttpRequestLike, HttpResponseLike } from '../http/types.js';
import type { H2Stream } from './h2/connection.js';

export type PlainHttpHandler = (req: HttpRequestLike, res: HttpResponseLike) => void;

function headerValue(value: string | number | readonly string[]): string {
  return typeof value === 'object' ? value.join(', ') : String(value);
}

function requestOf(headers: IncomingHttpHeaders, socket: unknown): HttpRequestLike {
  const method = headers[':method'];
  const url = headers[':path'];
  return {
    method: typeof method === 'string' ? method : undefined,
    url: typeof url === 'string' ? url : undefined,
    headers,
    socket,
  };
}

/** Collects status and headers, then sends everything on end(). */
function responseOf(
  send: (status: number, headers: Array<[string, string]>, body: Buffer) => void,
): HttpResponseLike {
  const headers = new Map<string, string>();
  let done = false;
  const res: HttpResponseLike = {
    statusCode: 200,
    setHeader(name, value) {
      headers.set(name.toLowerCase(), headerValue(value));
      return res;
    },
    end(body?: string) {
      if (done) return;
      done = true;
      send(res.statusCode, [...headers], Buffer.from(body ?? '', 'utf8'));
    },
  };
  return res;
}

export function servePlainNative(
  handler: PlainHttpHandler,
  stream: H2Stream,
  headers: IncomingHttpHeaders,
): void {
  const res = responseOf((status, out, body) => stream.respondPlain(status, out, body));
  handler(requestOf(headers, stream.conn.transportSocket), res);
}

export function servePlainNode(
  handler: PlainHttpHandler,
  stream: ServerHttp2Stream,
  headers: IncomingHttpHeaders,
): void {
  stream.on('error', () => {});
  const res = responseOf((status, out, body) => {
    if (stream.destroyed || stream.closed) return;
    const outHeaders: OutgoingHttpHeaders = { ':status': status };
    for (const [name, value] of out) outHeaders[name] = value;
    stream.respond(outHeaders, { endStream: body.length === 0 });
    if (body.length > 0) stream.end(body);
  });
  handler(requestOf(headers, stream.session?.socket), res);
}
