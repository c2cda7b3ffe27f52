// etcdserverpb.KV: request checks as etcd's v3rpc does them (before anything
// reaches raft), then the member's read or write path.
import {
  checkTxnDuplicates,
  validateDeleteRangeRequest,
  validatePutRequest,
  validateRangeRequest,
  validateTxnRequest,
} from '../../mvcc/validate.js';
import type {
  CompactionRequest,
  CompactionResponse,
  DeleteRangeRequest,
  DeleteRangeResponse,
  KVDefinition,
  PutRequest,
  PutResponse,
  RangeRequest,
  RangeResponse,
  TxnRequest,
  TxnResponse,
} from '../../pb/etcdserverpb/rpc.js';
import type { KvPort } from '../../server/ports.js';
import type { ServiceImplementation } from '../grpc/types.js';
import { guarded } from './errors.js';

export function kvService(kv: KvPort, maxTxnOps: number): ServiceImplementation<typeof KVDefinition> {
  return {
    range: guarded(async (req: RangeRequest): Promise<RangeResponse> => {
      validateRangeRequest(req);
      return kv.range(req);
    }),
    put: guarded(async (req: PutRequest): Promise<PutResponse> => {
      validatePutRequest(req);
      return kv.put(req);
    }),
    deleteRange: guarded(async (req: DeleteRangeRequest): Promise<DeleteRangeResponse> => {
      validateDeleteRangeRequest(req);
      return kv.deleteRange(req);
    }),
    txn: guarded(async (req: TxnRequest): Promise<TxnResponse> => {
      validateTxnRequest(req, maxTxnOps);
      checkTxnDuplicates(req);
      return kv.txn(req);
    }),
    compact: guarded(async (req: CompactionRequest): Promise<CompactionResponse> => {
      return kv.compact(req);
    }),
  };
}
