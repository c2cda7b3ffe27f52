// Catch-up from history: whole revisions per batch, shared reads, prev_kv from history,
// streams that fill up mid-pass, and the hand-over to live events.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { EventType } from '../mvcc/types.js';
import { WatchHub } from './hub.js';
import { dec, enc, FakeHistory, type Write } from './testkit.js';
import type { WatchResponse } from './types.js';

function setup(opts: ConstructorParameters<typeof WatchHub>[1] = {}) {
  const history = new FakeHistory();
  const hub = new WatchHub(history, opts);
  const write = (...writes: Write[]): number => {
    const { rev, events } = history.apply(writes);
    hub.notify(rev, events);
    return rev;
  };
  return { history, hub, write };
}

const revsOf = (r: WatchResponse): number[] => r.events.map((e) => e.kv.modRevision);
const eventResponses = (rs: WatchResponse[]): WatchResponse[] => rs.filter((r) => r.events.length > 0);

describe('catch-up', () => {
  test('from history, then live, with no gap and no duplicate while writes interleave', () => {
    const { hub, write } = setup();
    for (let i = 0; i < 10; i++) write({ put: 'k' });
    const s = hub.openStream();
    s.create({ key: enc('k'), startRevision: 3 });
    const seen: number[] = [];
    for (let i = 0; i < 6; i++) {
      hub.syncUnsynced(2);
      write({ put: 'k' }, { put: 'other' });
      for (const r of eventResponses(s.take())) seen.push(...revsOf(r));
    }
    hub.syncUnsynced(100);
    write({ put: 'k' });
    for (const r of eventResponses(s.take())) seen.push(...revsOf(r));
    assert.deepEqual(
      seen,
      Array.from({ length: 18 - 3 + 1 }, (_, i) => i + 3),
    );
  });

  test("batches end at whole revisions; the header revision is the store's, as etcd's", () => {
    const { history, hub, write } = setup();
    for (let i = 0; i < 6; i++) write({ put: 'a' }, { put: 'b' });
    const s = hub.openStream();
    s.create({ key: enc('a'), rangeEnd: enc('c'), startRevision: 2 });
    s.take();
    const got: WatchResponse[] = [];
    for (let pass = 0; pass < 10 && hub.stats().unsynced > 0; pass++) {
      const before = history.readCalls;
      hub.syncUnsynced(3);
      assert.equal(history.readCalls - before, 1);
      got.push(...s.take());
    }
    assert.equal(hub.stats().unsynced, 0);
    assert.equal(got.length, 6);
    got.forEach((r, i) => {
      assert.equal(r.revision, history.currentRevision());
      assert.deepEqual(revsOf(r), [i + 2, i + 2]);
      assert.deepEqual(
        r.events.map((e) => dec(e.kv.key)),
        ['a', 'b'],
      );
    });
  });

  test('a revision larger than the budget is delivered whole', () => {
    const { hub, write } = setup();
    write({ put: 'a' }, { put: 'b' }, { put: 'c' }, { put: 'd' }, { put: 'e' });
    write({ put: 'a' });
    const s = hub.openStream();
    s.create({ key: enc('a'), rangeEnd: enc('\0'), startRevision: 1 });
    s.take();
    const r1 = hub.syncUnsynced(2);
    assert.deepEqual(r1, { read: 5, unsynced: 1, more: true });
    const [resp] = s.take();
    assert.equal(resp!.revision, 3);
    assert.deepEqual(revsOf(resp!), [2, 2, 2, 2, 2]);
    assert.equal(resp!.events.length, 5);
    hub.syncUnsynced(2);
    assert.deepEqual(s.take().map(revsOf), [[3]]);
    assert.equal(hub.stats().unsynced, 0);
  });

  test('prev_kv on catch-up comes from history; none for creations or below the compaction', () => {
    const { history, hub, write } = setup();
    write({ put: 'a', value: 'one' }); // 2: creation
    write({ put: 'a', value: 'two' }); // 3
    write({ del: 'a' }); // 4
    write({ put: 'a', value: 'three' }); // 5: creation again
    write({ put: 'a', value: 'four' }); // 6
    history.compact(6);
    write({ put: 'a', value: 'five' }); // 7
    const s = hub.openStream();
    s.create({ key: enc('a'), startRevision: 6, prevKv: true });
    s.create({ key: enc('a'), startRevision: 6 });
    hub.syncUnsynced();
    const [withPrev, without] = eventResponses(s.take());
    assert.deepEqual(
      withPrev!.events.map((e) => (e.prevKv ? dec(e.prevKv.value) : null)),
      [null, 'four'],
    );
    assert.ok(without!.events.every((e) => e.prevKv === undefined));

    const { hub: hub2, history: h2, write: write2 } = setup();
    write2({ put: 'a', value: 'one' });
    write2({ put: 'a', value: 'two' });
    write2({ del: 'a' });
    write2({ put: 'a', value: 'three' });
    const s2 = hub2.openStream();
    s2.create({ key: enc('a'), startRevision: 1, prevKv: true });
    const callsBefore = h2.keyAtCalls;
    hub2.syncUnsynced();
    const [r] = eventResponses(s2.take());
    assert.deepEqual(
      r!.events.map((e) => [e.type, e.prevKv ? dec(e.prevKv.value) : null]),
      [
        [EventType.PUT, null],
        [EventType.PUT, 'one'],
        [EventType.DELETE, 'two'],
        [EventType.PUT, null],
      ],
    );
    assert.equal(h2.keyAtCalls - callsBefore, 2, 'creations need no lookup');
  });

  test('10,000 unsynced watchers on one key share one read and one event list', () => {
    const { history, hub, write } = setup();
    for (let i = 0; i < 50; i++) write({ put: 'hot' }, { put: `cold${i}` });
    const streams = Array.from({ length: 100 }, () => hub.openStream({ maxQueuedEvents: 1_000_000 }));
    for (const s of streams) {
      for (let i = 0; i < 100; i++) s.create({ key: enc('hot'), startRevision: i % 2 === 0 ? 2 : 30 });
      s.take();
    }
    const reads = history.readCalls;
    const res = hub.syncUnsynced(1000);
    assert.equal(history.readCalls - reads, 1);
    assert.deepEqual(res, { read: 100, unsynced: 0, more: false });
    const lists = new Set<unknown>();
    for (const s of streams) {
      const rs = s.take();
      assert.equal(rs.length, 100);
      for (const r of rs) {
        assert.equal(r.events.length, r.watchId % 2 === 0 ? 50 : 22);
        lists.add(r.events);
      }
    }
    assert.equal(lists.size, 2);
  });

  test('streams without room are skipped; a stream filling up mid-pass keeps the rest for later', () => {
    const { hub, write } = setup({ maxQueuedEvents: 3 });
    for (let i = 0; i < 4; i++) write({ put: 'a' });
    const blocked = hub.openStream();
    blocked.create({ key: enc('a') });
    write({ put: 'a' });
    write({ put: 'a' });
    write({ put: 'a' });
    blocked.create({ key: enc('a'), startRevision: 2 });
    const busy = hub.openStream();
    for (let i = 0; i < 3; i++) busy.create({ key: enc('a'), startRevision: 2 });
    busy.take();
    assert.equal(blocked.blocked, true);
    assert.equal(blocked.needsCatchUp, false);

    hub.syncUnsynced();
    const first = busy.take();
    assert.deepEqual(
      first.map((r) => r.watchId),
      [0],
    );
    assert.deepEqual(revsOf(first[0]!), [2, 3, 4, 5, 6, 7, 8]);
    assert.equal(hub.stats().unsynced, 3);
    hub.syncUnsynced();
    hub.syncUnsynced();
    assert.deepEqual(
      busy.take().map((r) => r.watchId),
      [1],
    );
    hub.syncUnsynced();
    assert.deepEqual(
      busy.take().map((r) => r.watchId),
      [2],
    );
    assert.equal(blocked.pendingResponses, 5);
    blocked.take();
    assert.equal(blocked.needsCatchUp, true);
    hub.syncUnsynced();
    assert.deepEqual(blocked.take().map(revsOf), [[2, 3, 4, 5, 6, 7, 8]]);
    assert.equal(hub.stats().unsynced, 0);
  });

  test('range and from-key watchers catch up only their keys', () => {
    const { hub, write } = setup();
    write({ put: 'a' }, { put: 'b' }, { put: 'c' });
    write({ put: 'bb' });
    write({ del: 'b' });
    const s = hub.openStream();
    s.create({ key: enc('b'), rangeEnd: enc('c'), startRevision: 1 });
    s.create({ key: enc('bb'), rangeEnd: enc('\0'), startRevision: 1 });
    s.create({ key: enc('b'), startRevision: 1 });
    s.take();
    hub.syncUnsynced();
    const rs = s.take();
    assert.deepEqual(
      rs.map((r) => [r.watchId, r.revision, r.events.map((e) => `${e.type}${dec(e.kv.key)}`)]),
      [
        [0, 4, ['0b', '0bb', '1b']],
        [1, 4, ['0c', '0bb']],
        [2, 4, ['0b', '1b']],
      ],
    );
  });

  test('the event budget must be positive', () => {
    const { hub } = setup();
    assert.throws(() => hub.syncUnsynced(0), /positive/);
  });
});
