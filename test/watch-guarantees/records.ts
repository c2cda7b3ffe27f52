// What the watchers asked for and what they received: the input of the
// checker (check.ts), filled in by the live watchers (watchers.ts).
import type { KeyRange, Kv } from './model.js';

export type Filter = 'NOPUT' | 'NODELETE';

export interface WatcherSpec {
  id: number;
  range: KeyRange;
  /**
   * 'now': start revision 0; 'past': a revision still in history; 'oldest':
   * the oldest revision still in history; 'compacted': one below the compaction.
   */
  start: 'now' | 'past' | 'oldest' | 'compacted';
  prevKv: boolean;
  filters: Filter[];
  fragment: boolean;
  /** Index of the stream slot (connection × stream) the watcher lives on. */
  slot: number;
  /** When to create it, ms after the writers start. */
  createAtMs: number;
  /** When to cancel it (client side), ms after the writers start. */
  cancelAtMs?: number;
  /**
   * Set for a watcher that replaces one canceled by a compaction: it watches the
   * same range from the compaction revision, as clients do after ErrCompacted.
   */
  after?: { watcher: number; compactRevision: number };
}

export interface RecvEvent {
  type: string;
  kv: Kv;
  lease: bigint;
  prev?: Kv;
  prevLease?: bigint;
}

export interface RecvResponse {
  /** performance.now() at arrival (of the last fragment). */
  at: number;
  header: number;
  watchId: number;
  created: boolean;
  canceled: boolean;
  compactRevision: number;
  cancelReason: string;
  events: RecvEvent[];
  /** Number of wire responses merged into this one (fragments). */
  parts: number;
}

/** One Watch create request and its life on one stream. */
export interface Incarnation {
  slot: string;
  requestedStart: number;
  sentAt: number;
  /** Compaction acknowledged (or known applied) before the create was sent. */
  compLoAtSend: number;
  created?: RecvResponse;
  watchId?: number;
  /** Responses after created (events, cancel), in arrival order. */
  responses: RecvResponse[];
  end: 'open' | 'broken' | 'compacted' | 'canceled' | 'create-failed';
  endAt?: number;
  endError?: string;
  cancelSentAt?: number;
}

/** A progress response seen while the watcher was established. */
export interface ProgressObs {
  at: number;
  header: number;
  /** Revision of the last event the watcher had received by then (0: none). */
  lastEventRev: number;
  /** Broadcast to the stream (watch_id -1) rather than addressed to the watcher. */
  broadcast: boolean;
}

export interface WatcherRecord {
  spec: WatcherSpec;
  /** Start revision of the first create request. */
  initialStart: number;
  incarnations: Incarnation[];
  progress: ProgressObs[];
}
