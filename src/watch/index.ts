// Public surface of the watch hub.
export { fragment, HEADER_ALLOWANCE, watchResponseSize } from './fragment.js';
export {
  DEFAULT_MAX_QUEUED_BYTES,
  DEFAULT_MAX_QUEUED_EVENTS,
  DEFAULT_SYNC_EVENTS,
  defaultEventBytes,
  WatchHub,
} from './hub.js';
export { WatchStream } from './stream.js';
export * from './types.js';
