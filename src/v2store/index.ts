// The v2 store of etcd 3.4, pure: no I/O, no clock (time is passed in).
export { applyV2Request, ttlOptionsOf, type V2ApplyRequest, type V2ApplyResult } from './apply.js';
export { V2Error, V2ErrorCode, v2Error } from './errors.js';
export { cloneEvent, eventIndex, isCreated, V2Action, type V2Event } from './event.js';
export { EVENT_HISTORY_CAPACITY } from './event-history.js';
export {
  decodeStoreJson,
  type EventJsonOptions,
  encodeStoreJson,
  errorJson,
  eventJson,
  type KeyView,
  nodeJson,
  StoreJsonError,
} from './json.js';
export type { NodeExtern } from './node.js';
export { cleanPath, joinPath, splitPath } from './path.js';
export { ETCD_NAMESPACES, STORE_VERSION, type TtlOptions, V2Store } from './store.js';
export { formatGoTime, MIN_EXPIRE_TIME_NS, NS_PER_SECOND, nsFromMs, parseGoTime } from './time.js';
export { V2Watcher, WATCHER_BUFFER } from './watcher-hub.js';
