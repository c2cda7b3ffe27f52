import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { RaftLog } from './log.js';
import { MemoryStorage } from './memory-storage.js';
import { CompactedError, type Entry, EntryType } from './types.js';
import { EMPTY_BYTES } from './util.js';

function ent(index: number, term: number, data = ''): Entry {
  return { index, term, type: EntryType.Normal, data: data ? new TextEncoder().encode(data) : EMPTY_BYTES };
}
function terms(log: RaftLog): number[] {
  const out: number[] = [];
  for (let i = log.firstIndex(); i <= log.lastIndex(); i++) out.push(log.term(i));
  return out;
}

describe('RaftLog', () => {
  test('maybeAppend rejects when the previous entry does not match', () => {
    const log = new RaftLog(new MemoryStorage(), 1 << 20);
    log.append([ent(1, 1), ent(2, 2)]);
    assert.equal(log.maybeAppend(2, 1, 0, [ent(3, 2)]), undefined);
    assert.equal(log.maybeAppend(3, 2, 0, [ent(4, 2)]), undefined);
    assert.equal(log.lastIndex(), 2);
  });

  test('maybeAppend truncates a conflicting suffix and keeps a matching prefix', () => {
    const log = new RaftLog(new MemoryStorage(), 1 << 20);
    log.append([ent(1, 1), ent(2, 1), ent(3, 1), ent(4, 1)]);
    assert.equal(log.maybeAppend(1, 1, 2, [ent(2, 1), ent(3, 3)]), 3);
    assert.deepEqual(terms(log), [1, 1, 3]);
    assert.equal(log.committed, 2);
  });

  test('a stale append that is already contained does not truncate newer entries', () => {
    const log = new RaftLog(new MemoryStorage(), 1 << 20);
    log.append([ent(1, 1), ent(2, 1), ent(3, 1)]);
    assert.equal(log.maybeAppend(0, 0, 0, [ent(1, 1)]), 1);
    assert.equal(log.lastIndex(), 3);
  });

  test('commit is capped at the last new entry of the append', () => {
    const log = new RaftLog(new MemoryStorage(), 1 << 20);
    log.maybeAppend(0, 0, 10, [ent(1, 1), ent(2, 1)]);
    assert.equal(log.committed, 2);
  });

  test('truncating a committed entry is an invariant violation', () => {
    const log = new RaftLog(new MemoryStorage(), 1 << 20);
    log.append([ent(1, 1), ent(2, 1)]);
    log.commitTo(2);
    assert.throws(() => log.maybeAppend(1, 1, 2, [ent(2, 5)]), /invariant/);
  });

  test('findConflictByTerm walks back to an entry with term <= the given term', () => {
    const log = new RaftLog(new MemoryStorage(), 1 << 20);
    log.append([ent(1, 1), ent(2, 1), ent(3, 2), ent(4, 2), ent(5, 4), ent(6, 4)]);
    assert.deepEqual(log.findConflictByTerm(6, 3), [4, 2]);
    assert.deepEqual(log.findConflictByTerm(6, 4), [6, 4]);
    assert.deepEqual(log.findConflictByTerm(6, 1), [2, 1]);
    assert.deepEqual(log.findConflictByTerm(6, 0), [0, 0]);
  });

  test('isUpToDate compares last term first, then length (§5.4.1)', () => {
    const log = new RaftLog(new MemoryStorage(), 1 << 20);
    log.append([ent(1, 1), ent(2, 2), ent(3, 2)]);
    assert.equal(log.isUpToDate(1, 3), true);
    assert.equal(log.isUpToDate(3, 2), true);
    assert.equal(log.isUpToDate(2, 2), false);
    assert.equal(log.isUpToDate(9, 1), false);
  });

  test('maybeCommit only commits an entry of the given (current) term', () => {
    const log = new RaftLog(new MemoryStorage(), 1 << 20);
    log.append([ent(1, 1), ent(2, 2), ent(3, 3)]);
    assert.equal(log.maybeCommit(2, 3), false);
    assert.equal(log.committed, 0);
    assert.equal(log.maybeCommit(3, 3), true);
    assert.equal(log.committed, 3);
  });

  test('slice spans storage and the unstable tail and respects the size limit', () => {
    const st = new MemoryStorage();
    st.append([ent(1, 1, 'aaaa'), ent(2, 1, 'bbbb')]);
    const log = new RaftLog(st, 1 << 20);
    log.append([ent(3, 1, 'cccc'), ent(4, 1, 'dddd')]);
    assert.deepEqual(
      log.slice(1, 5, 1 << 20).map((e) => e.index),
      [1, 2, 3, 4],
    );
    assert.equal(log.slice(1, 5, 60).length, 2);
    assert.equal(log.slice(2, 5, 0).length, 1, 'at least one entry even with a tiny limit');
  });

  test('reading compacted entries throws CompactedError', () => {
    const st = new MemoryStorage();
    st.append([ent(1, 1), ent(2, 1), ent(3, 1)]);
    st.compact(2);
    const log = new RaftLog(st, 1 << 20);
    assert.equal(log.firstIndex(), 3);
    assert.throws(() => log.slice(1, 3, 100), CompactedError);
    assert.throws(() => log.term(1), CompactedError);
    assert.equal(log.term(2), 1, 'the compaction point keeps its term');
  });

  test('stableTo ignores an index whose term changed meanwhile', () => {
    const log = new RaftLog(new MemoryStorage(), 1 << 20);
    log.append([ent(1, 1), ent(2, 1)]);
    log.append([ent(2, 2)]);
    log.stableTo(2, 1);
    assert.equal(log.unstableEntries().length, 2);
    log.stableTo(2, 2);
    assert.equal(log.unstableEntries().length, 0);
  });

  test('nextEntries hands out committed, unapplied entries', () => {
    const log = new RaftLog(new MemoryStorage(), 1 << 20);
    log.append([ent(1, 1), ent(2, 1), ent(3, 1)]);
    log.commitTo(2);
    assert.deepEqual(
      log.nextEntries().map((e) => e.index),
      [1, 2],
    );
    log.appliedTo(2);
    assert.equal(log.hasNextEntries(), false);
    assert.throws(() => log.appliedTo(3), /invariant/);
  });
});
