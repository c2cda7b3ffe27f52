// fragment(): etcd 3.4's sendFragments rules; watchResponseSize(): exact protobuf size
// (checked against the generated encoder; only this test touches src/pb).

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { Event } from '../mvcc/types.js';
import { EventType } from '../mvcc/types.js';
import { WatchResponse as PbWatchResponse } from '../pb/etcdserverpb/rpc.js';
import { fragment, HEADER_ALLOWANCE, watchResponseSize } from './fragment.js';
import { WatchHub } from './hub.js';
import { enc, FakeHistory, rng } from './testkit.js';
import type { WatchResponse } from './types.js';

function ev(key: string, valueBytes: number, rev = 5, prev = false): Event {
  const kv = {
    key: enc(key),
    createRevision: 2,
    modRevision: rev,
    version: 3,
    value: Buffer.alloc(valueBytes, 0x61),
    lease: 0n,
  };
  return prev
    ? { type: EventType.PUT, kv, prevKv: { ...kv, modRevision: rev - 1 } }
    : { type: EventType.PUT, kv };
}

/** etcd's loop, literally: grow a part until it reaches the limit, re-measuring the whole part each time. */
function referenceFragments(resp: WatchResponse, max: number): WatchResponse[] {
  const size = watchResponseSize;
  if (size(resp) < max || resp.events.length < 2) return [resp];
  const out: WatchResponse[] = [];
  let idx = 0;
  for (;;) {
    const cur: WatchResponse = { ...resp, fragment: true, events: [] };
    for (const e of resp.events.slice(idx)) {
      cur.events.push(e);
      if (cur.events.length > 1 && size(cur) >= max) {
        cur.events.pop();
        break;
      }
      idx++;
    }
    if (idx === resp.events.length) delete cur.fragment;
    out.push(cur);
    if (!cur.fragment) return out;
  }
}

describe('fragment', () => {
  test('small responses and single events are left alone', () => {
    const small: WatchResponse = { watchId: 3, revision: 5, events: [ev('a', 10), ev('b', 10)] };
    assert.equal(fragment(small, 1000, watchResponseSize)[0], small);
    const huge: WatchResponse = { watchId: 3, revision: 5, events: [ev('a', 5000)] };
    assert.equal(fragment(huge, 1000, watchResponseSize)[0], huge);
  });

  test('parts stay under the limit, never split below one event, all but the last flagged', () => {
    const events = [ev('a', 300), ev('b', 300), ev('c', 2000), ev('d', 100), ev('e', 100), ev('f', 300)];
    const resp: WatchResponse = { watchId: 7, revision: 9, events };
    const parts = fragment(resp, 800, watchResponseSize);
    assert.deepEqual(
      parts.map((p) => p.events.map((e) => e.kv.key.toString())),
      [['a', 'b'], ['c'], ['d', 'e', 'f']],
    );
    assert.deepEqual(
      parts.map((p) => p.fragment),
      [true, true, undefined],
    );
    for (const p of parts) {
      assert.equal(p.watchId, 7);
      assert.equal(p.revision, 9);
      if (p.events.length > 1) assert.ok(watchResponseSize(p) < 800);
    }
  });

  test('matches etcd loop on random responses', () => {
    const seed = Number(process.env.WATCH_SEED ?? 1);
    for (let round = 0; round < 300; round++) {
      const r = rng(seed * 1000 + round);
      const n = 1 + Math.floor(r() * 20);
      const events = Array.from({ length: n }, (_, i) => ev(`k${i}`, Math.floor(r() * 400), 5, r() < 0.5));
      const resp: WatchResponse = { watchId: Math.floor(r() * 3) - 1, revision: 100, events };
      const max = 50 + Math.floor(r() * 2000);
      assert.deepEqual(
        fragment(resp, max, watchResponseSize),
        referenceFragments(resp, max),
        `round ${round}`,
      );
    }
  });

  test('watchResponseSize is the protobuf size (plus the header allowance)', () => {
    const cases: WatchResponse[] = [
      { watchId: 0, revision: 1, events: [] },
      {
        watchId: -1,
        revision: 1,
        created: true,
        canceled: true,
        cancelReason: 'mvcc: watcher range is empty',
        events: [],
      },
      { watchId: 5, revision: 1, canceled: true, compactRevision: 123456789, events: [] },
      { watchId: 300, revision: 1, fragment: true, events: [ev('key', 1000, 2 ** 40, true), ev('', 0)] },
      {
        watchId: 1,
        revision: 1,
        events: [
          {
            type: EventType.DELETE,
            kv: {
              key: enc('x'),
              createRevision: 0,
              modRevision: 9,
              version: 0,
              value: Buffer.alloc(0),
              lease: 7n,
            },
          },
        ],
      },
    ];
    for (const c of cases) {
      const encoded = PbWatchResponse.encode({
        watchId: c.watchId,
        created: c.created ?? false,
        canceled: c.canceled ?? false,
        compactRevision: c.compactRevision ?? 0,
        cancelReason: c.cancelReason ?? '',
        fragment: c.fragment ?? false,
        events: c.events.map((e) => ({ type: e.type, kv: e.kv, prevKv: e.prevKv })),
      }).finish();
      assert.equal(watchResponseSize(c) - HEADER_ALLOWANCE, encoded.length);
    }
  });

  test('the hub fragments only watchers created with fragment=true', () => {
    const history = new FakeHistory();
    const hub = new WatchHub(history, { maxResponseBytes: 600 });
    const writes = Array.from({ length: 6 }, (_, i) => ({ put: `k${i}`, value: 'x'.repeat(200) }));
    const s = hub.openStream();
    s.create({ key: enc('k'), rangeEnd: enc('l'), fragment: true });
    s.create({ key: enc('k'), rangeEnd: enc('l') });
    s.take();
    const { rev, events } = history.apply(writes);
    hub.notify(rev, events);
    const rs = s.take();
    assert.deepEqual(
      rs.map((r) => [r.watchId, r.events.length, r.fragment ?? false]),
      [
        [0, 2, true],
        [0, 2, true],
        [0, 2, false],
        [1, 6, false],
      ],
    );
  });
});
