// The request and response surface the v2 handlers need: Node's HTTP/1.1
// (and HTTP/2 compatibility) objects, with a readable body and a writable,
// flushable response for watches.
import { goJsonString } from '../../../peer/wire/go-json.js';
import type { HttpRequestLike, HttpResponseLike } from '../types.js';

export interface V2HttpRequest extends HttpRequestLike, AsyncIterable<Buffer | string> {
  once(event: 'close', listener: () => void): unknown;
}

export interface V2HttpResponse extends HttpResponseLike {
  write(chunk: string): unknown;
  writeHead(status: number): unknown;
  flushHeaders?(): void;
  once(event: 'close', listener: () => void): unknown;
  readonly writableEnded?: boolean;
}

export function isStreaming(req: HttpRequestLike): req is V2HttpRequest {
  const r = req as Partial<V2HttpRequest>;
  return typeof r.once === 'function' && typeof r[Symbol.asyncIterator] === 'function';
}

export function isWritable(res: HttpResponseLike): res is V2HttpResponse {
  const r = res as Partial<V2HttpResponse>;
  return typeof r.write === 'function' && typeof r.writeHead === 'function' && typeof r.once === 'function';
}

/** Reads the body, up to `limit` bytes (more is reported as overflow and not kept). */
export async function readBody(
  req: V2HttpRequest,
  limit: number,
): Promise<{ text: string; overflow: boolean }> {
  const chunks: Buffer[] = [];
  let size = 0;
  let overflow = false;
  for await (const chunk of req) {
    const b = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
    size += b.length;
    if (size > limit) overflow = true;
    else chunks.push(b);
  }
  return { text: Buffer.concat(chunks).toString('utf8'), overflow };
}

/** etcd's allowMethod: anything else is 405 with the allowed list. */
export function allowMethods(
  req: HttpRequestLike,
  res: HttpResponseLike,
  methods: readonly string[],
): boolean {
  if (methods.includes(req.method ?? '')) return true;
  res.setHeader('Allow', methods.join(','));
  goHttpError(res, 405, 'Method Not Allowed');
  return false;
}

/** Go's http.Error. */
export function goHttpError(res: HttpResponseLike, status: number, message: string): void {
  res.statusCode = status;
  res.setHeader('Content-Type', 'text/plain; charset=utf-8');
  res.setHeader('X-Content-Type-Options', 'nosniff');
  res.end(`${message}\n`);
}

/** etcd's httptypes.HTTPError: {"message": ...} without a newline. */
export function writeHttpError(res: HttpResponseLike, status: number, message: string): void {
  res.statusCode = status;
  res.setHeader('Content-Type', 'application/json');
  res.end(`{"message":${goJsonString(message)}}`);
}
