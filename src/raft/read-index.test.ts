import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { dec, enc, Network } from './testkit.js';
import { MessageType, ReadOnlyOption } from './types.js';

function reads(net: Network, id: number): Array<[string, number]> {
  return net.get(id).readStates.map((rs) => [dec(rs.requestCtx), rs.index]);
}

describe('ReadIndex (Safe)', () => {
  test('answered only after a quorum acknowledged the heartbeat that carries the context', () => {
    const net = Network.create([1, 2, 3]);
    net.campaign(1);
    net.propose(1, 'a');
    const commit = net.get(1).node.status().hardState.commit;
    net.filter = (m) => m.type !== MessageType.HeartbeatResp;
    net.get(1).node.readIndex(enc('r1'));
    net.stabilize();
    assert.deepEqual(reads(net, 1), []);
    const withCtx = net.sent.filter(
      (m) => m.type === MessageType.Heartbeat && m.context && dec(m.context) === 'r1',
    );
    assert.equal(withCtx.length, 2);
    // One follower's ack plus the leader's own make a quorum of three.
    net.filter = (m) => !(m.type === MessageType.HeartbeatResp && m.from === 3n);
    net.tickAll(1);
    assert.deepEqual(reads(net, 1), [['r1', commit]]);
  });

  test('acks from a minority are not enough', () => {
    const net = Network.create([1, 2, 3, 4, 5]);
    net.campaign(1);
    net.filter = (m) => !(m.type === MessageType.HeartbeatResp && m.from !== 2n);
    net.get(1).node.readIndex(enc('q'));
    net.tickAll(3);
    assert.deepEqual(reads(net, 1), [], 'leader and node 2 are 2 of 5');
    net.filter = (m) => !(m.type === MessageType.HeartbeatResp && m.from !== 2n && m.from !== 3n);
    net.tickAll(1);
    assert.equal(reads(net, 1).length, 1);
  });

  test('not answered before the leader has committed an entry of its term', () => {
    const net = Network.create([1, 2, 3]);
    net.filter = (m) => m.type !== MessageType.App;
    net.campaign(1);
    net.get(1).node.readIndex(enc('early'));
    net.tickAll(3); // heartbeats are acknowledged, but the no-op is not replicated
    assert.deepEqual(reads(net, 1), []);
    net.filter = () => true;
    net.tickAll(2);
    const noop = net.get(1).storage.lastIndex();
    assert.deepEqual(reads(net, 1), [['early', noop]]);
  });

  test('a follower forwards to the leader and gets the read index back', () => {
    const net = Network.create([1, 2, 3]);
    net.campaign(1);
    net.propose(1, 'a');
    net.get(2).node.readIndex(enc('f'));
    net.stabilize();
    const commit = net.get(1).node.status().hardState.commit;
    assert.deepEqual(reads(net, 2), [['f', commit]]);
    assert.ok(net.sent.some((m) => m.type === MessageType.ReadIndexResp && m.to === 2n));
    assert.deepEqual(reads(net, 1), []);
  });

  test('several pending reads are answered in order by one confirmation', () => {
    const net = Network.create([1, 2, 3]);
    net.campaign(1);
    net.filter = (m) => m.type !== MessageType.HeartbeatResp;
    net.get(1).node.readIndex(enc('x'));
    net.get(1).node.readIndex(enc('y'));
    net.stabilize();
    net.filter = () => true;
    net.tickAll(1);
    assert.deepEqual(
      reads(net, 1).map(([c]) => c),
      ['x', 'y'],
    );
  });

  test('a single-voter cluster answers at once', () => {
    const net = Network.create([1]);
    net.tickAll(25);
    net.get(1).node.readIndex(enc('solo'));
    net.stabilize();
    assert.deepEqual(reads(net, 1), [['solo', net.get(1).node.status().hardState.commit]]);
  });

  test('a node without a leader drops the request', () => {
    const net = Network.create([1, 2, 3]);
    net.get(2).node.readIndex(enc('lost'));
    net.stabilize();
    assert.deepEqual(reads(net, 2), []);
  });
});

describe('ReadIndex (LeaseBased)', () => {
  test('answered without a heartbeat round', () => {
    const net = Network.create([1, 2, 3], [], {
      checkQuorum: true,
      readOnlyOption: ReadOnlyOption.LeaseBased,
    });
    net.campaign(1);
    net.filter = (m) => m.type !== MessageType.HeartbeatResp;
    net.get(1).node.readIndex(enc('lease'));
    net.stabilize();
    assert.equal(reads(net, 1).length, 1);
  });
});
