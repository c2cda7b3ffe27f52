import {
  AlarmResponse,
  DeleteRangeResponse,
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
  TxnResponse,
  WatchResponse,
} from '../../../pb/etcdserverpb/rpc.js';
import type { CliIo } from '../io.js';
import type { Printer } from './types.js';
import { unsupportedPrinter } from './unsupported.js';

/** `-w protobuf`: the response message's wire bytes, unframed. */
export function protobufPrinter(io: CliIo): Printer {
  return {
    ...unsupportedPrinter('protobuf'),
    get: (r) => io.out(RangeResponse.encode(r).finish()),
    put: (r) => io.out(PutResponse.encode(r).finish()),
    del: (r) => io.out(DeleteRangeResponse.encode(r).finish()),
    txn: (r) => io.out(TxnResponse.encode(r).finish()),
    watch: (r) =>
      io.out(
        WatchResponse.encode({
          ...r,
          watchId: 0,
          cancelReason: '',
          fragment: false,
        }).finish(),
      ),
    grant: (r) => io.out(LeaseGrantResponse.encode(r).finish()),
    revoke: (_id, r) => io.out(LeaseRevokeResponse.encode(r).finish()),
    keepAlive: (r) => io.out(LeaseKeepAliveResponse.encode(r).finish()),
    timeToLive: (r) => io.out(LeaseTimeToLiveResponse.encode(r).finish()),
    leases: (r) => io.out(LeaseLeasesResponse.encode(r).finish()),
    memberAdd: (r) => io.out(MemberAddResponse.encode(r).finish()),
    memberRemove: (_id, r) => io.out(MemberRemoveResponse.encode(r).finish()),
    memberUpdate: (_id, r) => io.out(MemberUpdateResponse.encode(r).finish()),
    memberPromote: (_id, r) => io.out(MemberPromoteResponse.encode(r).finish()),
    memberList: (r) => io.out(MemberListResponse.encode(r).finish()),
    moveLeader: (_l, _t, r) => io.out(MoveLeaderResponse.encode(r).finish()),
    alarm: (r) => io.out(AlarmResponse.encode(r).finish()),
  };
}
