import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { dec, enc, learner, Network } from './testkit.js';
import { MessageType } from './types.js';

const compactLeader = (net: Network, id: number): number => net.compact(id);

describe('snapshots', () => {
  test('a lagging follower gets a snapshot after compaction, then normal appends', () => {
    const net = Network.create([1, 2, 3]);
    net.campaign(1);
    net.isolate(3);
    for (let i = 0; i < 10; i++) net.propose(1, `v${i}`);
    const snapIndex = compactLeader(net, 1);
    net.heal();
    net.tickAll(3);
    const snaps = net.sent.filter((m) => m.type === MessageType.Snap && m.to === 3n);
    assert.equal(snaps.length, 1);
    const tn3 = net.get(3);
    assert.equal(tn3.snapshots.length, 1);
    assert.equal(tn3.snapshots[0].metadata.index, snapIndex);
    assert.match(dec(tn3.snapshots[0].data), /v9/);
    assert.equal(tn3.applied.length, 10, 'the state machine image came with the snapshot');
    assert.equal(tn3.node.status().hardState.commit, snapIndex);
    net.get(1).node.reportSnapshot(3n, true);
    net.propose(1, 'after');
    assert.deepEqual(tn3.applied.slice(10), ['after']);
    assert.equal(net.get(1).node.status().progress?.get(3n)?.state, 'replicate');
  });

  test('the snapshot restores membership on the follower', () => {
    const net = Network.create([1, 2, 3]);
    net.campaign(1);
    net.isolate(3);
    net.get(1).node.proposeConfChange(learner(4n));
    net.stabilize();
    net.propose(1, 'x');
    compactLeader(net, 1);
    net.heal();
    net.tickAll(3);
    assert.deepEqual(net.get(3).node.status().confState, { voters: [1n, 2n, 3n], learners: [4n] });
    assert.deepEqual(net.get(3).storage.initialState().confState, { voters: [1n, 2n, 3n], learners: [4n] });
  });

  test('a failed snapshot is retried after the next heartbeat', () => {
    const net = Network.create([1, 2, 3]);
    net.campaign(1);
    net.isolate(3);
    net.propose(1, 'x');
    compactLeader(net, 1);
    net.heal();
    net.reportLostSnapshots = false;
    net.filter = (m) => m.type !== MessageType.Snap;
    net.tickAll(2);
    assert.equal(net.get(1).node.status().progress?.get(3n)?.state, 'snapshot');
    net.get(1).node.reportSnapshot(3n, false);
    assert.equal(net.get(1).node.status().progress?.get(3n)?.state, 'probe');
    net.filter = () => true;
    net.tickAll(3);
    assert.equal(net.get(3).snapshots.length, 1);
    net.propose(1, 'y');
    assert.deepEqual(net.get(3).applied, ['x', 'y']);
  });

  test('a restarted node resumes from its own snapshot', () => {
    const net = Network.create([1, 2, 3]);
    net.campaign(1);
    net.propose(1, 'a');
    compactLeader(net, 2);
    net.restart(2);
    assert.deepEqual(net.get(2).node.status().confState.voters, [1n, 2n, 3n]);
    net.propose(1, 'b');
    assert.deepEqual(net.get(2).applied, ['a', 'b']);
  });

  test('a stale snapshot does not roll a follower back', () => {
    const net = Network.create([1, 2, 3]);
    net.campaign(1);
    net.propose(1, 'a');
    const tn1 = net.get(1);
    const old = tn1.storage.createSnapshot(2, tn1.node.status().confState, enc('[]'));
    const term = net.term(2);
    net.get(2).node.step({
      type: MessageType.Snap,
      from: 1n,
      to: 2n,
      term,
      logTerm: 0,
      index: 0,
      entries: [],
      commit: 0,
      reject: false,
      rejectHint: 0,
      snapshot: old,
    });
    net.stabilize();
    assert.equal(net.get(2).snapshots.length, 0);
    assert.deepEqual(net.get(2).applied, ['a']);
  });
});
