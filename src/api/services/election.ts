// v3electionpb.Election: the leader election recipe run inside the member.
// Errors leave as etcd's do (UNKNOWN with etcd's text; see lock.ts).
import type {
  CampaignRequest,
  CampaignResponse,
  ElectionDefinition,
  LeaderRequest,
  LeaderResponse,
  ProclaimRequest,
  ProclaimResponse,
  ResignRequest,
  ResignResponse,
} from '../../pb/v3electionpb/v3election.js';
import { campaign, leader, observe, proclaim, resign } from '../../server/coordination/election.js';
import type { CoordinationKv, LeaderKey } from '../../server/coordination/types.js';
import type { CallContext, ResponseSink, ServiceImplementation } from '../grpc/types.js';
import { inProcessClientError, viaInProcessClient } from './lock.js';

export interface ElectionServiceDeps {
  kv: CoordinationKv;
}

/** v3election's ErrMissingLeaderKey, for Proclaim and Resign without a leader. */
const MISSING_LEADER_KEY = '"leader" field must be provided';

function requireLeader(leaderKey: LeaderKey | undefined): LeaderKey {
  if (leaderKey === undefined) throw new Error(MISSING_LEADER_KEY);
  return leaderKey;
}

/** Streams leader changes until the call ends; ends normally if observation stops by itself, as etcd's. */
async function streamLeaders(
  kv: CoordinationKv,
  req: LeaderRequest,
  sink: ResponseSink<LeaderResponse>,
  ctx: CallContext,
): Promise<void> {
  for await (const change of observe(kv, req.name, ctx.signal)) {
    if (sink.ended) return;
    if (!sink.write({ header: change.header, kv: change.kv })) await sink.drained();
  }
}

export function electionService(deps: ElectionServiceDeps): ServiceImplementation<typeof ElectionDefinition> {
  const { kv } = deps;
  return {
    campaign: viaInProcessClient(
      async (req: CampaignRequest, ctx: CallContext): Promise<CampaignResponse> => {
        const won = await campaign(kv, req.name, req.lease, req.value, ctx.signal);
        return { header: won.header, leader: won.leader };
      },
    ),
    proclaim: viaInProcessClient(async (req: ProclaimRequest): Promise<ProclaimResponse> => {
      const header = await proclaim(kv, requireLeader(req.leader), req.value);
      return { header };
    }),
    leader: viaInProcessClient(async (req: LeaderRequest): Promise<LeaderResponse> => {
      const current = await leader(kv, req.name);
      return { header: current.header, kv: current.kv };
    }),
    observe: async (req, sink, ctx) => {
      try {
        await streamLeaders(kv, req, sink, ctx);
      } catch (err) {
        throw inProcessClientError(err);
      }
    },
    resign: viaInProcessClient(async (req: ResignRequest): Promise<ResignResponse> => {
      const header = await resign(kv, requireLeader(req.leader));
      return { header };
    }),
  };
}
