// Server errors to gRPC statuses: every handler funnels its failures through here.
import { toServerError } from '../../server/errors.js';
import { GrpcError, type StatusCode } from '../grpc/status.js';

export function toGrpcError(err: unknown): GrpcError {
  if (err instanceof GrpcError) return err;
  const e = toServerError(err);
  return new GrpcError(e.code as StatusCode, e.message);
}

/** Wraps a handler so anything it throws leaves as etcd's status and message. */
export function guarded<Req, Res>(fn: (req: Req) => Promise<Res>): (req: Req) => Promise<Res> {
  return async (req: Req) => {
    try {
      return await fn(req);
    } catch (err) {
      throw toGrpcError(err);
    }
  };
}
