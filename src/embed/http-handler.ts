// Plain HTTP on the client port: /version, /health and /metrics (the handlers
// live in src/api/http; this file feeds them the member's health port). Served
// over HTTP/1.1 and over HTTP/2 (a TLS client that negotiates h2, e.g. curl,
// sends its non-gRPC requests there), as etcd's shared client port does.
// The --listen-metrics-urls listeners get a narrower handler: /metrics and
// /health only, everything else 404, as etcd 3.4's metrics mux.

import type { GatewayHandler } from '../api/http/gateway/index.js';
import {
  type ActiveAlarm,
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
import type { MemberMetrics } from '../metrics/index.js';
import type { HealthPort } from '../server/ports.js';

export type HttpHandler = (req: HttpRequestLike, res: HttpResponseLike) => void;

/** What /health and /metrics read besides the health port. */
export interface HttpExtras {
  /** The member's registry; without it /metrics is 404. */
  metrics?: MemberMetrics;
  /** The member's active alarms (etcd's /health is false while one is raised). */
  alarms?: () => Promise<readonly ActiveAlarm[]>;
}

/**
 * `v2`: the v2 API (--enable-v2); without it /v2/... is 404 page not found, as in etcd 3.4.
 * `gateway`: the v3 JSON gateway (/v3/, /v3beta/; --enable-grpc-gateway, on by default).
 */
export function createHttpHandler(
  member: HealthPort,
  log: Logger,
  v2?: V2Handler,
  gateway?: GatewayHandler,
  extras: HttpExtras = {},
): HttpHandler {
  const version: VersionSource = { clusterVersion: () => member.clusterVersion() };
  const monitoring = createMetricsHandler(member, log, extras);
  return (req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (path === '/version') {
      handleVersion(version, req, res);
      return;
    }
    if (path === '/metrics' || path === '/health') {
      monitoring(req, res);
      return;
    }
    if (gateway?.(req, res) === true) return;
    if (v2?.(req, res) === true) return;
    writeGoHttpError(res, 404, '404 page not found');
  };
}

/** /metrics and /health only (the --listen-metrics-urls listeners); anything else is 404. */
export function createMetricsHandler(member: HealthPort, log: Logger, extras: HttpExtras = {}): HttpHandler {
  return (req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (path === '/metrics' && extras.metrics !== undefined) {
      serveMetrics(extras.metrics, res, log);
      return;
    }
    if (path === '/health') {
      serveHealth(member, extras, req, res, log).catch((err: unknown) => {
        log.warn('/health failed', { error: (err as Error).message });
        writeGoHttpError(res, 503, JSON.stringify({ health: 'false' }));
      });
      return;
    }
    writeGoHttpError(res, 404, '404 page not found');
  };
}

function serveMetrics(metrics: MemberMetrics, res: HttpResponseLike, log: Logger): void {
  metrics.render().then(
    (text) => {
      res.statusCode = 200;
      res.setHeader('Content-Type', metrics.contentType);
      res.end(text);
    },
    (err: unknown) => {
      log.warn('/metrics failed', { error: (err as Error).message });
      writeGoHttpError(res, 500, `An error has occurred while serving metrics:\n\n${(err as Error).message}`);
    },
  );
}

/** etcd 3.4's /health: alarms (minus ?exclude=), a leader, a QGET through raft; counted in etcd_server_health_*. */
async function serveHealth(
  member: HealthPort,
  extras: HttpExtras,
  req: HttpRequestLike,
  res: HttpResponseLike,
  log: Logger,
): Promise<void> {
  const source: HealthSource = {
    hasLeader: () => member.hasLeader(),
    alarms: async () => (await extras.alarms?.()) ?? [],
    probe: (timeoutMs: number) => member.probe(timeoutMs),
  };
  await handleHealth(source, req, res, log, (healthy) => extras.metrics?.healthChecked(healthy));
}
