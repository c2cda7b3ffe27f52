import { AuthenticationFailed, GrpcCode, GrpcError } from '../../client/index.js';
import { Exit } from './io.js';

/**
 * The text etcdctl prints after "Error: " for a failed call: etcd's own
 * errors by their message, a passed deadline as Go's context error, other
 * gRPC failures in grpc-go's "rpc error: code = ... desc = ..." form.
 */
export function errorText(e: unknown): string {
  if (e instanceof GrpcError) {
    if (e.code === GrpcCode.DEADLINE_EXCEEDED) return 'context deadline exceeded';
    if (e.code === GrpcCode.CANCELLED && e.details === 'context canceled') return 'context canceled';
    if (e.details.startsWith('etcdserver: ') || e.details.startsWith('mvcc: ')) return e.details;
    return e.goString();
  }
  return e instanceof Error ? e.message : String(e);
}

/** etcdctl's exit status for a failed call: its client failing to authenticate is a failure to connect. */
export function exitCodeOf(e: unknown): number {
  return e instanceof AuthenticationFailed ? Exit.badConnection : Exit.error;
}
