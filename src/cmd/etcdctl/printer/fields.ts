import type {
  AlarmResponse,
  DeleteRangeResponse,
  LeaseGrantResponse,
  LeaseKeepAliveResponse,
  LeaseLeasesResponse,
  LeaseRevokeResponse,
  LeaseTimeToLiveResponse,
  MemberListResponse,
  PutResponse,
  RangeResponse,
  ResponseHeader,
  TxnResponse,
  WatchResponse,
} from '../../../pb/etcdserverpb/rpc.js';
import { alarmTypeToJSON } from '../../../pb/etcdserverpb/rpc.js';
import { Event_EventType, type KeyValue } from '../../../pb/mvccpb/kv.js';
import type { CliIo } from '../io.js';
import { goQuote } from './go-quote.js';
import type { DbStatus, EpHashKV, EpHealth, EpStatus, Printer } from './types.js';
import { unsupportedPrinter } from './unsupported.js';

/** `-w fields`: one `"Name" : value` line per field, strings Go-quoted. */
export class FieldsPrinter implements Printer {
  private readonly no = unsupportedPrinter('fields');

  constructor(private readonly io: CliIo) {}

  private line(s: string): void {
    this.io.out(`${s}\n`);
  }

  private hdr(h: ResponseHeader | undefined): void {
    this.line(`"ClusterID" : ${h?.clusterId ?? 0n}`);
    this.line(`"MemberID" : ${h?.memberId ?? 0n}`);
    this.line(`"Revision" : ${h?.revision ?? 0}`);
    this.line(`"RaftTerm" : ${h?.raftTerm ?? 0}`);
  }

  private kv(prefix: string, kv: KeyValue): void {
    this.line(`"${prefix}Key" : ${goQuote(kv.key)}`);
    this.line(`"${prefix}CreateRevision" : ${kv.createRevision}`);
    this.line(`"${prefix}ModRevision" : ${kv.modRevision}`);
    this.line(`"${prefix}Version" : ${kv.version}`);
    this.line(`"${prefix}Value" : ${goQuote(kv.value)}`);
    this.line(`"${prefix}Lease" : ${kv.lease}`);
  }

  get(r: RangeResponse): void {
    this.hdr(r.header);
    for (const kv of r.kvs) this.kv('', kv);
    this.line(`"More" : ${r.more}`);
    this.line(`"Count" : ${r.count}`);
  }

  put(r: PutResponse): void {
    this.hdr(r.header);
    if (r.prevKv !== undefined) this.kv('Prev', r.prevKv);
  }

  del(r: DeleteRangeResponse): void {
    this.hdr(r.header);
    this.line(`"Deleted" : ${r.deleted}`);
    for (const kv of r.prevKvs) this.kv('Prev', kv);
  }

  txn(r: TxnResponse): void {
    this.hdr(r.header);
    this.line(`"Succeeded" : ${r.succeeded}`);
    for (const op of r.responses) {
      const res = op.response;
      if (res?.$case === 'responseDeleteRange') this.del(res.responseDeleteRange);
      else if (res?.$case === 'responsePut') this.put(res.responsePut);
      else if (res?.$case === 'responseRange') this.get(res.responseRange);
      else this.line(`"Unknown" : ${goQuote(JSON.stringify(res ?? null))}`);
    }
  }

  watch(r: WatchResponse): void {
    this.hdr(r.header);
    for (const e of r.events) {
      this.line(`"Type" : ${e.type === Event_EventType.DELETE ? 'DELETE' : 'PUT'}`);
      if (e.prevKv !== undefined) this.kv('Prev', e.prevKv);
      if (e.kv !== undefined) this.kv('', e.kv);
    }
  }

  grant(r: LeaseGrantResponse): void {
    this.hdr(r.header);
    this.line(`"ID" : ${r.ID}`);
    this.line(`"TTL" : ${r.TTL}`);
  }

  revoke(_id: bigint, r: LeaseRevokeResponse): void {
    this.hdr(r.header);
  }

  keepAlive(r: LeaseKeepAliveResponse): void {
    this.hdr(r.header);
    this.line(`"ID" : ${r.ID}`);
    this.line(`"TTL" : ${r.TTL}`);
  }

  timeToLive(r: LeaseTimeToLiveResponse): void {
    this.hdr(r.header);
    this.line(`"ID" : ${r.ID}`);
    this.line(`"TTL" : ${r.TTL}`);
    this.line(`"GrantedTTL" : ${r.grantedTTL}`);
    for (const k of r.keys) this.line(`"Key" : ${goQuote(k)}`);
  }

  leases(r: LeaseLeasesResponse): void {
    this.hdr(r.header);
    for (const l of r.leases) this.line(`"ID" : ${l.ID}`);
  }

  memberAdd = this.no.memberAdd;
  memberRemove = this.no.memberRemove;
  memberUpdate = this.no.memberUpdate;
  memberPromote = this.no.memberPromote;
  moveLeader = this.no.moveLeader;

  memberList(r: MemberListResponse): void {
    this.hdr(r.header);
    for (const m of r.members) {
      this.line(`"ID" : ${m.ID}`);
      this.line(`"Name" : ${goQuote(m.name)}`);
      for (const u of m.peerURLs) this.line(`"PeerURL" : ${goQuote(u)}`);
      for (const u of m.clientURLs) this.line(`"ClientURL" : ${goQuote(u)}`);
      this.line(`"IsLearner" : ${m.isLearner}`);
      this.line('');
    }
  }

  endpointHealth(list: EpHealth[]): void {
    for (const h of list) {
      this.line(`"Endpoint" : ${goQuote(h.ep)}`);
      this.line(`"Health" : ${h.health}`);
      this.line(`"Took" : ${h.took}`);
      this.line(`"Error" : ${h.error}`);
      this.line('');
    }
  }

  endpointStatus(list: EpStatus[]): void {
    for (const { ep, resp } of list) {
      this.hdr(resp.header);
      this.line(`"Version" : ${goQuote(resp.version)}`);
      this.line(`"DBSize" : ${resp.dbSize}`);
      this.line(`"Leader" : ${resp.leader}`);
      this.line(`"IsLearner" : ${resp.isLearner}`);
      this.line(`"RaftIndex" : ${resp.raftIndex}`);
      this.line(`"RaftTerm" : ${resp.raftTerm}`);
      this.line(`"RaftAppliedIndex" : ${resp.raftAppliedIndex}`);
      this.line(`"Errors" : [${resp.errors.join(' ')}]`);
      this.line(`"Endpoint" : ${goQuote(ep)}`);
      this.line('');
    }
  }

  endpointHashKV(list: EpHashKV[]): void {
    for (const h of list) {
      this.hdr(h.resp.header);
      this.line(`"Endpoint" : ${goQuote(h.ep)}`);
      this.line(`"Hash" : ${h.resp.hash}`);
      this.line('');
    }
  }

  alarm(r: AlarmResponse): void {
    this.hdr(r.header);
    for (const a of r.alarms) {
      this.line(`"MemberID" : ${a.memberID}`);
      this.line(`"AlarmType" : ${alarmTypeToJSON(a.alarm)}`);
      this.line('');
    }
  }

  dbStatus(s: DbStatus): void {
    this.line(`"Hash" : ${s.hash}`);
    this.line(`"Revision" : ${s.revision}`);
    this.line(`"Keys" : ${s.totalKey}`);
    this.line(`"Size" : ${s.totalSize}`);
  }
}
