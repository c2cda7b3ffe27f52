import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { enc, Network } from './testkit.js';
import { MessageType, ProposalDroppedError } from './types.js';

function appsTo(net: Network, to: bigint) {
  return net.sent.filter((m) => m.type === MessageType.App && m.to === to && m.entries.length > 0);
}

describe('flow control', () => {
  test('replicate state: at most maxInflightMsgs unacknowledged appends', () => {
    const net = Network.create([1, 2, 3], [], { maxInflightMsgs: 3, maxSizePerMsg: 0 });
    net.campaign(1);
    net.propose(1, 'warm'); // 2 and 3 are now in replicate state
    net.sent.length = 0;
    net.filter = (m) => !(m.type === MessageType.AppResp && m.from === 2n);
    for (let i = 0; i < 10; i++) net.propose(1, `v${i}`);
    assert.equal(appsTo(net, 2n).length, 3);
    assert.equal(appsTo(net, 3n).length, 10);
    // A heartbeat response frees one slot of a full window.
    net.tickAll(1);
    assert.equal(appsTo(net, 2n).length, 4);
    net.filter = () => true;
    net.tickAll(3);
    assert.equal(net.get(2).applied.length, 11);
  });

  test('replicate state: bytes in flight are bounded by maxInflightBytes', () => {
    const net = Network.create([1, 2, 3], [], { maxInflightBytes: 250, maxSizePerMsg: 0 });
    net.campaign(1);
    net.propose(1, 'warm');
    net.sent.length = 0;
    net.filter = (m) => !(m.type === MessageType.AppResp && m.from === 2n);
    for (let i = 0; i < 10; i++) net.propose(1, 'x'.repeat(100));
    assert.equal(appsTo(net, 2n).length, 3);
  });

  test('probe state: one append at a time until the follower answers', () => {
    const net = Network.create([1, 2, 3]);
    net.isolate(2);
    net.campaign(1);
    for (let i = 0; i < 5; i++) net.propose(1, `v${i}`);
    const to2 = net.sent.filter((m) => m.type === MessageType.App && m.to === 2n);
    assert.equal(to2.length, 1, 'only the first probe');
    assert.equal(net.get(1).node.status().progress?.get(2n)?.state, 'probe');
    net.heal();
    net.tickAll(2);
    assert.equal(net.get(2).applied.length, 5);
    assert.equal(net.get(1).node.status().progress?.get(2n)?.state, 'replicate');
  });

  test('an unreachable follower drops back to probing', () => {
    const net = Network.create([1, 2, 3]);
    net.campaign(1);
    net.propose(1, 'a');
    assert.equal(net.get(1).node.status().progress?.get(2n)?.state, 'replicate');
    net.get(1).node.reportUnreachable(2n);
    assert.equal(net.get(1).node.status().progress?.get(2n)?.state, 'probe');
  });

  test('uncommitted proposals are bounded by maxUncommittedEntriesSize', () => {
    const net = Network.create([1, 2, 3], [], { maxUncommittedEntriesSize: 100 });
    net.campaign(1);
    net.isolate(1);
    net.propose(1, 'x'.repeat(60));
    assert.throws(() => net.get(1).node.propose(enc('y'.repeat(60))), ProposalDroppedError);
    net.heal();
    net.tickAll(2);
    net.propose(1, 'z'.repeat(60));
    assert.equal(net.get(2).applied.length, 2);
  });

  test('proposals without a leader are dropped', () => {
    const net = Network.create([1, 2, 3]);
    assert.throws(() => net.get(1).node.propose(enc('x')), ProposalDroppedError);
  });

  test('local-only message types are rejected by step', () => {
    const net = Network.create([1, 2, 3]);
    assert.throws(() =>
      net.get(1).node.step({
        type: MessageType.Hup,
        from: 2n,
        to: 1n,
        term: 0,
        logTerm: 0,
        index: 0,
        entries: [],
        commit: 0,
        reject: false,
        rejectHint: 0,
      }),
    );
  });
});
