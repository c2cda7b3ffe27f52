import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { V2Error, V2ErrorCode } from './errors.js';
import { V2Action, type V2Event } from './event.js';
import { EVENT_HISTORY_CAPACITY } from './event-history.js';
import { eventJson } from './json.js';
import { V2Store } from './store.js';
import { NS_PER_SECOND } from './time.js';

const NOW = 1_800_000_000n * NS_PER_SECOND; // 2027-01-15
const sec = (n: number): bigint => BigInt(n) * NS_PER_SECOND;

function fails(fn: () => unknown, code: V2ErrorCode, cause: string, index: number): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof V2Error, String(err));
    assert.deepEqual({ code: err.errorCode, cause: err.cause, index: err.index }, { code, cause, index });
    return true;
  });
}

function fresh(): V2Store {
  return new V2Store();
}

describe('v2 store: keys and directories', () => {
  test('set creates parents at the same index; get shows the value; a second set returns the prevNode', () => {
    const s = fresh();
    const e = s.set('/1/a/b', false, 'x', {}, NOW);
    assert.equal(
      eventJson(e),
      '{"action":"set","node":{"key":"/1/a/b","value":"x","modifiedIndex":1,"createdIndex":1}}',
    );
    assert.equal(e.etcdIndex, 1);
    assert.equal(s.get('/1/a', false, false, NOW).node.createdIndex, 1);
    const again = s.set('/1/a/b', false, 'y', {}, NOW);
    assert.equal(
      eventJson(again),
      '{"action":"set","node":{"key":"/1/a/b","value":"y","modifiedIndex":2,"createdIndex":2},' +
        '"prevNode":{"key":"/1/a/b","value":"x","modifiedIndex":1,"createdIndex":1}}',
    );
  });

  test('errors carry the key and the index: not found, not a dir, not a file, exists, read-only root', () => {
    const s = fresh();
    fails(() => s.get('/1/nope', false, false, NOW), V2ErrorCode.KeyNotFound, '/1/nope', 0);
    s.set('/1/f', false, 'v', {}, NOW);
    fails(() => s.get('/1/f/x', false, false, NOW), V2ErrorCode.NotDir, '/1/f', 1);
    fails(() => s.set('/1/f/x', false, 'v', {}, NOW), V2ErrorCode.NotDir, '/1/f', 1);
    fails(() => s.create('/1/f/x', false, 'v', false, {}, NOW), V2ErrorCode.NotDir, '/1/f', 1);
    s.set('/1/d', true, '', {}, NOW);
    fails(() => s.set('/1/d', false, 'v', {}, NOW), V2ErrorCode.NotFile, '/1/d', 2);
    fails(() => s.create('/1/f', false, 'v', false, {}, NOW), V2ErrorCode.NodeExist, '/1/f', 2);
    fails(() => s.set('/1', false, 'v', {}, NOW), V2ErrorCode.RootReadOnly, '/', 2);
    fails(() => s.delete('/', true, true, NOW), V2ErrorCode.RootReadOnly, '/', 2);
    fails(() => s.update('/1/d', 'v', {}, NOW), V2ErrorCode.NotFile, '/1/d', 2);
    assert.equal(s.index, 2);
  });

  test("POST's unique names come from the next index, zero-padded to 20 digits", () => {
    const s = fresh();
    s.set('/1/x', false, 'v', {}, NOW);
    const e = s.create('/1/q', false, 'job', true, {}, NOW);
    assert.equal(e.node.key, '/1/q/00000000000000000002');
    assert.equal(e.action, V2Action.Create);
  });

  test('listings leave hidden nodes out; sorted orders by key; recursive descends', () => {
    const s = fresh();
    s.set('/1/d/b', false, '2', {}, NOW);
    s.set('/1/d/_h', false, 'h', {}, NOW);
    s.set('/1/d/a/c', false, '3', {}, NOW);
    const flat = s.get('/1/d', false, true, NOW);
    assert.deepEqual(
      flat.node.nodes?.map((n) => [n.key, n.dir === true, n.nodes === undefined]),
      [
        ['/1/d/a', true, true],
        ['/1/d/b', false, true],
      ],
    );
    const deep = s.get('/1/d', true, true, NOW);
    assert.equal(deep.node.nodes?.[0]?.nodes?.[0]?.value, '3');
    // A hidden key is still readable by its own name.
    assert.equal(s.get('/1/d/_h', false, false, NOW).node.value, 'h');
  });

  test('update keeps createdIndex; a directory update changes its TTL only', () => {
    const s = fresh();
    s.set('/1/k', false, 'a', {}, NOW);
    const e = s.update('/1/k', 'b', {}, NOW);
    assert.deepEqual([e.node.createdIndex, e.node.modifiedIndex, e.prevNode?.value], [1, 2, 'a']);
    s.set('/1/d', true, '', {}, NOW);
    const d = s.update('/1/d', '', { expireTime: NOW + sec(10) }, NOW);
    assert.equal(d.node.dir, true);
    assert.equal(d.node.ttl, 10);
    // etcd's quirk: the directory's own modified index stays (its Write fails and is ignored).
    assert.equal(s.get('/1/d', false, false, NOW).node.modifiedIndex, 3);
    assert.equal(s.index, 4);
  });

  test('compare-and-swap: causes as etcd words them', () => {
    const s = fresh();
    s.set('/1/k', false, 'a', {}, NOW);
    fails(() => s.compareAndSwap('/1/k', 'b', 0, 'c', {}, NOW), V2ErrorCode.TestFailed, '[b != a]', 1);
    fails(() => s.compareAndSwap('/1/k', '', 7, 'c', {}, NOW), V2ErrorCode.TestFailed, '[7 != 1]', 1);
    fails(
      () => s.compareAndSwap('/1/k', 'b', 7, 'c', {}, NOW),
      V2ErrorCode.TestFailed,
      '[b != a] [7 != 1]',
      1,
    );
    const e = s.compareAndSwap('/1/k', 'a', 1, 'c', {}, NOW);
    assert.deepEqual(
      [e.action, e.node.value, e.node.modifiedIndex, e.prevNode?.value],
      [V2Action.CompareAndSwap, 'c', 2, 'a'],
    );
    s.set('/1/d', true, '', {}, NOW);
    fails(() => s.compareAndSwap('/1/d', 'x', 0, 'c', {}, NOW), V2ErrorCode.NotFile, '/1/d', 3);
  });

  test('delete: files, empty directories with dir, non-empty ones only recursively', () => {
    const s = fresh();
    s.set('/1/d/k', false, 'v', {}, NOW);
    fails(() => s.delete('/1/d', false, false, NOW), V2ErrorCode.NotFile, '/1/d', 1);
    fails(() => s.delete('/1/d', true, false, NOW), V2ErrorCode.DirNotEmpty, '/1/d', 1);
    const e = s.delete('/1/d', false, true, NOW);
    assert.equal(
      eventJson(e),
      '{"action":"delete","node":{"key":"/1/d","dir":true,"modifiedIndex":2,"createdIndex":1},' +
        '"prevNode":{"key":"/1/d","dir":true,"modifiedIndex":1,"createdIndex":1}}',
    );
    fails(() => s.get('/1/d/k', false, false, NOW), V2ErrorCode.KeyNotFound, '/1/d', 2);
  });

  test('compare-and-delete', () => {
    const s = fresh();
    s.set('/1/k', false, 'v', {}, NOW);
    fails(() => s.compareAndDelete('/1/k', 'w', 0, NOW), V2ErrorCode.TestFailed, '[w != v]', 1);
    const e = s.compareAndDelete('/1/k', 'v', 1, NOW);
    assert.equal(
      eventJson(e),
      '{"action":"compareAndDelete","node":{"key":"/1/k","modifiedIndex":2,"createdIndex":1},' +
        '"prevNode":{"key":"/1/k","value":"v","modifiedIndex":1,"createdIndex":1}}',
    );
  });
});

describe('v2 store: TTLs', () => {
  test('TTL is rounded up; keys stay until deleteExpiredKeys, which writes one expire event each', () => {
    const s = fresh();
    const e = s.set('/1/t', false, 'v', { expireTime: NOW + sec(5) }, NOW);
    assert.equal(e.node.ttl, 5);
    assert.equal(e.node.expiration, NOW + sec(5));
    assert.equal(s.get('/1/t', false, false, NOW + 1n).node.ttl, 5);
    assert.equal(s.get('/1/t', false, false, NOW + sec(4)).node.ttl, 1);
    assert.equal(s.hasTtlKeys(), true);
    s.deleteExpiredKeys(NOW + sec(5) - 1n);
    assert.equal(s.index, 1);
    const w = s.watch('/1/t', false, false, 0);
    s.deleteExpiredKeys(NOW + sec(5));
    assert.equal(s.index, 2);
    assert.equal(s.hasTtlKeys(), false);
    const ev = w.take()!;
    assert.equal(ev.action, V2Action.Expire);
    assert.equal(ev.prevNode?.value, 'v');
    assert.equal(s.stats.expireCount, 1);
  });

  test('an expiring directory takes its children; a TTL can be dropped by an update', () => {
    const s = fresh();
    s.set('/1/d', true, '', { expireTime: NOW + sec(1) }, NOW);
    s.set('/1/d/k', false, 'v', { expireTime: NOW + sec(9) }, NOW);
    s.set('/1/p', false, 'v', { expireTime: NOW + sec(1) }, NOW);
    s.update('/1/p', 'w', {}, NOW);
    s.deleteExpiredKeys(NOW + sec(2));
    assert.equal(s.index, 5); // one expire event: /1/d, with /1/d/k inside it
    assert.equal(s.hasTtlKeys(), false);
    assert.equal(s.get('/1/p', false, false, NOW).node.value, 'w');
    fails(() => s.get('/1/d/k', false, false, NOW), V2ErrorCode.KeyNotFound, '/1/d', 5);
  });

  test('create and set take an expire time before 2000 as none; update does not', () => {
    const s = fresh();
    assert.equal(s.set('/1/a', false, 'v', { expireTime: 5n }, NOW).node.ttl, undefined);
    s.update('/1/a', 'w', { expireTime: 5n }, NOW);
    assert.equal(s.hasTtlKeys(), true);
    s.deleteExpiredKeys(NOW);
    assert.throws(() => s.get('/1/a', false, false, NOW));
  });

  test('refresh keeps the value, records the event without waking watchers', () => {
    const s = fresh();
    s.set('/1/k', false, 'v', { expireTime: NOW + sec(5) }, NOW);
    const w = s.watch('/1/k', false, false, 0);
    const e = s.set('/1/k', false, '', { expireTime: NOW + sec(50), refresh: true }, NOW);
    assert.deepEqual([e.node.value, e.node.ttl, e.refresh], ['v', 50, true]);
    assert.equal(w.pending, 0);
    assert.equal(eventJson(e).endsWith(',"refresh":true}'), true);
    fails(
      () => s.set('/1/none', false, '', { expireTime: NOW + sec(5), refresh: true }, NOW),
      V2ErrorCode.KeyNotFound,
      '/1/none',
      2,
    );
  });
});

describe('v2 store: watches', () => {
  test('a watcher sees the next change at its key; recursive ones see changes below', () => {
    const s = fresh();
    const exact = s.watch('/1/a', false, false, 0);
    const below = s.watch('/1', true, false, 0);
    const notBelow = s.watch('/1', false, false, 0);
    s.set('/1/a', false, 'v', {}, NOW);
    assert.equal(exact.take()?.node.key, '/1/a');
    assert.equal(below.take()?.node.key, '/1/a');
    assert.equal(notBelow.pending, 0);
    assert.equal(exact.removed, true);
    assert.equal(s.hub.count, 1);
    notBelow.remove();
    assert.equal(s.hub.count, 0);
  });

  test('waitIndex answers from the history; older than the history is EventIndexCleared', () => {
    const s = fresh();
    s.set('/1/a', false, '1', {}, NOW);
    s.set('/1/b', false, '2', {}, NOW);
    const w = s.watch('/1/a', false, false, 1);
    assert.equal(w.take()?.node.value, '1');
    assert.equal(w.startIndex, 2);
    for (let i = 0; i < EVENT_HISTORY_CAPACITY; i++) s.set('/1/c', false, String(i), {}, NOW);
    fails(
      () => s.watch('/1/a', false, false, 1),
      V2ErrorCode.EventIndexCleared,
      'the requested history has been cleared [3/1]',
      1002,
    );
    // The history's first event still answers.
    assert.equal(s.watch('/1/c', false, false, 3).take()?.node.value, '0');
  });

  test('deleting a directory tells the watchers of the keys under it; hidden keys stay hidden', () => {
    const s = fresh();
    s.set('/1/d/k', false, 'v', {}, NOW);
    const child = s.watch('/1/d/k', false, false, 0);
    const all = s.watch('/1', true, true, 0);
    s.set('/1/_hidden', false, 'h', {}, NOW);
    s.delete('/1/d', true, true, NOW);
    assert.equal(child.take()?.node.key, '/1/d');
    const seen: V2Event[] = [];
    for (let e = all.take(); e !== undefined; e = all.take()) seen.push(e);
    assert.deepEqual(
      seen.map((e) => e.node.key),
      ['/1/d'],
    );
  });

  test('a stream that falls 100 events behind is dropped', () => {
    const s = fresh();
    const w = s.watch('/1', true, true, 0);
    let changes = 0;
    w.onChange(() => changes++);
    for (let i = 0; i < 101; i++) s.set('/1/k', false, String(i), {}, NOW);
    assert.equal(w.overflowed, true);
    assert.equal(w.pending, 100);
    assert.equal(changes, 101);
    assert.equal(s.hub.count, 0);
  });
});

describe('v2 store: counters as etcd keeps them', () => {
  test('including the refusals etcd counts as successes', () => {
    const s = fresh();
    s.set('/1/k', false, 'v', {}, NOW);
    assert.throws(() => s.get('/1/x', false, false, NOW));
    assert.throws(() => s.compareAndDelete('/1/k', 'no', 0, NOW));
    assert.throws(() => s.delete('/1', true, true, NOW));
    assert.throws(() => s.create('/1/k/x', false, 'v', false, {}, NOW));
    const st = s.stats;
    assert.deepEqual(
      [st.setsSuccess, st.getsFail, st.compareAndDeleteSuccess, st.deleteSuccess, st.createFail, st.setsFail],
      [1, 1, 1, 1, 1, 1],
    );
  });
});
