// Public surface of mvcc: the store, its errors, request checks and types.
export { MvccError, type MvccErrorCode } from './errors.js';
export { type BackendCrash, MemoryBackend, type MemoryBackendOptions } from './memory-backend.js';
export { MvccStore, type MvccStoreOnOptions, type MvccStoreOptions } from './store.js';
export type { MetaName, StoreBackend, StoredRecord } from './store-backend.js';
export * from './types.js';
export {
  checkTxnDuplicates,
  DEFAULT_MAX_TXN_OPS,
  validateDeleteRangeRequest,
  validatePutRequest,
  validateRangeRequest,
  validateTxnRequest,
} from './validate.js';
