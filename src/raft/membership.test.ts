import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { enc, learner, Network, voter } from './testkit.js';
import { ConfChangeType, StateType } from './types.js';
import { EMPTY_BYTES } from './util.js';

function confState(net: Network, id: number) {
  return net.get(id).node.status().confState;
}

describe('membership', () => {
  test('a learner receives the log but its vote does not count', () => {
    const net = Network.create([1, 2], [3]);
    net.campaign(1);
    net.propose(1, 'a');
    assert.deepEqual(net.get(3).applied, ['a']);
    assert.equal(net.get(1).node.status().progress?.get(3n)?.isLearner, true);
    // With voter 2 unreachable, 1 cannot win even if the learner answers.
    net.isolate(2);
    net.get(1).node.campaign(); // ignored: already leader
    net.tick(1, 1);
    net.restart(1);
    net.campaign(1);
    assert.notEqual(net.state(1), StateType.Leader);
  });

  test('learners never campaign and are not counted for commit', () => {
    const net = Network.create([1, 2], [3]);
    net.campaign(1);
    net.isolate(2);
    net.propose(1, 'x'); // 1 and learner 3 have it: not a majority of voters {1, 2}
    assert.deepEqual(net.get(1).applied, []);
    net.tick(3, 100);
    assert.equal(net.state(3), StateType.Follower);
  });

  test('add a learner to a running cluster, then promote it', () => {
    const net = Network.create([1]);
    net.tickAll(25);
    net.propose(1, 'a');
    net.addNode(2n, undefined);
    net.get(1).node.proposeConfChange(learner(2n));
    net.stabilize();
    net.tickAll(2);
    assert.deepEqual(confState(net, 1), { voters: [1n], learners: [2n] });
    assert.deepEqual(confState(net, 2), { voters: [1n], learners: [2n] });
    assert.deepEqual(net.get(2).applied, ['a']);
    net.get(1).node.proposeConfChange(voter(2n));
    net.stabilize();
    assert.deepEqual(confState(net, 1), { voters: [1n, 2n], learners: [] });
    // Now 2 is needed for a quorum.
    net.isolate(2);
    net.propose(1, 'b');
    assert.deepEqual(net.get(1).applied, ['a']);
    net.heal();
    net.tickAll(2);
    assert.deepEqual(net.get(1).applied, ['a', 'b']);
  });

  test('add a voter: the quorum grows', () => {
    const net = Network.create([1, 2, 3]);
    net.campaign(1);
    net.addNode(4n, undefined);
    net.propose(1, 'a');
    net.get(1).node.proposeConfChange(voter(4n));
    net.stabilize();
    net.tickAll(2);
    for (const id of [1, 2, 3, 4]) assert.deepEqual(confState(net, id).voters, [1n, 2n, 3n, 4n]);
    assert.deepEqual(net.get(4).applied, ['a']);
    net.isolate(3);
    net.isolate(4);
    net.propose(1, 'b'); // 2 of 4 is not a quorum
    assert.deepEqual(net.get(1).applied, ['a']);
  });

  test('remove a follower: the quorum shrinks', () => {
    const net = Network.create([1, 2, 3]);
    net.campaign(1);
    net.get(1).node.proposeConfChange({ type: ConfChangeType.RemoveNode, nodeId: 3n, context: EMPTY_BYTES });
    net.stabilize();
    assert.deepEqual(confState(net, 1).voters, [1n, 2n]);
    net.isolate(3);
    net.propose(1, 'a');
    assert.deepEqual(net.get(1).applied, ['a']);
    net.isolate(2);
    net.propose(1, 'b');
    assert.deepEqual(net.get(1).applied, ['a'], 'both remaining voters are needed');
  });

  test('a removed leader steps down; the rest elect a new leader; it never campaigns', () => {
    const net = Network.create([1, 2, 3]);
    net.campaign(1);
    net.get(1).node.proposeConfChange({ type: ConfChangeType.RemoveNode, nodeId: 1n, context: EMPTY_BYTES });
    net.stabilize();
    assert.equal(net.state(1), StateType.Follower);
    assert.throws(() => net.get(1).node.propose(enc('x')));
    net.tickAll(40);
    const leader = [2, 3].find((id) => net.state(id) === StateType.Leader);
    assert.ok(leader !== undefined);
    assert.deepEqual(confState(net, leader).voters, [2n, 3n]);
    net.isolate(1);
    net.tick(1, 100);
    assert.notEqual(net.state(1), StateType.Leader);
    assert.notEqual(net.state(1), StateType.Candidate);
  });

  test('only one conf change may be pending: a second is replaced by an empty entry', () => {
    const net = Network.create([1, 2, 3]);
    net.campaign(1);
    const n1 = net.get(1).node;
    n1.proposeConfChange({ type: ConfChangeType.RemoveNode, nodeId: 3n, context: EMPTY_BYTES });
    n1.proposeConfChange({ type: ConfChangeType.RemoveNode, nodeId: 2n, context: EMPTY_BYTES });
    net.stabilize();
    assert.deepEqual(confState(net, 1).voters, [1n, 2n]);
    // Once the first is applied, a new one is accepted.
    n1.proposeConfChange(learner(5n));
    net.stabilize();
    assert.deepEqual(confState(net, 1), { voters: [1n, 2n], learners: [5n] });
  });

  test('a restarted node rebuilds its membership and keeps term and vote', () => {
    const net = Network.create([1, 2, 3]);
    net.campaign(1);
    net.propose(1, 'a');
    const before = net.get(2).node.status();
    net.restart(2);
    const after = net.get(2).node.status();
    assert.deepEqual(after.confState, before.confState);
    assert.equal(after.hardState.term, before.hardState.term);
    assert.equal(after.hardState.vote, before.hardState.vote);
    assert.equal(after.hardState.commit, before.hardState.commit);
    net.propose(1, 'b');
    assert.deepEqual(net.get(2).applied, ['a', 'b']);
  });
});
