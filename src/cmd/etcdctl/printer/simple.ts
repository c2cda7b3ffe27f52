import type {
  AlarmResponse,
  DeleteRangeResponse,
  LeaseGrantResponse,
  LeaseKeepAliveResponse,
  LeaseLeasesResponse,
  LeaseTimeToLiveResponse,
  MemberAddResponse,
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
import { dbStatusRows, endpointHashKVRows, endpointStatusRows, hex, memberListRows } from './rows.js';
import type { DbStatus, EpHashKV, EpHealth, EpStatus, Printer } from './types.js';

/** etcdctl's default, human-oriented output. */
export class SimplePrinter implements Printer {
  /** `get --print-value-only`: values without their keys. */
  valueOnly = false;

  constructor(
    private readonly io: CliIo,
    private readonly isHex: boolean,
  ) {}

  private line(text: string | Uint8Array = ''): void {
    this.io.out(text);
    this.io.out('\n');
  }

  private kv(kv: KeyValue): void {
    if (!this.valueOnly) this.line(this.bytes(kv.key));
    this.line(this.bytes(kv.value));
  }

  private bytes(b: Uint8Array): string | Uint8Array {
    if (!this.isHex) return b;
    let s = '';
    for (const byte of b) s += `\\x${byte.toString(16).padStart(2, '0')}`;
    return s;
  }

  get(r: RangeResponse): void {
    for (const kv of r.kvs) this.kv(kv);
  }

  put(r: PutResponse): void {
    this.line('OK');
    if (r.prevKv !== undefined) this.kv(r.prevKv);
  }

  del(r: DeleteRangeResponse): void {
    this.line(String(r.deleted));
    for (const kv of r.prevKvs) this.kv(kv);
  }

  txn(r: TxnResponse): void {
    this.line(r.succeeded ? 'SUCCESS' : 'FAILURE');
    for (const op of r.responses) {
      this.line();
      const res = op.response;
      if (res?.$case === 'responseDeleteRange') this.del(res.responseDeleteRange);
      else if (res?.$case === 'responsePut') this.put(res.responsePut);
      else if (res?.$case === 'responseRange') this.get(res.responseRange);
      else this.line(`unexpected response ${JSON.stringify(op)}`);
    }
  }

  watch(r: WatchResponse): void {
    for (const e of r.events) {
      this.line(e.type === Event_EventType.DELETE ? 'DELETE' : 'PUT');
      if (e.prevKv !== undefined) this.kv(e.prevKv);
      if (e.kv !== undefined) this.kv(e.kv);
    }
  }

  grant(r: LeaseGrantResponse): void {
    this.line(`lease ${leaseHex(r.ID)} granted with TTL(${r.TTL}s)`);
  }

  revoke(id: bigint): void {
    this.line(`lease ${leaseHex(id)} revoked`);
  }

  keepAlive(r: LeaseKeepAliveResponse): void {
    this.line(`lease ${leaseHex(r.ID)} keepalived with TTL(${r.TTL})`);
  }

  timeToLive(r: LeaseTimeToLiveResponse, keys: boolean): void {
    if (r.grantedTTL === 0 && r.TTL === -1) {
      this.line(`lease ${leaseHex(r.ID)} already expired`);
      return;
    }
    let text = `lease ${leaseHex(r.ID)} granted with TTL(${r.grantedTTL}s), remaining(${r.TTL}s)`;
    if (keys) text += `, attached keys([${r.keys.map((k) => Buffer.from(k).toString('latin1')).join(' ')}])`;
    this.line(Buffer.from(text, 'latin1'));
  }

  leases(r: LeaseLeasesResponse): void {
    this.line(`found ${r.leases.length} leases`);
    for (const l of r.leases) this.line(leaseHex(l.ID));
  }

  alarm(r: AlarmResponse): void {
    for (const a of r.alarms) {
      let text = '';
      if (a.memberID !== 0n) text += `memberID:${a.memberID} `;
      if (a.alarm !== 0) text += `alarm:${alarmTypeToJSON(a.alarm)} `;
      this.line(text);
    }
  }

  memberAdd(r: MemberAddResponse): void {
    this.line(`Member ${pad16(r.member?.ID ?? 0n)} added to cluster ${pad16(clusterId(r.header))}`);
  }

  memberRemove(id: bigint, r: { header?: ResponseHeader | undefined }): void {
    this.line(`Member ${pad16(id)} removed from cluster ${pad16(clusterId(r.header))}`);
  }

  memberUpdate(id: bigint, r: { header?: ResponseHeader | undefined }): void {
    this.line(`Member ${pad16(id)} updated in cluster ${pad16(clusterId(r.header))}`);
  }

  memberPromote(id: bigint, r: { header?: ResponseHeader | undefined }): void {
    this.line(`Member ${pad16(id)} promoted in cluster ${pad16(clusterId(r.header))}`);
  }

  memberList(r: MemberListResponse): void {
    for (const row of memberListRows(r).rows) this.line(row.join(', '));
  }

  endpointHealth(list: EpHealth[]): void {
    for (const h of list) {
      if (h.error === '')
        this.io.err(`${h.ep} is healthy: successfully committed proposal: took = ${h.took}\n`);
      else this.io.err(`${h.ep} is unhealthy: failed to commit proposal: ${h.error}\n`);
    }
  }

  endpointStatus(list: EpStatus[]): void {
    for (const row of endpointStatusRows(list).rows) this.line(row.join(', '));
  }

  endpointHashKV(list: EpHashKV[]): void {
    for (const row of endpointHashKVRows(list).rows) this.line(row.join(', '));
  }

  moveLeader(leader: bigint, target: bigint): void {
    this.line(`Leadership transferred from ${hex(leader)} to ${hex(target)}`);
  }

  dbStatus(s: DbStatus): void {
    for (const row of dbStatusRows(s).rows) this.line(row.join(', '));
  }
}

function clusterId(h: ResponseHeader | undefined): bigint {
  return h?.clusterId ?? 0n;
}

/** Go's %016x of a signed 64-bit lease id. */
export function leaseHex(id: bigint): string {
  const v = id < 0n ? -id : id;
  return (id < 0n ? '-' : '') + v.toString(16).padStart(16, '0');
}

/** Go's %16x: space-padded on the left to 16 columns. */
function pad16(id: bigint): string {
  return id.toString(16).padStart(16, ' ');
}
