// One client Watch call: its watchers and its output queue. The queue is the only
// buffer between the hub and the network; the I/O shell pulls from it with take().
// Event responses stop going in once the queue holds its bound; the hub then leaves the
// stream's watchers behind (unsynced) and catches them up from history later.

import type { WatchCreateRequest, WatchResponse } from './types.js';
import type { Watcher } from './watcher.js';

/** What a stream asks of its hub (implemented inside WatchHub). */
export interface StreamHost {
  create(stream: WatchStream, req: WatchCreateRequest): number;
  rejectCreate(stream: WatchStream, reason: string): void;
  cancel(stream: WatchStream, watchId: number): boolean;
  requestProgress(stream: WatchStream): void;
  close(stream: WatchStream): void;
  /** The stream's queue just became non-empty. */
  readable(stream: WatchStream): void;
}

export class WatchStream {
  /** Watchers by id, including compacted ones whose id stays taken until canceled. Hub-owned. */
  readonly watchers = new Map<number, Watcher>();
  /** Next id to try for an auto-assigned watcher (etcd starts at 0 and skips taken ids). */
  nextAutoId = 0;
  /** How many of this stream's watchers are unsynced. Hub-owned. */
  unsyncedCount = 0;
  /** Progress requests waiting for every watcher to be synced. Hub-owned. */
  pendingProgress = 0;
  private closedFlag = false;

  private items: WatchResponse[] = [];
  private sizes: number[] = [];
  private head = 0;
  private events = 0;
  private bytes = 0;

  constructor(
    private readonly host: StreamHost,
    readonly maxQueuedEvents: number,
    readonly maxQueuedBytes: number,
    readonly onReadable: (() => void) | undefined,
  ) {}

  // --- requests (one per WatchRequest variant) ---

  /**
   * Creates a watcher. Queues the `created` response (or etcd's created+canceled answer
   * with watch id -1 and the reason) and returns the new id, or -1 on failure. A watcher
   * starting in the past is caught up by later WatchHub.syncUnsynced calls.
   */
  create(req: WatchCreateRequest): number {
    return this.host.create(this, req);
  }

  /**
   * Queues the answer to a create request the shell refused itself (e.g. permission
   * denied): created + canceled, watch id -1, the given reason. Keeps it in order with
   * the rest of the stream's output.
   */
  rejectCreate(cancelReason: string): void {
    this.host.rejectCreate(this, cancelReason);
  }

  /** Cancels a watcher and queues {watchId, canceled}. Unknown ids: nothing, false (as etcd). */
  cancel(watchId: number): boolean {
    return this.host.cancel(this, watchId);
  }

  /**
   * Queues a progress response (watch id -1, the hub's revision) once every watcher of the
   * stream is synced: at once if they are, else as soon as the last one catches up.
   */
  requestProgress(): void {
    this.host.requestProgress(this);
  }

  /** Removes every watcher and drops queued output. Further requests throw. */
  close(): void {
    if (this.closedFlag) return;
    this.host.close(this);
  }

  // --- output ---

  /** Removes and returns up to `max` queued responses, oldest first. */
  take(max = Number.POSITIVE_INFINITY): WatchResponse[] {
    const n = Math.min(max, this.items.length - this.head);
    if (n <= 0) return [];
    const out = this.items.slice(this.head, this.head + n);
    for (let i = this.head; i < this.head + n; i++) {
      this.events -= this.items[i]!.events.length;
      this.bytes -= this.sizes[i]!;
    }
    this.head += n;
    if (this.head === this.items.length) {
      this.items = [];
      this.sizes = [];
      this.head = 0;
    } else if (this.head >= 1024 && this.head * 2 >= this.items.length) {
      this.items = this.items.slice(this.head);
      this.sizes = this.sizes.slice(this.head);
      this.head = 0;
    }
    return out;
  }

  /** Queued responses. */
  get pendingResponses(): number {
    return this.items.length - this.head;
  }

  get queuedEvents(): number {
    return this.events;
  }

  get queuedBytes(): number {
    return this.bytes;
  }

  /** The queue is at its bound: new events for this stream's watchers wait in history. */
  get blocked(): boolean {
    return this.events >= this.maxQueuedEvents || this.bytes >= this.maxQueuedBytes;
  }

  /** Some watchers are behind and the queue has room: a WatchHub.syncUnsynced call would help. */
  get needsCatchUp(): boolean {
    return this.unsyncedCount > 0 && !this.blocked && !this.closedFlag;
  }

  get watcherCount(): number {
    return this.watchers.size;
  }

  get closed(): boolean {
    return this.closedFlag;
  }

  // --- hub side ---

  /** Appends a response (hub only). `bytes` is the estimated size of its events. */
  push(resp: WatchResponse, bytes: number): void {
    const wasEmpty = this.head === this.items.length;
    this.items.push(resp);
    this.sizes.push(bytes);
    this.events += resp.events.length;
    this.bytes += bytes;
    if (wasEmpty) this.host.readable(this);
  }

  /** Marks the stream closed and drops its output (hub only). */
  markClosed(): void {
    this.closedFlag = true;
    this.items = [];
    this.sizes = [];
    this.head = 0;
    this.events = 0;
    this.bytes = 0;
    this.pendingProgress = 0;
  }
}
