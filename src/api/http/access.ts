// The checks etcd puts in front of every client HTTP handler (embed/serve.go
// accessController): on plain HTTP the Host must be in --host-whitelist (DNS
// rebinding defence, answered with 421); CORS headers per --cors; OPTIONS is
// answered directly.

import { splitHostPort } from '../../config/urls.js';
import { type HttpRequestLike, type HttpResponseLike, isSecure, writeGoHttpError } from './types.js';

export interface AccessPolicy {
  /** --cors values; "*" or empty = any origin. */
  cors: readonly string[];
  /** --host-whitelist values; "*" or empty = any host. */
  hostWhitelist: readonly string[];
}

function allows(list: readonly string[], value: string): boolean {
  return list.length === 0 || list.includes('*') || list.includes(value);
}

function headerValue(req: HttpRequestLike, name: string): string {
  const v = req.headers[name];
  return Array.isArray(v) ? (v[0] ?? '') : (v ?? '');
}

function hostnameOf(req: HttpRequestLike): string {
  const host = headerValue(req, 'host') || headerValue(req, ':authority');
  return splitHostPort(host)?.hostname ?? host;
}

function rebindingMessage(host: string): string {
  return `
etcd received your request, but the Host header was unrecognized.

To fix this, choose one of the following options:
- Enable TLS, then any HTTPS request will be allowed.
- Add the hostname you want to use to the whitelist in settings.
  - e.g. etcd --host-whitelist ${JSON.stringify(host)}

This requirement has been added to help prevent "DNS Rebinding" attacks (CVE-2018-5702).
`;
}

/** Returns true when the request was fully answered here (rejected, or an OPTIONS preflight). */
export function applyAccessControl(
  policy: AccessPolicy,
  req: HttpRequestLike,
  res: HttpResponseLike,
): boolean {
  const secure = isSecure(req);
  if (!secure) {
    const host = hostnameOf(req);
    if (!allows(policy.hostWhitelist, host)) {
      writeGoHttpError(res, 421, rebindingMessage(host));
      return true;
    }
  }
  const origin = policy.cors.length === 0 || policy.cors.includes('*') ? '*' : headerValue(req, 'origin');
  if (origin !== '' && allows(policy.cors, origin)) {
    res.setHeader('Access-Control-Allow-Methods', 'POST, GET, OPTIONS, PUT, DELETE');
    res.setHeader('Access-Control-Allow-Origin', origin);
    res.setHeader('Access-Control-Allow-Headers', 'accept, content-type, authorization');
  }
  if (req.method === 'OPTIONS') {
    res.statusCode = 200;
    res.end();
    return true;
  }
  return false;
}
