// Registers the client API services on a gRPC server. Methods not listed in a
// service's implementation answer UNIMPLEMENTED (the gRPC layer does that).
import type { ServerConfig } from '../../config/types.js';
import {
  ClusterDefinition,
  LeaseDefinition,
  MaintenanceDefinition,
  WatchDefinition,
} from '../../pb/etcdserverpb/rpc.js';
import { HealthDefinition } from '../../pb/grpc/health/v1/health.js';
import { ElectionDefinition } from '../../pb/v3electionpb/v3election.js';
import { LockDefinition } from '../../pb/v3lockpb/v3lock.js';
import type { CoordinationKv } from '../../server/coordination/types.js';
import type {
  AuthPort,
  ClusterPort,
  HealthPort,
  KvPort,
  LeasePort,
  MaintenancePort,
  WatchPort,
} from '../../server/ports.js';
import type { GrpcServer } from '../grpc/server.js';
import type { CallContext, ServiceDefinition, ServiceImplementation } from '../grpc/types.js';
import { authService } from './auth.js';
import { AuthWithStatusDefinition } from './auth-status.js';
import { clusterService } from './cluster.js';
import { perCaller } from './coordination-auth.js';
import { identifier } from './credentials.js';
import { electionService } from './election.js';
import { FastKVDefinition } from './fast-codecs.js';
import { healthService } from './health.js';
import { kvService } from './kv.js';
import { learnerGate } from './learner-gate.js';
import { leaseService } from './lease.js';
import { lockService } from './lock.js';
import { maintenanceService } from './maintenance.js';
import { watchService } from './watch.js';

/** The member as the client API sees it: one port per service. */
export interface MemberPorts {
  kv: KvPort;
  cluster: ClusterPort;
  maintenance: MaintenancePort;
  lease: LeasePort;
  health: HealthPort;
  watch: WatchPort;
  coordination: CoordinationKv;
  auth: AuthPort;
}

export interface RegisterOptions {
  /** The common name of a call's verified client certificate (for --client-cert-auth). */
  commonName?: (ctx: CallContext) => string | undefined;
}

export function registerServices(
  grpc: GrpcServer,
  member: MemberPorts,
  cfg: ServerConfig,
  opts: RegisterOptions = {},
): void {
  const learner = () => member.health.isLearner();
  const add = <S extends ServiceDefinition>(def: S, impl: ServiceImplementation<S>) =>
    grpc.addService(def, learnerGate(def, impl, learner));
  const auth = member.auth;
  const identify = identifier(auth, {
    clientCertAuth: cfg.clientTls.clientCertAuth,
    ...(opts.commonName === undefined ? {} : { commonName: opts.commonName }),
  });
  add(FastKVDefinition, kvService(member.kv, cfg.maxTxnOps, identify));
  add(ClusterDefinition, clusterService(member.cluster, auth, identify));
  add(MaintenanceDefinition, maintenanceService(member.maintenance, auth, identify));
  add(LeaseDefinition, leaseService(member.lease, identify));
  add(WatchDefinition, watchService(member.watch, auth, identify));
  add(AuthWithStatusDefinition, authService(auth, identify));
  const base = member.coordination;
  add(
    LockDefinition,
    perCaller(LockDefinition, (kv) => lockService({ kv }), base, member.kv, auth, identify),
  );
  add(
    ElectionDefinition,
    perCaller(ElectionDefinition, (kv) => electionService({ kv }), base, member.kv, auth, identify),
  );
  const health = member.health;
  add(
    HealthDefinition,
    healthService({ serving: () => health.hasLeader(), onChange: (l) => health.onLeaderChange(l) }),
  );
}
