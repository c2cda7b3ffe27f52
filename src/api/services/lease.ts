// etcdserverpb.Lease: grant, revoke, keep-alive (one bidirectional stream
// renewing any number of leases), time-to-live and the lease list.
import type {
  LeaseDefinition,
  LeaseGrantRequest,
  LeaseGrantResponse,
  LeaseLeasesResponse,
  LeaseRevokeRequest,
  LeaseRevokeResponse,
  LeaseTimeToLiveRequest,
  LeaseTimeToLiveResponse,
} from '../../pb/etcdserverpb/rpc.js';
import type { LeasePort } from '../../server/ports.js';
import type { ServiceImplementation } from '../grpc/types.js';
import { type Identify, NO_CHECK, NOBODY, onBehalf } from './credentials.js';
import { guarded, toGrpcError } from './errors.js';

/** Grants and revokes go through raft on behalf of the caller; the rest, as in etcd, asks nobody's credentials. */
export function leaseService(
  lease: LeasePort,
  identify: Identify = NOBODY,
): ServiceImplementation<typeof LeaseDefinition> {
  return {
    leaseGrant: onBehalf(
      identify,
      NO_CHECK,
      (req: LeaseGrantRequest, who): Promise<LeaseGrantResponse> => lease.grant(req, who),
    ),
    leaseRevoke: onBehalf(
      identify,
      NO_CHECK,
      (req: LeaseRevokeRequest, who): Promise<LeaseRevokeResponse> => lease.revoke(req, who),
    ),
    leaseTimeToLive: guarded(
      (req: LeaseTimeToLiveRequest): Promise<LeaseTimeToLiveResponse> => lease.timeToLive(req),
    ),
    leaseLeases: guarded((): Promise<LeaseLeasesResponse> => lease.leases()),
    // Requests are answered one at a time, in order; an unknown lease is answered
    // with TTL 0 (the client then stops renewing it), any other failure ends the
    // stream with its status, as etcd's keep-alive loop does.
    leaseKeepAlive: async (requests, sink) => {
      try {
        for await (const req of requests) {
          if (sink.ended) return;
          if (!sink.write(await lease.keepAlive(req.ID))) await sink.drained();
        }
      } catch (err) {
        throw toGrpcError(err);
      }
    },
  };
}
