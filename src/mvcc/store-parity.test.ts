// Replays a scripted session whose answers were recorded from a real etcd 3.4
// (via its gRPC API) and checks the store gives the same ones.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { dec, enc, opDel, opGet, opPut, TestStore } from './fixtures.js';
import {
  type Compare,
  CompareResult,
  CompareTarget,
  type RangeRequest,
  SortOrder,
  SortTarget,
} from './types.js';

test('same answers as etcd 3.4 for ranges, txn revisions and the final hash', async () => {
  const t = TestStore.create();
  for (const [k, v] of [
    ['p/a', '3'],
    ['p/b', '1'],
    ['p/c', '2'],
    ['p/d', '0'],
  ] as const) {
    t.put(k, v);
  }
  const rng = (req: Partial<RangeRequest>) => {
    const r = t.store.range({ key: enc('p/'), rangeEnd: enc('p0'), ...req });
    return [r.kvs.map((kv) => dec(kv.key)), r.more, r.count, r.revision];
  };
  assert.deepEqual(rng({ limit: 2, sortTarget: SortTarget.VALUE }), [['p/b', 'p/c'], true, 4, 5]);
  assert.deepEqual(rng({ limit: 2, sortTarget: SortTarget.VALUE, sortOrder: SortOrder.ASCEND }), [
    ['p/d', 'p/b'],
    true,
    4,
    5,
  ]);
  assert.deepEqual(rng({ limit: 1, minModRevision: 3 }), [['p/b'], true, 4, 5]);
  assert.deepEqual(rng({ countOnly: true, limit: 1 }), [[], false, 4, 5]);
  assert.deepEqual(rng({ key: new Uint8Array([0]), rangeEnd: new Uint8Array([0]) }), [
    ['p/a', 'p/b', 'p/c', 'p/d'],
    false,
    4,
    5,
  ]);
  assert.deepEqual(rng({ key: enc('p/a'), rangeEnd: new Uint8Array(0), revision: -3 }), [
    ['p/a'],
    false,
    1,
    5,
  ]);

  const txn = t.store.txn(t.next++, {
    success: [opGet('p/a'), opDel('nothing'), opPut('q', '1'), opGet('q')],
  });
  assert.equal(txn.rev, 6);
  assert.deepEqual(
    txn.responses.map((r) => [r.response.$case, Object.values(r.response)[1].header.revision]),
    [
      ['responseRange', 5],
      ['responseDeleteRange', 5],
      ['responsePut', 6],
      ['responseRange', 6],
    ],
  );
  const noop = t.store.txn(t.next++, { success: [opDel('nothing')] });
  assert.deepEqual([noop.rev, noop.responses[0]!.responseDeleteRange!.header.revision], [6, 6]);
  const nested = t.store.txn(t.next++, {
    success: [{ request: { $case: 'requestTxn', requestTxn: { success: [opPut('n', '1')] } } }],
  });
  const inner = nested.responses[0]!.responseTxn!;
  assert.deepEqual(
    [nested.rev, inner.header.revision, inner.responses[0]!.responsePut!.header.revision],
    [7, 0, 7],
  );
  t.store.txn(t.next++, { success: [opDel('a', new Uint8Array([0])), opPut('q', '2')] });
  assert.equal(dec(t.get('q')!.value), '2');
  assert.throws(
    () => t.store.txn(t.next++, { success: [{ requestRange: { key: enc('a'), revision: -2 } }] }),
    {
      message: 'mvcc: required revision has been compacted',
    },
  );
  assert.throws(() => t.store.put(t.next++, { key: enc('zzz'), ignoreValue: true }), {
    message: 'etcdserver: key not found',
  });
  const cmp = (c: Omit<Compare, 'key'>) =>
    t.store.txn(t.next++, { compare: [{ key: enc('nokey'), ...c }] }).succeeded;
  assert.equal(cmp({ target: CompareTarget.VALUE, result: CompareResult.NOT_EQUAL, value: enc('x') }), false);
  assert.equal(cmp({ target: CompareTarget.MOD, result: CompareResult.EQUAL, version: 0n }), true);
  assert.deepEqual(t.store.hashKV(0), { hash: 3762232673, compactRevision: -1, revision: 8 });
  await t.close();
});
