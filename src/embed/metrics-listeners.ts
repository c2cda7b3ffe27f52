// --listen-metrics-urls: plain HTTP(S) servers answering /metrics and /health
// (no gRPC), as etcd serves them for scrapers and liveness probes.
import http from 'node:http';
import https from 'node:https';
import type { TlsConfig } from '../config/types.js';
import type { Logger } from '../log/types.js';
import { StartupError } from '../server/bootstrap.js';
import { parseListenUrl, tlsOptions } from './client-listeners.js';
import type { HttpHandler } from './http-handler.js';

export interface MetricsListener {
  close(): Promise<void>;
}

function listen(server: http.Server, host: string, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
}

export async function listenMetrics(
  urls: readonly string[],
  handler: HttpHandler,
  clientTls: TlsConfig,
  log: Logger,
): Promise<MetricsListener[]> {
  const out: MetricsListener[] = [];
  for (const raw of urls) {
    const t = parseListenUrl(raw);
    const server = t.secure ? https.createServer(tlsOptions(clientTls), handler) : http.createServer(handler);
    try {
      await listen(server, t.host, t.port);
    } catch (err) {
      for (const l of out) await l.close();
      throw new StartupError(`listen tcp ${t.host}:${t.port}: ${(err as Error).message}`);
    }
    log.info('serving metrics', { address: raw });
    out.push({
      close: () =>
        new Promise((resolve) => {
          server.close(() => resolve());
          server.closeAllConnections();
        }),
    });
  }
  return out;
}
