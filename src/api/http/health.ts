// GET /health as etcd 3.4 answers it (etcdserver/api/etcdhttp/metrics.go):
// healthy = no alarm (except those named in ?exclude=...), a known leader, and a
// linearizable no-op round trip through raft within one second.
// 200 {"health":"true"}  |  503 {"health":"false"}\n (written with Go's http.Error).

import type { Logger } from '../../log/types.js';
import { allowOnly, type HttpRequestLike, type HttpResponseLike, writeGoHttpError } from './types.js';

export interface ActiveAlarm {
  memberId: bigint;
  /** etcd's AlarmType name: "NOSPACE" or "CORRUPT". */
  alarm: string;
}

export interface HealthSource {
  hasLeader(): boolean;
  alarms(): readonly ActiveAlarm[] | Promise<readonly ActiveAlarm[]>;
  /**
   * etcd 3.4 sends a QGET through raft with a 1 s timeout; resolve true when such a
   * linearizable round trip succeeded. Optional: without it only leader and alarms count.
   */
  probe?(timeoutMs: number): Promise<boolean>;
}

export const HEALTH_PROBE_TIMEOUT_MS = 1000;

export async function checkHealth(
  source: HealthSource,
  excludedAlarms: ReadonlySet<string>,
  log?: Logger,
): Promise<boolean> {
  for (const a of await source.alarms()) {
    if (excludedAlarms.has(a.alarm)) continue;
    log?.warn('serving /health false due to an alarm', {
      'member-id': a.memberId.toString(16),
      alarm: a.alarm,
    });
    return false;
  }
  if (!source.hasLeader()) {
    log?.warn('serving /health false; no leader');
    return false;
  }
  if (source.probe !== undefined && !(await source.probe(HEALTH_PROBE_TIMEOUT_MS))) {
    log?.warn('serving /health false; QGET fails');
    return false;
  }
  return true;
}

/** Values of every "exclude" query parameter. */
export function excludedAlarmsOf(url: string | undefined): Set<string> {
  const query = new URL(url ?? '/', 'http://localhost').searchParams;
  return new Set(query.getAll('exclude').filter((v) => v !== ''));
}

export async function handleHealth(
  source: HealthSource,
  req: HttpRequestLike,
  res: HttpResponseLike,
  log?: Logger,
  /** Told every answer (the member counts them in etcd_server_health_*). */
  onResult?: (healthy: boolean) => void,
): Promise<void> {
  if (!allowOnly(req, res, 'GET')) return;
  const healthy = await checkHealth(source, excludedAlarmsOf(req.url), log);
  onResult?.(healthy);
  const body = JSON.stringify({ health: healthy ? 'true' : 'false' });
  if (!healthy) {
    writeGoHttpError(res, 503, body);
    return;
  }
  res.statusCode = 200;
  // Go sniffs the JSON body as text; etcd never sets a JSON content type here.
  res.setHeader('Content-Type', 'text/plain; charset=utf-8');
  res.end(body);
}
