// etcdserverpb.Maintenance: Status for now (the rest answers UNIMPLEMENTED).
import type { MaintenanceDefinition, StatusResponse } from '../../pb/etcdserverpb/rpc.js';
import type { EtcdServer } from '../../server/server.js';
import type { ServiceImplementation } from '../grpc/types.js';
import { guarded } from './errors.js';

export function maintenanceService(server: EtcdServer): ServiceImplementation<typeof MaintenanceDefinition> {
  return {
    status: guarded(async (): Promise<StatusResponse> => server.status()),
  };
}
