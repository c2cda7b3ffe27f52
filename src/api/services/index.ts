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
  ClusterPort,
  HealthPort,
  KvPort,
  LeasePort,
  MaintenancePort,
  WatchPort,
} from '../../server/ports.js';
import type { GrpcServer } from '../grpc/server.js';
import type { ServiceDefinition, ServiceImplementation } from '../grpc/types.js';
import { clusterService } from './cluster.js';
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
}

export function registerServices(grpc: GrpcServer, member: MemberPorts, cfg: ServerConfig): void {
  const learner = () => member.health.isLearner();
  const add = <S extends ServiceDefinition>(def: S, impl: ServiceImplementation<S>) =>
    grpc.addService(def, learnerGate(def, impl, learner));
  add(FastKVDefinition, kvService(member.kv, cfg.maxTxnOps));
  add(ClusterDefinition, clusterService(member.cluster));
  add(MaintenanceDefinition, maintenanceService(member.maintenance));
  add(LeaseDefinition, leaseService(member.lease));
  add(WatchDefinition, watchService(member.watch));
  add(LockDefinition, lockService({ kv: member.coordination }));
  add(ElectionDefinition, electionService({ kv: member.coordination }));
  const health = member.health;
  add(
    HealthDefinition,
    healthService({ serving: () => health.hasLeader(), onChange: (l) => health.onLeaderChange(l) }),
  );
}
