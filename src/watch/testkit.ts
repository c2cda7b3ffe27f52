// Test helpers: an in-memory WatchHistory that behaves like the mvcc store (revisions
// start at 1, one revision per write batch, tombstone events carry {key, modRevision}),
// and a small seeded PRNG.

import type { Event, KeyValue } from '../mvcc/types.js';
import { EventType } from '../mvcc/types.js';
import { seededRandom } from '../util/seeded-random.js';
import type { WatchHistory } from './types.js';

export const enc = (s: string): Buffer => Buffer.from(s, 'latin1');
export const dec = (b: Uint8Array): string => Buffer.from(b).toString('latin1');

export type Write = { put: string; value?: string } | { del: string };

export class FakeHistory implements WatchHistory {
  /** Every event still in history (compacted ones removed), without prevKv. */
  private log: Event[] = [];
  /** Every event ever written, compaction or not (for expectations). */
  private readonly all: Event[] = [];
  private readonly live = new Map<string, KeyValue>();
  private rev = 1;
  private compacted = -1;
  readCalls = 0;
  keyAtCalls = 0;

  currentRevision(): number {
    return this.rev;
  }

  compactedRevision(): number {
    return this.compacted;
  }

  readEvents(fromRev: number, toRev: number, limit: number): Event[] {
    this.readCalls++;
    if (fromRev < this.compacted)
      throw new Error(`fake history: read from ${fromRev} below compaction ${this.compacted}`);
    if (toRev > this.rev) throw new Error(`fake history: read up to ${toRev} beyond ${this.rev}`);
    let lo = 0;
    let hi = this.log.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.log[mid]!.kv.modRevision < fromRev) lo = mid + 1;
      else hi = mid;
    }
    const out: Event[] = [];
    for (let i = lo; i < this.log.length; i++) {
      const ev = this.log[i]!;
      if (ev.kv.modRevision > toRev) break;
      out.push(ev);
      if (limit > 0 && out.length >= limit) break;
    }
    return out;
  }

  keyAt(key: Uint8Array, rev: number): KeyValue | undefined {
    this.keyAtCalls++;
    if (rev < this.compacted)
      throw new Error(`fake history: keyAt ${rev} below compaction ${this.compacted}`);
    // Compaction keeps each key's latest version at the compaction revision, so any
    // revision >= compacted can be answered; the full log does that simply.
    const k = dec(key);
    for (let i = this.all.length - 1; i >= 0; i--) {
      const ev = this.all[i]!;
      if (ev.kv.modRevision > rev || dec(ev.kv.key) !== k) continue;
      return ev.type === EventType.PUT ? ev.kv : undefined;
    }
    return undefined;
  }

  /** Applies writes as one revision; returns the live events (with prevKv), or none if nothing changed. */
  apply(writes: Write[]): { rev: number; events: Event[] } {
    const rev = this.rev + 1;
    const events: Event[] = [];
    for (const w of writes) {
      if ('put' in w) {
        const prev = this.live.get(w.put);
        const kv: KeyValue = {
          key: enc(w.put),
          createRevision: prev ? prev.createRevision : rev,
          modRevision: rev,
          version: prev ? prev.version + 1 : 1,
          value: enc(w.value ?? `v${rev}`),
          lease: 0n,
        };
        this.live.set(w.put, kv);
        events.push(prev ? { type: EventType.PUT, kv, prevKv: prev } : { type: EventType.PUT, kv });
      } else {
        const prev = this.live.get(w.del);
        if (prev === undefined) continue;
        this.live.delete(w.del);
        const kv: KeyValue = {
          key: enc(w.del),
          createRevision: 0,
          modRevision: rev,
          version: 0,
          value: Buffer.alloc(0),
          lease: 0n,
        };
        events.push({ type: EventType.DELETE, kv, prevKv: prev });
      }
    }
    if (events.length === 0) return { rev: this.rev, events };
    this.rev = rev;
    for (const ev of events) {
      this.log.push({ type: ev.type, kv: ev.kv });
      this.all.push({ type: ev.type, kv: ev.kv });
    }
    return { rev, events };
  }

  compact(rev: number): void {
    if (rev <= this.compacted || rev > this.rev) throw new Error(`fake history: bad compaction ${rev}`);
    this.compacted = rev;
    this.log = this.log.filter((ev) => ev.kv.modRevision >= rev);
  }

  /** Every event ever written, including compacted ones (for building expectations). */
  allEvents(): readonly Event[] {
    return this.all;
  }
}

/** The shared mulberry32 PRNG: a failing seed replays. */
export const rng = seededRandom;
