// --namespace: the proxy's clients see keys without the prefix, the cluster
// stores them under it (etcd's clientv3/namespace, applied to KV, Watch and
// the keys of LeaseTimeToLive). Requests are rewritten on the way up,
// responses on the way down. Pure functions over the wire messages.
import type {
  Compare,
  DeleteRangeRequest,
  DeleteRangeResponse,
  PutRequest,
  PutResponse,
  RangeRequest,
  RangeResponse,
  RequestOp,
  ResponseOp,
  TxnRequest,
  TxnResponse,
  WatchCreateRequest,
} from '../pb/etcdserverpb/rpc.js';
import type { Event, KeyValue } from '../pb/mvccpb/kv.js';

export class Namespace {
  readonly prefix: Buffer;

  constructor(prefix: string) {
    this.prefix = Buffer.from(prefix);
  }

  get enabled(): boolean {
    return this.prefix.length > 0;
  }

  /**
   * [key, end) moved under the prefix. An end of "\0" (to the end of the keyspace) becomes the
   * end of the prefix's range; an empty end (a single key) stays empty.
   */
  interval(key: Uint8Array, end: Uint8Array): { key: Buffer; end: Buffer } {
    const k = Buffer.concat([this.prefix, key]);
    if (end.length === 1 && end[0] === 0) return { key: k, end: prefixEnd(this.prefix) };
    if (end.length === 0) return { key: k, end: Buffer.alloc(0) };
    return { key: k, end: Buffer.concat([this.prefix, end]) };
  }

  strip(key: Buffer): Buffer {
    return key.subarray(Math.min(this.prefix.length, key.length));
  }

  range(r: RangeRequest): RangeRequest {
    const { key, end } = this.interval(r.key, r.rangeEnd);
    return { ...r, key, rangeEnd: end };
  }

  put(r: PutRequest): PutRequest {
    return { ...r, key: Buffer.concat([this.prefix, r.key]) };
  }

  deleteRange(r: DeleteRangeRequest): DeleteRangeRequest {
    const { key, end } = this.interval(r.key, r.rangeEnd);
    return { ...r, key, rangeEnd: end };
  }

  txn(r: TxnRequest): TxnRequest {
    return {
      compare: r.compare.map((c) => this.compare(c)),
      success: r.success.map((op) => this.op(op)),
      failure: r.failure.map((op) => this.op(op)),
    };
  }

  watchCreate(c: WatchCreateRequest): WatchCreateRequest {
    const { key, end } = this.interval(c.key, c.rangeEnd);
    return { ...c, key, rangeEnd: end };
  }

  rangeResponse(r: RangeResponse): RangeResponse {
    return { ...r, kvs: r.kvs.map((kv) => this.kv(kv)) };
  }

  putResponse(r: PutResponse): PutResponse {
    return r.prevKv === undefined ? r : { ...r, prevKv: this.kv(r.prevKv) };
  }

  deleteRangeResponse(r: DeleteRangeResponse): DeleteRangeResponse {
    return { ...r, prevKvs: r.prevKvs.map((kv) => this.kv(kv)) };
  }

  txnResponse(r: TxnResponse): TxnResponse {
    return { ...r, responses: r.responses.map((op) => this.opResponse(op)) };
  }

  events(events: Event[]): Event[] {
    return events.map((e) => ({
      ...e,
      ...(e.kv === undefined ? {} : { kv: this.kv(e.kv) }),
      ...(e.prevKv === undefined ? {} : { prevKv: this.kv(e.prevKv) }),
    }));
  }

  /** LeaseTimeToLive's keys: only those under the prefix, without it (as etcd's namespaced lease). */
  leaseKeys(keys: Buffer[]): Buffer[] {
    return keys
      .filter((k) => k.subarray(0, this.prefix.length).equals(this.prefix))
      .map((k) => this.strip(k));
  }

  private kv(kv: KeyValue): KeyValue {
    return { ...kv, key: this.strip(kv.key) };
  }

  private compare(c: Compare): Compare {
    const { key, end } = this.interval(c.key, c.rangeEnd);
    return { ...c, key, rangeEnd: c.rangeEnd.length === 0 ? c.rangeEnd : end };
  }

  private op(op: RequestOp): RequestOp {
    const r = op.request;
    switch (r?.$case) {
      case 'requestRange':
        return { request: { $case: 'requestRange', requestRange: this.range(r.requestRange) } };
      case 'requestPut':
        return { request: { $case: 'requestPut', requestPut: this.put(r.requestPut) } };
      case 'requestDeleteRange':
        return {
          request: {
            $case: 'requestDeleteRange',
            requestDeleteRange: this.deleteRange(r.requestDeleteRange),
          },
        };
      case 'requestTxn':
        return { request: { $case: 'requestTxn', requestTxn: this.txn(r.requestTxn) } };
      default:
        return op;
    }
  }

  private opResponse(op: ResponseOp): ResponseOp {
    const r = op.response;
    switch (r?.$case) {
      case 'responseRange':
        return { response: { $case: 'responseRange', responseRange: this.rangeResponse(r.responseRange) } };
      case 'responsePut':
        return { response: { $case: 'responsePut', responsePut: this.putResponse(r.responsePut) } };
      case 'responseDeleteRange':
        return {
          response: {
            $case: 'responseDeleteRange',
            responseDeleteRange: this.deleteRangeResponse(r.responseDeleteRange),
          },
        };
      case 'responseTxn':
        return { response: { $case: 'responseTxn', responseTxn: this.txnResponse(r.responseTxn) } };
      default:
        return op;
    }
  }
}

/** The first key after every key starting with `prefix` ("\0" when there is none). */
export function prefixEnd(prefix: Uint8Array): Buffer {
  const end = Buffer.from(prefix);
  for (let i = end.length - 1; i >= 0; i--) {
    if ((end[i] as number) < 0xff) {
      end[i] = (end[i] as number) + 1;
      return end.subarray(0, i + 1);
    }
  }
  return Buffer.from([0]);
}
