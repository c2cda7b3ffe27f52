// Watch hub behaviour as etcd 3.4 shows it on the wire (v3rpc/watch.go, mvcc/watcher.go,
// mvcc/watchable_store.go): created/canceled answers, ids, filters, prev_kv, progress.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { EventType } from '../mvcc/types.js';
import { WatchHub } from './hub.js';
import type { WatchStream } from './stream.js';
import { dec, enc, FakeHistory, type Write } from './testkit.js';
import { WatchErrors, WatchFilter, type WatchResponse } from './types.js';

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

/** Compact rendering of responses: "id@rev[+created][+canceled] type:key=value,...". */
function show(rs: WatchResponse[]): string[] {
  return rs.map((r) => {
    let s = `${r.watchId}@${r.revision}`;
    if (r.created) s += '+created';
    if (r.canceled) s += '+canceled';
    if (r.compactRevision) s += `+compact${r.compactRevision}`;
    if (r.cancelReason) s += `(${r.cancelReason})`;
    if (r.fragment) s += '+fragment';
    if (r.events.length > 0) {
      s += ` ${r.events
        .map((e) => {
          const body = e.type === EventType.PUT ? `${dec(e.kv.key)}=${dec(e.kv.value)}` : dec(e.kv.key);
          const prev = e.prevKv ? `(prev ${dec(e.prevKv.value)})` : '';
          return `${e.type === EventType.PUT ? 'put' : 'del'}:${body}${prev}`;
        })
        .join(',')}`;
    }
    return s;
  });
}

describe('create', () => {
  test('created response first, at the current revision; auto ids start at 0', () => {
    const { hub, write } = setup();
    write({ put: 'a' });
    const s = hub.openStream();
    assert.equal(s.create({ key: enc('a') }), 0);
    assert.equal(s.create({ key: enc('b') }), 1);
    write({ put: 'a', value: 'x' });
    assert.deepEqual(show(s.take()), ['0@2+created', '1@2+created', '0@3 put:a=x']);
  });

  test('auto ids skip ids the client chose; a taken id is refused like etcd (-1, created+canceled)', () => {
    const { hub } = setup();
    const s = hub.openStream();
    assert.equal(s.create({ key: enc('a'), watchId: 1 }), 1);
    assert.equal(s.create({ key: enc('a') }), 0);
    assert.equal(s.create({ key: enc('a') }), 2);
    assert.equal(s.create({ key: enc('a'), watchId: 2 }), -1);
    const rs = s.take();
    assert.deepEqual(rs.at(-1), {
      watchId: -1,
      revision: 1,
      created: true,
      canceled: true,
      cancelReason: WatchErrors.duplicateId,
      events: [],
    });
    assert.equal(WatchErrors.duplicateId, 'mvcc: duplicate watch ID provided on the WatchStream');
  });

  test('an empty range is refused with etcd text; "\\0" range end means every key >= key', () => {
    const { hub, write } = setup();
    const s = hub.openStream();
    assert.equal(s.create({ key: enc('b'), rangeEnd: enc('a') }), -1);
    assert.equal(s.create({ key: enc('b'), rangeEnd: enc('b') }), -1);
    assert.equal(s.create({ key: enc('b'), rangeEnd: enc('\0') }), 0);
    write({ put: 'a' }, { put: 'b' }, { put: 'zz' });
    assert.deepEqual(show(s.take()), [
      '-1@1+created+canceled(mvcc: watcher range is empty)',
      '-1@1+created+canceled(mvcc: watcher range is empty)',
      '0@1+created',
      '0@2 put:b=v2,put:zz=v2',
    ]);
  });

  test('empty key is "\\0": with "\\0" range end it watches everything', () => {
    const { hub, write } = setup();
    const s = hub.openStream();
    s.create({ key: new Uint8Array(0), rangeEnd: enc('\0') });
    write({ put: '\0' });
    write({ put: 'k' });
    assert.deepEqual(show(s.take()).slice(1), ['0@2 put:\0=v2', '0@3 put:k=v3']);
  });

  test('rejectCreate queues etcd-shaped refusal in order', () => {
    const { hub } = setup();
    const s = hub.openStream();
    s.create({ key: enc('a') });
    s.rejectCreate('etcdserver: permission denied');
    assert.deepEqual(show(s.take()), ['0@1+created', '-1@1+created+canceled(etcdserver: permission denied)']);
  });

  test('a future start revision gets only events at or above it', () => {
    const { hub, write } = setup();
    const s = hub.openStream();
    s.create({ key: enc('a'), startRevision: 4 });
    write({ put: 'a' });
    write({ put: 'a' });
    write({ put: 'a' });
    assert.deepEqual(show(s.take()), ['0@1+created', '0@4 put:a=v4']);
  });
});

describe('live events', () => {
  test('single key, range and prefix watchers; one response per watcher per revision', () => {
    const { hub, write } = setup();
    const s = hub.openStream();
    s.create({ key: enc('a') });
    s.create({ key: enc('a'), rangeEnd: enc('c') });
    s.create({ key: enc('b'), rangeEnd: enc('\0') });
    s.take();
    write({ put: 'a' }, { put: 'b' }, { put: 'c' });
    assert.deepEqual(show(s.take()), ['0@2 put:a=v2', '1@2 put:a=v2,put:b=v2', '2@2 put:b=v2,put:c=v2']);
  });

  test('filters drop events; a response left without events is not sent', () => {
    const { hub, write } = setup();
    const s = hub.openStream();
    s.create({ key: enc('a'), filters: [WatchFilter.NOPUT] });
    s.create({ key: enc('a'), filters: [WatchFilter.NODELETE] });
    s.create({ key: enc('a'), rangeEnd: enc('z'), filters: [WatchFilter.NOPUT] });
    s.take();
    write({ put: 'a' });
    write({ del: 'a' });
    write({ put: 'a' }, { put: 'b' });
    assert.deepEqual(show(s.take()), ['1@2 put:a=v2', '0@3 del:a', '2@3 del:a', '1@4 put:a=v4']);
  });

  test('prevKv only for watchers that asked for it', () => {
    const { hub, write } = setup();
    write({ put: 'a', value: 'old' });
    const s = hub.openStream();
    s.create({ key: enc('a') });
    s.create({ key: enc('a'), prevKv: true });
    s.create({ key: enc('a'), rangeEnd: enc('b'), prevKv: true });
    s.create({ key: enc('a'), rangeEnd: enc('b') });
    s.take();
    write({ put: 'a', value: 'new' });
    write({ del: 'a' }, { put: 'x' });
    assert.deepEqual(show(s.take()), [
      '0@3 put:a=new',
      '1@3 put:a=new(prev old)',
      '2@3 put:a=new(prev old)',
      '3@3 put:a=new',
      '0@4 del:a',
      '1@4 del:a(prev new)',
      '2@4 del:a(prev new)',
      '3@4 del:a',
    ]);
  });

  test('wantsPrevKv: true exactly while a live watcher asked for prev_kv', () => {
    const { history, hub, write } = setup();
    for (let i = 0; i < 5; i++) write({ put: 'a' });
    const s = hub.openStream();
    const other = hub.openStream();
    assert.equal(hub.wantsPrevKv(), false);
    s.create({ key: enc('a') });
    assert.equal(hub.wantsPrevKv(), false, 'a plain watcher does not need it');
    const synced = s.create({ key: enc('a'), prevKv: true });
    s.create({ key: enc('a'), prevKv: true, startRevision: 2 }); // unsynced: catches up from history
    assert.equal(hub.wantsPrevKv(), true);
    s.cancel(synced);
    assert.equal(hub.wantsPrevKv(), true, 'the unsynced one still wants it');
    s.close();
    assert.equal(hub.wantsPrevKv(), false, 'closing the stream released it');
    history.compact(4);
    const gone = other.create({ key: enc('a'), prevKv: true, startRevision: 2 }); // compacted at once
    assert.equal(hub.wantsPrevKv(), false, 'a watcher canceled by compaction does not count');
    other.cancel(gone);
    assert.equal(hub.wantsPrevKv(), false, 'canceling it again does not count twice');
    other.create({ key: enc('a'), prevKv: true });
    assert.equal(hub.wantsPrevKv(), true);
  });

  test('many streams and watchers on one key all get the event', () => {
    const { hub, write } = setup();
    const streams = Array.from({ length: 50 }, () => hub.openStream());
    for (const s of streams) for (let i = 0; i < 20; i++) s.create({ key: enc('k') });
    for (const s of streams) s.take();
    write({ put: 'k' });
    for (const s of streams) {
      const rs = s.take();
      assert.equal(rs.length, 20);
      assert.deepEqual(
        rs.map((r) => r.watchId),
        Array.from({ length: 20 }, (_, i) => i),
      );
    }
    assert.equal(hub.stats().watchers, 1000);
  });

  test('invariants: notify revisions must increase and not pass the store', () => {
    const { history, hub, write } = setup();
    write({ put: 'a' });
    assert.throws(() => hub.notify(2, []), /not above/);
    assert.throws(() => hub.notify(3, []), /above the store/);
    const { rev, events } = history.apply([{ put: 'a' }]);
    assert.throws(
      () => hub.notify(rev, [{ ...events[0]!, kv: { ...events[0]!.kv, modRevision: 7 } }]),
      /event at/,
    );
  });

  test('skipped revisions send synced watchers back to history instead of leaving a gap', () => {
    const { history, hub, write } = setup();
    const s = hub.openStream();
    s.create({ key: enc('a') });
    s.take();
    history.apply([{ put: 'a', value: 'lost' }]);
    write({ put: 'a', value: 'seen' });
    assert.deepEqual(show(s.take()), []);
    hub.syncUnsynced();
    assert.deepEqual(show(s.take()), ['0@3 put:a=lost,put:a=seen']);
    write({ put: 'a', value: 'live' });
    assert.deepEqual(show(s.take()), ['0@4 put:a=live']);
  });
});

describe('cancel and close', () => {
  test('cancel answers {watchId, canceled}; unknown ids get nothing; no events afterwards', () => {
    const { hub, write } = setup();
    const s = hub.openStream();
    s.create({ key: enc('a') });
    s.create({ key: enc('a') });
    assert.equal(s.cancel(0), true);
    assert.equal(s.cancel(0), false);
    assert.equal(s.cancel(42), false);
    write({ put: 'a' });
    assert.deepEqual(show(s.take()), ['0@1+created', '1@1+created', '0@1+canceled', '1@2 put:a=v2']);
  });

  test('close removes every watcher; the stream refuses further requests', () => {
    const { hub, write } = setup();
    const s = hub.openStream();
    const other = hub.openStream();
    s.create({ key: enc('a') });
    s.create({ key: enc('a'), rangeEnd: enc('z'), startRevision: 1 });
    other.create({ key: enc('a') });
    s.close();
    assert.deepEqual(hub.stats(), { streams: 1, watchers: 1, synced: 1, unsynced: 0, revision: 1 });
    write({ put: 'a' });
    assert.deepEqual(s.take(), []);
    assert.throws(() => s.create({ key: enc('a') }), /closed/);
    assert.equal(other.take().length, 2);
  });
});

describe('progress', () => {
  test('requestProgress answers watch id -1 at the current revision when all are synced', () => {
    const { hub, write } = setup();
    write({ put: 'a' });
    const s = hub.openStream();
    s.create({ key: enc('a') });
    s.requestProgress();
    assert.deepEqual(s.take().at(-1), { watchId: -1, revision: 2, events: [] });
  });

  test('requestProgress waits until every watcher of the stream is caught up', () => {
    const { hub, write } = setup();
    write({ put: 'a' });
    write({ put: 'a' });
    const s = hub.openStream();
    s.create({ key: enc('a') });
    s.create({ key: enc('a'), startRevision: 2 });
    s.requestProgress();
    assert.deepEqual(show(s.take()), ['0@3+created', '1@3+created']);
    hub.syncUnsynced();
    assert.deepEqual(show(s.take()), ['1@3 put:a=v2,put:a=v3', '-1@3']);
  });

  test('canceling the last unsynced watcher releases a waiting progress response', () => {
    const { hub, write } = setup();
    write({ put: 'a' });
    const s = hub.openStream();
    s.create({ key: enc('a'), startRevision: 1 });
    s.requestProgress();
    s.cancel(0);
    assert.deepEqual(show(s.take()), ['0@2+created', '0@2+canceled', '-1@2']);
  });

  test('progressTick: empty response to synced progress watchers without events since the last tick', () => {
    const { hub, write } = setup();
    const s = hub.openStream();
    s.create({ key: enc('a'), progressNotify: true });
    s.create({ key: enc('b'), progressNotify: true });
    s.create({ key: enc('c') });
    s.create({ key: enc('d'), progressNotify: true, startRevision: 1 });
    s.take();
    write({ put: 'a' });
    hub.progressTick();
    assert.deepEqual(show(s.take()), ['0@2 put:a=v2', '1@2']);
    hub.progressTick();
    assert.deepEqual(show(s.take()), ['0@2', '1@2']);
    hub.syncUnsynced();
    hub.progressTick();
    assert.deepEqual(show(s.take()), ['0@2', '1@2', '3@2']);
  });
});

describe('compaction', () => {
  test('start below the compaction: created, then etcd compaction response; the id stays taken', () => {
    const { history, hub, write } = setup();
    for (let i = 0; i < 5; i++) write({ put: 'a' });
    history.compact(4);
    const s = hub.openStream();
    assert.equal(s.create({ key: enc('a'), startRevision: 3, watchId: 7 }), 7);
    assert.deepEqual(s.take(), [
      { watchId: 7, revision: 6, created: true, events: [] },
      { watchId: 7, revision: 0, canceled: true, compactRevision: 4, events: [] },
    ]);
    assert.equal(s.create({ key: enc('a'), watchId: 7 }), -1);
    assert.equal(s.cancel(7), true);
    assert.deepEqual(show(s.take()).slice(1), ['7@6+canceled']);
    write({ put: 'a' });
    assert.deepEqual(s.take(), []);
  });

  test('start at the compaction revision is allowed (etcd cancels only below it)', () => {
    const { history, hub, write } = setup();
    for (let i = 0; i < 5; i++) write({ put: 'a' });
    history.compact(4);
    const s = hub.openStream();
    s.create({ key: enc('a'), startRevision: 4 });
    hub.syncUnsynced();
    assert.deepEqual(show(s.take()), ['0@6+created', '0@6 put:a=v4,put:a=v5,put:a=v6']);
  });

  test('a watcher behind when history is compacted is canceled at its next catch-up', () => {
    const { history, hub, write } = setup({ maxQueuedEvents: 1 });
    const s = hub.openStream();
    s.create({ key: enc('a') });
    s.take();
    write({ put: 'a' });
    write({ put: 'a' });
    write({ put: 'a' });
    history.compact(4);
    assert.deepEqual(show(s.take()), ['0@2 put:a=v2']);
    hub.syncUnsynced();
    assert.deepEqual(show(s.take()), ['0@0+canceled+compact4']);
    assert.equal(hub.stats().unsynced, 0);
  });
});

describe('slow streams', () => {
  test('a full stream falls behind without affecting others, then catches up in order', () => {
    const { hub, write } = setup({ maxQueuedEvents: 2 });
    const slow = hub.openStream();
    const fast = hub.openStream();
    slow.create({ key: enc('a') });
    fast.create({ key: enc('a') });
    slow.take();
    fast.take();
    for (let i = 0; i < 6; i++) {
      write({ put: 'a' });
      assert.equal(fast.take().length, 1);
    }
    assert.equal(hub.stats().unsynced, 1);
    assert.deepEqual(show(slow.take()), ['0@2 put:a=v2', '0@3 put:a=v3']);
    assert.equal(slow.needsCatchUp, true);
    hub.syncUnsynced();
    assert.equal(hub.stats().unsynced, 0);
    assert.deepEqual(show(slow.take()), ['0@7 put:a=v4,put:a=v5,put:a=v6,put:a=v7']);
    write({ put: 'a' });
    assert.deepEqual(show(slow.take()), ['0@8 put:a=v8']);
  });

  test('onReadable fires once per empty-to-non-empty, after the hub call, and may re-enter', () => {
    const { history, hub } = setup();
    const seen: string[][] = [];
    const s: WatchStream = hub.openStream({
      onReadable: () => {
        seen.push(show(s.take()));
        if (seen.length === 1) s.requestProgress();
      },
    });
    s.create({ key: enc('a') });
    assert.deepEqual(seen, [['0@1+created'], ['-1@1']]);
    const { rev, events } = history.apply([{ put: 'a' }, { put: 'b' }]);
    hub.notify(rev, events);
    assert.deepEqual(seen, [['0@1+created'], ['-1@1'], ['0@2 put:a=v2']]);
  });

  test('calling the hub from inside a hub call (here: from history) throws', () => {
    const history = new FakeHistory();
    const hub = new WatchHub(history);
    history.apply([{ put: 'a' }]);
    const s = hub.openStream();
    s.create({ key: enc('a'), startRevision: 1 });
    const read = history.readEvents.bind(history);
    history.readEvents = (from, to, limit) => {
      hub.progressTick();
      return read(from, to, limit);
    };
    assert.throws(() => hub.syncUnsynced(), /busy/);
    history.readEvents = read;
    hub.syncUnsynced();
    assert.deepEqual(show(s.take()), ['0@2+created', '0@2 put:a=v2']);
  });

  test('restore() re-syncs watchers from history after the store jumped ahead', () => {
    const { history, hub } = setup();
    const s = hub.openStream();
    s.create({ key: enc('a') });
    s.create({ key: enc('b'), startRevision: 10 });
    s.take();
    history.apply([{ put: 'a' }]);
    history.apply([{ put: 'b' }]);
    hub.restore();
    assert.equal(hub.revision, 3);
    hub.syncUnsynced();
    assert.deepEqual(show(s.take()), ['0@3 put:a=v2']);
  });
});
