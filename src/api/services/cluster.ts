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
import type { AuthPort, ClusterPort } from '../../server/ports.js';
import type { CallContext, ServiceImplementation } from '../grpc/types.js';
import { type Identify, NOBODY, onBehalf } from './credentials.js';
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

/**
 * Membership changes need root while auth is on (etcd checks this in its API
 * layer, before proposing); the member list needs nothing.
 */
export function clusterService(
  cluster: ClusterPort,
  auth?: Pick<AuthPort, 'checkAdmin'>,
  identify: Identify = NOBODY,
): ServiceImplementation<typeof ClusterDefinition> {
  const asRoot = <Req, Res>(fn: (req: Req) => Promise<Res>): ((req: Req, ctx: CallContext) => Promise<Res>) =>
    onBehalf(
      identify,
      () => undefined,
      (req: Req, who) => {
        auth?.checkAdmin(who);
        return fn(req);
      },
    );
  return {
    memberAdd: asRoot(async (req: MemberAddRequest): Promise<MemberAddResponse> => {
      const r = await cluster.add([...req.peerURLs], req.isLearner);
      return { header: cluster.header(), member: toPbMember(r.member), members: r.members.map(toPbMember) };
    }),
    memberRemove: asRoot(async (req: MemberRemoveRequest): Promise<MemberRemoveResponse> => {
      const members = await cluster.remove(req.ID);
      return { header: cluster.header(), members: members.map(toPbMember) };
    }),
    memberUpdate: asRoot(async (req: MemberUpdateRequest): Promise<MemberUpdateResponse> => {
      const members = await cluster.update(req.ID, [...req.peerURLs]);
      return { header: cluster.header(), members: members.map(toPbMember) };
    }),
    memberPromote: asRoot(async (req: MemberPromoteRequest): Promise<MemberPromoteResponse> => {
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
