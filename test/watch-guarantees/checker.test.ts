// The checker itself: a correct record passes, and each kind of broken
// delivery (or broken reference) is caught. Pure and fast; no server.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { checkWatcher, type Reference } from './check.js';
import type { CompactionRecord } from './history.js';
import { applyMutations, type Mutation, type RefEvent, type Store } from './model.js';
import type { Incarnation, RecvEvent, RecvResponse, WatcherRecord, WatcherSpec } from './records.js';

const put = (key: string, value: string): Mutation => ({ kind: 'put', key, value });
const del = (key: string): Mutation => ({ kind: 'del', range: { key, end: '' } });

/** r2: put a; r3: txn put b, put a; r4: delete a; r5: put a; r6: txn delete b, put c. */
function history(): RefEvent[][] {
  const store: Store = new Map();
  const events: RefEvent[][] = [];
  const writes: Mutation[][] = [
    [put('/w/a', '1')],
    [put('/w/b', '1'), put('/w/a', '2')],
    [del('/w/a')],
    [put('/w/a', '3')],
    [del('/w/b'), put('/w/c', '1')],
  ];
  writes.forEach((muts, i) => {
    events[i + 2] = applyMutations(store, muts, i + 2, true).events;
  });
  return events;
}

function ref(events = history(), compactions: CompactionRecord[] = []): Reference {
  return { final: 6, events, bound: () => 6, compactions };
}

const ALL: WatcherSpec = {
  id: 1,
  range: { key: '/w/', end: '/w0' },
  start: 'past',
  prevKv: true,
  filters: [],
  fragment: false,
  slot: 0,
  createAtMs: 0,
};

function recv(ev: RefEvent, prevKv: boolean): RecvEvent {
  const r: RecvEvent = { type: ev.type, kv: { ...ev.kv }, lease: 0n };
  if (prevKv && ev.prev !== undefined) {
    r.prev = { ...ev.prev };
    r.prevLease = 0n;
  }
  return r;
}

function resp(
  at: number,
  header: number,
  events: RecvEvent[],
  extra: Partial<RecvResponse> = {},
): RecvResponse {
  return {
    at,
    header,
    watchId: 0,
    created: false,
    canceled: false,
    compactRevision: 0,
    cancelReason: '',
    events,
    parts: 1,
    ...extra,
  };
}

/** A watcher that received every revision from `start` in its own response. */
function goodRecord(spec = ALL, start = 2): WatcherRecord {
  const events = history();
  const responses: RecvResponse[] = [];
  for (let r = start; r <= 6; r++) {
    responses.push(
      resp(
        100 + r,
        r,
        events[r]!.map((e) => recv(e, spec.prevKv)),
      ),
    );
  }
  const inc: Incarnation = {
    slot: 's0#1',
    requestedStart: start,
    sentAt: 1,
    compLoAtSend: 0,
    created: resp(2, 1, [], { created: true }),
    watchId: 0,
    responses,
    end: 'open',
  };
  return { spec, initialStart: start, incarnations: [inc], progress: [] };
}

function incOf(rec: WatcherRecord): Incarnation {
  return rec.incarnations[0]!;
}

function fails(rec: WatcherRecord, r: Reference, pattern: RegExp): void {
  const res = checkWatcher(rec, r);
  assert.ok(res.violations.length > 0, `expected a violation matching ${pattern}`);
  assert.ok(
    res.violations.some((v) => pattern.test(v)),
    `expected ${pattern}, got:\n${res.violations.join('\n')}`,
  );
}

test('a correct delivery passes', () => {
  const res = checkWatcher(goodRecord(), ref());
  assert.deepEqual(res.violations, []);
  assert.equal(res.end, 'complete');
  assert.equal(res.eventsChecked, 7);
});

test('an event dropped from the reference fails the check', () => {
  const events = history();
  events[3] = events[3]!.slice(1);
  fails(goodRecord(), ref(events), /wrong event|gap/);
});

test('a missing, a duplicated or a reordered event fails', () => {
  const gap = goodRecord();
  incOf(gap).responses.splice(2, 1);
  fails(gap, ref(), /gap/);
  const dup = goodRecord();
  incOf(dup).responses.splice(2, 0, incOf(dup).responses[1]!);
  fails(dup, ref(), /more than one response|duplicate/);
  const tail = goodRecord();
  incOf(tail).responses.pop();
  fails(tail, ref(), /missing 2 events/);
});

test("a revision's events split over two responses fail (unless fragments)", () => {
  const rec = goodRecord();
  const r3 = incOf(rec).responses[1]!;
  incOf(rec).responses.splice(
    1,
    1,
    { ...r3, events: [r3.events[0]!] },
    { ...r3, at: r3.at + 0.5, events: [r3.events[1]!] },
  );
  fails(rec, ref(), /revision 3 delivered in more than one response/);
  const frag = goodRecord({ ...ALL, fragment: false });
  incOf(frag).responses[1]!.parts = 2;
  fails(frag, ref(), /did not ask for fragments/);
  const ok = goodRecord({ ...ALL, fragment: true });
  incOf(ok).responses[1]!.parts = 2;
  assert.deepEqual(checkWatcher(ok, ref()).violations, []);
});

test('prev_kv: wrong, missing or unasked-for fails; missing after a compaction passes', () => {
  const wrong = goodRecord();
  incOf(wrong).responses[1]!.events[1]!.prev!.value = 'zzz';
  fails(wrong, ref(), /wrong prev_kv/);
  const missing = goodRecord();
  delete incOf(missing).responses[2]!.events[0]!.prev;
  fails(missing, ref(), /prev_kv missing/);
  const unasked = goodRecord({ ...ALL, prevKv: false });
  incOf(unasked).responses[1]!.events[1]!.prev = {
    key: '/w/a',
    value: '1',
    createRevision: 2,
    modRevision: 2,
    version: 1,
  };
  fails(unasked, ref(), /unexpected prev_kv/);
  const compacted = goodRecord();
  delete incOf(compacted).responses[2]!.events[0]!.prev;
  const c: CompactionRecord = { revision: 4, sentAt: 50, doneAt: 60, outcome: 'acked' };
  const res = checkWatcher(compacted, ref(history(), [c]));
  assert.deepEqual(res.violations, []);
  assert.equal(res.prevKvOmitted, 1);
});

test('filters are honoured', () => {
  const spec: WatcherSpec = { ...ALL, filters: ['NODELETE'], prevKv: false };
  const events = history();
  const rec = goodRecord(spec);
  // goodRecord delivered everything, deletes included.
  fails(rec, ref(events), /NODELETE filter not honoured/);
  const right = goodRecord(spec);
  for (const r of incOf(right).responses) r.events = r.events.filter((e) => e.type !== 'DELETE');
  incOf(right).responses = incOf(right).responses.filter((r) => r.events.length > 0);
  assert.deepEqual(checkWatcher(right, ref(events)).violations, []);
});

test('headers: decreasing, below an event, or above the store fail', () => {
  const dec = goodRecord();
  incOf(dec).responses[3]!.header = 3;
  fails(dec, ref(), /header revision decreased: 3 on event response/);
  const below = goodRecord();
  incOf(below).responses[4]!.header = 5;
  fails(below, ref(), /above its response's header/);
  const future = goodRecord();
  fails(future, { ...ref(), bound: (t) => (t < 104 ? 2 : 6) }, /above the store's revision/);
});

test('compaction: a start below an acknowledged compaction must be canceled, with a real compaction', () => {
  const c: CompactionRecord = { revision: 4, sentAt: 0, doneAt: 0.5, outcome: 'acked' };
  const rec = goodRecord();
  incOf(rec).compLoAtSend = 4;
  fails(rec, ref(history(), [c]), /got events|was not canceled/);
  const canceled = goodRecord();
  const inc = incOf(canceled);
  inc.compLoAtSend = 4;
  inc.responses = [resp(10, 0, [], { canceled: true, compactRevision: 4 })];
  inc.end = 'compacted';
  const res = checkWatcher(canceled, ref(history(), [c]));
  assert.deepEqual(res.violations, []);
  assert.equal(res.end, 'compacted');
  // A cancel naming a revision nobody compacted, or one the watcher did not need.
  fails(canceled, ref(history(), []), /no compaction requested/);
  const needless = goodRecord(ALL, 5);
  incOf(needless).responses = [resp(10, 0, [], { canceled: true, compactRevision: 4 })];
  fails(needless, ref(history(), [c]), /needed revisions from 5/);
  // Nothing may follow the cancel.
  const after = goodRecord();
  incOf(after).compLoAtSend = 4;
  incOf(after).responses = [resp(10, 0, [], { canceled: true, compactRevision: 4 }), resp(11, 6, [])];
  fails(after, ref(history(), [c]), /after the watcher ended/);
});

test('a watch started at the compaction revision may miss only its DELETE events', () => {
  const c: CompactionRecord = { revision: 4, sentAt: 0, doneAt: 0.5, outcome: 'acked' };
  const rec = goodRecord(ALL, 4);
  incOf(rec).responses.shift(); // revision 4 is a single delete
  const res = checkWatcher(rec, ref(history(), [c]));
  assert.deepEqual(res.violations, []);
  assert.equal(res.compactedTombstones, 1);
  fails(rec, ref(history(), []), /gap/);
  const puts = goodRecord(ALL, 6);
  incOf(puts).responses[0]!.events = [];
  incOf(puts).responses.shift();
  fails(puts, ref(history(), [{ ...c, revision: 6 }]), /missing 1 events/);
});

test('resumes: events continue from the last one received, across incarnations', () => {
  const rec = goodRecord();
  const first = incOf(rec);
  const rest = first.responses.splice(2);
  first.end = 'broken';
  rec.incarnations.push({
    slot: 's0#2',
    requestedStart: 4,
    sentAt: 200,
    compLoAtSend: 0,
    created: resp(201, 6, [], { created: true }),
    watchId: 3,
    responses: rest.map((r) => ({ ...r, at: r.at + 200, header: 6 })),
    end: 'open',
  });
  assert.deepEqual(checkWatcher(rec, ref()).violations, []);
  // Replaying the resumed revision is a duplicate.
  const dup = structuredClone(rec);
  dup.incarnations[1]!.responses.unshift({ ...dup.incarnations[0]!.responses[1]!, at: 202, header: 6 });
  fails(dup, ref(), /more than one response|duplicate/);
});

test('server-side cancels and progress ahead of events are reported', () => {
  const rec = goodRecord();
  incOf(rec).responses.push(resp(300, 6, [], { canceled: true, cancelReason: 'boom' }));
  fails(rec, ref(), /canceled by the server/);
  const prog = goodRecord();
  prog.progress.push({ at: 101, header: 6, lastEventRev: 0, broadcast: true });
  const res = checkWatcher(prog, ref());
  assert.deepEqual(res.violations, []);
  assert.equal(res.progressViolations.length, 2);
});
