// The watch hub: every watcher of every stream, fed synchronously by the server.
//
// Two groups, as in etcd: `synced` watchers have had every event up to the hub's
// revision queued and get new ones straight from notify(); `unsynced` watchers are
// behind and are fed from history by syncUnsynced(), which the shell calls on a timer.
// Unlike etcd there is no third "victim" state with parked event batches: a watcher
// whose stream queue is full simply records the revision it still needs and becomes
// unsynced, so notify never waits, never buffers for slow readers, and costs
// O(matching watchers). History is the single source for anything a watcher missed.
//
// The hub is pure: no clock, no timers, no I/O, no randomness. All it calls are the
// WatchHistory it was given and the streams' onReadable callbacks (after each call).

import type { Event } from '../mvcc/types.js';
import { catchUpPass } from './catch-up.js';
import { fragment, watchResponseSize } from './fragment.js';
import { requestRange, toKeyString } from './key-range.js';
import { type StreamHost, WatchStream } from './stream.js';
import {
  AUTO_WATCH_ID,
  type EventSizer,
  type HubStats,
  INVALID_WATCH_ID,
  type OpenStreamOptions,
  type ResponseSizer,
  type SyncResult,
  type WatchCreateRequest,
  WatchErrors,
  WatchFilter,
  type WatchHistory,
  type WatchHubOptions,
  type WatchResponse,
} from './types.js';
import { Flag, Watcher, WatcherState } from './watcher.js';
import { WatcherGroup } from './watcher-group.js';

export const DEFAULT_MAX_QUEUED_EVENTS = 4096;
export const DEFAULT_MAX_QUEUED_BYTES = 16 * 1024 * 1024;
/** Default history read budget of one syncUnsynced pass (etcd reads at most 1000 revisions a batch). */
export const DEFAULT_SYNC_EVENTS = 1000;

/** Default queue-size estimate of an event: its keys and values plus a little per record. */
export function defaultEventBytes(ev: Event): number {
  let n = 24 + ev.kv.key.length + ev.kv.value.length;
  if (ev.prevKv !== undefined) n += 24 + ev.prevKv.key.length + ev.prevKv.value.length;
  return n;
}

/** Hub internals the catch-up pass works on (see catch-up.ts). */
export interface HubCore {
  readonly history: WatchHistory;
  readonly unsynced: Set<Watcher>;
  readonly eventBytes: EventSizer;
  /** Moves a caught-up watcher to the synced group. */
  toSynced(w: Watcher): void;
  /** Cancels a watcher whose next revision was compacted away. */
  compact(w: Watcher, compactRev: number): void;
  /** Queues an event response for the watcher (fragmenting if it asked for it). */
  sendEvents(w: Watcher, revision: number, events: Event[], bytes: number): void;
}

export class WatchHub {
  private readonly core: HubCore;
  private readonly history: WatchHistory;
  private readonly synced = new WatcherGroup();
  private readonly unsynced = new Set<Watcher>();
  private readonly progressWatchers = new Set<Watcher>();
  private readonly streams = new Set<WatchStream>();
  private readonly host: StreamHost;
  private readonly eventBytes: EventSizer;
  private readonly responseBytes: ResponseSizer;
  private readonly maxResponseBytes: number | undefined;
  private readonly maxQueuedEvents: number;
  private readonly maxQueuedBytes: number;
  /** Last revision passed to notify. */
  private lastRev: number;
  private watcherTotal = 0;
  /** Watchers in a group (synced or unsynced) that asked for prev_kv. */
  private prevKvWatchers = 0;
  private busy = false;
  private readable: WatchStream[] = [];
  private stamp = 0;
  private readonly matches: Watcher[] = [];

  constructor(history: WatchHistory, opts: WatchHubOptions = {}) {
    this.history = history;
    this.lastRev = history.currentRevision();
    this.eventBytes = opts.eventBytes ?? defaultEventBytes;
    this.responseBytes = opts.responseBytes ?? watchResponseSize;
    this.maxResponseBytes = opts.maxResponseBytes;
    this.maxQueuedEvents = opts.maxQueuedEvents ?? DEFAULT_MAX_QUEUED_EVENTS;
    this.maxQueuedBytes = opts.maxQueuedBytes ?? DEFAULT_MAX_QUEUED_BYTES;
    checkLimits(this.maxQueuedEvents, this.maxQueuedBytes);
    if (this.maxResponseBytes !== undefined && !(this.maxResponseBytes > 0)) {
      throw new Error('watch: maxResponseBytes must be positive');
    }
    this.host = {
      create: (s, req) => this.run(() => this.create(s, req)),
      rejectCreate: (s, reason) =>
        this.run(() => {
          assertOpen(s);
          this.refuse(s, reason);
        }),
      cancel: (s, id) => this.run(() => this.cancel(s, id)),
      requestProgress: (s) =>
        this.run(() => {
          assertOpen(s);
          s.pendingProgress++;
          this.flushProgress(s);
        }),
      close: (s) => this.run(() => this.close(s)),
      readable: (s) => {
        if (s.onReadable !== undefined) this.readable.push(s);
      },
    };
    this.core = {
      history,
      unsynced: this.unsynced,
      eventBytes: this.eventBytes,
      toSynced: (w) => this.toSynced(w),
      compact: (w, rev) => this.compact(w, rev),
      sendEvents: (w, rev, evs, bytes) => this.sendEvents(w, rev, evs, bytes),
    };
  }

  /** A new stream (one gRPC Watch call). Limits default to the hub's. */
  openStream(opts: OpenStreamOptions = {}): WatchStream {
    const maxEvents = opts.maxQueuedEvents ?? this.maxQueuedEvents;
    const maxBytes = opts.maxQueuedBytes ?? this.maxQueuedBytes;
    checkLimits(maxEvents, maxBytes);
    const s = new WatchStream(this.host, maxEvents, maxBytes, opts.onReadable);
    this.streams.add(s);
    return s;
  }

  /**
   * Whether events given to notify() must carry prevKv: some watcher asked for prev_kv. While
   * none did, the store may leave it out of put events (see MvccStore.setPutEventsPrevKv).
   */
  wantsPrevKv(): boolean {
    return this.prevKvWatchers > 0;
  }

  /**
   * The events of one newly applied revision (all with modRevision === rev, prevKv filled
   * when the key existed and wantsPrevKv() was true at the write). Called once per revision,
   * in order; `rev` must be above the last one and at most the history's current revision.
   * If revisions were skipped, synced watchers are sent back to history for them rather than
   * risk a gap.
   */
  notify(rev: number, events: readonly Event[]): void {
    this.run(() => {
      if (!(rev > this.lastRev)) {
        throw new Error(`watch: notify revision ${rev} is not above the last notified ${this.lastRev}`);
      }
      const cur = this.history.currentRevision();
      if (rev > cur) throw new Error(`watch: notify revision ${rev} is above the store's revision ${cur}`);
      for (const ev of events) {
        if (ev.kv.modRevision !== rev) {
          throw new Error(`watch: event at revision ${ev.kv.modRevision} notified as revision ${rev}`);
        }
      }
      if (rev > this.lastRev + 1) this.resync(this.lastRev + 1, rev);
      this.lastRev = rev;
      if (this.synced.size === 0 || events.length === 0) return;
      if (events.length === 1) this.notifyOne(rev, events[0]!);
      else this.notifyMany(rev, events);
    });
  }

  /**
   * One catch-up pass: reads at most `maxEvents` events of history (always whole
   * revisions; one revision larger than the budget is read whole) starting at the oldest
   * revision an eligible unsynced watcher needs, and hands them to every unsynced watcher
   * whose stream has room. Watchers that reach the current revision become synced;
   * watchers below the compaction revision are canceled with etcd's compaction response.
   */
  syncUnsynced(maxEvents = DEFAULT_SYNC_EVENTS): SyncResult {
    if (!(Number.isInteger(maxEvents) && maxEvents >= 1)) {
      throw new Error(`watch: syncUnsynced needs a positive event budget, got ${maxEvents}`);
    }
    return this.run(() => catchUpPass(this.core, maxEvents));
  }

  /**
   * The progress-notify interval elapsed (etcd default 10 min): every synced watcher
   * created with progressNotify that got no event since the previous tick receives an
   * empty response at the hub's revision.
   */
  progressTick(): void {
    this.run(() => {
      for (const w of this.progressWatchers) {
        if ((w.flags & Flag.SAW_EVENT) === 0 && w.state === WatcherState.SYNCED && !w.stream.blocked) {
          w.stream.push({ watchId: w.id, revision: this.lastRev, events: [] }, 0);
        }
        w.flags &= ~Flag.SAW_EVENT;
      }
    });
  }

  /**
   * The store was replaced (snapshot restore) and is now at a later revision that was
   * never notified: every synced watcher catches up from history from where it was.
   */
  restore(): void {
    this.run(() => {
      const cur = this.history.currentRevision();
      if (cur < this.lastRev)
        throw new Error(`watch: restored store at ${cur} is behind the hub at ${this.lastRev}`);
      this.resync(this.lastRev + 1, cur);
      this.lastRev = cur;
    });
  }

  /** The last notified revision. */
  get revision(): number {
    return this.lastRev;
  }

  stats(): HubStats {
    return {
      streams: this.streams.size,
      watchers: this.watcherTotal,
      synced: this.synced.size,
      unsynced: this.unsynced.size,
      revision: this.lastRev,
    };
  }

  // --- stream requests ---

  private create(s: WatchStream, req: WatchCreateRequest): number {
    assertOpen(s);
    const range = requestRange(req.key, req.rangeEnd);
    if (range === undefined) return this.refuse(s, WatchErrors.emptyRange);
    let id = req.watchId ?? AUTO_WATCH_ID;
    if (id === AUTO_WATCH_ID) {
      while (s.watchers.has(s.nextAutoId)) s.nextAutoId++;
      id = s.nextAutoId++;
    } else if (s.watchers.has(id)) {
      return this.refuse(s, WatchErrors.duplicateId);
    }
    let flags = 0;
    for (const f of req.filters ?? []) {
      if (f === WatchFilter.NOPUT) flags |= Flag.NO_PUT;
      else if (f === WatchFilter.NODELETE) flags |= Flag.NO_DELETE;
    }
    if (req.prevKv) flags |= Flag.PREV_KV;
    if (req.progressNotify) flags |= Flag.PROGRESS_NOTIFY;
    if (req.fragment) flags |= Flag.FRAGMENT;

    const cur = this.history.currentRevision();
    const start = req.startRevision ?? 0;
    const w = new Watcher(id, s, range.start, range.end, 0, flags);
    s.watchers.set(id, w);
    this.watcherTotal++;
    if ((flags & Flag.PREV_KV) !== 0) this.prevKvWatchers++;
    s.push({ watchId: id, revision: cur, created: true, events: [] }, 0);
    if (req.progressNotify) this.progressWatchers.add(w);

    if (start === 0 || start > cur) {
      // From the next revision on, or from a future one.
      w.nextRev = Math.max(cur + 1, start);
      this.synced.add(w);
      return id;
    }
    // From history. etcd lets a negative start through to its compaction check; here it
    // means the beginning of history.
    w.nextRev = Math.max(start, 1);
    w.state = WatcherState.UNSYNCED;
    this.unsynced.add(w);
    s.unsyncedCount++;
    const compactRev = this.history.compactedRevision();
    if (w.nextRev < compactRev) this.compact(w, compactRev);
    return id;
  }

  /** etcd's answer to a create it cannot honour: created and canceled at once, id -1. */
  private refuse(s: WatchStream, cancelReason: string): number {
    s.push(
      {
        watchId: INVALID_WATCH_ID,
        revision: this.history.currentRevision(),
        created: true,
        canceled: true,
        cancelReason,
        events: [],
      },
      0,
    );
    return INVALID_WATCH_ID;
  }

  private cancel(s: WatchStream, id: number): boolean {
    assertOpen(s);
    const w = s.watchers.get(id);
    if (w === undefined) return false;
    s.watchers.delete(id);
    this.watcherTotal--;
    this.detach(w);
    s.push({ watchId: id, revision: this.history.currentRevision(), canceled: true, events: [] }, 0);
    this.flushProgress(s);
    return true;
  }

  private close(s: WatchStream): void {
    for (const w of s.watchers.values()) this.detach(w);
    this.watcherTotal -= s.watchers.size;
    s.watchers.clear();
    s.unsyncedCount = 0;
    this.streams.delete(s);
    s.markClosed();
  }

  /** Sends the stream's waiting progress responses if every watcher is synced. */
  private flushProgress(s: WatchStream): void {
    if (s.unsyncedCount !== 0) return;
    while (s.pendingProgress > 0) {
      s.pendingProgress--;
      s.push({ watchId: INVALID_WATCH_ID, revision: this.lastRev, events: [] }, 0);
    }
  }

  // --- live events ---

  private notifyOne(rev: number, ev: Event): void {
    const matches = this.matches;
    matches.length = 0;
    this.synced.collect(toKeyString(ev.kv.key), matches);
    // Response event lists are shared by every watcher wanting the same form.
    let full: Event[] | undefined;
    let plain: Event[] | undefined;
    let fullBytes = 0;
    let plainBytes = 0;
    for (const w of matches) {
      if (rev < w.nextRev) continue; // starts at a future revision
      if (!w.accepts(ev)) {
        w.advance(rev + 1);
        continue;
      }
      if (w.stream.blocked) {
        this.fallBehind(w, rev);
        continue;
      }
      w.advance(rev + 1);
      if ((w.flags & Flag.PREV_KV) !== 0 || ev.prevKv === undefined) {
        if (full === undefined) {
          full = [ev];
          fullBytes = this.eventBytes(ev);
        }
        this.sendEvents(w, rev, full, fullBytes);
      } else {
        if (plain === undefined) {
          const bare: Event = { type: ev.type, kv: ev.kv };
          plain = [bare];
          plainBytes = this.eventBytes(bare);
        }
        this.sendEvents(w, rev, plain, plainBytes);
      }
    }
    matches.length = 0;
  }

  private notifyMany(rev: number, events: readonly Event[]): void {
    const stamp = ++this.stamp;
    const touched: Watcher[] = [];
    const matches = this.matches;
    for (let i = 0; i < events.length; i++) {
      matches.length = 0;
      this.synced.collect(toKeyString(events[i]!.kv.key), matches);
      for (const w of matches) {
        if (rev < w.nextRev) continue;
        if (w.stamp !== stamp) {
          w.stamp = stamp;
          w.scratch = [i];
          touched.push(w);
        } else {
          w.scratch!.push(i);
        }
      }
      matches.length = 0;
    }
    const bare: (Event | undefined)[] = [];
    for (const w of touched) {
      const idx = w.scratch!;
      w.scratch = null;
      const wantPrev = (w.flags & Flag.PREV_KV) !== 0;
      const out: Event[] = [];
      let bytes = 0;
      for (const i of idx) {
        const ev = events[i]!;
        if (!w.accepts(ev)) continue;
        let e = ev;
        if (!wantPrev && ev.prevKv !== undefined) {
          e = bare[i] ?? { type: ev.type, kv: ev.kv };
          bare[i] = e;
        }
        out.push(e);
        bytes += this.eventBytes(e);
      }
      if (out.length === 0) {
        w.advance(rev + 1);
      } else if (w.stream.blocked) {
        this.fallBehind(w, rev);
      } else {
        w.advance(rev + 1);
        this.sendEvents(w, rev, out, bytes);
      }
    }
  }

  private sendEvents(w: Watcher, revision: number, events: Event[], bytes: number): void {
    w.flags |= Flag.SAW_EVENT;
    const resp: WatchResponse = { watchId: w.id, revision, events };
    if ((w.flags & Flag.FRAGMENT) === 0 || this.maxResponseBytes === undefined || events.length < 2) {
      w.stream.push(resp, bytes);
      return;
    }
    for (const part of fragment(resp, this.maxResponseBytes, this.responseBytes)) {
      let partBytes = 0;
      if (part === resp) partBytes = bytes;
      else for (const e of part.events) partBytes += this.eventBytes(e);
      w.stream.push(part, partBytes);
    }
  }

  // --- moving watchers between groups ---

  /** A synced watcher whose stream is full: it will get `rev` onwards from history. */
  private fallBehind(w: Watcher, rev: number): void {
    this.synced.delete(w);
    w.advance(rev);
    w.state = WatcherState.UNSYNCED;
    this.unsynced.add(w);
    w.stream.unsyncedCount++;
  }

  private toSynced(w: Watcher): void {
    if (w.state !== WatcherState.UNSYNCED)
      throw new Error('watch: only an unsynced watcher can become synced');
    this.unsynced.delete(w);
    w.state = WatcherState.SYNCED;
    this.synced.add(w);
    w.stream.unsyncedCount--;
    this.flushProgress(w.stream);
  }

  /** Synced watchers that may have missed events in [fromRev, upTo] go back to history. */
  private resync(fromRev: number, upTo: number): void {
    const moved: Watcher[] = [];
    this.synced.forEach((w) => {
      if (Math.max(w.nextRev, fromRev) <= upTo) moved.push(w);
    });
    for (const w of moved) this.fallBehind(w, Math.max(w.nextRev, fromRev));
  }

  /** etcd's compaction response: canceled, compact_revision set, header revision 0; the id stays taken. */
  private compact(w: Watcher, compactRev: number): void {
    this.detach(w);
    w.state = WatcherState.COMPACTED;
    w.stream.push({ watchId: w.id, revision: 0, canceled: true, compactRevision: compactRev, events: [] }, 0);
    this.flushProgress(w.stream);
  }

  /** Takes a watcher out of the groups (not out of its stream's id map). */
  private detach(w: Watcher): void {
    const grouped = w.state === WatcherState.SYNCED || w.state === WatcherState.UNSYNCED;
    if (grouped && (w.flags & Flag.PREV_KV) !== 0) this.prevKvWatchers--;
    if (w.state === WatcherState.SYNCED) this.synced.delete(w);
    else if (w.state === WatcherState.UNSYNCED) {
      this.unsynced.delete(w);
      w.stream.unsyncedCount--;
    }
    if ((w.flags & Flag.PROGRESS_NOTIFY) !== 0) this.progressWatchers.delete(w);
    w.state = WatcherState.REMOVED;
  }

  // --- plumbing ---

  /** Runs one hub call: no re-entry; streams that got output are told after it finishes. */
  private run<T>(fn: () => T): T {
    if (this.busy) throw new Error('watch: hub called again while it was busy (from a callback?)');
    this.busy = true;
    try {
      return fn();
    } finally {
      this.busy = false;
      if (this.readable.length > 0) {
        const list = this.readable;
        this.readable = [];
        for (const s of list) if (!s.closed && s.pendingResponses > 0) s.onReadable!();
      }
    }
  }
}

function assertOpen(s: WatchStream): void {
  if (s.closed) throw new Error('watch: stream is closed');
}

function checkLimits(maxEvents: number, maxBytes: number): void {
  if (!(maxEvents >= 1) || !(maxBytes >= 1)) throw new Error('watch: queue limits must be at least 1');
}
