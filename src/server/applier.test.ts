import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { MvccError } from '../mvcc/errors.js';
import type { PutResult } from '../mvcc/types.js';
import { encodeConfChange } from '../raft/confchange-codec.js';
import { ConfChangeType, type Entry, EntryType } from '../raft/types.js';
import { AppliedEvents } from './applied-events.js';
import { Applier } from './applier.js';
import { QuotaStage, StoreStage } from './apply-stages.js';
import type { KvBackend } from './backend.js';
import { encodeInternalRequest } from './internal-request.js';
import { encodeMemberContext, Membership } from './membership.js';
import { WaitRegistry } from './wait.js';

/** Records which entries reached it; puts answer rev = index. */
function fakeBackend(consistentIndex: number) {
  const seen: Array<[string, number]> = [];
  let ci = consistentIndex;
  const backend = {
    consistentIndex: () => ci,
    put(index: number): PutResult {
      seen.push(['put', index]);
      ci = index;
      return { rev: index, events: [] };
    },
    compact(index: number) {
      seen.push(['compact', index]);
      ci = index;
      throw new MvccError('compacted');
    },
    markApplied(index: number) {
      seen.push(['mark', index]);
      ci = index;
    },
  };
  return { backend: backend as unknown as KvBackend, seen };
}

const put = (index: number, id: bigint): Entry => ({
  term: 2,
  index,
  type: EntryType.Normal,
  data: encodeInternalRequest({
    id,
    op: {
      kind: 'put',
      req: {
        key: Buffer.from('k'),
        value: Buffer.from('v'),
        lease: 0n,
        prevKv: false,
        ignoreValue: false,
        ignoreLease: false,
      },
    },
  }),
});

describe('applier', () => {
  test('entries at or below the backend index only touch membership; waiters get results and errors', async () => {
    const { backend, seen } = fakeBackend(3);
    const membership = new Membership();
    const waits = new WaitRegistry(10);
    const confChanges: bigint[] = [];
    const alarms = { apply: () => [], has: () => false };
    const store = new StoreStage({ backend, membership, alarms, events: new AppliedEvents() });
    const applier = new Applier(
      {
        backend,
        membership,
        stages: new QuotaStage(store, alarms),
        waits,
        applyConfChangeToRaft: (cc) => {
          confChanges.push(cc.nodeId);
          return { voters: [cc.nodeId], learners: [] };
        },
      },
      0,
      { voters: [], learners: [] },
    );
    const m = { id: 9n, name: 'a', peerUrls: ['http://x:1'], clientUrls: [], isLearner: false };
    const cc: Entry = {
      term: 1,
      index: 1,
      type: EntryType.ConfChange,
      data: encodeConfChange({ type: ConfChangeType.AddNode, nodeId: 9n, context: encodeMemberContext(m) }),
    };
    const waitPut = waits.register(50n, 'put');
    const waitCompact = waits.register(51n, 'compaction');
    const compact: Entry = {
      term: 2,
      index: 6,
      type: EntryType.Normal,
      data: encodeInternalRequest({
        id: 51n,
        op: { kind: 'compaction', req: { revision: 1, physical: false } },
      }),
    };
    applier.applyEntries([
      cc,
      { term: 2, index: 2, type: EntryType.Normal, data: new Uint8Array() },
      put(3, 40n),
    ]);
    applier.applyEntries([
      put(4, 50n),
      { term: 2, index: 5, type: EntryType.Normal, data: new Uint8Array() },
      compact,
    ]);
    assert.deepEqual(confChanges, [9n], 'conf changes always reach raft');
    assert.equal(membership.get(9n)?.name, 'a');
    assert.deepEqual(seen, [
      ['put', 4],
      ['mark', 5],
      ['compact', 6],
    ]);
    const r = await waitPut;
    assert.equal(r.rev, 4);
    await assert.rejects(waitCompact, /compacted/);
    assert.equal(applier.appliedIndex, 6);
    assert.throws(() => applier.applyEntries([put(8, 1n)]), /not next/);
  });
});
