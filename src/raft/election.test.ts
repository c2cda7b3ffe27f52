import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { msg, Network, takeMessages } from './testkit.js';
import { MessageType, StateType } from './types.js';

describe('bootstrap and basic election', () => {
  test('a fresh single-member cluster elects itself at term 2', () => {
    const net = Network.create([1]);
    net.tickAll(25);
    assert.equal(net.state(1), StateType.Leader);
    assert.equal(net.term(1), 2);
  });

  test('three nodes: campaign elects, proposals replicate and apply everywhere', () => {
    const net = Network.create([1, 2, 3]);
    net.campaign(1);
    assert.equal(net.state(1), StateType.Leader);
    assert.equal(net.state(2), StateType.Follower);
    assert.equal(net.leaderOf(3), 1n);
    net.propose(1, 'a');
    net.propose(2, 'b'); // forwarded by a follower
    for (const id of [1, 2, 3]) assert.deepEqual(net.get(id).applied, ['a', 'b']);
  });

  test('ticks alone elect exactly one leader in a 5-node cluster', () => {
    const net = Network.create([1, 2, 3, 4, 5]);
    net.tickAll(40);
    const leaders = [1, 2, 3, 4, 5].filter((id) => net.state(id) === StateType.Leader);
    assert.equal(leaders.length, 1);
    for (const id of [1, 2, 3, 4, 5]) assert.equal(net.leaderOf(id), BigInt(leaders[0]));
  });
});

describe('vote rules (§5.2, §5.4.1)', () => {
  test('at most one vote per term, first come first served; the same candidate may ask again', () => {
    const net = Network.create([1, 2, 3]);
    const n1 = net.get(1).node;
    n1.step(msg({ type: MessageType.Vote, from: 2n, to: 1n, term: 5, index: 3, logTerm: 1 }));
    n1.step(msg({ type: MessageType.Vote, from: 3n, to: 1n, term: 5, index: 3, logTerm: 1 }));
    n1.step(msg({ type: MessageType.Vote, from: 2n, to: 1n, term: 5, index: 3, logTerm: 1 }));
    const resps = takeMessages(net, 1).filter((m) => m.type === MessageType.VoteResp);
    assert.deepEqual(
      resps.map((m) => [m.to, m.reject]),
      [
        [2n, false],
        [3n, true],
        [2n, false],
      ],
    );
    assert.equal(net.get(1).storage.initialState().hardState.vote, 2n, 'the vote is persisted');
  });

  test('a candidate whose log is behind is refused', () => {
    const net = Network.create([1, 2, 3]);
    net.campaign(1);
    net.propose(1, 'x'); // every log now ends at term 2
    const n2 = net.get(2).node;
    n2.step(msg({ type: MessageType.Vote, from: 3n, to: 2n, term: 9, index: 100, logTerm: 1 }));
    const [resp] = takeMessages(net, 2).filter((m) => m.type === MessageType.VoteResp);
    assert.equal(resp.reject, true);
    assert.equal(net.term(2), 9, 'a higher term is adopted even when the vote is refused');
  });

  test('a candidate with a stale log cannot be elected', () => {
    const net = Network.create([1, 2, 3]);
    net.campaign(1);
    net.isolate(3);
    net.propose(1, 'x');
    net.heal();
    net.campaign(3);
    assert.notEqual(net.state(3), StateType.Leader);
    net.tickAll(50);
    assert.notEqual(net.state(3), StateType.Leader);
    for (const id of [1, 2, 3]) assert.deepEqual(net.get(id).applied, ['x']);
  });

  test('a candidate that hears from a leader of its term becomes follower', () => {
    const net = Network.create([1, 2, 3]);
    net.campaign(1);
    net.isolate(2);
    net.campaign(2); // term bumps alone
    const t = net.term(2);
    const n2 = net.get(2).node;
    n2.step(msg({ type: MessageType.App, from: 3n, to: 2n, term: t, index: 0, logTerm: 0 }));
    assert.equal(net.state(2), StateType.Follower);
    assert.equal(net.leaderOf(2), 3n);
  });

  test('messages with a lower term are ignored', () => {
    const net = Network.create([1, 2, 3]);
    net.campaign(1);
    net.campaign(2);
    assert.equal(net.state(2), StateType.Leader);
    const n1 = net.get(1).node;
    n1.step(msg({ type: MessageType.App, from: 3n, to: 1n, term: 1, index: 999, logTerm: 9, commit: 999 }));
    assert.equal(net.leaderOf(1), 2n);
    assert.deepEqual(
      takeMessages(net, 1).filter((m) => m.type === MessageType.AppResp),
      [],
    );
  });
});

describe('election timeout', () => {
  test('randomized in [electionTick, 2*electionTick) and not constant', () => {
    const seen = new Set<number>();
    for (let seed = 1; seed <= 30; seed++) {
      let calls = 0;
      const net = Network.create([1, 2, 3], [], {
        random: () => {
          calls++;
          return ((seed * 2654435761 + calls * 40503) % 1000) / 1000;
        },
      });
      net.isolate(1);
      let ticks = 0;
      while (net.state(1) === StateType.Follower && ticks < 100) {
        net.tick(1);
        ticks++;
      }
      assert.ok(ticks >= 10 && ticks < 20, `timeout ${ticks} outside [10, 20)`);
      seen.add(ticks);
    }
    assert.ok(seen.size > 3, `timeouts not randomized: ${[...seen]}`);
  });

  test('learners and nodes outside the configuration never campaign', () => {
    const net = Network.create([1, 2], [3]);
    net.addNode(9n, undefined);
    net.isolate(3);
    net.isolate(9);
    net.tick(3, 100);
    net.tick(9, 100);
    net.get(3).node.campaign();
    net.get(9).node.campaign();
    net.stabilize();
    assert.equal(net.state(3), StateType.Follower);
    assert.equal(net.state(9), StateType.Follower);
    assert.equal(net.term(3), 1);
    assert.equal(net.term(9), 0);
  });
});
