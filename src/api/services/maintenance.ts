// etcdserverpb.Maintenance: Status, Defragment, Hash, HashKV, Snapshot, Alarm and MoveLeader.

import { AuthError } from '../../auth/errors.js';
import type {
  AlarmRequest,
  AlarmResponse,
  DefragmentResponse,
  HashKVRequest,
  HashKVResponse,
  HashResponse,
  MaintenanceDefinition,
  MoveLeaderRequest,
  MoveLeaderResponse,
  StatusResponse,
} from '../../pb/etcdserverpb/rpc.js';
import { untranslatedAuthError } from '../../server/auth-errors.js';
import type { AuthPort, MaintenancePort } from '../../server/ports.js';
import type { CallContext, ServiceImplementation } from '../grpc/types.js';
import { type Identify, NOBODY } from './credentials.js';
import { guarded, toGrpcError } from './errors.js';
import { streamSnapshot } from './snapshot-stream.js';

/**
 * etcd's maintenance service returns the auth store's own errors untranslated:
 * UNKNOWN with "auth: permission denied", "auth: invalid auth token", ...
 */
function maintenanceError(err: unknown) {
  return toGrpcError(err instanceof AuthError ? untranslatedAuthError(err) : err);
}

/**
 * Defragment, Hash, HashKV and Snapshot need root while auth is on (etcd's
 * authMaintenanceServer); Alarm only a valid token (its raft entry carries the
 * caller); Status and MoveLeader ask nothing, as in etcd 3.4.
 */
export function maintenanceService(
  m: MaintenancePort,
  auth?: Pick<AuthPort, 'checkAdmin'>,
  identify: Identify = NOBODY,
): ServiceImplementation<typeof MaintenanceDefinition> {
  const caller = async (ctx: CallContext) => {
    const w = identify(ctx);
    return w instanceof Promise ? await w : w;
  };
  const asRoot = async (ctx: CallContext): Promise<void> => {
    if (auth !== undefined) auth.checkAdmin(await caller(ctx));
  };
  const guardedAuth =
    <Req, Res>(fn: (req: Req, ctx: CallContext) => Promise<Res>) =>
    async (req: Req, ctx: CallContext): Promise<Res> => {
      try {
        return await fn(req, ctx);
      } catch (err) {
        throw maintenanceError(err);
      }
    };
  return {
    status: guarded(async (): Promise<StatusResponse> => m.status()),
    moveLeader: guarded(async (req: MoveLeaderRequest): Promise<MoveLeaderResponse> => {
      await m.moveLeader(req.targetID);
      return { header: m.header() };
    }),
    defragment: guardedAuth(async (_req, ctx): Promise<DefragmentResponse> => {
      await asRoot(ctx);
      return m.defragment();
    }),
    hash: guardedAuth(async (_req, ctx): Promise<HashResponse> => {
      await asRoot(ctx);
      return m.hash();
    }),
    hashKV: guardedAuth(async (req: HashKVRequest, ctx): Promise<HashKVResponse> => {
      await asRoot(ctx);
      return m.hashKV(req.revision);
    }),
    alarm: guardedAuth(async (req: AlarmRequest, ctx): Promise<AlarmResponse> => {
      await caller(ctx);
      return m.alarm(req);
    }),
    snapshot: async (_req, sink, ctx) => {
      try {
        await asRoot(ctx);
        await streamSnapshot(m, sink);
      } catch (err) {
        throw maintenanceError(err);
      }
    },
  };
}
