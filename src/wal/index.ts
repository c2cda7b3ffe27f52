export { WalCorruptError, type WalLogger } from './errors.js';
export type { WalSnapshotRef } from './payloads.js';
export type { WalReplay } from './replay.js';
export { DEFAULT_SEGMENT_BYTES, MAX_PENDING_SAVES, Wal, type WalClock, type WalOptions } from './wal.js';
