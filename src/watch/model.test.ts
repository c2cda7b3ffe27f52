// Randomized model test of the hub against an in-memory history.
//
// Each seed runs random txns (several events per revision), watchers created at random
// start revisions (past, below the compaction, now, future; single keys, ranges,
// from-key), filters, prev_kv, fragmenting, slow streams that stop reading for a while,
// compactions, cancels, progress requests and ticks, and stream closes. Every response
// is checked as it is taken; after a final drain every live watcher must have received
// exactly the history of its range from its start revision, in order, whole revisions per
// response, or have ended with etcd's compaction cancel.
//
// Replay one seed: WATCH_SEED=1234 node --test dist/src/watch/model.test.js
// More seeds:      WATCH_SEEDS=2000 node --test dist/src/watch/model.test.js

import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Event, KeyValue } from '../mvcc/types.js';
import { EventType } from '../mvcc/types.js';
import { WatchHub } from './hub.js';
import type { WatchStream } from './stream.js';
import { dec, enc, FakeHistory, rng, type Write } from './testkit.js';
import { WatchErrors, WatchFilter, type WatchResponse } from './types.js';

const KEYS = ['a', 'ab', 'abc', 'b', 'c', 'd', 'e'];

/** What the seeds exercised, summed over a run (checked so the test cannot go quietly blind). */
const coverage = {
  events: 0,
  multiRevisionResponses: 0,
  fragments: 0,
  compactCancels: 0,
  refusals: 0,
  cancels: 0,
  progress: 0,
  progressNotify: 0,
  prevKvFromHistory: 0,
  fellBehind: 0,
};

interface Incarnation {
  id: number;
  key: string;
  /** undefined: single key; '\0': from key; else exclusive end. */
  end: string | undefined;
  start: number;
  noPut: boolean;
  noDelete: boolean;
  prevKv: boolean;
  fragment: boolean;
  delivered: Event[];
  /** Lower bound of the watcher's next revision, from what it has been sent. */
  nextBound: number;
  state: 'active' | 'canceled' | 'compacted';
  fragments: WatchResponse[];
}

interface PendingCreate {
  inc: Incarnation | undefined;
  expectReason: string | undefined;
  createdRev: number;
}

interface ModelStream {
  s: WatchStream;
  pending: PendingCreate[];
  /** Ids the hub holds for this stream right now (as of the requests made). */
  idsInUse: Set<number>;
  /** Routing of responses by id, as of the responses seen so far. */
  route: Map<number, Incarnation>;
  incs: Incarnation[];
  pausedUntil: number;
  closed: boolean;
}

function inRange(inc: Incarnation, key: string): boolean {
  if (inc.end === undefined) return key === inc.key;
  if (inc.end === '\0') return key >= inc.key;
  return key >= inc.key && key < inc.end;
}

class Checker {
  constructor(readonly history: FakeHistory) {}

  expected(inc: Incarnation): Event[] {
    return this.history.allEvents().filter((ev) => {
      if (ev.kv.modRevision < inc.start) return false;
      if (!inRange(inc, dec(ev.kv.key))) return false;
      if (ev.type === EventType.PUT ? inc.noPut : inc.noDelete) return false;
      return true;
    });
  }

  valueAt(key: string, rev: number): KeyValue | undefined {
    let found: KeyValue | undefined;
    for (const ev of this.history.allEvents()) {
      if (ev.kv.modRevision > rev) break;
      if (dec(ev.kv.key) === key) found = ev.type === EventType.PUT ? ev.kv : undefined;
    }
    return found;
  }

  /** Everything the watcher must have been sent up to revision `rev` has been sent. */
  coveredUpTo(inc: Incarnation, rev: number, what: string): void {
    const need = this.expected(inc).filter((e) => e.kv.modRevision <= rev).length;
    assert.ok(
      inc.delivered.length >= need,
      `${what} at ${rev} but watcher ${inc.id} has ${inc.delivered.length} of ${need} events`,
    );
  }

  events(inc: Incarnation, r: WatchResponse): void {
    assert.equal(inc.state, 'active', `events for ${inc.state} watcher ${inc.id}`);
    if (r.fragment) {
      assert.ok(inc.fragment, 'fragment for a watcher that did not ask');
      inc.fragments.push(r);
      coverage.fragments++;
      return;
    }
    let events = r.events;
    if (inc.fragments.length > 0) {
      for (const f of inc.fragments) assert.equal(f.revision, r.revision, 'fragments of one response');
      events = [...inc.fragments.flatMap((f) => f.events), ...events];
      inc.fragments = [];
    }
    assert.ok(events.length > 0);
    const cur = this.history.currentRevision();
    assert.ok(r.revision <= cur, `response revision ${r.revision} above store ${cur}`);
    const expected = this.expected(inc);
    const compacted = this.history.compactedRevision();
    for (const ev of events) {
      const i = inc.delivered.length;
      const want = expected[i];
      assert.ok(want !== undefined, `watcher ${inc.id}: extra event at ${ev.kv.modRevision}`);
      assert.equal(ev.type, want.type, `watcher ${inc.id}: event #${i} type`);
      assert.equal(dec(ev.kv.key), dec(want.kv.key), `watcher ${inc.id}: event #${i} key`);
      assert.equal(
        ev.kv.modRevision,
        want.kv.modRevision,
        `watcher ${inc.id}: event #${i} revision (gap/dup)`,
      );
      assert.equal(dec(ev.kv.value), dec(want.kv.value));
      assert.equal(ev.kv.version, want.kv.version);
      assert.ok(ev.kv.modRevision <= r.revision, 'event above the response revision');
      if (!inc.prevKv) assert.equal(ev.prevKv, undefined, 'prevKv not asked for');
      else {
        const prev = this.valueAt(dec(ev.kv.key), ev.kv.modRevision - 1);
        if (ev.prevKv !== undefined) {
          assert.ok(prev !== undefined, 'prevKv for a key that did not exist');
          assert.equal(ev.prevKv.modRevision, prev.modRevision);
          assert.equal(dec(ev.prevKv.value), dec(prev.value));
        } else {
          assert.ok(
            prev === undefined || ev.kv.modRevision - 1 < compacted,
            `missing prevKv at ${ev.kv.modRevision}`,
          );
        }
      }
      inc.delivered.push(ev);
    }
    coverage.events += events.length;
    if (events[0]!.kv.modRevision !== events[events.length - 1]!.kv.modRevision)
      coverage.multiRevisionResponses++;
    // Whole revisions: the next expected event belongs to a later revision.
    const lastRev = events[events.length - 1]!.kv.modRevision;
    const next = expected[inc.delivered.length];
    assert.ok(
      next === undefined || next.kv.modRevision > lastRev,
      `watcher ${inc.id}: revision ${lastRev} split`,
    );
    // A header revision is the store's, not a promise of coverage: only the events themselves bound it.
    inc.nextBound = Math.max(inc.nextBound, lastRev + 1);
  }
}

function runSeed(seed: number, steps: number): void {
  const r = rng(seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;
  const history = new FakeHistory();
  const hub = new WatchHub(history, {
    maxQueuedEvents: 1 + Math.floor(r() * 6),
    maxResponseBytes: r() < 0.4 ? 120 + Math.floor(r() * 300) : undefined,
  });
  const checker = new Checker(history);
  const streams: ModelStream[] = [];
  const openStream = (): void => {
    streams.push({
      s: hub.openStream(),
      pending: [],
      idsInUse: new Set(),
      route: new Map(),
      incs: [],
      pausedUntil: 0,
      closed: false,
    });
  };
  for (let i = 0, n = 1 + Math.floor(r() * 3); i < n; i++) openStream();
  let step = 0;

  const process = (ms: ModelStream, r0: WatchResponse): void => {
    if (r0.created) {
      const pc = ms.pending.shift();
      assert.ok(pc !== undefined, 'created response without a create request');
      assert.equal(r0.revision, pc.createdRev, 'created revision');
      if (pc.inc === undefined) {
        coverage.refusals++;
        assert.deepEqual(
          [r0.watchId, r0.canceled, r0.cancelReason],
          [-1, true, pc.expectReason],
          'refused create',
        );
        return;
      }
      assert.equal(r0.watchId, pc.inc.id);
      assert.ok(!r0.canceled);
      ms.route.set(r0.watchId, pc.inc);
      return;
    }
    if (r0.watchId === -1) {
      coverage.progress++;
      assert.equal(r0.events.length, 0);
      for (const inc of ms.route.values())
        if (inc.state === 'active') checker.coveredUpTo(inc, r0.revision, 'progress');
      return;
    }
    const inc = ms.route.get(r0.watchId);
    assert.ok(inc !== undefined, `response for unknown watch id ${r0.watchId}`);
    if (r0.compactRevision) {
      assert.equal(inc.state, 'active');
      assert.ok(r0.canceled);
      assert.equal(r0.revision, 0);
      assert.ok(inc.nextBound < r0.compactRevision, `compacted watcher was already at ${inc.nextBound}`);
      assert.ok(r0.compactRevision <= history.compactedRevision());
      assert.equal(inc.fragments.length, 0);
      inc.state = 'compacted';
      coverage.compactCancels++;
      return;
    }
    if (r0.canceled) {
      assert.equal(r0.events.length, 0);
      inc.state = 'canceled';
      coverage.cancels++;
      ms.route.delete(r0.watchId);
      return;
    }
    if (r0.events.length === 0) {
      assert.equal(inc.state, 'active');
      coverage.progressNotify++;
      checker.coveredUpTo(inc, r0.revision, 'progress notify');
      return;
    }
    checker.events(inc, r0);
  };

  const drainStream = (ms: ModelStream, max?: number): void => {
    for (const resp of ms.s.take(max)) process(ms, resp);
  };

  const create = (ms: ModelStream): void => {
    const cur = history.currentRevision();
    const key = pick(KEYS);
    const shape = r();
    let end: string | undefined;
    if (shape < 0.4) end = undefined;
    else if (shape < 0.55) end = '\0';
    else end = pick(KEYS);
    const startPick = r();
    let start: number;
    if (startPick < 0.3) start = 0;
    else if (startPick < 0.9) start = 1 + Math.floor(r() * cur);
    else start = cur + 1 + Math.floor(r() * 4);
    const explicitId = r() < 0.15 ? 100 + Math.floor(r() * 3) : 0;
    const filters: number[] = [];
    if (r() < 0.15) filters.push(WatchFilter.NOPUT);
    if (r() < 0.15) filters.push(WatchFilter.NODELETE);
    const prevKv = r() < 0.4;
    const fragment = r() < 0.5;
    const progressNotify = r() < 0.3;
    const id = ms.s.create({
      key: enc(key),
      rangeEnd: end === undefined ? undefined : enc(end),
      startRevision: start,
      filters,
      prevKv,
      fragment,
      progressNotify,
      watchId: explicitId,
    });
    let expectReason: string | undefined;
    if (end !== undefined && end !== '\0' && !(key < end)) expectReason = WatchErrors.emptyRange;
    else if (explicitId !== 0 && ms.idsInUse.has(explicitId)) expectReason = WatchErrors.duplicateId;
    if (expectReason !== undefined) {
      assert.equal(id, -1);
      ms.pending.push({ inc: undefined, expectReason, createdRev: cur });
      return;
    }
    if (explicitId !== 0) assert.equal(id, explicitId);
    assert.ok(!ms.idsInUse.has(id));
    ms.idsInUse.add(id);
    const effStart = start === 0 ? cur + 1 : start;
    const inc: Incarnation = {
      id,
      key,
      end,
      start: effStart,
      noPut: filters.includes(WatchFilter.NOPUT),
      noDelete: filters.includes(WatchFilter.NODELETE),
      prevKv,
      fragment,
      delivered: [],
      nextBound: effStart,
      state: 'active',
      fragments: [],
    };
    ms.incs.push(inc);
    ms.pending.push({ inc, expectReason: undefined, createdRev: cur });
  };

  const write = (): void => {
    const n = 1 + Math.floor(r() * 3);
    const used = new Set<string>();
    const writes: Write[] = [];
    for (let i = 0; i < n; i++) {
      const k = pick(KEYS);
      if (used.has(k)) continue;
      used.add(k);
      writes.push(r() < 0.7 ? { put: k, value: `s${step}.${i}` } : { del: k });
    }
    const { rev, events } = history.apply(writes);
    if (events.length > 0) hub.notify(rev, events);
  };

  for (step = 0; step < steps; step++) {
    const x = r();
    const live = streams.filter((m) => !m.closed);
    if (live.length === 0) openStream();
    const ms = pick(streams.filter((m) => !m.closed));
    if (x < 0.4) write();
    else if (x < 0.55) create(ms);
    else if (x < 0.6) {
      const ids = [...ms.idsInUse];
      const id = ids.length > 0 && r() < 0.9 ? pick(ids) : 999;
      assert.equal(ms.s.cancel(id), ms.idsInUse.has(id));
      ms.idsInUse.delete(id);
    } else if (x < 0.63) ms.s.requestProgress();
    else if (x < 0.66) {
      const cur = history.currentRevision();
      const lo = Math.max(history.compactedRevision() + 1, 1);
      if (lo <= cur) history.compact(lo + Math.floor(r() * (cur - lo + 1)));
    } else if (x < 0.75) {
      coverage.fellBehind += hub.stats().unsynced;
      hub.syncUnsynced(1 + Math.floor(r() * 8));
    } else if (x < 0.77) hub.progressTick();
    else if (x < 0.78) {
      drainStream(ms);
      ms.s.close();
      ms.closed = true;
      openStream();
    } else if (x < 0.82) ms.pausedUntil = step + Math.floor(r() * 40);
    // Readers: streams not paused read some or all of their output.
    for (const m of streams) {
      if (m.closed || m.pausedUntil > step || r() < 0.3) continue;
      drainStream(m, r() < 0.5 ? undefined : 1 + Math.floor(r() * 3));
      if (m.s.needsCatchUp && r() < 0.5) hub.syncUnsynced(1 + Math.floor(r() * 8));
    }
  }

  // Final drain: everyone reads, catch-up runs until nobody is behind.
  for (let i = 0; i < 10_000; i++) {
    for (const m of streams) if (!m.closed) drainStream(m);
    if (hub.stats().unsynced === 0) break;
    hub.syncUnsynced(1 + Math.floor(r() * 8));
  }
  assert.equal(hub.stats().unsynced, 0, 'watchers still behind after the drain');
  for (const m of streams) {
    if (m.closed) continue;
    drainStream(m);
    assert.equal(m.pending.length, 0);
    for (const inc of m.incs) {
      if (inc.state !== 'active') continue;
      assert.equal(inc.fragments.length, 0, 'unfinished fragments');
      const want = checker.expected(inc).length;
      assert.equal(
        inc.delivered.length,
        want,
        `watcher ${inc.id} got ${inc.delivered.length} of ${want} events`,
      );
    }
  }
  coverage.prevKvFromHistory += history.keyAtCalls;
  const open = streams.filter((m) => !m.closed);
  assert.equal(
    hub.stats().watchers,
    open.reduce((n, m) => n + m.idsInUse.size, 0),
  );
}

test('randomized model: every watcher sees exactly its history', () => {
  const one = process.env.WATCH_SEED;
  const seeds =
    one !== undefined
      ? [Number(one)]
      : Array.from({ length: Number(process.env.WATCH_SEEDS ?? 300) }, (_, i) => i + 1);
  for (const seed of seeds) {
    try {
      runSeed(seed, 300);
    } catch (err) {
      const msg = err instanceof Error ? err.message : String(err);
      throw new Error(
        `seed ${seed} failed (replay: WATCH_SEED=${seed} node --test dist/src/watch/model.test.js): ${msg}`,
        {
          cause: err,
        },
      );
    }
  }
  if (seeds.length >= 100) {
    for (const [what, n] of Object.entries(coverage)) assert.ok(n > 0, `no seed exercised ${what}`);
  }
  process.stdout.write(`# watch model coverage ${JSON.stringify(coverage)}\n`);
});
