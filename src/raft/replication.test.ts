import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Network } from './testkit.js';
import { type Entry, MessageType, StateType } from './types.js';

function logOf(net: Network, id: number): Array<[number, number]> {
  const st = net.get(id).storage;
  const out: Array<[number, number]> = [];
  for (let i = st.firstIndex(); i <= st.lastIndex(); i++) out.push([i, st.term(i)]);
  return out;
}

function commitOf(net: Network, id: number): number {
  return net.get(id).node.status().hardState.commit;
}

describe('log replication (§5.3)', () => {
  test('log matching: followers end with exactly the leader log', () => {
    const net = Network.create([1, 2, 3]);
    net.campaign(1);
    for (let i = 0; i < 20; i++) net.propose(1, `v${i}`);
    assert.deepEqual(logOf(net, 2), logOf(net, 1));
    assert.deepEqual(logOf(net, 3), logOf(net, 1));
    assert.equal(commitOf(net, 3), net.get(1).storage.lastIndex());
  });

  test('conflicting uncommitted entries on a follower are replaced; the leader never overwrites its own', () => {
    const net = Network.create([1, 2, 3]);
    net.campaign(1);
    net.isolate(1);
    for (let i = 0; i < 100; i++) net.get(1).node.propose(new TextEncoder().encode(`lost${i}`));
    net.stabilize();
    net.campaign(2);
    for (let i = 0; i < 50; i++) net.propose(2, `kept${i}`);
    net.heal();
    net.sent.length = 0;
    // A new leader probes node 1 right after its own log end, deep inside 1's conflicting suffix.
    net.campaign(3);
    assert.equal(net.state(3), StateType.Leader);
    const leaderLog = logOf(net, 3);
    net.tickAll(3);
    assert.equal(net.state(1), StateType.Follower);
    assert.deepEqual(logOf(net, 3).slice(0, leaderLog.length), leaderLog, 'leader log unchanged');
    assert.deepEqual(logOf(net, 1), logOf(net, 3));
    assert.ok(!net.get(1).applied.some((d) => d.startsWith('lost')));
    assert.equal(net.get(1).applied.length, 50);
    // Fast back-off: one rejection jumps over the 100 conflicting entries, instead of one per entry.
    const rejections = net.sent.filter((m) => m.type === MessageType.AppResp && m.reject && m.from === 1n);
    assert.ok(rejections.length >= 1 && rejections.length <= 2, `rejections: ${rejections.length}`);
  });

  test('only entries of the current term are committed by counting replicas (Figure 8)', () => {
    const net = Network.create([1, 2, 3, 4, 5], [], { maxSizePerMsg: 0 });
    net.campaign(1); // term 2, no-op at 6 committed everywhere
    assert.equal(commitOf(net, 1), 6);
    net.filter = (m) => !(m.type === MessageType.App && m.from === 1n && m.to !== 2n);
    net.propose(1, 'x'); // index 7, term 2, only on 1 and 2
    // Node 1 goes silent; 5 wins term 3 with the votes of 3 and 4, and its no-op never leaves.
    net.filter = (m) => m.from !== 1n && !(m.type === MessageType.App && m.from === 5n);
    net.campaign(5);
    assert.equal(net.state(5), StateType.Leader);
    assert.equal(net.state(1), StateType.Follower, 'the vote request of term 3 deposed 1');
    net.isolate(5);
    // Let entry 7 (term 2) reach a majority, but hold back the term-4 no-op at 8: each follower sees it
    // once, in the first probe, which 3 and 4 reject for lack of entry 7.
    const seen = new Set<bigint>();
    net.filter = (m) => {
      if (m.type !== MessageType.App || !m.entries.some((e: Entry) => e.index === 8)) return true;
      if (seen.has(m.to)) return false;
      seen.add(m.to);
      return true;
    };
    net.campaign(1);
    assert.equal(net.state(1), StateType.Leader);
    assert.equal(net.term(1), 4);
    const progress = net.get(1).node.status().progress;
    assert.equal(progress?.get(3n)?.match, 7);
    assert.equal(commitOf(net, 1), 6, 'a term-2 entry on a majority must not be committed in term 4');
    net.filter = () => true;
    net.tickAll(3);
    assert.equal(commitOf(net, 1), 8);
    net.heal();
    net.tickAll(3);
    for (const id of [1, 2, 3, 4, 5]) assert.deepEqual(net.get(id).applied, ['x']);
    assert.deepEqual(logOf(net, 5), logOf(net, 1), 'the term-3 entry on 5 was replaced');
  });

  test('a follower lagging far behind catches up in batches of maxSizePerMsg', () => {
    const net = Network.create([1, 2, 3], [], { maxSizePerMsg: 200 });
    net.campaign(1);
    net.isolate(3);
    for (let i = 0; i < 60; i++) net.propose(1, `0123456789-${i}`);
    net.heal();
    net.sent.length = 0;
    net.tickAll(2);
    assert.equal(net.get(3).applied.length, 60);
    const apps = net.sent.filter((m) => m.type === MessageType.App && m.to === 3n && m.entries.length > 0);
    assert.ok(apps.length > 5, `only ${apps.length} appends`);
    for (const m of apps)
      assert.ok(m.entries.length <= 6, `batch of ${m.entries.length} exceeds the size bound`);
  });

  test('a follower learns the commit index from heartbeats', () => {
    const net = Network.create([1, 2, 3]);
    net.campaign(1);
    net.filter = (m) => !(m.type === MessageType.App && m.to === 3n && m.entries.length === 0);
    net.propose(1, 'a');
    net.filter = () => true;
    net.tickAll(1);
    assert.deepEqual(net.get(3).applied, ['a']);
  });
});
