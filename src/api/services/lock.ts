// v3lockpb.Lock: the distributed mutex recipe run inside the member.
//
// Errors: etcd 3.4 serves Lock and Election through an in-process clientv3,
// which turns every server failure into an rpctypes.EtcdError — a plain Go
// error without a gRPC status — so grpc-go sends all of them as UNKNOWN with
// the etcd text ("etcdserver: requested lease not found", "election: not
// leader", ...). Go clients recognise the failures by that text, so the code
// is reproduced as well as the message.
import type {
  LockDefinition,
  LockRequest,
  LockResponse,
  UnlockRequest,
  UnlockResponse,
} from '../../pb/v3lockpb/v3lock.js';
import { lock, unlock } from '../../server/coordination/mutex.js';
import type { CoordinationKv } from '../../server/coordination/types.js';
import { toServerError } from '../../server/errors.js';
import { GrpcError, Status } from '../grpc/status.js';
import type { CallContext, ServiceImplementation } from '../grpc/types.js';

export interface LockServiceDeps {
  kv: CoordinationKv;
}

/** A failure as etcd's lock and election services report it: UNKNOWN with etcd's text. */
export function inProcessClientError(err: unknown): GrpcError {
  if (err instanceof GrpcError) return err;
  return new GrpcError(Status.UNKNOWN, toServerError(err).message);
}

/** Wraps a handler so that whatever it throws leaves as inProcessClientError says. */
export function viaInProcessClient<Req, Res>(
  fn: (req: Req, ctx: CallContext) => Promise<Res>,
): (req: Req, ctx: CallContext) => Promise<Res> {
  return async (req, ctx) => {
    try {
      return await fn(req, ctx);
    } catch (err) {
      throw inProcessClientError(err);
    }
  };
}

export function lockService(deps: LockServiceDeps): ServiceImplementation<typeof LockDefinition> {
  const { kv } = deps;
  return {
    lock: viaInProcessClient(async (req: LockRequest, ctx: CallContext): Promise<LockResponse> => {
      // The call's end (cancel, deadline, disconnect) aborts the wait and withdraws our key.
      const held = await lock(kv, req.name, req.lease, ctx.signal);
      return { header: held.header, key: held.key };
    }),
    unlock: viaInProcessClient(async (req: UnlockRequest): Promise<UnlockResponse> => {
      const resp = await unlock(kv, req.key);
      return { header: resp.header };
    }),
  };
}
