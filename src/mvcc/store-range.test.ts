import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { ALL, dec, enc, TestStore } from './fixtures.js';
import { SortOrder, SortTarget } from './types.js';

// Layout (revision: write):
// 2: a=3  3: b=1  4: c=2  5: a=1 (a v2)  6: d=0  7: b=2 (b v2)  8: b=3 (b v3)  9: zz=9
let t: TestStore;
before(() => {
  t = TestStore.create();
  t.put('a', '3');
  t.put('b', '1');
  t.put('c', '2');
  t.put('a', '1');
  t.put('d', '0');
  t.put('b', '2');
  t.put('b', '3');
  t.put('zz', '9');
});
after(async () => t.close());

const keys = (kvs: { key: Uint8Array }[]) => kvs.map((kv) => dec(kv.key));

describe('range', () => {
  test('an empty store is at revision 1 and the first write makes revision 2', async () => {
    const fresh = TestStore.create();
    assert.equal(fresh.store.currentRevision(), 1);
    assert.deepEqual(fresh.store.range({ key: enc('a') }), { kvs: [], more: false, count: 0, revision: 1 });
    assert.equal(fresh.put('a', '1').rev, 2);
    await fresh.close();
  });

  test('single key, prefix/bounded range, from-key, all keys', () => {
    assert.deepEqual(t.keys('a'), ['a']);
    assert.deepEqual(t.keys('b', 'd'), ['b', 'c']);
    assert.deepEqual(t.keys('c', ALL), ['c', 'd', 'zz']);
    assert.deepEqual(t.keys('\0', ALL), ['a', 'b', 'c', 'd', 'zz']);
    assert.deepEqual(t.keys('z', 'z\xff'), ['zz']);
    assert.deepEqual(t.keys('nope'), []);
    const r = t.store.range({ key: enc('a') });
    assert.equal(r.revision, 9);
    assert.deepEqual(
      { ...r.kvs[0], key: dec(r.kvs[0]!.key), value: dec(r.kvs[0]!.value) },
      { key: 'a', value: '1', createRevision: 2, modRevision: 5, version: 2, lease: 0n },
    );
  });

  test('limit sets more; count is every key in range', () => {
    const r = t.store.range({ key: enc('a'), rangeEnd: ALL, limit: 2 });
    assert.deepEqual(keys(r.kvs), ['a', 'b']);
    assert.equal(r.more, true);
    assert.equal(r.count, 5);
    const exact = t.store.range({ key: enc('a'), rangeEnd: ALL, limit: 5 });
    assert.equal(exact.more, false);
    assert.equal(exact.kvs.length, 5);
  });

  test('countOnly and keysOnly', () => {
    assert.deepEqual(t.store.range({ key: enc('a'), rangeEnd: ALL, countOnly: true }), {
      kvs: [],
      more: false,
      count: 5,
      revision: 9,
    });
    const r = t.store.range({ key: enc('a'), rangeEnd: enc('c'), keysOnly: true });
    assert.deepEqual(keys(r.kvs), ['a', 'b']);
    assert.ok(r.kvs.every((kv) => kv.value.length === 0 && kv.version > 0));
  });

  test('historical reads, future revision error', () => {
    assert.equal(dec(t.get('a', 4)!.value), '3');
    assert.equal(t.get('a', 4)!.version, 1);
    assert.equal(t.get('d', 5), undefined);
    assert.deepEqual(keys(t.store.range({ key: enc('a'), rangeEnd: ALL, revision: 3 }).kvs), ['a', 'b']);
    assert.equal(t.store.range({ key: enc('a'), revision: 3 }).revision, 9, 'header is the current revision');
    assert.throws(() => t.store.range({ key: enc('a'), revision: 10 }), {
      message: 'mvcc: required revision is a future revision',
      code: 'future-rev',
    });
  });

  test('sort by each target and order', () => {
    const sorted = (sortTarget: number, sortOrder: number) =>
      keys(t.store.range({ key: enc('a'), rangeEnd: ALL, sortTarget, sortOrder }).kvs);
    assert.deepEqual(sorted(SortTarget.KEY, SortOrder.DESCEND), ['zz', 'd', 'c', 'b', 'a']);
    assert.deepEqual(sorted(SortTarget.KEY, SortOrder.ASCEND), ['a', 'b', 'c', 'd', 'zz']);
    assert.deepEqual(sorted(SortTarget.VERSION, SortOrder.DESCEND).slice(0, 2), ['b', 'a']);
    assert.deepEqual(sorted(SortTarget.CREATE, SortOrder.DESCEND), ['zz', 'd', 'c', 'b', 'a']);
    assert.deepEqual(sorted(SortTarget.MOD, SortOrder.ASCEND), ['c', 'a', 'd', 'b', 'zz']);
    assert.deepEqual(sorted(SortTarget.VALUE, SortOrder.ASCEND), ['d', 'a', 'c', 'b', 'zz']);
    // NONE with a non-KEY target means ASCEND.
    assert.deepEqual(sorted(SortTarget.MOD, SortOrder.NONE), ['c', 'a', 'd', 'b', 'zz']);
  });

  test('explicit sort fetches everything before the limit; implicit ASCEND sorts only the limited page', () => {
    const explicit = t.store.range({
      key: enc('a'),
      rangeEnd: ALL,
      sortTarget: SortTarget.VALUE,
      sortOrder: SortOrder.ASCEND,
      limit: 2,
    });
    assert.deepEqual(keys(explicit.kvs), ['d', 'a']);
    assert.equal(explicit.more, true);
    // etcd quirk: NONE + VALUE fetches limit+1 keys in key order (a, b, c), sorts them, then cuts.
    const quirk = t.store.range({ key: enc('a'), rangeEnd: ALL, sortTarget: SortTarget.VALUE, limit: 2 });
    assert.deepEqual(keys(quirk.kvs), ['a', 'c']);
    assert.equal(quirk.more, true);
    assert.equal(quirk.count, 5);
  });

  test('min/max mod and create revision filters; count ignores them', () => {
    const f = (o: object) => t.store.range({ key: enc('a'), rangeEnd: ALL, ...o });
    assert.deepEqual(keys(f({ minModRevision: 6 }).kvs), ['b', 'd', 'zz']);
    assert.deepEqual(keys(f({ maxModRevision: 5 }).kvs), ['a', 'c']);
    assert.deepEqual(keys(f({ minCreateRevision: 4 }).kvs), ['c', 'd', 'zz']);
    assert.deepEqual(keys(f({ maxCreateRevision: 3 }).kvs), ['a', 'b']);
    assert.deepEqual(keys(f({ minModRevision: 5, maxModRevision: 8 }).kvs), ['a', 'b', 'd']);
    const limited = f({ minModRevision: 5, limit: 1 });
    assert.deepEqual(keys(limited.kvs), ['a']);
    assert.equal(limited.more, true);
    assert.equal(limited.count, 5);
  });
});
