// Registers the client API services on a gRPC server. Methods not listed in a
// service's implementation answer UNIMPLEMENTED (the gRPC layer does that).
import type { ServerConfig } from '../../config/types.js';
import { ClusterDefinition, LeaseDefinition, MaintenanceDefinition } from '../../pb/etcdserverpb/rpc.js';
import { HealthDefinition } from '../../pb/grpc/health/v1/health.js';
import type { ClusterPort, HealthPort, KvPort, LeasePort, MaintenancePort } from '../../server/ports.js';
import type { GrpcServer } from '../grpc/server.js';
import { clusterService } from './cluster.js';
import { FastKVDefinition } from './fast-codecs.js';
import { healthService } from './health.js';
import { kvService } from './kv.js';
import { leaseService } from './lease.js';
import { maintenanceService } from './maintenance.js';

/** The member as the client API sees it: one port per service. */
export interface MemberPorts {
  kv: KvPort;
  cluster: ClusterPort;
  maintenance: MaintenancePort;
  lease: LeasePort;
  health: HealthPort;
}

export function registerServices(grpc: GrpcServer, member: MemberPorts, cfg: ServerConfig): void {
  grpc.addService(FastKVDefinition, kvService(member.kv, cfg.maxTxnOps));
  grpc.addService(ClusterDefinition, clusterService(member.cluster));
  grpc.addService(MaintenanceDefinition, maintenanceService(member.maintenance));
  grpc.addService(LeaseDefinition, leaseService(member.lease));
  const health = member.health;
  grpc.addService(
    HealthDefinition,
    healthService({ serving: () => health.hasLeader(), onChange: (l) => health.onLeaderChange(l) }),
  );
}
