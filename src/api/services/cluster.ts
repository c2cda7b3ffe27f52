// etcdserverpb.Cluster: the member list and membership changes.
import type {
  ClusterDefinition,
  MemberAddRequest,
  MemberAddResponse,
  MemberListResponse,
  MemberPromoteRequest,
  MemberPromoteResponse,
  MemberRemoveRequest,
  MemberRemoveResponse,
  MemberUpdateRequest,
  MemberUpdateResponse,
  Member as PbMember,
} from '../../pb/etcdserverpb/rpc.js';
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
    memberAdd: guarded(async (req: MemberAddRequest): Promise<MemberAddResponse> => {
      const r = await cluster.add([...req.peerURLs], req.isLearner);
      return { header: cluster.header(), member: toPbMember(r.member), members: r.members.map(toPbMember) };
    }),
    memberRemove: guarded(async (req: MemberRemoveRequest): Promise<MemberRemoveResponse> => {
      const members = await cluster.remove(req.ID);
      return { header: cluster.header(), members: members.map(toPbMember) };
    }),
    memberUpdate: guarded(async (req: MemberUpdateRequest): Promise<MemberUpdateResponse> => {
      const members = await cluster.update(req.ID, [...req.peerURLs]);
      return { header: cluster.header(), members: members.map(toPbMember) };
    }),
    memberPromote: guarded(async (req: MemberPromoteRequest): Promise<MemberPromoteResponse> => {
      const members = await cluster.promote(req.ID);
      return { header: cluster.header(), members: members.map(toPbMember) };
    }),
    memberList: guarded(async (): Promise<MemberListResponse> => {
      // etcd's Cluster service fills only cluster id, member id and raft term in
      // its headers (no revision), and clients print exactly that.
      return { header: cluster.header(), members: cluster.members().map(toPbMember) };
    }),
  };
}
