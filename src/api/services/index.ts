// Registers the client API services on a gRPC server. Methods not listed in a
// service's implementation answer UNIMPLEMENTED (the gRPC layer does that).
import type { ServerConfig } from '../../config/types.js';
import { ClusterDefinition, MaintenanceDefinition } from '../../pb/etcdserverpb/rpc.js';
import type { EtcdServer } from '../../server/server.js';
import type { GrpcServer } from '../grpc/server.js';
import { clusterService } from './cluster.js';
import { FastKVDefinition } from './fast-codecs.js';
import { kvService } from './kv.js';
import { maintenanceService } from './maintenance.js';

export function registerServices(grpc: GrpcServer, server: EtcdServer, cfg: ServerConfig): void {
  grpc.addService(FastKVDefinition, kvService(server, cfg.maxTxnOps));
  grpc.addService(ClusterDefinition, clusterService(server));
  grpc.addService(MaintenanceDefinition, maintenanceService(server));
}
