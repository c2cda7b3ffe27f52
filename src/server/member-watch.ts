// The watch hub's I/O shell: feeds it what the applier applied (the events
// out-port), runs its catch-up passes and progress ticks on timers, and hands
// out streams to the Watch service and watches to the in-member lock and
// election recipes. The hub itself (src/watch) is pure and never blocks: a
// stream that cannot keep up leaves its watchers behind, to be caught up from
// the store's history here, so slow watchers never slow writes.

import type { MvccStore } from '../mvcc/index.js';
import type { ResponseHeader } from '../pb/etcdserverpb/rpc.js';
import type { Clock, Timer } from '../runtime/clock.js';
import {
  type OpenStreamOptions,
  type WatchCreateRequest,
  WatchHub,
  type WatchStream,
} from '../watch/index.js';
import type { AppliedEvents } from './applied-events.js';
import type { WatchBatch } from './coordination/types.js';
import { Errors } from './errors.js';
import type { MemberState } from './member-state.js';
import type { WatchPort } from './ports.js';

/** etcd runs its unsynced-watcher loop every 100 ms. */
const SYNC_INTERVAL_MS = 100;
/** Events read from history per catch-up pass (etcd's batch is 1000 revisions). */
const SYNC_BATCH_EVENTS = 1000;
/** Passes run back to back while there is more to read, before yielding to other work. */
const SYNC_PASSES_PER_TURN = 8;

export interface MemberWatchDeps {
  store: MvccStore;
  state: MemberState;
  events: AppliedEvents;
  /** Responses of fragmenting watchers are split below this encoded size. */
  maxResponseBytes: number;
  /** etcd's --experimental-watch-progress-notify-interval. */
  progressIntervalMs: number;
  clock: Clock;
  /** Events handed to watch clients (metrics); optional. */
  onEventsSent?(count: number): void;
}

export class MemberWatch implements WatchPort {
  readonly hub: WatchHub;
  private syncTimer: Timer | undefined;
  private progressTimer: Timer | undefined;
  private syncScheduled = false;

  constructor(private readonly d: MemberWatchDeps) {
    this.hub = new WatchHub(d.store, { maxResponseBytes: d.maxResponseBytes });
    d.events.subscribe((revision, events) => this.hub.notify(revision, events));
    d.store.setPutEventsPrevKv(() => this.hub.wantsPrevKv());
  }

  start(): void {
    this.syncTimer = this.d.clock.every(SYNC_INTERVAL_MS, () => this.catchUp(), { unref: true });
    if (this.d.progressIntervalMs > 0) {
      this.progressTimer = this.d.clock.every(this.d.progressIntervalMs, () => this.hub.progressTick(), {
        unref: true,
      });
    }
  }

  stop(): void {
    this.syncTimer?.cancel();
    this.progressTimer?.cancel();
  }

  openStream(opts: OpenStreamOptions = {}): WatchStream {
    return this.hub.openStream(opts);
  }

  header(revision: number): ResponseHeader {
    return this.d.state.header(revision);
  }

  /** A stream drained or a watcher starts in the past: catch up soon rather than at the next tick. */
  eventsSent(count: number): void {
    this.d.onEventsSent?.(count);
  }

  catchUpSoon(): void {
    if (this.syncScheduled) return;
    this.syncScheduled = true;
    this.d.clock.soon(() => {
      this.syncScheduled = false;
      this.catchUp();
    });
  }

  private catchUp(): void {
    for (let i = 0; i < SYNC_PASSES_PER_TURN; i++) {
      const r = this.hub.syncUnsynced(SYNC_BATCH_EVENTS);
      if (!r.more) return;
    }
    this.catchUpSoon();
  }

  /**
   * A watch for the in-member recipes (lock, election): the events of
   * [key, rangeEnd) from `fromRevision` on, batch by batch, until `signal`
   * aborts. A compacted start revision rejects with etcd's compacted error.
   */
  async *watch(
    key: Uint8Array,
    rangeEnd: Uint8Array,
    fromRevision: number,
    signal: AbortSignal,
  ): AsyncGenerator<WatchBatch, void, undefined> {
    let wake: (() => void) | undefined;
    const poke = (): void => {
      const w = wake;
      wake = undefined;
      w?.();
    };
    const stream = this.hub.openStream({ onReadable: poke });
    signal.addEventListener('abort', poke);
    try {
      const req: WatchCreateRequest = { key, rangeEnd, startRevision: fromRevision };
      if (stream.create(req) < 0) throw new Error(`watch refused: ${JSON.stringify(req)}`);
      this.catchUpSoon();
      while (!signal.aborted) {
        const batch = stream.take();
        if (batch.length === 0) {
          await new Promise<void>((resolve) => {
            wake = resolve;
          });
          continue;
        }
        for (const resp of batch) {
          if (resp.compactRevision !== undefined && resp.compactRevision > 0) throw Errors.compacted();
          if (resp.canceled) return;
          if (resp.events.length === 0) continue;
          yield { header: this.d.state.header(resp.revision), events: resp.events };
        }
        if (stream.needsCatchUp) this.catchUpSoon();
      }
    } finally {
      signal.removeEventListener('abort', poke);
      stream.close();
    }
  }
}
