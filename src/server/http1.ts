// HTTP/1.1 on the client port: /version and /health (the handlers live in
// src/api/http; this file feeds them the member's state).
import type { IncomingMessage, ServerResponse } from 'node:http';
import { type HealthSource, handleHealth, handleVersion, type VersionSource } from '../api/http/index.js';
import { writeGoHttpError } from '../api/http/types.js';
import type { Logger } from '../log/types.js';
import { CLUSTER_VERSION, type EtcdServer } from './server.js';

function healthSource(server: EtcdServer): HealthSource {
  return {
    hasLeader: () => server.leaderId() !== 0n,
    alarms: () => [],
    probe: async (timeoutMs: number) => {
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<boolean>((resolve) => {
        timer = setTimeout(() => resolve(false), timeoutMs);
      });
      const barrier = server.linearizableBarrier().then(
        () => true,
        () => false,
      );
      try {
        return await Promise.race([barrier, timeout]);
      } finally {
        clearTimeout(timer);
      }
    },
  };
}

export function createHttp1Handler(
  server: EtcdServer,
  log: Logger,
): (req: IncomingMessage, res: ServerResponse) => void {
  const health = healthSource(server);
  const version: VersionSource = {
    clusterVersion: () => (server.isPublished() ? CLUSTER_VERSION : undefined),
  };
  return (req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (path === '/version') {
      handleVersion(version, req, res);
      return;
    }
    if (path === '/health') {
      handleHealth(health, req, res, log).catch((err: unknown) => {
        log.warn('/health failed', { error: (err as Error).message });
        if (!res.headersSent) writeGoHttpError(res, 503, JSON.stringify({ health: 'false' }));
      });
      return;
    }
    writeGoHttpError(res, 404, '404 page not found');
  };
}
