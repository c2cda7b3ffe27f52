import type {
  AlarmResponse,
  DeleteRangeResponse,
  HashKVResponse,
  LeaseGrantResponse,
  LeaseKeepAliveResponse,
  LeaseLeasesResponse,
  LeaseRevokeResponse,
  LeaseTimeToLiveResponse,
  Member,
  MemberAddResponse,
  MemberListResponse,
  MemberPromoteResponse,
  MemberRemoveResponse,
  MemberUpdateResponse,
  MoveLeaderResponse,
  PutResponse,
  RangeResponse,
  ResponseHeader,
  ResponseOp,
  StatusResponse,
  TxnResponse,
  WatchResponse,
} from '../../../pb/etcdserverpb/rpc.js';
import type { Event, KeyValue } from '../../../pb/mvccpb/kv.js';
import type { CliIo } from '../io.js';
import { type GoJson, type GoJsonObject, goJson, omitEmpty, omitFalse, omitZero } from './go-json.js';
import type { DbStatus, EpHashKV, EpHealth, EpStatus, Printer } from './types.js';

/**
 * `-w json`: what Go's encoding/json makes of etcd's gogo-protobuf structs
 * (snake_case or camelCase names exactly as in the .proto, omitempty
 * everywhere) and of clientv3's wrapper structs (whose embedded header is
 * flattened and whose untagged fields keep their Go names).
 */
export class JsonPrinter implements Printer {
  constructor(private readonly io: CliIo) {}

  private print(v: GoJson): void {
    this.io.out(`${goJson(v)}\n`);
  }

  get(r: RangeResponse): void {
    this.print(rangeJson(r));
  }
  put(r: PutResponse): void {
    this.print(putJson(r));
  }
  del(r: DeleteRangeResponse): void {
    this.print(delJson(r));
  }
  txn(r: TxnResponse): void {
    this.print(txnJson(r));
  }
  watch(r: WatchResponse): void {
    this.print({
      Header: headerFields(r.header),
      Events: r.events.length === 0 ? null : r.events.map(eventJson),
      CompactRevision: r.compactRevision,
      Canceled: r.canceled,
      Created: r.created,
    });
  }
  grant(r: LeaseGrantResponse): void {
    this.print({ ...flatHeader(r.header), ID: r.ID, TTL: r.TTL, Error: r.error });
  }
  revoke(_id: bigint, r: LeaseRevokeResponse): void {
    this.print({ header: header(r.header) });
  }
  keepAlive(r: LeaseKeepAliveResponse): void {
    this.print({ ...flatHeader(r.header), ID: r.ID, TTL: r.TTL });
  }
  timeToLive(r: LeaseTimeToLiveResponse): void {
    this.print({
      ...flatHeader(r.header),
      id: r.ID,
      ttl: r.TTL,
      'granted-ttl': r.grantedTTL,
      keys: r.keys.length === 0 ? null : r.keys,
    });
  }
  leases(r: LeaseLeasesResponse): void {
    this.print({
      ...flatHeader(r.header),
      leases: r.leases.length === 0 ? null : r.leases.map((l) => ({ id: l.ID })),
    });
  }
  memberAdd(r: MemberAddResponse): void {
    this.print({
      header: header(r.header),
      member: r.member === undefined ? undefined : memberJson(r.member),
      members: omitEmpty(r.members.map(memberJson)),
    });
  }
  memberRemove(_id: bigint, r: MemberRemoveResponse): void {
    this.print(membersJson(r));
  }
  memberUpdate(_id: bigint, r: MemberUpdateResponse): void {
    this.print(membersJson(r));
  }
  memberPromote(_id: bigint, r: MemberPromoteResponse): void {
    this.print(membersJson(r));
  }
  memberList(r: MemberListResponse): void {
    this.print(membersJson(r));
  }
  endpointHealth(list: EpHealth[]): void {
    this.print(
      list.map((h) => ({
        endpoint: h.ep,
        health: h.health,
        took: h.took,
        error: h.error === '' ? undefined : h.error,
      })),
    );
  }
  endpointStatus(list: EpStatus[]): void {
    this.print(list.map((s) => ({ Endpoint: s.ep, Status: statusJson(s.resp) })));
  }
  endpointHashKV(list: EpHashKV[]): void {
    this.print(list.map((h) => ({ Endpoint: h.ep, HashKV: hashKVJson(h.resp) })));
  }
  moveLeader(_leader: bigint, _target: bigint, r: MoveLeaderResponse): void {
    this.print({ header: header(r.header) });
  }
  alarm(r: AlarmResponse): void {
    this.print({
      header: header(r.header),
      alarms: omitEmpty(r.alarms.map((a) => ({ memberID: omitZero(a.memberID), alarm: omitZero(a.alarm) }))),
    });
  }
  dbStatus(s: DbStatus): void {
    this.print({ hash: s.hash, revision: s.revision, totalKey: s.totalKey, totalSize: s.totalSize });
  }
}

/** A *ResponseHeader field: omitted when nil, otherwise its non-zero members. */
function header(h: ResponseHeader | undefined): GoJsonObject | undefined {
  return h === undefined ? undefined : headerFields(h);
}

function headerFields(h: ResponseHeader | undefined): GoJsonObject {
  return {
    cluster_id: omitZero(h?.clusterId ?? 0n),
    member_id: omitZero(h?.memberId ?? 0n),
    revision: omitZero(h?.revision ?? 0),
    raft_term: omitZero(h?.raftTerm ?? 0),
  };
}

/** An embedded *ResponseHeader: its fields appear at the top level. */
function flatHeader(h: ResponseHeader | undefined): GoJsonObject {
  return h === undefined ? {} : headerFields(h);
}

export function kvJson(kv: KeyValue): GoJsonObject {
  return {
    key: omitEmpty(kv.key),
    create_revision: omitZero(kv.createRevision),
    mod_revision: omitZero(kv.modRevision),
    version: omitZero(kv.version),
    value: omitEmpty(kv.value),
    lease: omitZero(kv.lease),
  };
}

function eventJson(e: Event): GoJsonObject {
  return {
    type: omitZero(e.type),
    kv: e.kv === undefined ? undefined : kvJson(e.kv),
    prev_kv: e.prevKv === undefined ? undefined : kvJson(e.prevKv),
  };
}

function rangeJson(r: RangeResponse): GoJsonObject {
  return {
    header: header(r.header),
    kvs: omitEmpty(r.kvs.map(kvJson)),
    more: omitFalse(r.more),
    count: omitZero(r.count),
  };
}

function putJson(r: PutResponse): GoJsonObject {
  return { header: header(r.header), prev_kv: r.prevKv === undefined ? undefined : kvJson(r.prevKv) };
}

function delJson(r: DeleteRangeResponse): GoJsonObject {
  return {
    header: header(r.header),
    deleted: omitZero(r.deleted),
    prev_kvs: omitEmpty(r.prevKvs.map(kvJson)),
  };
}

function txnJson(r: TxnResponse): GoJsonObject {
  return {
    header: header(r.header),
    succeeded: omitFalse(r.succeeded),
    responses: omitEmpty(r.responses.map(responseOpJson)),
  };
}

/** The oneof becomes {"Response": {"ResponseXxx": {...}}} (Go field names, no json tags). */
function responseOpJson(op: ResponseOp): GoJsonObject {
  const res = op.response;
  if (res === undefined) return { Response: null };
  switch (res.$case) {
    case 'responseRange':
      return { Response: { ResponseRange: rangeJson(res.responseRange) } };
    case 'responsePut':
      return { Response: { ResponsePut: putJson(res.responsePut) } };
    case 'responseDeleteRange':
      return { Response: { ResponseDeleteRange: delJson(res.responseDeleteRange) } };
    case 'responseTxn':
      return { Response: { ResponseTxn: txnJson(res.responseTxn) } };
  }
}

function memberJson(m: Member): GoJsonObject {
  return {
    ID: omitZero(m.ID),
    name: omitEmpty(m.name),
    peerURLs: omitEmpty(m.peerURLs),
    clientURLs: omitEmpty(m.clientURLs),
    isLearner: omitFalse(m.isLearner),
  };
}

function membersJson(r: { header?: ResponseHeader | undefined; members: Member[] }): GoJsonObject {
  return { header: header(r.header), members: omitEmpty(r.members.map(memberJson)) };
}

function statusJson(s: StatusResponse): GoJsonObject {
  return {
    header: header(s.header),
    version: omitEmpty(s.version),
    dbSize: omitZero(s.dbSize),
    leader: omitZero(s.leader),
    raftIndex: omitZero(s.raftIndex),
    raftTerm: omitZero(s.raftTerm),
    raftAppliedIndex: omitZero(s.raftAppliedIndex),
    errors: omitEmpty(s.errors),
    dbSizeInUse: omitZero(s.dbSizeInUse),
    isLearner: omitFalse(s.isLearner),
  };
}

function hashKVJson(h: HashKVResponse): GoJsonObject {
  return { header: header(h.header), hash: omitZero(h.hash), compact_revision: omitZero(h.compactRevision) };
}
