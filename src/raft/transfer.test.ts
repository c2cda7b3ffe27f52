import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { enc, Network } from './testkit.js';
import { MessageType, ProposalDroppedError, StateType } from './types.js';

describe('leadership transfer', () => {
  test('to an up-to-date follower: it campaigns at once and wins the next term', () => {
    const net = Network.create([1, 2, 3]);
    net.campaign(1);
    const term = net.term(1);
    net.get(1).node.transferLeader(2n);
    net.stabilize();
    assert.equal(net.state(2), StateType.Leader);
    assert.equal(net.term(2), term + 1);
    assert.equal(net.leaderOf(1), 2n);
    assert.ok(net.sent.some((m) => m.type === MessageType.TimeoutNow && m.to === 2n));
  });

  test('a lagging transferee is caught up first; proposals are dropped meanwhile', () => {
    const net = Network.create([1, 2, 3]);
    net.campaign(1);
    net.isolate(3);
    for (let i = 0; i < 5; i++) net.propose(1, `v${i}`);
    net.heal();
    net.filter = (m) => !(m.to === 3n && m.type === MessageType.App);
    net.get(1).node.transferLeader(3n);
    net.stabilize();
    assert.equal(net.get(1).node.status().leadTransferee, 3n);
    assert.ok(!net.sent.some((m) => m.type === MessageType.TimeoutNow), 'no TimeoutNow before catch-up');
    assert.throws(() => net.get(1).node.propose(enc('during')), ProposalDroppedError);
    net.filter = () => true;
    net.tickAll(2);
    assert.equal(net.state(3), StateType.Leader);
    assert.equal(net.get(3).applied.length, 5);
  });

  test('aborted after an election timeout if the transferee does not catch up', () => {
    const net = Network.create([1, 2, 3]);
    net.campaign(1);
    net.isolate(3);
    net.get(1).node.transferLeader(3n);
    net.stabilize();
    assert.equal(net.get(1).node.status().leadTransferee, 3n);
    for (let i = 0; i < 10; i++) {
      net.tick(1);
      net.tick(2);
      net.stabilize();
    }
    assert.equal(net.get(1).node.status().leadTransferee, 0n);
    assert.equal(net.state(1), StateType.Leader);
    net.propose(1, 'after');
    assert.deepEqual(net.get(2).applied, ['after']);
  });

  test('refused for a learner, ignored for the leader itself', () => {
    const net = Network.create([1, 2], [3]);
    net.campaign(1);
    net.get(1).node.transferLeader(3n);
    net.get(1).node.transferLeader(1n);
    net.stabilize();
    assert.equal(net.get(1).node.status().leadTransferee, 0n);
    assert.equal(net.state(1), StateType.Leader);
    assert.ok(!net.sent.some((m) => m.type === MessageType.TimeoutNow));
  });

  test('a follower forwards the request to the leader', () => {
    const net = Network.create([1, 2, 3]);
    net.campaign(1);
    net.get(3).node.transferLeader(2n);
    net.stabilize();
    assert.equal(net.state(2), StateType.Leader);
  });

  test('the transferee’s vote request overrides the followers’ leader lease', () => {
    const net = Network.create([1, 2, 3], [], { checkQuorum: true, preVote: true });
    net.campaign(1);
    net.get(1).node.transferLeader(3n);
    net.stabilize();
    assert.equal(net.state(3), StateType.Leader);
  });
});
