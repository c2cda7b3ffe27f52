// The paths etcd 3.4's gateway serves (its generated *.pb.gw.go files), all
// POST, each onto one gRPC method. /v3beta/... is the same tree (etcd rewrites
// the prefix); 3.4 has no /v3alpha and no route for Auth/AuthStatus.
// Maintenance/HashKV is registered on /v3/maintenance/hash after Hash, and
// grpc-gateway takes the first match, so that path means Hash.

/** Path under /v3/ → gRPC method path without the leading slash. */
export const GATEWAY_ROUTES: Readonly<Record<string, string>> = {
  'kv/range': 'etcdserverpb.KV/Range',
  'kv/put': 'etcdserverpb.KV/Put',
  'kv/deleterange': 'etcdserverpb.KV/DeleteRange',
  'kv/txn': 'etcdserverpb.KV/Txn',
  'kv/compaction': 'etcdserverpb.KV/Compact',

  watch: 'etcdserverpb.Watch/Watch',

  'lease/grant': 'etcdserverpb.Lease/LeaseGrant',
  'lease/revoke': 'etcdserverpb.Lease/LeaseRevoke',
  'kv/lease/revoke': 'etcdserverpb.Lease/LeaseRevoke',
  'lease/keepalive': 'etcdserverpb.Lease/LeaseKeepAlive',
  'lease/timetolive': 'etcdserverpb.Lease/LeaseTimeToLive',
  'kv/lease/timetolive': 'etcdserverpb.Lease/LeaseTimeToLive',
  'lease/leases': 'etcdserverpb.Lease/LeaseLeases',
  'kv/lease/leases': 'etcdserverpb.Lease/LeaseLeases',

  'cluster/member/add': 'etcdserverpb.Cluster/MemberAdd',
  'cluster/member/remove': 'etcdserverpb.Cluster/MemberRemove',
  'cluster/member/update': 'etcdserverpb.Cluster/MemberUpdate',
  'cluster/member/list': 'etcdserverpb.Cluster/MemberList',
  'cluster/member/promote': 'etcdserverpb.Cluster/MemberPromote',

  'maintenance/alarm': 'etcdserverpb.Maintenance/Alarm',
  'maintenance/status': 'etcdserverpb.Maintenance/Status',
  'maintenance/defragment': 'etcdserverpb.Maintenance/Defragment',
  'maintenance/hash': 'etcdserverpb.Maintenance/Hash',
  'maintenance/snapshot': 'etcdserverpb.Maintenance/Snapshot',
  'maintenance/transfer-leadership': 'etcdserverpb.Maintenance/MoveLeader',

  'auth/enable': 'etcdserverpb.Auth/AuthEnable',
  'auth/disable': 'etcdserverpb.Auth/AuthDisable',
  'auth/authenticate': 'etcdserverpb.Auth/Authenticate',
  'auth/user/add': 'etcdserverpb.Auth/UserAdd',
  'auth/user/get': 'etcdserverpb.Auth/UserGet',
  'auth/user/list': 'etcdserverpb.Auth/UserList',
  'auth/user/delete': 'etcdserverpb.Auth/UserDelete',
  'auth/user/changepw': 'etcdserverpb.Auth/UserChangePassword',
  'auth/user/grant': 'etcdserverpb.Auth/UserGrantRole',
  'auth/user/revoke': 'etcdserverpb.Auth/UserRevokeRole',
  'auth/role/add': 'etcdserverpb.Auth/RoleAdd',
  'auth/role/get': 'etcdserverpb.Auth/RoleGet',
  'auth/role/list': 'etcdserverpb.Auth/RoleList',
  'auth/role/delete': 'etcdserverpb.Auth/RoleDelete',
  'auth/role/grant': 'etcdserverpb.Auth/RoleGrantPermission',
  'auth/role/revoke': 'etcdserverpb.Auth/RoleRevokePermission',

  'lock/lock': 'v3lockpb.Lock/Lock',
  'lock/unlock': 'v3lockpb.Lock/Unlock',

  'election/campaign': 'v3electionpb.Election/Campaign',
  'election/proclaim': 'v3electionpb.Election/Proclaim',
  'election/leader': 'v3electionpb.Election/Leader',
  'election/observe': 'v3electionpb.Election/Observe',
  'election/resign': 'v3electionpb.Election/Resign',
};
