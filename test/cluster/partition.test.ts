// A member cut off from the others by a fault-injecting proxy (both
// directions, existing connections included): the majority keeps a leader and
// takes writes; the minority refuses writes and linearizable reads with
// etcd's errors within etcd's timeouts (never hangs) but still serves
// serializable reads; after healing it converges to the majority's data.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { computeMemberId } from '../../src/server/ids.js';
import { eventually } from '../integration/harness.js';
import { PeerProxy } from './fault-proxy.js';
import { type ClusterNode, TestCluster } from './harness.js';

/** --election-timeout=500: etcd's request timeout is 5 s + 2 × election timeout. */
const REQUEST_TIMEOUT_MS = 6000;

describe('a partitioned 3-member cluster', { timeout: 120_000 }, () => {
  let c: TestCluster;
  const proxy = new PeerProxy();
  const idOf = (n: ClusterNode) => computeMemberId([n.peerUrl], n.token).toString(16);

  before(async () => {
    c = await TestCluster.create(['ts', 'ts', 'ts'], [], true);
    for (const n of c.nodes) await proxy.add(idOf(n), n.opts.advertisePeerPort!, n.opts.peerPort);
    c.startAll();
    await c.ready();
  });

  after(async () => {
    await proxy.close();
    await c?.stop();
  });

  for (const which of ['follower', 'leader'] as const) {
    test(`isolating the ${which}: the majority goes on, the minority refuses, then converges`, async () => {
      const leader = await c.leader();
      const cutOff = which === 'leader' ? leader : c.nodes.find((n) => n !== leader)!;
      const majority = c.nodes.filter((n) => n !== cutOff);
      await c.put(leader, `p/${which}/before`, 'b');
      await eventually(async () => assert.equal(await c.get(cutOff, `p/${which}/before`, true), 'b'));

      proxy.isolate(idOf(cutOff));
      try {
        await minorityPhase();
      } finally {
        proxy.heal();
      }
      async function minorityPhase(): Promise<void> {
        const newLeader = await c.leader(majority, 15_000);
        assert.notEqual(newLeader, cutOff);
        for (let i = 0; i < 20; i++) await c.put(majority[i % 2]!, `p/${which}/during/${i}`, 'x');

        const started = Date.now();
        await assert.rejects(
          c.put(cutOff, `p/${which}/minority`, 'no', REQUEST_TIMEOUT_MS + 4000),
          /etcdserver: (request timed out|no leader|leader changed)/,
        );
        await assert.rejects(
          c.get(cutOff, `p/${which}/before`, false, REQUEST_TIMEOUT_MS + 4000),
          /etcdserver: (request timed out|no leader|leader changed)/,
        );
        assert.ok(
          Date.now() - started < 2 * (REQUEST_TIMEOUT_MS + 2000),
          'the minority took too long to refuse',
        );
        assert.equal(await c.get(cutOff, `p/${which}/before`, true), 'b', 'serializable reads still work');
      }

      await eventually(
        async () => assert.equal((await c.range(cutOff, `p/${which}/during/`)).kvs.length, 20),
        30_000,
        200,
      );
      assert.equal(await c.get(cutOff, `p/${which}/minority`), undefined, 'a refused write appeared');
    });
  }
});
