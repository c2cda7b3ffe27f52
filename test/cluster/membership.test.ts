// Membership changes on running clusters, on etcd's peer protocol: a member
// added with `member add` joins with --initial-cluster-state existing and
// catches up; a learner serves only serializable reads until promoted;
// leadership moves on request; a removed member stops. Run with an etcd-ts
// seed cluster and, when real etcd is installed, across implementations.
import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { eventually, sleep } from '../integration/harness.js';
import {
  addAndStart,
  haveRealEtcd,
  type Impl,
  moveLeader,
  promoteMember,
  removeMember,
  TestCluster,
} from './harness.js';

interface Flow {
  seed: Impl;
  joiner: Impl;
}

const flows: Flow[] = [
  { seed: 'ts', joiner: 'ts' },
  { seed: 'ts', joiner: 'real' },
  { seed: 'real', joiner: 'ts' },
];

for (const f of flows) {
  const skip =
    (f.seed === 'real' || f.joiner === 'real') && !haveRealEtcd ? 'real etcd 3.4 is not installed' : false;
  describe(`${f.joiner} members join a ${f.seed} member`, { skip, timeout: 120_000 }, () => {
    let c: TestCluster | undefined;
    after(async () => {
      await c?.stop();
    });

    test('under writes: add a voter, add a learner, promote it, move leadership, remove a member', async () => {
      c = await TestCluster.create([f.seed]);
      const cl = c;
      const seed = cl.nodes[0]!;
      cl.startAll();
      await cl.ready();
      for (let i = 0; i < 20; i++) await cl.put(seed, `data/${i}`, `v${i}`);
      // Writes go on through every change below; none acknowledged may be lost.
      const acked: string[] = [];
      let stopLoad = false;
      const load = (async () => {
        for (let i = 0; !stopLoad; i++) {
          try {
            await cl.put(seed, `load/${String(i).padStart(6, '0')}`, 'x', 3000);
            acked.push(`load/${String(i).padStart(6, '0')}`);
          } catch {
            await sleep(50);
          }
        }
      })();

      // A voter: the cluster goes from one member to two.
      const voter = await cl.addNode(f.joiner, 'voter');
      const voterId = await addAndStart(cl, seed, voter);
      await eventually(
        async () => assert.equal((await cl.range(voter, 'data/')).kvs.length, 20),
        30_000,
        200,
      );

      // A learner: replicates, serves serializable reads only, then is promoted.
      const learner = await cl.addNode(f.joiner, 'learner');
      const learnerId = await addAndStart(cl, seed, learner, true);
      await cl.put(seed, 'data/after-learner', 'x');
      await eventually(
        async () => assert.equal(await cl.get(learner, 'data/after-learner', true), 'x'),
        30_000,
        200,
      );
      await assert.rejects(cl.get(learner, 'data/after-learner'), /rpc not supported for learner/);
      const promoted = await eventually(() => promoteMember(cl, seed, learnerId), 20_000, 300);
      assert.equal(promoted.members.find((m) => m.ID === learnerId)?.isLearner, false);
      await eventually(
        async () => assert.equal(await cl.get(learner, 'data/after-learner'), 'x'),
        20_000,
        200,
      );

      // Leadership moves to the promoted member on request.
      const leader = await cl.leader();
      await moveLeader(cl, leader, learnerId);
      assert.equal(await cl.leader(), learner);

      // Remove the added voter: the others go on, it stops by itself. (--strict-reconfig-check
      // refuses while the newest member has been connected for less than 5 s: retry as users do.)
      const left = await eventually(() => removeMember(cl, learner, voterId), 15_000, 500);
      assert.deepEqual(
        left.members.map((m) => m.ID).sort(),
        [learnerId, (await cl.status(seed)).header!.memberId].sort(),
      );
      assert.notEqual(await voter.waitExit(15_000), undefined, 'the removed member keeps running');
      await cl.put(seed, 'data/after-remove', 'y');
      assert.equal(await cl.get(learner, 'data/after-remove'), 'y');
      stopLoad = true;
      await load;
      const stored = new Set(
        (await cl.range(learner, 'load/')).kvs.map((kv) => Buffer.from(kv.key).toString()),
      );
      assert.ok(acked.length > 20, `only ${acked.length} writes under load`);
      assert.deepEqual(
        acked.filter((k) => !stored.has(k)),
        [],
        'acknowledged writes lost',
      );
    });
  });
}
