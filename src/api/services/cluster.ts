// etcdserverpb.Cluster: the member list (changes come with the cluster work).
import type { ClusterDefinition, MemberListResponse, Member as PbMember } from '../../pb/etcdserverpb/rpc.js';
import type { Member } from '../../server/membership.js';
import type { ClusterPort } from '../../server/ports.js';
import type { ServiceImplementation } from '../grpc/types.js';
import { guarded } from './errors.js';

export function toPbMember(m: Member): PbMember {
  return {
    ID: m.id,
    name: m.name,
    peerURLs: [...m.peerUrls],
    clientURLs: [...m.clientUrls],
    isLearner: m.isLearner,
  };
}

export function clusterService(cluster: ClusterPort): ServiceImplementation<typeof ClusterDefinition> {
  return {
    memberList: guarded(async (): Promise<MemberListResponse> => {
      // etcd's Cluster service fills only cluster id, member id and raft term in
      // its headers (no revision), and clients print exactly that.
      return { header: cluster.header(), members: cluster.members().map(toPbMember) };
    }),
  };
}
