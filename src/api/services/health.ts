// grpc.health.v1.Health, as grpc-go's health server answers it. etcd registers
// only the empty service name (the server as a whole); any other name is
// unknown: NOT_FOUND "unknown service" on Check, SERVICE_UNKNOWN on Watch.
//
// Deviation from etcd 3.4, which reports SERVING unconditionally: the member
// reports SERVING only while it knows a raft leader, NOT_SERVING otherwise.
import {
  type HealthCheckRequest,
  type HealthCheckResponse,
  type HealthDefinition,
  HealthCheckResponse_ServingStatus as ServingStatus,
} from '../../pb/grpc/health/v1/health.js';
import { GrpcError, Status } from '../grpc/status.js';
import type { CallContext, ResponseSink, ServiceImplementation } from '../grpc/types.js';

export interface HealthServiceDeps {
  /** Whether the member can serve requests (it knows a raft leader). */
  serving(): boolean;
  /** Calls `listener` whenever serving() may have changed; returns the unsubscribe function. */
  onChange(listener: () => void): () => void;
}

/** The one service name the member knows: the whole server. */
const WHOLE_SERVER = '';

function statusOf(deps: HealthServiceDeps): ServingStatus {
  return deps.serving() ? ServingStatus.SERVING : ServingStatus.NOT_SERVING;
}

/**
 * Sends the service's status, then each change of it, until the call ends.
 * Only the newest status matters: changes that happen while a write waits for
 * the transport collapse into one message, and repeats are never sent.
 */
async function watchStatus(
  deps: HealthServiceDeps,
  service: string,
  sink: ResponseSink<HealthCheckResponse>,
  ctx: CallContext,
): Promise<void> {
  const current = (): ServingStatus =>
    service === WHOLE_SERVER ? statusOf(deps) : ServingStatus.SERVICE_UNKNOWN;
  let dirty = true;
  let wake: (() => void) | undefined;
  const poke = (): void => {
    const w = wake;
    wake = undefined;
    w?.();
  };
  const unsubscribe = deps.onChange(() => {
    dirty = true;
    poke();
  });
  ctx.signal.addEventListener('abort', poke);
  let lastSent: ServingStatus | undefined;
  try {
    while (!ctx.signal.aborted && !sink.ended) {
      if (!dirty) {
        await new Promise<void>((resolve) => {
          wake = resolve;
        });
        continue;
      }
      dirty = false;
      const status = current();
      if (status === lastSent) continue;
      lastSent = status;
      if (!sink.write({ status })) await sink.drained();
    }
  } finally {
    unsubscribe();
    ctx.signal.removeEventListener('abort', poke);
  }
}

export function healthService(deps: HealthServiceDeps): ServiceImplementation<typeof HealthDefinition> {
  return {
    check: async (req: HealthCheckRequest): Promise<HealthCheckResponse> => {
      if (req.service !== WHOLE_SERVER) throw new GrpcError(Status.NOT_FOUND, 'unknown service');
      return { status: statusOf(deps) };
    },
    watch: (req, sink, ctx) => watchStatus(deps, req.service, sink, ctx),
  };
}
