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
import { guarded, toGrpcError } from './errors.js';

export function leaseService(lease: LeasePort): ServiceImplementation<typeof LeaseDefinition> {
  return {
    leaseGrant: guarded((req: LeaseGrantRequest): Promise<LeaseGrantResponse> => lease.grant(req)),
    leaseRevoke: guarded((req: LeaseRevokeRequest): Promise<LeaseRevokeResponse> => lease.revoke(req)),
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
