import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ALL, dec, enc, opDel, opGet, opPut, TestStore } from './fixtures.js';
import {
  type Compare,
  CompareResult,
  CompareTarget,
  EventType,
  type RequestOp,
  type TxnRequest,
} from './types.js';

const cmp = (key: string, target: number, result: number, operand: Partial<Compare>, rangeEnd?: Uint8Array) =>
  ({ key: enc(key), target, result, ...operand, ...(rangeEnd ? { rangeEnd } : {}) }) as Compare;
const nested = (req: TxnRequest): RequestOp => ({ request: { $case: 'requestTxn', requestTxn: req } });

describe('put and deleteRange', () => {
  test('versions, create revision, prevKv, events', async () => {
    const t = TestStore.create();
    const first = t.put('k', 'v1', { lease: 7n });
    assert.equal(first.rev, 2);
    assert.equal(first.prevKv, undefined);
    assert.equal(first.events.length, 1);
    assert.equal(first.events[0]!.type, EventType.PUT);
    assert.equal(first.events[0]!.prevKv, undefined);
    const second = t.put('k', 'v2', { prevKv: true });
    assert.equal(second.rev, 3);
    assert.equal(dec(second.prevKv!.value), 'v1');
    assert.equal(second.prevKv!.lease, 7n);
    assert.equal(dec(second.events[0]!.prevKv!.value), 'v1', 'events carry prevKv by default');
    const kv = t.get('k')!;
    assert.deepEqual([kv.createRevision, kv.modRevision, kv.version, kv.lease], [2, 3, 2, 0n]);
    await t.close();
  });

  test('put events leave prevKv out while it is not wanted; deletes and responses keep it', async () => {
    const t = TestStore.create();
    let wanted = false;
    let asked = 0;
    t.store.setPutEventsPrevKv(() => {
      asked++;
      return wanted;
    });
    t.put('k', 'v1');
    const bare = t.put('k', 'v2', { prevKv: true });
    assert.equal(bare.events[0]!.prevKv, undefined, 'no watcher wants it: not read back');
    assert.equal(dec(bare.prevKv!.value), 'v1', "the request's own prev_kv is still answered");
    wanted = true;
    const full = t.put('k', 'v3');
    assert.equal(dec(full.events[0]!.prevKv!.value), 'v2');
    wanted = false;
    const del = t.del('k');
    assert.equal(dec(del.events[0]!.prevKv!.value), 'v3', 'a delete event always has its prevKv');
    assert.equal(asked, 4, 'asked once per write');
    t.store.setPutEventsPrevKv(undefined);
    t.put('k', 'v4');
    assert.equal(dec(t.put('k', 'v5').events[0]!.prevKv!.value), 'v4', 'back to always');
    await t.close();
  });

  test('ignoreValue / ignoreLease keep the stored ones; missing key is an error that still applies', async () => {
    const t = TestStore.create();
    t.put('k', 'v1', { lease: 9n });
    t.store.put(t.next++, { key: enc('k'), value: enc('v2'), ignoreLease: true });
    assert.deepEqual([dec(t.get('k')!.value), t.get('k')!.lease], ['v2', 9n]);
    t.store.put(t.next++, { key: enc('k'), lease: 4n, ignoreValue: true });
    assert.deepEqual([dec(t.get('k')!.value), t.get('k')!.lease], ['v2', 4n]);
    const idx = t.next++;
    assert.throws(() => t.store.put(idx, { key: enc('missing'), ignoreValue: true }), {
      message: 'etcdserver: key not found',
    });
    assert.equal(t.store.consistentIndex(), idx, 'a rejected entry is still applied');
    assert.equal(t.store.currentRevision(), 4);
    await t.close();
  });

  test('lease checker rejects unknown leases', async () => {
    const t = TestStore.create({ leaseExists: (id) => id === 1n });
    t.put('a', 'x', { lease: 1n });
    assert.throws(() => t.put('b', 'x', { lease: 2n }), {
      message: 'lease not found',
      code: 'lease-not-found',
    });
    assert.equal(t.store.currentRevision(), 2);
    await t.close();
  });

  test('delete makes tombstones; re-created key restarts at version 1', async () => {
    const t = TestStore.create();
    t.put('a', '1');
    t.put('b', '1');
    t.put('c', '1');
    const d = t.del('a', 'c', true);
    assert.equal(d.rev, 5);
    assert.equal(d.deleted, 2);
    assert.deepEqual(
      d.prevKvs.map((kv) => dec(kv.key)),
      ['a', 'b'],
    );
    assert.deepEqual(
      d.events.map((e) => [e.type, dec(e.kv.key), e.kv.modRevision, e.kv.version, dec(e.prevKv!.value)]),
      [
        [EventType.DELETE, 'a', 5, 0, '1'],
        [EventType.DELETE, 'b', 5, 0, '1'],
      ],
    );
    const none = t.del('a', 'c');
    assert.deepEqual(
      [none.rev, none.deleted, none.events.length],
      [5, 0, 0],
      'no-op delete keeps the revision',
    );
    t.put('a', '2');
    const kv = t.get('a')!;
    assert.deepEqual([kv.createRevision, kv.modRevision, kv.version], [6, 6, 1]);
    assert.equal(dec(t.get('a', 4)!.value), '1', 'history before the delete is readable');
    assert.equal(t.get('a', 5), undefined);
    assert.deepEqual(
      t.store.readEvents(5, 6).map((e) => [e.type, dec(e.kv.key), e.kv.modRevision]),
      [
        [EventType.DELETE, 'a', 5],
        [EventType.DELETE, 'b', 5],
        [EventType.PUT, 'a', 6],
      ],
    );
    await t.close();
  });

  test('applying an index at or below the consistent index is refused', async () => {
    const t = TestStore.create();
    t.store.put(5, { key: enc('a'), value: enc('1') });
    assert.throws(() => t.store.put(5, { key: enc('a'), value: enc('2') }), /already applied/);
    assert.throws(() => t.store.markApplied(3), /already applied/);
    t.store.markApplied(6);
    assert.equal(t.store.consistentIndex(), 6);
    assert.equal(t.store.currentRevision(), 2);
    await t.close();
  });
});

describe('txn', () => {
  test('compares on version, create, mod, value, lease in both oneof shapes', async () => {
    const t = TestStore.create();
    t.put('a', 'x', { lease: 3n }); // rev 2
    t.put('a', 'y'); // rev 3, version 2, lease 0
    const check = (c: Compare) => t.store.txn(t.next++, { compare: [c] }).succeeded;
    const { EQUAL, GREATER, LESS, NOT_EQUAL } = CompareResult;
    assert.equal(check(cmp('a', CompareTarget.VERSION, EQUAL, { version: 2 })), true);
    assert.equal(
      check(cmp('a', CompareTarget.VERSION, EQUAL, { targetUnion: { $case: 'version', version: 2n } })),
      true,
    );
    assert.equal(check(cmp('a', CompareTarget.CREATE, EQUAL, { createRevision: 2n })), true);
    assert.equal(check(cmp('a', CompareTarget.MOD, GREATER, { modRevision: 2 })), true);
    assert.equal(check(cmp('a', CompareTarget.MOD, LESS, { modRevision: 3 })), false);
    assert.equal(check(cmp('a', CompareTarget.VALUE, EQUAL, { value: enc('y') })), true);
    assert.equal(
      check(cmp('a', CompareTarget.VALUE, GREATER, { targetUnion: { $case: 'value', value: enc('x') } })),
      true,
    );
    assert.equal(check(cmp('a', CompareTarget.LEASE, EQUAL, { lease: 0n })), true);
    assert.equal(check(cmp('a', CompareTarget.VERSION, NOT_EQUAL, { version: 2 })), false);
    // A union whose case does not match the target counts as zero.
    assert.equal(
      check(cmp('a', CompareTarget.MOD, GREATER, { targetUnion: { $case: 'version', version: 99n } })),
      true,
    );
    await t.close();
  });

  test('missing keys compare as zero, except VALUE which always fails', async () => {
    const t = TestStore.create();
    const check = (c: Compare) => t.store.txn(t.next++, { compare: [c] }).succeeded;
    assert.equal(check(cmp('nope', CompareTarget.VERSION, CompareResult.EQUAL, { version: 0 })), true);
    assert.equal(check(cmp('nope', CompareTarget.CREATE, CompareResult.EQUAL, { createRevision: 0 })), true);
    assert.equal(
      check(cmp('nope', CompareTarget.VALUE, CompareResult.EQUAL, { value: new Uint8Array(0) })),
      false,
    );
    assert.equal(
      check(cmp('nope', CompareTarget.VALUE, CompareResult.NOT_EQUAL, { value: enc('z') })),
      false,
    );
    await t.close();
  });

  test('range compares need every key to hold', async () => {
    const t = TestStore.create();
    t.put('p/a', '1');
    t.put('p/b', '1');
    t.put('p/b', '2');
    const check = (c: Compare) => t.store.txn(t.next++, { compare: [c] }).succeeded;
    assert.equal(
      check(cmp('p/', CompareTarget.VERSION, CompareResult.GREATER, { version: 0 }, enc('p0'))),
      true,
    );
    assert.equal(
      check(cmp('p/', CompareTarget.VERSION, CompareResult.EQUAL, { version: 1 }, enc('p0'))),
      false,
    );
    assert.equal(check(cmp('p/', CompareTarget.VALUE, CompareResult.LESS, { value: enc('3') }, ALL)), true);
    await t.close();
  });

  test('branches, one revision for all writes, reads see earlier writes', async () => {
    const t = TestStore.create();
    t.put('a', '1'); // rev 2
    const res = t.store.txn(t.next++, {
      compare: [cmp('a', CompareTarget.VALUE, CompareResult.EQUAL, { value: enc('1') })],
      success: [opGet('b'), opPut('b', 'new'), opGet('b'), opDel('a'), opPut('c', 'x')],
      failure: [opPut('z', 'never')],
    });
    assert.equal(res.succeeded, true);
    assert.equal(res.rev, 3);
    const [r1, p1, r2, d1, p2] = res.responses;
    assert.equal(r1!.responseRange!.kvs.length, 0);
    assert.equal(r1!.responseRange!.header.revision, 2, 'read before any write sees the old revision');
    assert.equal(p1!.responsePut!.header.revision, 3);
    assert.equal(r2!.response.$case, 'responseRange');
    assert.equal(dec(r2!.responseRange!.kvs[0]!.value), 'new');
    assert.equal(r2!.responseRange!.header.revision, 3);
    assert.equal(d1!.responseDeleteRange!.deleted, 1);
    assert.equal(p2!.responsePut!.header.revision, 3);
    assert.deepEqual(
      res.events.map((e) => [e.type, dec(e.kv.key), e.kv.modRevision]),
      [
        [EventType.PUT, 'b', 3],
        [EventType.DELETE, 'a', 3],
        [EventType.PUT, 'c', 3],
      ],
    );
    assert.equal(t.get('z'), undefined);
    assert.equal(t.store.currentRevision(), 3);
    await t.close();
  });

  test('a txn that writes nothing keeps the revision', async () => {
    const t = TestStore.create();
    t.put('a', '1');
    const res = t.store.txn(t.next++, { success: [opGet('a'), opDel('nothing')] });
    assert.equal(res.rev, 2);
    assert.equal(res.responses[1]!.responseDeleteRange!.header.revision, 2);
    assert.equal(res.events.length, 0);
    assert.equal(t.store.currentRevision(), 2);
    await t.close();
  });

  test('nested txns: compares all judged before any write', async () => {
    const t = TestStore.create();
    t.put('a', '1');
    const res = t.store.txn(t.next++, {
      success: [
        opPut('a', '2'),
        nested({
          // Sees a=1 (the state before the outer txn), so this succeeds.
          compare: [cmp('a', CompareTarget.VALUE, CompareResult.EQUAL, { value: enc('1') })],
          success: [opPut('b', 'inner-then'), opGet('a')],
          failure: [opPut('b', 'inner-else')],
        }),
      ],
    });
    const inner = res.responses[1]!.responseTxn!;
    assert.equal(inner.succeeded, true);
    assert.equal(inner.header.revision, 0, 'etcd leaves nested headers at 0');
    assert.equal(dec(inner.responses[1]!.responseRange!.kvs[0]!.value), '2');
    assert.equal(dec(t.get('b')!.value), 'inner-then');
    assert.equal(t.get('b')!.modRevision, 3);
    await t.close();
  });

  test('errors reject the whole txn without writing', async () => {
    const t = TestStore.create();
    t.put('a', '1');
    const bad = [
      {
        req: { success: [opPut('x', '1'), opPut('x', '2')] },
        message: 'etcdserver: duplicate key given in txn request',
      },
      {
        req: { success: [opPut('x', '1'), { requestPut: { key: enc('missing'), ignoreValue: true } }] },
        message: 'etcdserver: key not found',
      },
      {
        req: { success: [opPut('x', '1'), { requestRange: { key: enc('a'), revision: 99 } }] },
        message: 'mvcc: required revision is a future revision',
      },
    ];
    for (const { req, message } of bad) {
      const idx = t.next++;
      assert.throws(() => t.store.txn(idx, req), { message });
      assert.equal(t.store.consistentIndex(), idx);
    }
    assert.equal(t.get('x'), undefined);
    assert.equal(t.store.currentRevision(), 2);
    // Unchosen branches are not checked.
    t.store.txn(t.next++, {
      success: [opPut('x', '1')],
      failure: [{ requestRange: { key: enc('a'), revision: 99 } }],
    });
    assert.equal(dec(t.get('x')!.value), '1');
    await t.close();
  });

  test('"from key" delete then put of a covered key in one txn', async () => {
    const t = TestStore.create();
    t.put('b', 'old');
    const res = t.store.txn(t.next++, { success: [opDel('a', ALL), opPut('b', 'new')] });
    assert.equal(res.rev, 3);
    const kv = t.get('b')!;
    assert.deepEqual([dec(kv.value), kv.createRevision, kv.version], ['new', 3, 1]);
    assert.equal(t.get('b', 2)!.version, 1);
    await t.close();
  });
});
