// One catch-up pass over the unsynced watchers.
//
// Reads are shared: the pass reads history once, from the oldest revision any eligible
// watcher needs, and hands each event to every watcher that wants it. Watchers with the
// same range and the same next revision form a cohort that is matched once per event and
// shares its event list (10,000 watchers on one key cost one match per event, plus one
// response each). Like etcd, the pass starts at the minimum revision, so a watcher far
// ahead of a lagging one waits until the read reaches it.

import type { Event } from '../mvcc/types.js';
import { EventType } from '../mvcc/types.js';
import type { HubCore } from './hub.js';
import { IntervalTree } from './interval-tree.js';
import { toKeyString } from './key-range.js';
import type { SyncResult } from './types.js';
import { Flag, SELECT_MASK, type Watcher } from './watcher.js';

interface Cohort {
  start: string;
  end: string | undefined;
  nextRev: number;
  watchers: Watcher[];
  /** Indexes (into the pass's events) of the events this cohort gets. */
  events: number[];
}

interface Variant {
  events: Event[];
  bytes: number;
}

export function catchUpPass(core: HubCore, maxEvents: number): SyncResult {
  const { history, unsynced } = core;
  if (unsynced.size === 0) return { read: 0, unsynced: 0, more: false };
  const cur = history.currentRevision();
  const compactRev = history.compactedRevision();

  // 1. Eligible watchers (stream has room) into cohorts; compacted ones are canceled.
  const cohorts = new Map<string, Cohort>();
  let minRev = Number.POSITIVE_INFINITY;
  for (const w of unsynced) {
    if (w.stream.blocked) continue;
    if (w.nextRev < compactRev) {
      core.compact(w, compactRev);
      continue;
    }
    if (w.nextRev > cur) {
      core.toSynced(w);
      continue;
    }
    const id = `${w.nextRev}|${w.key}\u0101${w.end ?? ''}`;
    let c = cohorts.get(id);
    if (c === undefined) {
      c = { start: w.key, end: w.end, nextRev: w.nextRev, watchers: [], events: [] };
      cohorts.set(id, c);
    }
    c.watchers.push(w);
    if (w.nextRev < minRev) minRev = w.nextRev;
  }
  if (cohorts.size === 0) return { read: 0, unsynced: unsynced.size, more: false };

  // 2. One bounded read, cut back to whole revisions.
  // One event over the budget tells whether the last revision read is complete.
  let events = history.readEvents(minRev, cur, maxEvents + 1);
  let batchEnd = cur;
  if (events.length > maxEvents) {
    const lastRev = events[events.length - 1]!.kv.modRevision;
    if (events[0]!.kv.modRevision === lastRev) {
      // A single revision larger than the budget: it must travel whole.
      events = history.readEvents(lastRev, lastRev, 0);
      batchEnd = lastRev;
    } else {
      // The last revision may be cut short: leave it for the next pass.
      let n = events.length;
      while (events[n - 1]!.kv.modRevision === lastRev) n--;
      events = events.slice(0, n);
      batchEnd = lastRev - 1;
    }
  }
  let prev = minRev;
  for (const ev of events) {
    const r = ev.kv.modRevision;
    if (r < prev || r > batchEnd) {
      throw new Error(
        `watch: history returned revision ${r} out of order or outside [${minRev}, ${batchEnd}]`,
      );
    }
    prev = r;
  }

  // 3. Match each event once per cohort.
  const byKey = new Map<string, Cohort[]>();
  const byRange = new IntervalTree<Cohort[]>();
  for (const c of cohorts.values()) {
    if (c.nextRev > batchEnd) continue;
    if (c.end === undefined) {
      const list = byKey.get(c.start);
      if (list === undefined) byKey.set(c.start, [c]);
      else list.push(c);
    } else {
      const list = byRange.get(c.start, c.end);
      if (list === undefined) byRange.insert(c.start, c.end, [c]);
      else list.push(c);
    }
  }
  for (let i = 0; i < events.length; i++) {
    const ev = events[i]!;
    const key = toKeyString(ev.kv.key);
    const rev = ev.kv.modRevision;
    const list = byKey.get(key);
    if (list !== undefined) for (const c of list) if (c.nextRev <= rev) c.events.push(i);
    if (byRange.size > 0) {
      byRange.stab(key, (l) => {
        for (const c of l) if (c.nextRev <= rev) c.events.push(i);
      });
    }
  }

  // 4. Deliver: one response per watcher holding every revision of the batch it wants.
  const withPrev = new Map<number, Event>();
  const prevKvOf = (i: number): Event => {
    const ev = events[i]!;
    if (ev.prevKv !== undefined) return ev;
    // Creations have no previous value; below the compaction etcd finds none either.
    if (ev.type === EventType.PUT && ev.kv.createRevision === ev.kv.modRevision) return ev;
    if (ev.kv.modRevision - 1 < compactRev) return ev;
    let e = withPrev.get(i);
    if (e === undefined) {
      const prevKv = history.keyAt(ev.kv.key, ev.kv.modRevision - 1);
      e = prevKv === undefined ? ev : { type: ev.type, kv: ev.kv, prevKv };
      withPrev.set(i, e);
    }
    return e;
  };
  const variantOf = (c: Cohort, select: number): Variant => {
    const out: Event[] = [];
    let bytes = 0;
    for (const i of c.events) {
      const ev = events[i]!;
      if ((select & (ev.type === EventType.PUT ? Flag.NO_PUT : Flag.NO_DELETE)) !== 0) continue;
      const e = (select & Flag.PREV_KV) !== 0 ? prevKvOf(i) : ev;
      out.push(e);
      bytes += core.eventBytes(e);
    }
    return { events: out, bytes };
  };
  for (const c of cohorts.values()) {
    if (c.nextRev > batchEnd) continue;
    const variants = new Map<number, Variant>();
    for (const w of c.watchers) {
      // Another watcher's catch-up may have filled the stream during this pass.
      if (w.stream.blocked) continue;
      const select = w.flags & SELECT_MASK;
      let v = variants.get(select);
      if (v === undefined) {
        v = variantOf(c, select);
        variants.set(select, v);
      }
      w.advance(batchEnd + 1);
      // The header carries the store's revision, as etcd's catch-up responses do: a
      // watcher's header revisions never go below its created response's.
      if (v.events.length > 0) core.sendEvents(w, cur, v.events, v.bytes);
      if (w.nextRev > cur) core.toSynced(w);
    }
  }
  return { read: events.length, unsynced: unsynced.size, more: batchEnd < cur && unsynced.size > 0 };
}
