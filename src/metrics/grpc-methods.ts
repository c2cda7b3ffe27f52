// The gRPC methods etcd 3.4 registers with grpc-prometheus before serving, so its
// grpc_server_* counters start at 0 for every one of them (as `curl /metrics` on a
// fresh etcd 3.4 shows: 41 methods of 7 services, 17 codes each for handled_total).
// Lock and Election are not in the list: etcd registers them after the metrics.

import { GO_CODE_NAMES, goCodeName } from '../util/grpc-wire.js';

export type GrpcType = 'unary' | 'client_stream' | 'server_stream' | 'bidi_stream';

export interface GrpcMethodLabels {
  grpc_type: GrpcType;
  grpc_service: string;
  grpc_method: string;
}

const UNARY = 'unary';

const SERVICES: ReadonlyArray<readonly [string, ReadonlyArray<readonly [string, GrpcType]>]> = [
  [
    'etcdserverpb.KV',
    [
      ['Range', UNARY],
      ['Put', UNARY],
      ['DeleteRange', UNARY],
      ['Txn', UNARY],
      ['Compact', UNARY],
    ],
  ],
  ['etcdserverpb.Watch', [['Watch', 'bidi_stream']]],
  [
    'etcdserverpb.Lease',
    [
      ['LeaseGrant', UNARY],
      ['LeaseRevoke', UNARY],
      ['LeaseKeepAlive', 'bidi_stream'],
      ['LeaseTimeToLive', UNARY],
      ['LeaseLeases', UNARY],
    ],
  ],
  [
    'etcdserverpb.Cluster',
    [
      ['MemberAdd', UNARY],
      ['MemberRemove', UNARY],
      ['MemberUpdate', UNARY],
      ['MemberList', UNARY],
      ['MemberPromote', UNARY],
    ],
  ],
  [
    'etcdserverpb.Maintenance',
    [
      ['Alarm', UNARY],
      ['Status', UNARY],
      ['Defragment', UNARY],
      ['Hash', UNARY],
      ['HashKV', UNARY],
      ['Snapshot', 'server_stream'],
      ['MoveLeader', UNARY],
    ],
  ],
  [
    'etcdserverpb.Auth',
    [
      ['AuthEnable', UNARY],
      ['AuthDisable', UNARY],
      ['Authenticate', UNARY],
      ['UserAdd', UNARY],
      ['UserGet', UNARY],
      ['UserList', UNARY],
      ['UserDelete', UNARY],
      ['UserChangePassword', UNARY],
      ['UserGrantRole', UNARY],
      ['UserRevokeRole', UNARY],
      ['RoleAdd', UNARY],
      ['RoleGet', UNARY],
      ['RoleList', UNARY],
      ['RoleDelete', UNARY],
      ['RoleGrantPermission', UNARY],
      ['RoleRevokePermission', UNARY],
    ],
  ],
  [
    'grpc.health.v1.Health',
    [
      ['Check', UNARY],
      ['Watch', 'server_stream'],
    ],
  ],
];

export function etcdGrpcMethods(): GrpcMethodLabels[] {
  const out: GrpcMethodLabels[] = [];
  for (const [service, methods] of SERVICES) {
    for (const [method, type] of methods)
      out.push({ grpc_type: type, grpc_service: service, grpc_method: method });
  }
  return out;
}

/** gRPC status code names as grpc-go prints them (codes.Code.String()), by number. */
export const GRPC_CODE_NAMES = GO_CODE_NAMES;

export const grpcCodeName = goCodeName;

/** "/etcdserverpb.KV/Put" → service and method. */
export function splitMethodPath(path: string): { service: string; method: string } {
  const slash = path.lastIndexOf('/');
  return { service: path.slice(1, slash), method: path.slice(slash + 1) };
}
