// One watcher: a key range on a stream plus the next revision it has to see. Kept as a
// plain object with a handful of fields (no closures, no timers) so that hundreds of
// thousands of idle watchers stay cheap; options live in one bit field.

import type { Event } from '../mvcc/types.js';
import { EventType } from '../mvcc/types.js';
import type { WatchStream } from './stream.js';

export const Flag = {
  NO_PUT: 1,
  NO_DELETE: 2,
  PREV_KV: 4,
  PROGRESS_NOTIFY: 8,
  FRAGMENT: 16,
  /** An event went out since the last progress tick (so that tick sends nothing). */
  SAW_EVENT: 32,
} as const;

/** The flags that decide which events a watcher gets and in what form. */
export const SELECT_MASK = Flag.NO_PUT | Flag.NO_DELETE | Flag.PREV_KV;

export const WatcherState = {
  /** Every event up to the hub's revision has been queued; gets events live from notify. */
  SYNCED: 0,
  /** Behind: waits for catch-up from history, starting at nextRev. */
  UNSYNCED: 1,
  /** Stopped by compaction; its id stays taken on the stream until cancel or close, as in etcd. */
  COMPACTED: 2,
  /** Canceled or its stream closed. */
  REMOVED: 3,
} as const;
export type WatcherStateValue = (typeof WatcherState)[keyof typeof WatcherState];

export class Watcher {
  /** Scratch for grouping one notify's events per watcher: the notify it was last touched in. */
  stamp = 0;
  /** Scratch: indexes of that notify's events matching this watcher. */
  scratch: number[] | null = null;
  state: WatcherStateValue = WatcherState.SYNCED;

  constructor(
    readonly id: number,
    readonly stream: WatchStream,
    /** Key string (see key-range.ts); may be replaced by an identical interned string. */
    public key: string,
    /** undefined: single key; else exclusive end (KEY_INFINITY for "all keys >= key"). */
    readonly end: string | undefined,
    /** Smallest revision this watcher still has to receive. */
    public nextRev: number,
    public flags: number,
  ) {}

  /** Moves nextRev forward; it never goes back. */
  advance(rev: number): void {
    if (rev < this.nextRev) {
      throw new Error(`watch: watcher ${this.id} next revision would go back from ${this.nextRev} to ${rev}`);
    }
    this.nextRev = rev;
  }

  /** Whether this watcher's filters let the event through. */
  accepts(ev: Event): boolean {
    return ev.type === EventType.PUT ? (this.flags & Flag.NO_PUT) === 0 : (this.flags & Flag.NO_DELETE) === 0;
  }
}
