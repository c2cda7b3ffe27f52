// A member that joins after the leader's log was compacted catches up by a
// raft snapshot: etcd's v2-store JSON for the membership plus the backend as
// an etcd 3.4 bbolt database, streamed over POST /raft/snapshot. Both ways
// between etcd-ts and etcd 3.4. (etcd 3.4 always keeps 5,000 entries behind
// a snapshot, so an etcd leader needs more writes than that before it sends one.)
import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { eventually } from '../integration/harness.js';
import { addAndStart, haveRealEtcd, type Impl, TestCluster } from './harness.js';

interface Flow {
  seed: Impl;
  joiner: Impl;
  writes: number;
}

const flows: Flow[] = [
  { seed: 'ts', joiner: 'ts', writes: 300 },
  { seed: 'ts', joiner: 'real', writes: 300 },
  { seed: 'real', joiner: 'ts', writes: 5300 },
];

const SNAPSHOT_FLAGS = ['--snapshot-count=100', '--experimental-snapshot-catchup-entries=10'];

for (const f of flows) {
  const skip =
    (f.seed === 'real' || f.joiner === 'real') && !haveRealEtcd ? 'real etcd 3.4 is not installed' : false;
  describe(`a ${f.joiner} member catches up from a ${f.seed} leader by snapshot`, {
    skip,
    timeout: 180_000,
  }, () => {
    let c: TestCluster | undefined;
    after(async () => {
      await c?.stop();
    });

    test('same keys and revisions after the snapshot; later writes replicate', async () => {
      const seedFlags = f.seed === 'ts' ? SNAPSHOT_FLAGS : ['--snapshot-count=100'];
      c = await TestCluster.create([f.seed], seedFlags);
      const cl = c;
      const seed = cl.nodes[0]!;
      cl.startAll();
      await cl.ready();
      // Writes in parallel batches: enough entries that the log behind the snapshot is gone.
      for (let i = 0; i < f.writes; i += 50) {
        await Promise.all(
          Array.from({ length: Math.min(50, f.writes - i) }, (_, j) =>
            cl.put(seed, `snap/${String(i + j).padStart(5, '0')}`, `v${i + j}`),
          ),
        );
      }
      await cl.deletePrefix(seed, 'snap/0000');
      const want = await cl.range(seed, 'snap/');
      const joiner = await cl.addNode(f.joiner, 'joiner', f.joiner === 'ts' ? SNAPSHOT_FLAGS : []);
      await addAndStart(cl, seed, joiner);
      await eventually(
        async () => {
          const got = await cl.range(joiner, 'snap/');
          assert.equal(got.kvs.length, want.kvs.length);
        },
        60_000,
        300,
      );
      const got = await cl.range(joiner, 'snap/');
      assert.equal(got.header?.revision, want.header?.revision);
      assert.deepEqual(
        got.kvs.map((kv) => [Buffer.from(kv.key).toString(), kv.modRevision]),
        want.kvs.map((kv) => [Buffer.from(kv.key).toString(), kv.modRevision]),
      );
      // Both etcd and etcd-ts log this once the snapshot's database is on disk.
      assert.match(joiner.output, /received and saved database snapshot/, 'no snapshot was sent');
      await cl.put(seed, 'after-snapshot', 'yes');
      await eventually(async () => assert.equal(await cl.get(joiner, 'after-snapshot'), 'yes'), 20_000, 200);
    });
  });
}
