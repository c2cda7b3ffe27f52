// Public surface of mvcc: the store, its errors, request checks and types.
export { MvccError, type MvccErrorCode } from './errors.js';
export { MvccStore, type MvccStoreOptions } from './store.js';
export * from './types.js';
export {
  checkTxnDuplicates,
  DEFAULT_MAX_TXN_OPS,
  validateDeleteRangeRequest,
  validatePutRequest,
  validateRangeRequest,
  validateTxnRequest,
} from './validate.js';
