// Names for the responses the member's operations return: the generated wire
// messages themselves (one shape per message at the API boundary).
export type {
  CompactionResponse as CompactOutcome,
  DeleteRangeResponse as DeleteOutcome,
  PutResponse as PutOutcome,
  RangeResponse as RangeOutcome,
  ResponseHeader as Header,
  StatusResponse as StatusOutcome,
  TxnResponse as TxnOutcome,
} from '../pb/etcdserverpb/rpc.js';
