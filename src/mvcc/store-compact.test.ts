import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ALL, dec, enc, opPut, TestStore } from './fixtures.js';
import { CompareResult, CompareTarget } from './types.js';

/** Backend records with main revision <= rev (physical presence, not index visibility). */
function recordsUpTo(t: TestStore, rev: number): string[] {
  return t.store
    .readEvents(0, rev)
    .map((e) => `${dec(e.kv.key)}@${e.kv.modRevision}${e.type === 1 ? 't' : ''}`);
}

describe('compaction', () => {
  test('history below the point is gone from reads and from the backend', async () => {
    const t = TestStore.create({ compactionBatchLimit: 2 });
    t.put('a', '1'); // 2
    t.put('a', '2'); // 3
    t.put('b', '1'); // 4
    t.del('b'); // 5
    t.put('c', '1'); // 6
    t.put('a', '3'); // 7
    const { revision, done } = t.store.compact(t.next++, 5);
    assert.equal(revision, 7);
    assert.equal(t.store.compactedRevision(), 5);
    assert.throws(() => t.get('a', 4), {
      message: 'mvcc: required revision has been compacted',
      code: 'compacted',
    });
    assert.equal(dec(t.get('a', 5)!.value), '2', 'the compaction revision itself stays readable');
    assert.equal(t.get('b', 5), undefined);
    await done;
    assert.deepEqual(recordsUpTo(t, 7), ['a@3', 'c@6', 'a@7']);
    assert.deepEqual(t.keys('a', ALL), ['a', 'c']);
    await t.close();
  });

  test('compacting at or below the last compaction, or in the future, is refused', async () => {
    const t = TestStore.create();
    t.put('a', '1');
    t.put('a', '2');
    await t.store.compact(t.next++, 2).done;
    assert.throws(() => t.store.compact(t.next++, 2), {
      message: 'mvcc: required revision has been compacted',
    });
    assert.throws(() => t.store.compact(t.next++, 4), {
      message: 'mvcc: required revision is a future revision',
    });
    assert.equal(t.store.consistentIndex(), t.next - 1);
    await t.store.compact(t.next++, 3).done;
    assert.equal(t.store.compactedRevision(), 3);
    await t.close();
  });

  test('txn range at a compacted revision fails the txn', async () => {
    const t = TestStore.create();
    t.put('a', '1');
    t.put('a', '2');
    t.put('a', '3');
    await t.store.compact(t.next++, 3).done;
    assert.throws(
      () =>
        t.store.txn(t.next++, {
          success: [opPut('x', '1'), { requestRange: { key: enc('a'), revision: 2 } }],
        }),
      { message: 'mvcc: required revision has been compacted' },
    );
    assert.equal(t.get('x'), undefined);
    await t.close();
  });

  test('compaction drops deleted keys entirely and keeps the latest live revision', async () => {
    const t = TestStore.create();
    for (let i = 0; i < 50; i++) t.put(`k${i % 5}`, `${i}`);
    t.del('k0');
    const rev = t.store.currentRevision();
    await t.store.compact(t.next++, rev).done;
    assert.deepEqual(
      recordsUpTo(t, rev).sort(),
      ['k1@48', 'k2@49', 'k3@50', 'k4@51'].sort(),
      'one record per live key, no tombstone',
    );
    assert.deepEqual(
      t.keys('k', ALL).map((k) => [k, t.get(k)!.version]),
      [
        ['k1', 10],
        ['k2', 10],
        ['k3', 10],
        ['k4', 10],
      ],
    );
    await t.close();
  });
});

describe('hashKV', () => {
  test('matches real etcd 3.4 for the same history, before and after compactions', async () => {
    // Golden values from etcd 3.4 (etcdctl endpoint hashkv) after the same operations.
    const t = TestStore.create();
    t.put('a', '1');
    t.put('a', '2');
    t.store.txn(t.next++, {
      compare: [{ key: enc('a'), target: CompareTarget.VERSION, result: CompareResult.EQUAL, version: 2n }],
      success: [opPut('b', 'x')],
    });
    assert.deepEqual(t.store.hashKV(0), { hash: 1523780942, compactRevision: -1, revision: 4 });
    const c1 = t.store.compact(t.next++, 3);
    assert.equal(t.store.hashKV(0).hash, 1670052297, 'same hash while records are still being deleted');
    await c1.done;
    assert.deepEqual(t.store.hashKV(0), { hash: 1670052297, compactRevision: 3, revision: 4 });
    t.del('b');
    t.put('c', '3');
    t.put('a', '4');
    assert.equal(t.store.hashKV(0).hash, 4194654927);
    assert.equal(t.store.hashKV(5).hash, 1526579740);
    await t.store.compact(t.next++, 6).done;
    assert.deepEqual(t.store.hashKV(0), { hash: 3655143217, compactRevision: 6, revision: 7 });
    assert.equal(t.store.hashKV(7).hash, 3655143217);
    assert.throws(() => t.store.hashKV(6), { code: 'compacted' });
    assert.throws(() => t.store.hashKV(8), { code: 'future-rev' });
    await t.close();
  });
});
