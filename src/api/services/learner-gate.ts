// etcd 3.4 serves almost nothing from a learner: its interceptor refuses every
// RPC except Maintenance.Status and serializable Range with "etcdserver: rpc
// not supported for learner", streams included. This wraps a service's
// handlers with that rule.
import { GrpcError } from '../grpc/status.js';
import type { ServiceDefinition, ServiceImplementation } from '../grpc/types.js';

const NOT_FOR_LEARNER = 'etcdserver: rpc not supported for learner';
const UNAVAILABLE = 14;

type AnyHandler = (...args: unknown[]) => unknown;

/** Whether a learner may serve this unary request (etcd's isRPCSupportedForLearner). */
function allowedForLearner(service: string, method: string, req: unknown): boolean {
  if (service === 'etcdserverpb.Maintenance' && method === 'Status') return true;
  if (service === 'etcdserverpb.KV' && method === 'Range') {
    return (
      typeof req === 'object' && req !== null && (req as { serializable?: unknown }).serializable === true
    );
  }
  return false;
}

export function learnerGate<S extends ServiceDefinition>(
  service: S,
  impl: ServiceImplementation<S>,
  isLearner: () => boolean,
): ServiceImplementation<S> {
  const out: Record<string, AnyHandler> = {};
  for (const [key, handler] of Object.entries(impl) as [string, AnyHandler | undefined][]) {
    if (handler === undefined) continue;
    const def = service.methods[key];
    if (def === undefined) continue;
    const unaryRequest = !def.requestStream;
    out[key] = (...args: unknown[]) => {
      if (isLearner() && !(unaryRequest && allowedForLearner(service.fullName, def.name, args[0]))) {
        throw new GrpcError(UNAVAILABLE, NOT_FOR_LEARNER);
      }
      return handler(...args);
    };
  }
  return out as ServiceImplementation<S>;
}
