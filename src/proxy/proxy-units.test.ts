import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { RangeRequest, type RangeResponse, type WatchResponse } from '../pb/etcdserverpb/rpc.js';
import { Event_EventType } from '../pb/mvccpb/kv.js';
import { Namespace, prefixEnd } from './namespace.js';
import { CompactedError, RangeCache } from './range-cache.js';
import { ProxyWatcher, validRange, watchRangeOf } from './watch-watcher.js';

const b = (s: string) => Buffer.from(s);
const req = (key: string, end = '', revision = 0) =>
  RangeRequest.fromPartial({ key: b(key), rangeEnd: b(end), revision, serializable: true });
const resp = (n: number): RangeResponse => ({ header: undefined, kvs: [], more: false, count: n });

describe('range cache', () => {
  test('hits, invalidation by overlapping writes, open-ended ranges', () => {
    const c = new RangeCache();
    c.add(req('a'), resp(1));
    c.add(req('b', 'd'), resp(2));
    c.add(req('x', '\0'), resp(3));
    assert.equal(c.get(req('a'))?.count, 1);
    // A linearizable request is stored and found as serializable.
    assert.equal(c.get({ ...req('a'), serializable: false })?.count, 1);
    c.invalidate(b('c'), b(''));
    assert.equal(c.get(req('b', 'd')), undefined);
    assert.equal(c.get(req('a'))?.count, 1);
    c.invalidate(b('zzz'), b(''));
    assert.equal(c.get(req('x', '\0')), undefined);
    c.invalidate(b('\0'), b('\0'));
    assert.equal(c.get(req('a')), undefined);
    assert.equal(c.size, 0);
  });
  test('pinned revisions survive writes; compaction refuses older ones; LRU bound', () => {
    const c = new RangeCache(2);
    c.add(req('a', '', 5), resp(5));
    c.invalidate(b('a'), b(''));
    assert.equal(c.get(req('a', '', 5))?.count, 5);
    c.compact(7);
    assert.throws(() => c.get(req('a', '', 5)), CompactedError);
    c.add(req('p'), resp(1));
    c.add(req('q'), resp(2));
    c.get(req('p'));
    c.add(req('r'), resp(3));
    assert.equal(c.get(req('q')), undefined);
    assert.equal(c.get(req('p'))?.count, 1);
  });
});

describe('namespace', () => {
  test('intervals and stripping as etcd namespace does', () => {
    const ns = new Namespace('/ns/');
    assert.deepEqual(ns.interval(b('a'), b('')), { key: b('/ns/a'), end: b('') });
    assert.deepEqual(ns.interval(b('a'), b('c')), { key: b('/ns/a'), end: b('/ns/c') });
    assert.deepEqual(ns.interval(b('a'), b('\0')), { key: b('/ns/a'), end: b('/ns0') });
    assert.deepEqual(prefixEnd(Buffer.from([0x61, 0xff])), b('b'));
    assert.deepEqual(prefixEnd(Buffer.from([0xff])), Buffer.from([0]));
    const t = ns.txn({
      compare: [],
      success: [
        {
          request: {
            $case: 'requestPut',
            requestPut: {
              key: b('k'),
              value: b('v'),
              lease: 0n,
              prevKv: false,
              ignoreValue: false,
              ignoreLease: false,
            },
          },
        },
      ],
      failure: [],
    });
    const put = t.success[0]?.request;
    assert.ok(put?.$case === 'requestPut');
    assert.deepEqual(put.requestPut.key, b('/ns/k'));
    assert.deepEqual(ns.leaseKeys([b('/ns/a'), b('/other')]), [b('a')]);
  });
});

describe('proxy watcher', () => {
  const header = (revision: number) => ({ clusterId: 1n, memberId: 2n, revision, raftTerm: 3 });
  const ev = (rev: number, type = Event_EventType.PUT) => ({
    type,
    kv: { key: b('k'), createRevision: 1, modRevision: rev, version: 1, value: b(`v${rev}`), lease: 0n },
    prevKv: { key: b('k'), createRevision: 1, modRevision: rev - 1, version: 1, value: b('old'), lease: 0n },
  });
  const answer = (revision: number, fields: Partial<WatchResponse>): WatchResponse => ({
    header: header(revision),
    watchId: 0,
    created: false,
    canceled: false,
    compactRevision: 0,
    cancelReason: '',
    fragment: false,
    events: [],
    ...fields,
  });

  test('skips events it has seen, applies filters, drops prev_kv unless asked', () => {
    const out: WatchResponse[] = [];
    const create = {
      key: b('k'),
      rangeEnd: b(''),
      startRevision: 0,
      progressNotify: false,
      filters: [1],
      prevKv: false,
      watchId: 0,
      fragment: false,
    };
    const w = new ProxyWatcher(7, watchRangeOf(create), create, (r) => out.push(r));
    w.deliver(answer(10, { created: true }));
    assert.equal(w.nextRevision, 11);
    w.deliver(answer(12, { events: [ev(10), ev(11), ev(12, Event_EventType.DELETE)] }));
    assert.equal(out.length, 2);
    assert.equal(out[1]?.watchId, 7);
    assert.deepEqual(
      out[1]?.events.map((e) => e.kv?.modRevision),
      [11],
    );
    assert.equal(out[1]?.events[0]?.prevKv, undefined);
    assert.equal(w.nextRevision, 13);
    // Progress notifications only when asked for.
    assert.equal(w.deliver(answer(20, {})), false);
    assert.ok(validRange(watchRangeOf({ ...create, rangeEnd: b('\0') })));
    assert.ok(!validRange(watchRangeOf({ ...create, key: b('z'), rangeEnd: b('a') })));
  });
});
