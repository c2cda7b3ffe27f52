// Plain TypeScript shapes of the requests and results mvcc works with. Field
// names and enum numbers match what ts-proto generates from etcd's kv.proto and
// rpc.proto (src/pb), so decoded gRPC messages can be passed in directly;
// structural compatibility is all that is needed, mvcc never imports src/pb.

/** A 64-bit integer as either generated shape gives it (revisions are numbers, oneof members bigint). */
export type Int64Like = number | bigint;

/**
 * Keys and values leave mvcc as Buffers (what LMDB and the request decoders
 * produce anyway), so results are the generated response messages' shapes
 * with no conversion or cast at the API boundary.
 */
export interface KeyValue {
  key: Buffer;
  createRevision: number;
  modRevision: number;
  version: number;
  value: Buffer;
  lease: bigint;
}

export const EventType = { PUT: 0, DELETE: 1 } as const;

export interface Event {
  type: number;
  kv: KeyValue;
  /** The key's value just before this event, when it existed. Always filled by mvcc. */
  prevKv?: KeyValue;
}

export const SortOrder = { NONE: 0, ASCEND: 1, DESCEND: 2 } as const;
export const SortTarget = { KEY: 0, VERSION: 1, CREATE: 2, MOD: 3, VALUE: 4 } as const;

export interface RangeRequest {
  key: Uint8Array;
  rangeEnd?: Uint8Array;
  limit?: number;
  revision?: number;
  sortOrder?: number;
  sortTarget?: number;
  serializable?: boolean;
  keysOnly?: boolean;
  countOnly?: boolean;
  minModRevision?: number;
  maxModRevision?: number;
  minCreateRevision?: number;
  maxCreateRevision?: number;
}

export interface PutRequest {
  key: Uint8Array;
  value?: Uint8Array;
  lease?: Int64Like;
  prevKv?: boolean;
  ignoreValue?: boolean;
  ignoreLease?: boolean;
}

export interface DeleteRangeRequest {
  key: Uint8Array;
  rangeEnd?: Uint8Array;
  prevKv?: boolean;
}

export const CompareResult = { EQUAL: 0, GREATER: 1, LESS: 2, NOT_EQUAL: 3 } as const;
export const CompareTarget = { VERSION: 0, CREATE: 1, MOD: 2, VALUE: 3, LEASE: 4 } as const;

/** ts-proto `oneof=unions` shape of Compare.target_union. */
export type CompareTargetUnion =
  | { $case: 'version'; version: Int64Like }
  | { $case: 'createRevision'; createRevision: Int64Like }
  | { $case: 'modRevision'; modRevision: Int64Like }
  | { $case: 'value'; value: Uint8Array }
  | { $case: 'lease'; lease: Int64Like };

/**
 * Accepts both ts-proto oneof shapes: `targetUnion: {$case, ...}` (oneof=unions) or the
 * flat optional fields (default oneof handling).
 */
export interface Compare {
  result: number;
  target: number;
  key: Uint8Array;
  rangeEnd?: Uint8Array;
  targetUnion?: CompareTargetUnion;
  version?: Int64Like;
  createRevision?: Int64Like;
  modRevision?: Int64Like;
  value?: Uint8Array;
  lease?: Int64Like;
}

/** ts-proto `oneof=unions` shape of RequestOp.request. */
export type RequestOpUnion =
  | { $case: 'requestRange'; requestRange: RangeRequest }
  | { $case: 'requestPut'; requestPut: PutRequest }
  | { $case: 'requestDeleteRange'; requestDeleteRange: DeleteRangeRequest }
  | { $case: 'requestTxn'; requestTxn: TxnRequest };

/** Accepts both oneof shapes, like Compare. */
export interface RequestOp {
  request?: RequestOpUnion;
  requestRange?: RangeRequest;
  requestPut?: PutRequest;
  requestDeleteRange?: DeleteRangeRequest;
  requestTxn?: TxnRequest;
}

export interface TxnRequest {
  compare?: Compare[];
  success?: RequestOp[];
  failure?: RequestOp[];
}

/** Only `revision` is set by mvcc; etcd leaves the other fields zero in nested txn responses too. */
export interface ResponseHeader {
  clusterId: bigint;
  memberId: bigint;
  revision: number;
  raftTerm: number;
}

export interface RangeResponse {
  header: ResponseHeader;
  kvs: KeyValue[];
  more: boolean;
  count: number;
}

export interface PutResponse {
  header: ResponseHeader;
  prevKv?: KeyValue;
}

export interface DeleteRangeResponse {
  header: ResponseHeader;
  deleted: number;
  prevKvs: KeyValue[];
}

export interface TxnResponse {
  header: ResponseHeader;
  succeeded: boolean;
  responses: ResponseOp[];
}

export type ResponseOpUnion =
  | { $case: 'responseRange'; responseRange: RangeResponse }
  | { $case: 'responsePut'; responsePut: PutResponse }
  | { $case: 'responseDeleteRange'; responseDeleteRange: DeleteRangeResponse }
  | { $case: 'responseTxn'; responseTxn: TxnResponse };

/** Carries the answer in both oneof shapes (the union and the matching flat field). */
export interface ResponseOp {
  response: ResponseOpUnion;
  responseRange?: RangeResponse;
  responsePut?: PutResponse;
  responseDeleteRange?: DeleteRangeResponse;
  responseTxn?: TxnResponse;
}

/** Result of MvccStore.range. `revision` is the store's revision when the read happened. */
export interface RangeResult {
  kvs: KeyValue[];
  more: boolean;
  count: number;
  revision: number;
}

export interface PutResult {
  rev: number;
  prevKv?: KeyValue;
  events: Event[];
}

export interface DeleteRangeResult {
  rev: number;
  deleted: number;
  prevKvs: KeyValue[];
  events: Event[];
}

export interface TxnResult {
  rev: number;
  succeeded: boolean;
  responses: ResponseOp[];
  events: Event[];
}

export interface CompactResult {
  /** The store's current revision (the Compaction response header revision). */
  revision: number;
  /** Resolves once the history below the compaction revision is gone from the backend and durable. */
  done: Promise<void>;
}

export interface HashKVResult {
  hash: number;
  compactRevision: number;
  revision: number;
}

/** A zero-copy Buffer view of bytes (request fields are Buffers already; tests may pass plain arrays). */
export function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

export const EMPTY_BYTES: Buffer = Buffer.alloc(0);

/** A key-value with every field zero: tombstone records start from it; a missing key compares as it. */
export const EMPTY_KV: Readonly<KeyValue> = {
  key: EMPTY_BYTES,
  createRevision: 0,
  modRevision: 0,
  version: 0,
  value: EMPTY_BYTES,
  lease: 0n,
};

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';
export type LogFn = (level: LogLevel, msg: string, fields?: Record<string, unknown>) => void;

export function emptyHeader(revision: number): ResponseHeader {
  return { clusterId: 0n, memberId: 0n, revision, raftTerm: 0 };
}
