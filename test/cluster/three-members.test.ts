// Three etcd-ts members on loopback talking etcd's peer protocol: writes on
// any member, linearizable reads everywhere, leader loss under writes with no
// acknowledged write lost, and a full restart with the data intact.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { eventually, sleep } from '../integration/harness.js';
import { TestCluster } from './harness.js';

describe('a 3-member etcd-ts cluster', { timeout: 120_000 }, () => {
  let c: TestCluster;

  before(async () => {
    c = await TestCluster.create(['ts', 'ts', 'ts']);
    c.startAll();
    try {
      await c.ready();
    } catch (err) {
      throw new Error(`cluster did not come up: ${(err as Error).message}\n${c.logs()}`);
    }
  });

  after(async () => {
    await c?.stop();
  });

  test('one leader; every member lists all three with names and client URLs', async () => {
    const leader = await c.leader();
    assert.ok(c.nodes.includes(leader));
    for (const n of c.nodes) {
      const r = await eventually(async () => {
        const m = await c.members(n);
        if (m.members.some((x) => x.name === '')) throw new Error('not all published yet');
        return m;
      });
      assert.deepEqual(r.members.map((m) => m.name).sort(), ['m0', 'm1', 'm2']);
      for (const m of r.members) assert.equal(m.clientURLs.length, 1);
    }
  });

  test('a write on a follower is visible to linearizable reads on every member', async () => {
    const leader = await c.leader();
    const follower = c.nodes.find((n) => n !== leader)!;
    const put = await c.put(follower, 'k1', 'v-from-follower');
    assert.ok((put.header?.revision ?? 0n) > 0n);
    for (const n of c.nodes) assert.equal(await c.get(n, 'k1'), 'v-from-follower');
  });

  test('SIGKILL of the leader under writes: a new leader, no acknowledged write lost', async (t) => {
    const oldLeader = await c.leader();
    const rest = c.nodes.filter((n) => n !== oldLeader);
    const acked: string[] = [];
    let stop = false;
    const writers = rest.map(async (n, w) => {
      for (let i = 0; !stop; i++) {
        const key = `load/${w}/${i}`;
        try {
          await c.put(n, key, 'x', 3000);
          acked.push(key);
        } catch {
          await sleep(20);
        }
      }
    });
    await sleep(500);
    const killedAt = Date.now();
    await oldLeader.kill();
    c.closeClient(oldLeader);
    const newLeader = await c.leader(rest, 10_000);
    const electedIn = Date.now() - killedAt;
    assert.notEqual(newLeader, oldLeader);
    t.diagnostic(`new leader after ${electedIn} ms (election timeout 500 ms)`);
    // About two election timeouts plus this test's 100 ms polling (with room for a loaded CI machine).
    assert.ok(electedIn < 4000, `a new leader took ${electedIn} ms`);
    await sleep(500);
    stop = true;
    await Promise.all(writers);
    assert.ok(acked.length > 10, `only ${acked.length} writes were acknowledged`);
    const keys = new Set((await c.range(newLeader, 'load/')).kvs.map((kv) => Buffer.from(kv.key).toString()));
    const lost = acked.filter((k) => !keys.has(k));
    assert.deepEqual(lost, [], `acknowledged writes lost (elected in ${electedIn} ms)`);
    // The old leader comes back as a follower and catches up.
    oldLeader.start();
    await eventually(
      async () => {
        const r = await c.range(oldLeader, 'load/');
        assert.equal(r.kvs.length, keys.size);
      },
      20_000,
      200,
    );
  });

  test('stop and restart all members: the data is intact', async () => {
    const before = (await c.range(c.nodes[0]!, 'load/')).kvs.length;
    for (const n of c.nodes) c.closeClient(n);
    await Promise.all(c.nodes.map((n) => n.stop()));
    c.startAll();
    await c.ready();
    for (const n of c.nodes) {
      assert.equal((await c.range(n, 'load/')).kvs.length, before);
      assert.equal(await c.get(n, 'k1'), 'v-from-follower');
    }
  });
});
