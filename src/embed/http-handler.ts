// Plain HTTP on the client port: /version, /health and /metrics (the handlers
// live in src/api/http; this file feeds them the member's health port). Served
// over HTTP/1.1 and over HTTP/2 (a TLS client that negotiates h2, e.g. curl,
// sends its non-gRPC requests there), as etcd's shared client port does.

import type { GatewayHandler } from '../api/http/gateway/index.js';
import {
  type HealthSource,
  type HttpRequestLike,
  type HttpResponseLike,
  handleHealth,
  handleVersion,
  type VersionSource,
} from '../api/http/index.js';
import { writeGoHttpError } from '../api/http/types.js';
import type { V2Handler } from '../api/http/v2/index.js';
import type { Logger } from '../log/types.js';
import type { HealthPort } from '../server/ports.js';
import { metricsText } from './metrics.js';

export type HttpHandler = (req: HttpRequestLike, res: HttpResponseLike) => void;

/**
 * `v2`: the v2 API (--enable-v2); without it /v2/... is 404 page not found, as in etcd 3.4.
 * `gateway`: the v3 JSON gateway (/v3/, /v3beta/; --enable-grpc-gateway, on by default).
 */
export function createHttpHandler(
  member: HealthPort,
  log: Logger,
  v2?: V2Handler,
  gateway?: GatewayHandler,
): HttpHandler {
  const health: HealthSource = {
    hasLeader: () => member.hasLeader(),
    alarms: () => [],
    probe: (timeoutMs: number) => member.probe(timeoutMs),
  };
  const version: VersionSource = { clusterVersion: () => member.clusterVersion() };
  return (req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (path === '/version') {
      handleVersion(version, req, res);
      return;
    }
    if (path === '/metrics') {
      res.statusCode = 200;
      res.setHeader('Content-Type', 'text/plain; version=0.0.4; charset=utf-8');
      res.end(metricsText(member));
      return;
    }
    if (path === '/health') {
      handleHealth(health, req, res, log).catch((err: unknown) => {
        log.warn('/health failed', { error: (err as Error).message });
        writeGoHttpError(res, 503, JSON.stringify({ health: 'false' }));
      });
      return;
    }
    if (gateway?.(req, res) === true) return;
    if (v2?.(req, res) === true) return;
    writeGoHttpError(res, 404, '404 page not found');
  };
}
