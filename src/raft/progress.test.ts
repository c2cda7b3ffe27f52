import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Inflights } from './inflights.js';
import { Progress } from './progress.js';
import { committedIndex, VoteResult, voteResult } from './quorum.js';

describe('Inflights', () => {
  test('full by count, freed up to an index', () => {
    const inf = new Inflights(3, 0);
    inf.add(1, 10);
    inf.add(2, 10);
    assert.equal(inf.full(), false);
    inf.add(3, 10);
    assert.equal(inf.full(), true);
    assert.throws(() => inf.add(4, 10), /full window/);
    inf.freeLE(2);
    assert.equal(inf.count, 1);
    assert.equal(inf.bytes, 10);
    inf.freeFirstOne();
    assert.equal(inf.count, 0);
  });

  test('full by bytes', () => {
    const inf = new Inflights(100, 50);
    inf.add(1, 30);
    assert.equal(inf.full(), false);
    inf.add(2, 30);
    assert.equal(inf.full(), true);
    inf.freeLE(1);
    assert.equal(inf.full(), false);
  });

  test('stays bounded over a long run', () => {
    const inf = new Inflights(4, 0);
    for (let i = 1; i <= 10_000; i++) {
      inf.add(i, 1);
      if (i % 2 === 0) inf.freeLE(i - 1);
    }
    assert.ok(inf.count <= 4);
  });
});

describe('Progress', () => {
  test('probe pauses after one message until an answer', () => {
    const pr = new Progress(5, 10, 0, false);
    assert.equal(pr.isPaused(), false);
    pr.sentEntries(7, 100);
    assert.equal(pr.isPaused(), true);
    assert.equal(pr.maybeUpdate(7), true);
    assert.equal(pr.isPaused(), false);
  });

  test('maybeDecrTo in probe: ignores stale rejections, uses the hint', () => {
    const pr = new Progress(10, 10, 0, false);
    assert.equal(pr.maybeDecrTo(5, 3), false, 'rejection of an index we did not send');
    assert.equal(pr.maybeDecrTo(9, 3), true);
    assert.equal(pr.next, 4);
  });

  test('maybeDecrTo in replicate falls back to match+1', () => {
    const pr = new Progress(1, 10, 0, false);
    pr.maybeUpdate(4);
    pr.becomeReplicate();
    pr.sentEntries(8, 10);
    assert.equal(pr.next, 9);
    assert.equal(pr.maybeDecrTo(3, 0), false);
    assert.equal(pr.maybeDecrTo(7, 0), true);
    assert.equal(pr.next, 5);
  });

  test('snapshot state is paused; probing resumes after the snapshot index', () => {
    const pr = new Progress(1, 10, 0, false);
    pr.becomeSnapshot(20);
    assert.equal(pr.isPaused(), true);
    pr.becomeProbe();
    assert.equal(pr.next, 21);
  });
});

describe('quorum', () => {
  test('committed index is the majority-th highest match', () => {
    const m = new Map([
      [1n, 5],
      [2n, 3],
      [3n, 9],
    ]);
    assert.equal(
      committedIndex(m.keys(), (id) => m.get(id) ?? 0),
      5,
    );
    const four = new Map([...m, [4n, 1]]);
    assert.equal(
      committedIndex(four.keys(), (id) => four.get(id) ?? 0),
      3,
    );
  });

  test('vote results', () => {
    const voters = new Set([1n, 2n, 3n]);
    assert.equal(voteResult(voters, new Map([[1n, true]])), VoteResult.Pending);
    assert.equal(
      voteResult(
        voters,
        new Map([
          [1n, true],
          [2n, true],
        ]),
      ),
      VoteResult.Won,
    );
    assert.equal(
      voteResult(
        voters,
        new Map([
          [1n, true],
          [2n, false],
          [3n, false],
        ]),
      ),
      VoteResult.Lost,
    );
  });
});
