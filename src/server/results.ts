// What the server's operations return: the etcd response messages' shapes
// (field names as ts-proto generates them), with mvcc's key-value records.
import type { KeyValue, ResponseOp } from '../mvcc/types.js';

export interface Header {
  clusterId: bigint;
  memberId: bigint;
  revision: number;
  raftTerm: number;
}

export interface RangeOutcome {
  header: Header;
  kvs: KeyValue[];
  more: boolean;
  count: number;
}

export interface PutOutcome {
  header: Header;
  prevKv?: KeyValue;
}

export interface DeleteOutcome {
  header: Header;
  deleted: number;
  prevKvs: KeyValue[];
}

export interface TxnOutcome {
  header: Header;
  succeeded: boolean;
  responses: ResponseOp[];
}

export interface CompactOutcome {
  header: Header;
}

export interface StatusOutcome {
  header: Header;
  version: string;
  dbSize: number;
  leader: bigint;
  raftIndex: number;
  raftTerm: number;
  raftAppliedIndex: number;
  errors: string[];
  dbSizeInUse: number;
  isLearner: boolean;
}
