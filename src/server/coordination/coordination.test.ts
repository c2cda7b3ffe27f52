import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MvccError } from '../../mvcc/errors.js';
import {
  Compare_CompareResult,
  Compare_CompareTarget,
  RangeRequest,
  RangeRequest_SortOrder,
  RangeRequest_SortTarget,
  TxnRequest,
} from '../../pb/etcdserverpb/rpc.js';
import { contenderKey, prefixEnd } from './common.js';
import { campaign, leader, observe, proclaim, resign } from './election.js';
import { FakeKv } from './fake-kv.js';
import { lock, unlock } from './mutex.js';
import type { HeadedKv } from './types.js';

const enc = (s: string): Buffer => Buffer.from(s, 'latin1');
const str = (b: Uint8Array): string => Buffer.from(b).toString('latin1');

async function flush(): Promise<void> {
  for (let i = 0; i < 10; i++) await new Promise<void>((resolve) => setImmediate(resolve));
}

/** Whether `p` has settled after the event loop went quiet (also marks a rejection as handled). */
async function settled(p: Promise<unknown>): Promise<boolean> {
  let done = false;
  p.then(
    () => {
      done = true;
    },
    () => {
      done = true;
    },
  );
  await flush();
  return done;
}

const never = new AbortController().signal;

function leaseOf(kv: FakeKv, id: bigint): bigint {
  return kv.addLease(id);
}

describe('key layout', () => {
  it('is name + "/" + the lease id in lower-case hex, Go %x style for negative ids', () => {
    assert.equal(str(contenderKey(enc('my/lock/'), 0x694d77a0b1c2n)), 'my/lock/694d77a0b1c2');
    assert.equal(str(contenderKey(enc('p/'), 0xabcdefn)), 'p/abcdef');
    assert.equal(str(contenderKey(enc('p/'), -26n)), 'p/-1a');
  });

  it('prefix ends like clientv3.GetPrefixRangeEnd', () => {
    assert.deepEqual(prefixEnd(enc('a/')), enc('a0'));
    assert.deepEqual(prefixEnd(Buffer.from([0x61, 0xff])), Buffer.from([0x62]));
    assert.deepEqual(prefixEnd(Buffer.from([0xff, 0xff])), Buffer.from([0]));
  });
});

describe('mutex', () => {
  it('takes a free lock in one txn shaped like concurrency.Mutex.Lock', async () => {
    const kv = new FakeKv();
    const lease = leaseOf(kv, 0xabcdefn);
    const got = await lock(kv, enc('L'), lease, never);
    assert.equal(str(got.key), 'L/abcdef');
    assert.equal(got.header.revision, 2);
    assert.equal(kv.get('L/abcdef')?.lease, lease);
    // Spelled out field by field from concurrency.Mutex.Lock and clientv3's op/compare encoding.
    const owner = {
      request: {
        $case: 'requestRange' as const,
        requestRange: RangeRequest.fromPartial({
          key: enc('L/'),
          rangeEnd: enc('L0'),
          sortOrder: RangeRequest_SortOrder.ASCEND,
          sortTarget: RangeRequest_SortTarget.CREATE,
          limit: 1,
        }),
      },
    };
    assert.deepEqual(kv.requests, [
      {
        kind: 'txn',
        req: TxnRequest.fromPartial({
          compare: [
            {
              key: enc('L/abcdef'),
              result: Compare_CompareResult.EQUAL,
              target: Compare_CompareTarget.CREATE,
              targetUnion: { $case: 'createRevision', createRevision: 0n },
            },
          ],
          success: [
            { request: { $case: 'requestPut', requestPut: { key: enc('L/abcdef'), value: enc(''), lease } } },
            owner,
          ],
          failure: [{ request: { $case: 'requestRange', requestRange: { key: enc('L/abcdef') } } }, owner],
        }),
      },
    ]);
  });

  it('makes a second locker wait until the holder unlocks', async () => {
    const kv = new FakeKv();
    const a = await lock(kv, enc('L'), leaseOf(kv, 0xan), never);
    const pb = lock(kv, enc('L'), leaseOf(kv, 0xbn), never);
    assert.equal(await settled(pb), false);
    assert.deepEqual(kv.keys('L/'), ['L/a', 'L/b'], 'the waiter is in line');
    const released = await unlock(kv, a.key);
    assert.equal(released.deleted, 1);
    const b = await pb;
    assert.equal(str(b.key), 'L/b');
    // The header is that of the read that found the line empty.
    assert.equal(b.header.revision, released.header?.revision);
  });

  it('serves contenders in create-revision order, each waiting for the one just ahead', async () => {
    const kv = new FakeKv();
    const a = await lock(kv, enc('L'), leaseOf(kv, 0x3n), never);
    const pb = lock(kv, enc('L'), leaseOf(kv, 0x2n), never);
    assert.equal(await settled(pb), false);
    const pc = lock(kv, enc('L'), leaseOf(kv, 0x1n), never);
    assert.equal(await settled(pc), false);
    await unlock(kv, a.key);
    const b = await pb;
    assert.equal(str(b.key), 'L/2');
    assert.equal(await settled(pc), false, 'the third waits for the second');
    await unlock(kv, b.key);
    assert.equal(str((await pc).key), 'L/1');
  });

  it('deletes the key of a waiter whose signal aborts; the line behind it moves up', async () => {
    const kv = new FakeKv();
    const a = await lock(kv, enc('L'), leaseOf(kv, 0xan), never);
    const ab = new AbortController();
    const pb = lock(kv, enc('L'), leaseOf(kv, 0xbn), ab.signal);
    assert.equal(await settled(pb), false);
    const pc = lock(kv, enc('L'), leaseOf(kv, 0xcn), never);
    assert.equal(await settled(pc), false);
    ab.abort(new Error('caller went away'));
    await assert.rejects(pb, /caller went away/);
    assert.deepEqual(kv.keys('L/'), ['L/a', 'L/c']);
    assert.equal(await settled(pc), false, 'the holder is still there');
    await unlock(kv, a.key);
    assert.equal(str((await pc).key), 'L/c');
    assert.equal(kv.watcherCount, 0);
  });

  it('writes nothing when the signal has already aborted', async () => {
    const kv = new FakeKv();
    const ac = new AbortController();
    ac.abort(new Error('gone'));
    await assert.rejects(lock(kv, enc('L'), leaseOf(kv, 1n), ac.signal), /gone/);
    assert.deepEqual(kv.requests, []);
  });

  it('hands the lock on when the holder’s lease is revoked', async () => {
    const kv = new FakeKv();
    const la = leaseOf(kv, 0xan);
    await lock(kv, enc('L'), la, never);
    const pb = lock(kv, enc('L'), leaseOf(kv, 0xbn), never);
    assert.equal(await settled(pb), false);
    kv.revokeLease(la);
    assert.equal(str((await pb).key), 'L/b');
  });

  it('gives a lease that already holds the lock its key back without writing', async () => {
    const kv = new FakeKv();
    const lease = leaseOf(kv, 0x77n);
    const first = await lock(kv, enc('L'), lease, never);
    const rev = kv.revision;
    const again = await lock(kv, enc('L'), lease, never);
    assert.deepEqual(again.key, first.key);
    assert.equal(kv.revision, rev);
    assert.equal(again.header.revision, rev);
  });

  it('fails with "requested lease not found" for an unknown lease and leaves no key', async () => {
    const kv = new FakeKv();
    await assert.rejects(lock(kv, enc('L'), 0x99n, never), (err: unknown) => {
      assert.ok(err instanceof MvccError);
      assert.equal(err.code, 'lease-not-found');
      return true;
    });
    assert.deepEqual(kv.keys(), []);
  });

  it('locks under a freshly granted 60 s lease when the request lease is 0', async () => {
    const kv = new FakeKv();
    const got = await lock(kv, enc('L'), 0n, never);
    assert.deepEqual(kv.requests[0], { kind: 'grantLease', ttl: 60 });
    const granted = kv.get(str(got.key))?.lease;
    assert.ok(granted !== undefined && granted !== 0n);
    assert.equal(str(got.key), `L/${granted.toString(16)}`);
  });

  it('deletes its key and reports the error when the watch fails while waiting', async () => {
    const kv = new FakeKv();
    await lock(kv, enc('L'), leaseOf(kv, 0xan), never);
    const pb = lock(kv, enc('L'), leaseOf(kv, 0xbn), never);
    assert.equal(await settled(pb), false);
    kv.stopWatches(new MvccError('compacted'));
    await assert.rejects(pb, (err: unknown) => err instanceof MvccError && err.code === 'compacted');
    assert.deepEqual(kv.keys('L/'), ['L/a']);
  });

  it('fails with "lost watcher waiting for delete" when the watch just ends', async () => {
    const kv = new FakeKv();
    await lock(kv, enc('L'), leaseOf(kv, 0xan), never);
    const pb = lock(kv, enc('L'), leaseOf(kv, 0xbn), never);
    assert.equal(await settled(pb), false);
    kv.stopWatches();
    await assert.rejects(pb, { message: 'lost watcher waiting for delete' });
    assert.deepEqual(kv.keys('L/'), ['L/a']);
  });

  it('excludes and is excluded by keys other clients write with the same layout', async () => {
    const kv = new FakeKv();
    // A Go client's concurrency.Mutex holds "L/1a".
    const goLease = leaseOf(kv, 0x1an);
    kv.put('L/1a', '', goLease);
    const ours = lock(kv, enc('L'), leaseOf(kv, 0x2bn), never);
    assert.equal(await settled(ours), false);
    kv.revokeLease(goLease);
    const held = await ours;
    // Another contender arriving now finds us first in line.
    const first = await kv.range(
      RangeRequest.fromPartial({
        key: enc('L/'),
        rangeEnd: enc('L0'),
        sortOrder: RangeRequest_SortOrder.ASCEND,
        sortTarget: RangeRequest_SortTarget.CREATE,
        limit: 1,
      }),
    );
    assert.deepEqual(first.kvs[0]?.key, held.key);
    // Keys just outside [M/, M0) do not count as contenders for M.
    kv.put('M', '');
    kv.put('M.', '');
    kv.put('M0', '');
    const other = await lock(kv, enc('M'), leaseOf(kv, 0x5n), never);
    assert.equal(str(other.key), 'M/5');
    const blocked = lock(kv, enc('M'), leaseOf(kv, 0x6n), never);
    assert.equal(await settled(blocked), false, 'a later contender for M waits for M/5');
  });

  it('rejects an empty Unlock key as etcd does', async () => {
    const kv = new FakeKv();
    await assert.rejects(unlock(kv, enc('')), { message: 'etcdserver: key is not provided' });
  });
});

describe('election', () => {
  it('elects an uncontested candidate at once, with etcd’s txn shape', async () => {
    const kv = new FakeKv();
    const lease = leaseOf(kv, 0xcafen);
    const res = await campaign(kv, enc('E'), lease, enc('v1'), never);
    assert.deepEqual(res.leader, { name: enc('E'), key: enc('E/cafe'), rev: 2, lease });
    assert.equal(res.header.revision, 2);
    assert.deepEqual(kv.requests[0], {
      kind: 'txn',
      req: TxnRequest.fromPartial({
        compare: [
          {
            key: enc('E/cafe'),
            result: Compare_CompareResult.EQUAL,
            target: Compare_CompareTarget.CREATE,
            targetUnion: { $case: 'createRevision', createRevision: 0n },
          },
        ],
        success: [
          { request: { $case: 'requestPut', requestPut: { key: enc('E/cafe'), value: enc('v1'), lease } } },
        ],
        failure: [{ request: { $case: 'requestRange', requestRange: { key: enc('E/cafe') } } }],
      }),
    });
    const now = await leader(kv, enc('E'));
    assert.equal(str(now.kv.value), 'v1');
    assert.equal(now.header.revision, kv.revision);
  });

  it('makes a later candidate wait until the leader resigns', async () => {
    const kv = new FakeKv();
    const a = await campaign(kv, enc('E'), leaseOf(kv, 0xan), enc('a'), never);
    const pb = campaign(kv, enc('E'), leaseOf(kv, 0xbn), enc('b'), never);
    assert.equal(await settled(pb), false);
    assert.equal(str((await leader(kv, enc('E'))).kv.value), 'a');
    await resign(kv, a.leader);
    const b = await pb;
    assert.equal(str(b.leader.key), 'E/b');
    assert.equal(str((await leader(kv, enc('E'))).kv.value), 'b');
  });

  it('proclaims while the key keeps its create revision, else "election: not leader"', async () => {
    const kv = new FakeKv();
    const { leader: me } = await campaign(kv, enc('E'), leaseOf(kv, 0xan), enc('a'), never);
    const h = await proclaim(kv, me, enc('a2'));
    assert.equal(h.revision, kv.revision);
    assert.equal(kv.get('E/a')?.version, 2);
    assert.equal(kv.get('E/a')?.createRevision, me.rev);
    await assert.rejects(proclaim(kv, { ...me, rev: me.rev + 1 }, enc('x')), {
      message: 'election: not leader',
    });
    await resign(kv, me);
    await assert.rejects(proclaim(kv, me, enc('x')), { message: 'election: not leader' });
    assert.deepEqual(kv.keys('E/'), []);
  });

  it('lets a stale leader resign without effect or error', async () => {
    const kv = new FakeKv();
    const { leader: me } = await campaign(kv, enc('E'), leaseOf(kv, 0xan), enc('a'), never);
    const rev = kv.revision;
    const h = await resign(kv, { ...me, rev: me.rev - 1 });
    assert.equal(h.revision, rev);
    assert.deepEqual(kv.keys('E/'), ['E/a']);
  });

  it('answers "election: no leader" when nobody campaigns', async () => {
    const kv = new FakeKv();
    kv.put('E2/1', 'not ours');
    await assert.rejects(leader(kv, enc('E')), { message: 'election: no leader' });
  });

  it('keeps the place of a lease that campaigns again and proclaims its new value', async () => {
    const kv = new FakeKv();
    const lease = leaseOf(kv, 0xan);
    const first = await campaign(kv, enc('E'), lease, enc('old'), never);
    const second = await campaign(kv, enc('E'), lease, enc('new'), never);
    assert.equal(second.leader.rev, first.leader.rev);
    assert.equal(str(kv.get('E/a')?.value ?? enc('')), 'new');
    // Same value: no write at all.
    const rev = kv.revision;
    await campaign(kv, enc('E'), lease, enc('new'), never);
    assert.equal(kv.revision, rev);
  });

  it('withdraws a waiting candidate whose signal aborts', async () => {
    const kv = new FakeKv();
    await campaign(kv, enc('E'), leaseOf(kv, 0xan), enc('a'), never);
    const ac = new AbortController();
    const pb = campaign(kv, enc('E'), leaseOf(kv, 0xbn), enc('b'), ac.signal);
    assert.equal(await settled(pb), false);
    ac.abort(new Error('cancelled'));
    await assert.rejects(pb, /cancelled/);
    assert.deepEqual(kv.keys('E/'), ['E/a']);
  });

  it('leaves the candidacy in place when the wait fails for another reason', async () => {
    const kv = new FakeKv();
    await campaign(kv, enc('E'), leaseOf(kv, 0xan), enc('a'), never);
    const pb = campaign(kv, enc('E'), leaseOf(kv, 0xbn), enc('b'), never);
    assert.equal(await settled(pb), false);
    kv.stopWatches(new MvccError('compacted'));
    await assert.rejects(pb, (err: unknown) => err instanceof MvccError && err.code === 'compacted');
    assert.deepEqual(kv.keys('E/'), ['E/a', 'E/b']);
  });

  it('fails with "requested lease not found" for an unknown lease', async () => {
    const kv = new FakeKv();
    await assert.rejects(
      campaign(kv, enc('E'), 0x42n, enc('v'), never),
      (err: unknown) => err instanceof MvccError && err.code === 'lease-not-found',
    );
    assert.deepEqual(kv.keys(), []);
  });

  it('campaigns and proclaims under a granted lease when the lease is 0', async () => {
    const kv = new FakeKv();
    const res = await campaign(kv, enc('E'), 0n, enc('v'), never);
    assert.notEqual(res.leader.lease, 0n);
    assert.equal(str(res.leader.key), `E/${res.leader.lease.toString(16)}`);
    await proclaim(kv, { ...res.leader, lease: 0n }, enc('w'));
    const after = kv.get(str(res.leader.key));
    assert.equal(
      kv.requests.filter((r) => r.kind === 'grantLease').length,
      2,
      'each session with lease 0 grants one',
    );
    assert.notEqual(after?.lease, res.leader.lease);
  });
});

describe('election observe', () => {
  it('reports the first candidate, its proclamations and each next leader', async () => {
    const kv = new FakeKv();
    const ac = new AbortController();
    const it = observe(kv, enc('E'), ac.signal);
    const next = it.next();
    assert.equal(await settled(next), false, 'nobody leads yet');
    const a = await campaign(kv, enc('E'), leaseOf(kv, 0xan), enc('a1'), never);
    const first = (await next).value as HeadedKv;
    assert.equal(str(first.kv.value), 'a1');
    assert.equal(first.header.revision, first.kv.modRevision);

    await proclaim(kv, a.leader, enc('a2'));
    const second = (await it.next()).value as HeadedKv;
    assert.equal(str(second.kv.value), 'a2');
    assert.equal(second.header.revision, kv.revision);

    const pb = campaign(kv, enc('E'), leaseOf(kv, 0xbn), enc('b1'), never);
    assert.equal(await settled(pb), false);
    const third = it.next();
    assert.equal(await settled(third), false, 'a candidate that is not leader is not reported');
    await resign(kv, a.leader);
    await pb;
    const b = (await third).value as HeadedKv;
    assert.equal(str(b.kv.key), 'E/b');
    assert.equal(str(b.kv.value), 'b1');

    const fourth = it.next();
    ac.abort();
    assert.deepEqual(await fourth, { done: true, value: undefined });
    assert.equal(kv.watcherCount, 0);
  });

  it('starts with the current leader, with the header of the read', async () => {
    const kv = new FakeKv();
    await campaign(kv, enc('E'), leaseOf(kv, 0x1n), enc('one'), never);
    kv.put('x', 'unrelated');
    const ac = new AbortController();
    const it = observe(kv, enc('E'), ac.signal);
    const first = (await it.next()).value as HeadedKv;
    assert.equal(str(first.kv.value), 'one');
    assert.equal(first.header.revision, kv.revision);
    await it.return();
    assert.equal(kv.watcherCount, 0);
  });

  it('ends quietly when its watch fails, as etcd’s Observe channel closes', async () => {
    const kv = new FakeKv();
    await campaign(kv, enc('E'), leaseOf(kv, 0x1n), enc('one'), never);
    const it = observe(kv, enc('E'), never);
    await it.next();
    const next = it.next();
    assert.equal(await settled(next), false);
    kv.stopWatches(new MvccError('compacted'));
    assert.deepEqual(await next, { done: true, value: undefined });
  });
});
