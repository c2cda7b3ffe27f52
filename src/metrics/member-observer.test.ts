// The member's events reach etcd 3.4's families: each part reports at the point etcd
// moves the metric (proposals, heartbeats, read indexes, slow reads, leases, read-only
// txns), and the observer moves the right family with etcd's labels.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Lessor } from '../lease/lessor.js';
import type { Logger } from '../log/types.js';
import { type Message, MessageType } from '../raft/types.js';
import { realClock } from '../runtime/clock.js';
import { HeartbeatDelays, observeSlowReads } from '../server/member-observer.js';
import type { KvPort } from '../server/ports.js';
import { Proposer, type ProposerDeps } from '../server/proposer.js';
import { ReadIndexBatcher } from '../server/read-index.js';
import { RequestIdGenerator } from '../server/request-id.js';
import { WaitRegistry } from '../server/wait.js';
import { MemberMetrics } from './member-metrics.js';
import { countStoreOps } from './store-observer.js';

const quietLog = { debug() {}, info() {}, warn() {}, error() {} } as unknown as Logger;

function tally() {
  const t = { pending: 0, maxPending: 0, failed: 0 };
  return {
    t,
    observer: {
      proposalPending: (d: 1 | -1) => {
        t.pending += d;
        t.maxPending = Math.max(t.maxPending, t.pending);
      },
      proposalFailed: () => t.failed++,
    },
  };
}

function proposer(propose: () => void, observer: ProposerDeps['observer'], timeoutMs = 20): Proposer {
  const state = {
    commitIndex: 0,
    hasLeader: () => true,
    onLeaderChange: () => () => undefined,
  } as unknown as ProposerDeps['state'];
  return new Proposer({
    node: { propose } as unknown as ProposerDeps['node'],
    state,
    waits: new WaitRegistry(10),
    ids: new RequestIdGenerator(1n, 0),
    log: quietLog,
    maxRequestBytes: 1 << 20,
    requestTimeoutMs: timeoutMs,
    clock: realClock,
    appliedIndex: () => 0,
    wake: () => undefined,
    stopped: () => false,
    observer,
  });
}

const put = {
  kind: 'put',
  req: {
    key: new Uint8Array([1]),
    value: new Uint8Array([2]),
    lease: 0n,
    prevKv: false,
    ignoreValue: false,
    ignoreLease: false,
  },
} as const;

describe('proposals', () => {
  test('a proposal raft refuses fails without ever pending', async () => {
    const { t, observer } = tally();
    const p = proposer(() => {
      throw new Error('dropped');
    }, observer);
    await assert.rejects(p.propose(put as never), /timed out|timeout/i);
    assert.deepEqual(t, { pending: 0, maxPending: 0, failed: 1 });
  });

  test('a proposal never applied pends, then fails at the request timeout', async () => {
    const { t, observer } = tally();
    const p = proposer(() => undefined, observer);
    await assert.rejects(p.propose(put as never), /timed out|timeout/i);
    assert.deepEqual(t, { pending: 0, maxPending: 1, failed: 1 });
  });
});

describe('late heartbeats (etcd timeout detector: 2 heartbeat intervals)', () => {
  test('only a gap over twice the interval to the same peer counts; leadership resets', () => {
    let now = 0;
    let onLeadership: (leading: boolean) => void = () => undefined;
    const late: bigint[] = [];
    const sent: Message[][] = [];
    const d = new HeartbeatDelays(
      { send: (ms) => sent.push(ms) },
      {
        onLeadership: (l) => {
          onLeadership = l;
          return () => undefined;
        },
      },
      100,
      { now: () => now },
      (to) => late.push(to),
    );
    const hb = (to: bigint) => ({ type: MessageType.Heartbeat, to }) as Message;
    d.send([hb(2n), hb(3n), { type: MessageType.App, to: 2n } as Message]);
    now = 200;
    d.send([hb(2n)]);
    now = 450;
    d.send([hb(2n), hb(3n)]);
    assert.deepEqual(late, [2n, 3n]);
    onLeadership(true);
    now = 5000;
    d.send([hb(2n)]);
    assert.deepEqual(late, [2n, 3n], 'the first heartbeat after a leadership change is not late');
    assert.equal(sent.length, 4, 'every batch still goes out');
  });
});

describe('read indexes', () => {
  test('a stale answer and a timeout are slow; a leader change during a round is a failure', async () => {
    const sent: Uint8Array[] = [];
    const counts = { slow: 0, failed: 0 };
    const b = new ReadIndexBatcher(
      {
        request: (ctx) => sent.push(ctx),
        clock: realClock,
        retryMs: 10_000,
        timeoutMs: 30,
        maxQueued: 4,
        makeTimeoutError: () => new Error('timed out'),
        makeTooManyError: () => new Error('too many'),
        onSlow: () => counts.slow++,
        onFailed: () => counts.failed++,
      },
      1n,
    );
    b.leaderChanged();
    assert.equal(counts.failed, 0, 'no round in flight');
    const first = b.readIndex();
    b.leaderChanged();
    assert.equal(counts.failed, 1);
    b.onReadStates([{ index: 3, requestCtx: new Uint8Array(16) }]);
    assert.equal(counts.slow, 1, 'an answer for another round');
    await assert.rejects(first, /timed out/);
    assert.equal(counts.slow, 2, 'the timed-out round');
    b.stop(new Error('stopped'));
  });
});

describe('slow reads on the read path', () => {
  test('ranges and read-only txns slower than the threshold count; writes are the applier’s', async () => {
    let slow = 0;
    const wait = () => new Promise((r) => setTimeout(r, 15));
    const kv = {
      range: async () => {
        await wait();
        return {};
      },
      txn: async () => {
        await wait();
        return {};
      },
      put: async () => {
        await wait();
        return {};
      },
    } as unknown as KvPort;
    const timed = observeSlowReads(kv, 5, () => slow++);
    await timed.range({ key: new Uint8Array([1]) } as never);
    await timed.txn({ compare: [], success: [], failure: [] } as never);
    await timed.put({ key: new Uint8Array([1]) } as never);
    const writeTxn = { compare: [], success: [{ requestPut: { key: new Uint8Array([1]) } }], failure: [] };
    await timed.txn(writeTxn as never);
    assert.equal(slow, 2);
  });
});

describe('lessor events', () => {
  test('granted with the TTL raised to the minimum, renewed on the leader, revoked', () => {
    const seen: string[] = [];
    const l = new Lessor({ minTtlSec: 5 });
    l.observer = {
      granted: (ttl) => seen.push(`granted ${ttl}`),
      revoked: () => seen.push('revoked'),
      renewed: () => seen.push('renewed'),
    };
    l.promote(0, 0);
    l.grant(1n, 2, 0);
    l.grant(2n, 60, 0);
    l.renew(2n, 1000);
    assert.throws(() => l.renew(9n, 1000));
    l.revoke(1n);
    assert.throws(() => l.revoke(1n));
    assert.deepEqual(seen, ['granted 5', 'granted 60', 'renewed', 'revoked']);
  });
});

describe('read-only txns count as txns as in etcd (one mvcc read transaction)', () => {
  test('a scope with more than one range is a txn; one range is not', () => {
    const counts = { range: 0, txn: 0 };
    const store = {
      range: (_req: unknown) => ({}),
      put: (_i: number, _req: unknown) => ({}),
      deleteRange: (_i: number, _req: unknown) => ({}),
      txn: (_i: number, _req: unknown) => ({ succeeded: true, responses: [], rev: 1, events: [] }),
    };
    const counted = countStoreOps(store, {
      range: (n) => (counts.range += n),
      put: () => undefined,
      delete: () => undefined,
      txn: () => counts.txn++,
    }) as unknown as typeof store & { readScope<T>(read: () => T): T };
    counted.readScope(() => {
      counted.range({} as never);
      counted.range({} as never);
    });
    counted.readScope(() => counted.range({} as never));
    counted.range({} as never);
    assert.deepEqual(counts, { range: 4, txn: 1 });
  });
});

describe('the member observer moves etcd 3.4 families with their labels', () => {
  test('peer bytes, failures, active peers, round trips, snapshots, leases, server counters', async () => {
    const m = new MemberMetrics({ processMetrics: false });
    const o = m.member;
    const peer = o.peer!;
    peer.sent?.(0xabcn, 10);
    peer.received?.(0xabcn, 7);
    peer.sendFailed?.(0xabcn);
    peer.peerActive?.(0xabcn);
    peer.peerActive?.(0xdefn);
    peer.peerInactive?.(0xdefn, true);
    peer.roundTrip?.(0xabcn, 0.0003);
    peer.snapshotSendInflight?.(0xabcn, 1);
    peer.snapshotSent?.(0xabcn, true, 0.5);
    peer.snapshotReceived?.(undefined, false, 0);
    o.leaseGranted?.(100);
    o.leaseRenewed?.();
    o.slowApply?.();
    o.heartbeatSendFailed?.(2n);
    o.proposalPending?.(1);
    const text = await m.render();
    for (const line of [
      'etcd_network_peer_sent_bytes_total{To="abc"} 10',
      'etcd_network_peer_received_bytes_total{From="abc"} 7',
      'etcd_network_peer_sent_failures_total{To="abc"} 1',
      'etcd_network_active_peers{Local="0",Remote="abc"} 1',
      'etcd_network_active_peers{Local="0",Remote="def"} 0',
      'etcd_network_disconnected_peers_total{Local="0",Remote="def"} 1',
      'etcd_network_peer_round_trip_time_seconds_bucket{le="0.0004",To="abc"} 1',
      'etcd_network_snapshot_send_inflights_total{To="abc"} 1',
      'etcd_network_snapshot_send_success{To="abc"} 1',
      'etcd_network_snapshot_receive_failures{From="UNKNOWN_SNAPSHOT_SENDER"} 1',
      'etcd_debugging_lease_granted_total 1',
      'etcd_debugging_lease_ttl_total_bucket{le="128"} 1',
      'etcd_debugging_lease_renewed_total 1',
      'etcd_server_slow_apply_total 1',
      'etcd_server_heartbeat_send_failures_total 1',
      'etcd_server_proposals_pending 1',
    ]) {
      assert.ok(text.split('\n').includes(line), `missing: ${line}`);
    }
  });
});
