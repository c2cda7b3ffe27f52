// Shapes the watch hub exchanges with its I/O shell. Field names follow etcd's
// WatchCreateRequest / WatchResponse (rpc.proto) as ts-proto generates them, so a
// decoded request can be passed straight in; the hub never imports src/pb.

import type { Event, KeyValue } from '../mvcc/types.js';

/** What the hub reads from the store to catch watchers up. The mvcc store implements it. */
export interface WatchHistory {
  /** Latest applied revision. */
  currentRevision(): number;
  /** -1 if never compacted. */
  compactedRevision(): number;
  /**
   * Events with main revision in [fromRev, toRev], in revision order, at most `limit`
   * (0 = all). DELETE events carry {key, modRevision}; no prevKv.
   */
  readEvents(fromRev: number, toRev: number, limit: number): Event[];
  /** The key's KeyValue as of revision `rev` (undefined if absent/deleted): prev_kv on catch-up. */
  keyAt(key: Uint8Array, rev: number): KeyValue | undefined;
}

/** WatchCreateRequest.FilterType. Unknown values are ignored, as etcd does. */
export const WatchFilter = { NOPUT: 0, NODELETE: 1 } as const;

/** etcd's AutoWatchID: a create request with this id lets the stream pick one. */
export const AUTO_WATCH_ID = 0;
/** etcd's InvalidWatchID: failed creates and stream-wide progress responses carry it. */
export const INVALID_WATCH_ID = -1;

/** Cancel reasons, word for word what etcd 3.4 puts in WatchResponse.cancel_reason (mvcc/watcher.go). */
export const WatchErrors = {
  emptyRange: 'mvcc: watcher range is empty',
  duplicateId: 'mvcc: duplicate watch ID provided on the WatchStream',
} as const;

export interface WatchCreateRequest {
  /** Empty means "\0", the smallest key (etcd's recvLoop does the same). */
  key: Uint8Array;
  /** Empty: the single key. "\0": every key >= key. Otherwise [key, rangeEnd). */
  rangeEnd?: Uint8Array;
  /** 0 (or absent): from the next revision on. */
  startRevision?: number;
  filters?: readonly number[];
  prevKv?: boolean;
  progressNotify?: boolean;
  fragment?: boolean;
  /** 0 (AUTO_WATCH_ID, or absent): the stream assigns the next free id. */
  watchId?: number;
}

/**
 * etcd's WatchResponse without the header; the shell adds cluster/member/term and uses
 * `revision` as header.revision. Event objects may be shared between responses of
 * different watchers: treat them as read-only.
 */
export interface WatchResponse {
  watchId: number;
  revision: number;
  created?: boolean;
  canceled?: boolean;
  compactRevision?: number;
  cancelReason?: string;
  fragment?: boolean;
  events: Event[];
}

/** Estimated bytes an event occupies in a stream's queue (for the byte bound). */
export type EventSizer = (ev: Event) => number;
/** Encoded size of a whole response; must be additive over events (protobuf's repeated field is). */
export type ResponseSizer = (resp: WatchResponse) => number;

export interface StreamLimits {
  /** A stream holding this many queued events takes no more: its watchers fall behind (unsynced). */
  maxQueuedEvents?: number;
  /** Same, in estimated bytes of queued events. */
  maxQueuedBytes?: number;
}

export interface WatchHubOptions extends StreamLimits {
  /** Byte estimate of an event for maxQueuedBytes (default: key + value + prevKv + small overhead). */
  eventBytes?: EventSizer;
  /**
   * Responses of watchers created with fragment=true are split so each part stays under this
   * encoded size (etcd: max request bytes + 512 KiB of gRPC overhead). Unset: no fragmenting.
   */
  maxResponseBytes?: number;
  /** Encoded response size for fragmenting (default: watchResponseSize from fragment.ts). */
  responseBytes?: ResponseSizer;
}

export interface OpenStreamOptions extends StreamLimits {
  /**
   * Called when the stream's output queue goes from empty to non-empty. Runs after the hub
   * call that queued the output has finished, so it may call back into the hub.
   */
  onReadable?: () => void;
}

export interface SyncResult {
  /** Events read from history in this pass (all keys, not just watched ones). */
  read: number;
  /** Watchers still behind after the pass (including those waiting for their stream to drain). */
  unsynced: number;
  /** True when the read stopped at its budget with watchers still behind: run another pass soon. */
  more: boolean;
}

export interface HubStats {
  streams: number;
  watchers: number;
  synced: number;
  unsynced: number;
  /** Last revision passed to notify (or the store's revision when the hub was made). */
  revision: number;
}
