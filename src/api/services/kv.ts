// etcdserverpb.KV: request checks as etcd's v3rpc does them (before anything
// reaches raft), then the member's read or write path, on behalf of the
// caller (its token or certificate; the member checks its permissions).
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
import { type Identify, NO_CHECK, NOBODY, onBehalf } from './credentials.js';

export function kvService(
  kv: KvPort,
  maxTxnOps: number,
  identify: Identify = NOBODY,
): ServiceImplementation<typeof KVDefinition> {
  return {
    range: onBehalf(
      identify,
      validateRangeRequest,
      (req: RangeRequest, who): Promise<RangeResponse> => kv.range(req, who),
    ),
    put: onBehalf(
      identify,
      validatePutRequest,
      (req: PutRequest, who): Promise<PutResponse> => kv.put(req, who),
    ),
    deleteRange: onBehalf(
      identify,
      validateDeleteRangeRequest,
      (req: DeleteRangeRequest, who): Promise<DeleteRangeResponse> => kv.deleteRange(req, who),
    ),
    txn: onBehalf(
      identify,
      (req: TxnRequest) => {
        validateTxnRequest(req, maxTxnOps);
        checkTxnDuplicates(req);
      },
      (req: TxnRequest, who): Promise<TxnResponse> => kv.txn(req, who),
    ),
    compact: onBehalf(
      identify,
      NO_CHECK,
      (req: CompactionRequest, who): Promise<CompactionResponse> => kv.compact(req, who),
    ),
  };
}
