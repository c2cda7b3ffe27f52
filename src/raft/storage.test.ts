import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { decodeConfChange, encodeConfChange } from './confchange-codec.js';
import { MemoryStorage } from './memory-storage.js';
import { messageSize, newMessage } from './messages.js';
import {
  CompactedError,
  ConfChangeType,
  type Entry,
  EntryType,
  MessageType,
  SnapOutOfDateError,
  UnavailableError,
} from './types.js';
import { EMPTY_BYTES } from './util.js';

function ent(index: number, term: number): Entry {
  return { index, term, type: EntryType.Normal, data: EMPTY_BYTES };
}

describe('MemoryStorage', () => {
  test('append replaces a conflicting suffix', () => {
    const st = new MemoryStorage();
    st.append([ent(1, 1), ent(2, 1), ent(3, 1)]);
    st.append([ent(2, 2)]);
    assert.equal(st.lastIndex(), 2);
    assert.equal(st.term(2), 2);
  });

  test('append with a gap is refused', () => {
    const st = new MemoryStorage();
    st.append([ent(1, 1)]);
    assert.throws(() => st.append([ent(3, 1)]), /missing log entry/);
  });

  test('compact drops old entries; compacting again below throws', () => {
    const st = new MemoryStorage();
    st.append([ent(1, 1), ent(2, 1), ent(3, 2), ent(4, 2)]);
    st.compact(3);
    assert.equal(st.firstIndex(), 4);
    assert.equal(st.term(3), 2);
    assert.throws(() => st.entries(3, 5, 100), CompactedError);
    assert.throws(() => st.compact(2), CompactedError);
    assert.throws(() => st.term(9), UnavailableError);
  });

  test('snapshots: create, out-of-date, apply replaces everything', () => {
    const st = new MemoryStorage();
    st.append([ent(1, 1), ent(2, 1), ent(3, 2)]);
    const cs = { voters: [1n, 2n], learners: [3n] };
    const s = st.createSnapshot(2, cs, new Uint8Array([9]));
    assert.equal(s.metadata.term, 1);
    assert.throws(() => st.createSnapshot(1, cs, EMPTY_BYTES), SnapOutOfDateError);
    const other = new MemoryStorage();
    other.append([ent(1, 1)]);
    other.applySnapshot({ metadata: { index: 10, term: 3, confState: cs }, data: EMPTY_BYTES });
    assert.equal(other.firstIndex(), 11);
    assert.equal(other.lastIndex(), 10);
    assert.deepEqual(other.initialState().confState, cs);
  });
});

describe('codecs and sizes', () => {
  test('conf change round-trips, including a 64-bit id and context', () => {
    const cc = {
      type: ConfChangeType.AddLearnerNode,
      nodeId: 0xfedcba9876543210n,
      context: new Uint8Array([1, 2, 3]),
    };
    assert.deepEqual(decodeConfChange(encodeConfChange(cc)), cc);
    // etcd's raftpb.ConfChange: 08 <ID> 10 <Type> 18 <NodeID> [22 <Context>].
    assert.throws(() => decodeConfChange(new Uint8Array([0x08])), /truncated/);
    const bad = encodeConfChange(cc);
    assert.equal(bad[2], 0x10);
    bad[3] = 77;
    assert.throws(() => decodeConfChange(bad), /unknown type/);
  });

  test('messageSize grows with entry payloads', () => {
    const small = messageSize(newMessage({ type: MessageType.App }));
    const big = messageSize(
      newMessage({ type: MessageType.App, entries: [{ ...ent(1, 1), data: new Uint8Array(1000) }] }),
    );
    assert.ok(big >= small + 1000);
  });
});
