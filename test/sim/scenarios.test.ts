import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ConfChangeType, StateType } from '../../src/raft/index.js';
import type { Sabotage, SimNode } from './node.js';
import { runSeed } from './run.js';
import { calmCluster, electLeader, runUntilTrue, settle } from './scenario.js';

describe('simulator scenarios', () => {
  test('a partitioned leader cannot commit; the majority elects a new leader; heal discards the stale write', () => {
    const c = calmCluster(3);
    const old = electLeader(c);
    settle(c);
    const commitBefore = old.storage.initialState().hardState.commit;
    c.net.isolate(old.id);
    assert.equal(old.propose(1001), true, 'the isolated leader still accepts the proposal');
    runUntilTrue(c, () => c.members().some((n) => n !== old && n.state === StateType.Leader));
    const fresh = c.members().find((n) => n !== old && n.state === StateType.Leader)!;
    assert.ok(fresh.term > old.term, 'new leader has a higher term');
    assert.equal(old.state, StateType.Leader, 'without check-quorum the old leader does not notice');
    assert.ok(fresh.propose(2001));
    runUntilTrue(c, () => c.check.acked.includes(2001));
    settle(c, 30);
    assert.equal(old.storage.initialState().hardState.commit, commitBefore, 'old leader committed nothing');
    assert.ok(!c.check.acked.includes(1001));
    c.net.heal();
    runUntilTrue(c, () => old.state === StateType.Follower && old.app.writeSet.has(2001));
    settle(c, 30);
    for (const n of c.members()) {
      assert.ok(n.app.writeSet.has(2001), `n${n.id} has the new leader's write`);
      assert.ok(!n.app.writeSet.has(1001), `n${n.id} never applies the stale leader's write`);
    }
  });

  test('a crash during fsync loses the unsynced tail, and the node catches up after restart', () => {
    const c = calmCluster(3, (o) => {
      o.persistMax = 40; // a slow disk, so a crash can land mid-fsync
    });
    const leader = electLeader(c);
    settle(c);
    const follower = c.members().find((n) => n !== leader)!;
    for (let w = 1; w <= 5; w++) leader.propose(w);
    runUntilTrue(c, () => follower.unsyncedEntries().some((e) => e.data.length > 0), 50);
    const durableLast = follower.storage.lastIndex();
    const lostLast = follower.unsyncedEntries().at(-1)!.index;
    assert.ok(lostLast > durableLast, 'the Ready in flight extends the durable log');
    c.crash(follower);
    c.restart(follower);
    assert.equal(follower.storage.lastIndex(), durableLast, 'the unsynced entries are gone after restart');
    runUntilTrue(c, () => [1, 2, 3, 4, 5].every((w) => follower.app.writeSet.has(w)));
    assert.ok(follower.storage.lastIndex() >= lostLast);
  });

  test('a single node that crashes before fsync never acknowledges the lost write', () => {
    const c = calmCluster(1, (o) => {
      o.persistMax = 40;
    });
    const n = electLeader(c);
    settle(c, 5);
    runUntilTrue(c, () => !n.busy, 50);
    assert.ok(n.propose(77));
    assert.ok(n.busy && n.unsyncedEntries().length > 0, 'the write is waiting for fsync');
    c.crash(n);
    c.restart(n);
    electLeader(c);
    settle(c);
    assert.ok(!n.app.writeSet.has(77));
    assert.ok(!c.check.acked.includes(77));
  });

  test('a learner added after compaction catches up by snapshot, is promoted and can lead', () => {
    const c = calmCluster(3, (o) => {
      o.node.compactEvery = 8;
      o.node.compactKeep = 0;
    });
    const leader = electLeader(c);
    for (let w = 1; w <= 40; w++) leader.propose(w);
    runUntilTrue(c, () => c.check.acked.length === 40);
    const joiner = c.createJoiner()!;
    assert.ok(
      leader.proposeConfChange({
        type: ConfChangeType.AddLearnerNode,
        nodeId: joiner.id,
        context: new Uint8Array(),
      }),
    );
    runUntilTrue(c, () => joiner.app.writeSet.has(40));
    assert.ok(joiner.storage.snapshot().metadata.index > 0, 'the learner was sent a snapshot');
    assert.deepEqual(joiner.confState.learners, [joiner.id]);
    assert.ok(
      leader.proposeConfChange({
        type: ConfChangeType.AddNode,
        nodeId: joiner.id,
        context: new Uint8Array(),
      }),
    );
    runUntilTrue(c, () => joiner.confState.voters.includes(joiner.id));
    leader.transferLeader(joiner.id);
    runUntilTrue(c, () => joiner.state === StateType.Leader);
    assert.ok(joiner.propose(41));
    runUntilTrue(c, () => c.members().every((n) => n.app.writeSet.has(41)));
  });
});

/** Proof that the checkers bite: each deliberate application bug is caught within a few seeds. */
describe('checkers catch deliberate bugs', () => {
  const cases: [Sabotage, RegExp][] = [
    ['staleReads', /linearizable read/],
    ['ackOnPropose', /linearizable read|durability/],
    // Raft's own invariant check may notice first (a follower told to commit past its lost tail), a
    // leader elected by votes for a tail that was never persisted may lack a committed entry, or
    // the cluster wedges: the leader believes a follower holds entries it lost, and never resends them.
    [
      'sendBeforePersist',
      /committed entry changed|state machine safety|leader completeness|durability|linearizable|raft invariant|liveness/,
    ],
  ];
  for (const [sabotage, expected] of cases) {
    test(`sabotage ${sabotage}`, () => {
      let caught: Error | undefined;
      for (let seed = 1; seed <= 100 && caught === undefined; seed++) {
        try {
          runSeed(seed, {
            tweak: (o) => {
              o.node.sabotage = sabotage;
              o.crashes = true;
            },
          });
        } catch (e) {
          if (!(e instanceof Error)) throw e;
          caught = e;
        }
      }
      assert.ok(caught !== undefined, `no violation found for ${sabotage}`);
      assert.match(caught.message, expected);
    });
  }

  /** n2 votes for n1 in term 2, crashes and restarts; n3 then campaigns in term 2 and asks n2. */
  function doubleVoteAttempt(sabotage: Sabotage): SimNode {
    const c = calmCluster(3, (o) => {
      o.tuning.preVote = false;
      o.tuning.electionTick = 1000; // no spontaneous elections: the test drives them
      o.node.sabotage = sabotage;
    });
    settle(c, 5);
    const [n1, n2, n3] = c.members() as [SimNode, SimNode, SimNode];
    c.net.isolate(n3.id);
    n1.campaign();
    runUntilTrue(c, () => n1.state === StateType.Leader && !n2.busy);
    assert.equal(n1.term, 2);
    c.crash(n2);
    c.restart(n2);
    c.net.isolate(n1.id);
    n3.campaign();
    settle(c, 10);
    return n3;
  }

  test('sabotage forgetVote: a restarted node votes twice in one term, two leaders follow', () => {
    assert.throws(() => doubleVoteAttempt('forgetVote'), /election safety: term 2 has leaders/);
  });

  test('with the vote persisted, the same attempt elects nobody', () => {
    const n3 = doubleVoteAttempt('none');
    assert.equal(n3.term, 2);
    assert.notEqual(n3.state, StateType.Leader);
  });
});
