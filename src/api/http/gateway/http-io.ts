// What the gateway writes besides results: grpc-gateway's error bodies and
// status mapping (runtime.HTTPStatusFromCode, DefaultHTTPError, stream error
// chunks), and the Node request/response surface it needs.
import type { StatusCode } from '../../grpc/status.js';
import type { HttpRequestLike, HttpResponseLike } from '../types.js';
import { goJsonString } from './json/go-json-string.js';

/** An HTTP/1.1 request whose body can be read as it arrives. */
export interface GatewayRequest extends HttpRequestLike {
  on(event: 'data', listener: (chunk: Buffer | string) => void): unknown;
  on(event: 'end' | 'close', listener: () => void): unknown;
  on(event: 'error', listener: (err: Error) => void): unknown;
  pause(): unknown;
  resume(): unknown;
}

/** A response that can stream (chunked), apply back-pressure and carry trailers. */
export interface GatewayResponse extends HttpResponseLike {
  writeHead(status: number): unknown;
  write(chunk: string): boolean;
  addTrailers(headers: Record<string, string>): void;
  once(event: 'close' | 'drain', listener: () => void): unknown;
  removeListener(event: 'close' | 'drain', listener: () => void): unknown;
  readonly headersSent: boolean;
  readonly writableLength: number;
  readonly writableEnded: boolean;
}

export function isGatewayRequest(req: HttpRequestLike): req is GatewayRequest {
  const r = req as Partial<GatewayRequest>;
  return typeof r.on === 'function' && typeof r.pause === 'function' && typeof r.resume === 'function';
}

export function isGatewayResponse(res: HttpResponseLike): res is GatewayResponse {
  const r = res as Partial<GatewayResponse>;
  return (
    typeof r.writeHead === 'function' &&
    typeof r.write === 'function' &&
    typeof r.addTrailers === 'function' &&
    typeof r.once === 'function'
  );
}

/** grpc-gateway's runtime.HTTPStatusFromCode. */
export function httpStatusFromCode(code: number): number {
  switch (code) {
    case 0:
      return 200;
    case 1:
      return 408;
    case 2:
      return 500;
    case 3:
      return 400;
    case 4:
      return 504;
    case 5:
      return 404;
    case 6:
      return 409;
    case 7:
      return 403;
    case 16:
      return 401;
    case 8:
      return 429;
    case 9:
      return 412;
    case 10:
      return 409;
    case 11:
      return 400;
    case 12:
      return 501;
    case 13:
      return 500;
    case 14:
      return 503;
    case 15:
      return 500;
    default:
      return 500;
  }
}

/** Go's http.StatusText for the statuses above. */
const STATUS_TEXT: Record<number, string> = {
  200: 'OK',
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  408: 'Request Timeout',
  409: 'Conflict',
  412: 'Precondition Failed',
  429: 'Too Many Requests',
  500: 'Internal Server Error',
  501: 'Not Implemented',
  503: 'Service Unavailable',
  504: 'Gateway Timeout',
};

/** grpc-gateway's errorBody through jsonpb: empty message and zero code are left out. */
export function errorBody(code: number, message: string): string {
  const parts: string[] = [];
  if (message !== '') {
    const m = goJsonString(message);
    parts.push(`"error":${m}`, `"message":${m}`);
  }
  if (code !== 0) parts.push(`"code":${code}`);
  return `{${parts.join(',')}}`;
}

/** A stream's failure as grpc-gateway writes it into the stream (no newline after it). */
export function streamErrorChunk(code: number, message: string): string {
  const http = httpStatusFromCode(code);
  const parts: string[] = [];
  if (code !== 0) parts.push(`"grpc_code":${code}`);
  parts.push(`"http_code":${http}`);
  if (message !== '') parts.push(`"message":${goJsonString(message)}`);
  parts.push(`"http_status":${goJsonString(STATUS_TEXT[http] ?? '')}`);
  return `{"error":{${parts.join(',')}}}`;
}

/**
 * DefaultHTTPError. `fromServer`: the member answered the call with this
 * status, in a trailers-only response whose content-type grpc-gateway passes
 * on as a trailer; errors of the gateway's own (a body it cannot read) have none.
 */
export function writeCallError(
  res: GatewayResponse,
  code: StatusCode,
  message: string,
  fromServer: boolean,
): void {
  if (res.headersSent) {
    res.end();
    return;
  }
  res.setHeader('Content-Type', 'application/json');
  const body = errorBody(code, message);
  if (!fromServer) {
    res.statusCode = httpStatusFromCode(code);
    res.end(body);
    return;
  }
  res.setHeader('Trailer', 'Grpc-Trailer-Content-Type');
  res.writeHead(httpStatusFromCode(code));
  res.write(body);
  res.addTrailers({ 'Grpc-Trailer-Content-Type': 'application/grpc' });
  res.end();
}

/** Go's http.Error (what grpc-gateway's mux answers for unknown paths and methods). */
export function writeGoTextError(res: HttpResponseLike, status: number, message: string): void {
  res.statusCode = status;
  res.setHeader('Content-Type', 'text/plain; charset=utf-8');
  res.setHeader('X-Content-Type-Options', 'nosniff');
  res.end(`${message}\n`);
}
