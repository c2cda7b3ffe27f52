import type {
  AlarmResponse,
  DeleteRangeResponse,
  HashKVResponse,
  LeaseGrantResponse,
  LeaseKeepAliveResponse,
  LeaseLeasesResponse,
  LeaseRevokeResponse,
  LeaseTimeToLiveResponse,
  MemberAddResponse,
  MemberListResponse,
  MemberPromoteResponse,
  MemberRemoveResponse,
  MemberUpdateResponse,
  MoveLeaderResponse,
  PutResponse,
  RangeResponse,
  StatusResponse,
  TxnResponse,
  WatchResponse,
} from '../../../pb/etcdserverpb/rpc.js';

export interface EpHealth {
  ep: string;
  health: boolean;
  took: string;
  error: string;
}

export interface EpStatus {
  ep: string;
  resp: StatusResponse;
}

export interface EpHashKV {
  ep: string;
  resp: HashKVResponse;
}

/** What `snapshot status` reports about a snapshot file. */
export interface DbStatus {
  hash: number;
  revision: number;
  totalKey: number;
  totalSize: number;
}

/** One method per kind of result etcdctl prints, for each output format. */
export interface Printer {
  get(r: RangeResponse): void;
  put(r: PutResponse): void;
  del(r: DeleteRangeResponse): void;
  txn(r: TxnResponse): void;
  watch(r: WatchResponse): void;
  grant(r: LeaseGrantResponse): void;
  revoke(id: bigint, r: LeaseRevokeResponse): void;
  keepAlive(r: LeaseKeepAliveResponse): void;
  timeToLive(r: LeaseTimeToLiveResponse, keys: boolean): void;
  leases(r: LeaseLeasesResponse): void;
  memberAdd(r: MemberAddResponse): void;
  memberRemove(id: bigint, r: MemberRemoveResponse): void;
  memberUpdate(id: bigint, r: MemberUpdateResponse): void;
  memberPromote(id: bigint, r: MemberPromoteResponse): void;
  memberList(r: MemberListResponse): void;
  endpointHealth(list: EpHealth[]): void;
  endpointStatus(list: EpStatus[]): void;
  endpointHashKV(list: EpHashKV[]): void;
  moveLeader(leader: bigint, target: bigint, r: MoveLeaderResponse): void;
  alarm(r: AlarmResponse): void;
  dbStatus(s: DbStatus): void;
}
