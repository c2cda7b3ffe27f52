// etcdserverpb.Cluster through the proxy. MemberList answers with the proxy
// itself as the only member (its host name and --advertise-client-url), as
// etcd 3.4's proxy does whenever an advertise URL is set (it is by default),
// so clients that sync endpoints keep talking to the proxy. Every other call,
// MemberPromote too, is forwarded upstream unchanged (etcd 3.4's proxy refuses
// MemberPromote; forwarding it lets learners be promoted through the proxy).
import { hostname } from 'node:os';
import type { ServiceImplementation } from '../api/grpc/types.js';
import type { ClusterDefinition, MemberListResponse } from '../pb/etcdserverpb/rpc.js';

export const CLUSTER_METHODS_HANDLED = new Set(['memberList']);

export function clusterProxy(
  advertiseClientUrl: string,
  upstreamList: () => Promise<MemberListResponse>,
): ServiceImplementation<typeof ClusterDefinition> {
  return {
    memberList: async () => {
      if (advertiseClientUrl === '') return upstreamList();
      return {
        header: undefined,
        members: [
          { ID: 0n, name: hostname(), peerURLs: [], clientURLs: [advertiseClientUrl], isLearner: false },
        ],
      };
    },
  };
}
