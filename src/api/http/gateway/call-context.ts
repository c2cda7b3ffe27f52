// The CallContext a gateway request hands to a service handler: the metadata
// grpc-gateway's AnnotateContext would send along (Authorization as
// "authorization", which etcd reads as the token; Grpc-Metadata-X as "x";
// well-known headers as "grpcgateway-x"; X-Forwarded-Host/-For) and the
// Grpc-Timeout deadline. No client certificate: like etcd's gateway, which
// dials the member with its own, the caller is known by its token only.
import type { IncomingHttpHeaders } from 'node:http2';
import { GrpcError, Status } from '../../grpc/status.js';
import type { CallContext } from '../../grpc/types.js';
import type { HttpRequestLike } from '../types.js';

/** HTTP headers grpc-gateway forwards as "grpcgateway-<name>" (IANA's permanent headers it lists). */
const PERMANENT = new Set([
  'accept',
  'accept-charset',
  'accept-language',
  'accept-ranges',
  'authorization',
  'cache-control',
  'content-type',
  'cookie',
  'date',
  'expect',
  'from',
  'if-match',
  'if-modified-since',
  'if-none-match',
  'if-schedule-tag-match',
  'if-unmodified-since',
  'max-forwards',
  'origin',
  'pragma',
  'referer',
  'user-agent',
  'via',
  'warning',
]);

const METADATA_PREFIX = 'grpc-metadata-';

function valuesOf(v: string | string[] | undefined): string[] {
  if (v === undefined) return [];
  return Array.isArray(v) ? v : [v];
}

/** grpc-gateway decodes "-Bin" metadata from base64 (padded or not) before sending it. */
function decodeBinHeader(name: string, value: string): string {
  const padded = value.length % 4 === 0;
  const ok = padded ? /^[A-Za-z0-9+/]*={0,2}$/.test(value) : /^[A-Za-z0-9+/]*$/.test(value);
  if (!ok) {
    throw new GrpcError(
      Status.INVALID_ARGUMENT,
      `invalid binary header ${canonicalKey(name)}: illegal base64 data at input byte 0`,
    );
  }
  return Buffer.from(value, 'base64').toString('latin1');
}

/** Go's textproto.CanonicalMIMEHeaderKey for the usual header names. */
function canonicalKey(name: string): string {
  return name
    .split('-')
    .map((w) => (w === '' ? w : w[0]!.toUpperCase() + w.slice(1).toLowerCase()))
    .join('-');
}

function remoteIp(req: HttpRequestLike): string | undefined {
  const s = req.socket;
  if (typeof s !== 'object' || s === null || !('remoteAddress' in s)) return undefined;
  const a = (s as { remoteAddress?: unknown }).remoteAddress;
  return typeof a === 'string' ? a : undefined;
}

/** The metadata of the call grpc-gateway would make for this request. */
export function gatewayMetadata(req: HttpRequestLike): IncomingHttpHeaders {
  const md: Record<string, string[]> = {};
  const add = (k: string, v: string) => {
    const list = md[k];
    if (list === undefined) md[k] = [v];
    else list.push(v);
  };
  for (const [rawName, rawValue] of Object.entries(req.headers)) {
    const name = rawName.toLowerCase();
    if (name.startsWith(':') || name === 'host') continue;
    for (const value of valuesOf(rawValue)) {
      if (name === 'authorization') add('authorization', value);
      if (PERMANENT.has(name)) {
        add(`grpcgateway-${name}`, value);
      } else if (name.startsWith(METADATA_PREFIX) && name.length > METADATA_PREFIX.length) {
        const key = name.slice(METADATA_PREFIX.length);
        add(key, key.endsWith('-bin') ? decodeBinHeader(rawName, value) : value);
      }
    }
  }
  const host = valuesOf(req.headers['x-forwarded-host'])[0] ?? valuesOf(req.headers.host)[0];
  if (host !== undefined && host !== '') add('x-forwarded-host', host);
  const ip = remoteIp(req);
  if (ip !== undefined) {
    const fwd = valuesOf(req.headers['x-forwarded-for'])[0];
    add('x-forwarded-for', fwd === undefined || fwd === '' ? ip : `${fwd}, ${ip}`);
  }
  const out: IncomingHttpHeaders = {};
  for (const [k, list] of Object.entries(md)) out[k] = list.length === 1 ? list[0] : list.join(', ');
  return out;
}

const UNITS: Record<string, number> = { H: 3_600_000, M: 60_000, S: 1000, m: 1, u: 0.001, n: 0.000001 };

/**
 * The Grpc-Timeout header as grpc-gateway reads it (a decimal and one unit
 * letter), in ms; undefined without one. A bad one is INVALID_ARGUMENT.
 */
export function gatewayTimeoutMs(req: HttpRequestLike): number | undefined {
  const raw = valuesOf(req.headers['grpc-timeout'])[0];
  if (raw === undefined || raw === '') return undefined;
  const unit = UNITS[raw.slice(-1)];
  const digits = raw.slice(0, -1);
  if (raw.length < 2 || unit === undefined || !/^[+-]?\d+$/.test(digits)) {
    throw new GrpcError(Status.INVALID_ARGUMENT, `invalid grpc-timeout: ${raw}`);
  }
  const ms = Number(digits) * unit;
  // A zero timeout means none to grpc-gateway.
  return ms === 0 ? undefined : Math.max(0, ms);
}

export class GatewayCallContext implements CallContext {
  private readonly controller = new AbortController();

  constructor(
    readonly method: string,
    readonly metadata: IncomingHttpHeaders,
    readonly timeoutMs: number | undefined,
  ) {}

  get signal(): AbortSignal {
    return this.controller.signal;
  }

  /** The call is over (answered, failed, or the client went away). */
  end(): void {
    this.controller.abort();
  }
}
