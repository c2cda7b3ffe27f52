import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { msg, Network, takeMessages } from './testkit.js';
import { MessageType, StateType } from './types.js';

describe('pre-vote', () => {
  test('a partitioned node rejoining does not disrupt the leader or its term', () => {
    const net = Network.create([1, 2, 3], [], { preVote: true });
    net.campaign(1);
    const term = net.term(1);
    net.isolate(3);
    net.tick(3, 100);
    assert.equal(net.state(3), StateType.PreCandidate);
    assert.equal(net.term(3), term, 'a pre-candidate does not bump its term');
    net.heal();
    net.tickAll(30);
    assert.equal(net.state(1), StateType.Leader);
    for (const id of [1, 2, 3]) assert.equal(net.term(id), term);
    assert.equal(net.leaderOf(3), 1n);
  });

  test('without pre-vote the same rejoin bumps the term and deposes the leader', () => {
    const net = Network.create([1, 2, 3]);
    net.campaign(1);
    const term = net.term(1);
    net.isolate(3);
    net.tick(3, 100);
    net.heal();
    net.tickAll(30);
    assert.ok(net.term(1) > term);
  });

  test('pre-votes are granted only to up-to-date logs and change neither term nor vote', () => {
    const net = Network.create([1, 2, 3], [], { preVote: true });
    net.campaign(1);
    net.propose(1, 'x');
    const term = net.term(2);
    const lastIndex = net.get(2).storage.lastIndex();
    const n2 = net.get(2).node;
    n2.step(
      msg({ type: MessageType.PreVote, from: 3n, to: 2n, term: term + 1, index: lastIndex, logTerm: 1 }),
    );
    n2.step(
      msg({ type: MessageType.PreVote, from: 3n, to: 2n, term: term + 1, index: lastIndex, logTerm: term }),
    );
    const resps = takeMessages(net, 2).filter((m) => m.type === MessageType.PreVoteResp);
    assert.deepEqual(
      resps.map((m) => [m.reject, m.term]),
      [
        [true, term],
        [false, term + 1],
      ],
    );
    const hs = net.get(2).node.status().hardState;
    assert.equal(hs.term, term);
    assert.equal(hs.vote, 1n);
  });

  test('a pre-candidate that wins its pre-vote runs a real election', () => {
    const net = Network.create([1, 2, 3], [], { preVote: true });
    net.campaign(2);
    assert.equal(net.state(2), StateType.Leader);
    assert.equal(net.term(2), 2);
  });
});

describe('check-quorum and leader lease', () => {
  test('an isolated leader steps down after an election timeout', () => {
    const net = Network.create([1, 2, 3], [], { checkQuorum: true });
    net.campaign(1);
    net.isolate(1);
    net.tick(1, 9);
    assert.equal(net.state(1), StateType.Leader);
    net.tick(1, 11);
    assert.equal(net.state(1), StateType.Follower);
  });

  test('without check-quorum the isolated leader stays leader', () => {
    const net = Network.create([1, 2, 3]);
    net.campaign(1);
    net.isolate(1);
    net.tick(1, 50);
    assert.equal(net.state(1), StateType.Leader);
  });

  test('a leader hearing from a quorum stays', () => {
    const net = Network.create([1, 2, 3], [], { checkQuorum: true });
    net.campaign(1);
    net.isolate(3);
    for (let i = 0; i < 50; i++) {
      net.tick(1);
      net.tick(2);
      net.stabilize();
    }
    assert.equal(net.state(1), StateType.Leader);
  });

  test('followers with a live leader ignore vote requests of a higher term', () => {
    const net = Network.create([1, 2, 3], [], { checkQuorum: true });
    net.campaign(1);
    const term = net.term(2);
    net
      .get(2)
      .node.step(
        msg({ type: MessageType.Vote, from: 3n, to: 2n, term: term + 5, index: 100, logTerm: term }),
      );
    assert.equal(net.term(2), term);
    assert.deepEqual(
      takeMessages(net, 2).filter((m) => m.type === MessageType.VoteResp),
      [],
    );
    assert.equal(net.leaderOf(2), 1n);
  });

  test('a stale leader learns the new term from responses to its heartbeats and steps down', () => {
    const net = Network.create([1, 2, 3], [], { checkQuorum: true });
    net.campaign(1);
    net.isolate(1);
    for (let i = 0; i < 40; i++) {
      net.tick(2);
      net.tick(3);
      net.stabilize();
    }
    const newLeader = [2, 3].find((id) => net.state(id) === StateType.Leader);
    assert.ok(newLeader !== undefined);
    assert.equal(net.state(1), StateType.Leader, 'not ticked, so it has not noticed');
    net.heal();
    net.tick(1, 1);
    net.stabilize();
    assert.equal(net.state(1), StateType.Follower);
    assert.equal(net.term(1), net.term(newLeader));
  });
});
