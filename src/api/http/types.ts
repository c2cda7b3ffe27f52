// The slice of Node's request/response objects the handlers use, so they serve
// both node:http (HTTP/1.1) and node:http2 compatibility requests.

export interface HttpRequestLike {
  method?: string | undefined;
  url?: string | undefined;
  headers: Record<string, string | string[] | undefined>;
  /** A TLS socket has `encrypted: true`; see isSecure(). */
  socket?: unknown;
}

export interface HttpResponseLike {
  statusCode: number;
  setHeader(name: string, value: string | number | readonly string[]): unknown;
  end(body?: string): unknown;
}

export function isSecure(req: HttpRequestLike): boolean {
  const s = req.socket;
  return typeof s === 'object' && s !== null && 'encrypted' in s && s.encrypted === true;
}

/** Go's http.Error: plain text, nosniff, the message plus a newline. */
export function writeGoHttpError(res: HttpResponseLike, status: number, message: string): void {
  res.statusCode = status;
  res.setHeader('Content-Type', 'text/plain; charset=utf-8');
  res.setHeader('X-Content-Type-Options', 'nosniff');
  res.end(`${message}\n`);
}

/** etcd's allowMethod(): anything else is 405 with an Allow header. */
export function allowOnly(req: HttpRequestLike, res: HttpResponseLike, method: string): boolean {
  if (req.method === method) return true;
  res.setHeader('Allow', method);
  writeGoHttpError(res, 405, 'Method Not Allowed');
  return false;
}
