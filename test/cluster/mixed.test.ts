// Mixed clusters: etcd-ts members and real etcd 3.4 members in one cluster,
// speaking etcd's peer protocol to each other. Skipped (saying so) when the
// real etcd is not installed.
import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { eventually } from '../integration/harness.js';
import { haveRealEtcd, type Impl, TestCluster } from './harness.js';

const skip = haveRealEtcd ? false : 'real etcd 3.4 (/usr/bin/etcd) is not installed';

for (const impls of [
  ['ts', 'ts', 'real'],
  ['real', 'real', 'ts'],
] as Impl[][]) {
  describe(`a new cluster of ${impls.join(' + ')}`, { skip, timeout: 90_000 }, () => {
    let c: TestCluster | undefined;
    after(async () => {
      await c?.stop();
    });

    test('forms, agrees on one leader, and every member serves every write', async () => {
      c = await TestCluster.create(impls);
      c.startAll();
      try {
        await c.ready();
      } catch (err) {
        throw new Error(`cluster did not come up: ${(err as Error).message}\n${c.logs()}`);
      }
      const cl = c;
      await cl.leader();
      for (const [i, n] of cl.nodes.entries()) await cl.put(n, `mixed/${i}`, `from-${n.opts.impl}-${i}`);
      for (const n of cl.nodes) {
        const r = await cl.range(n, 'mixed/');
        assert.deepEqual(
          r.kvs.map((kv) => Buffer.from(kv.value).toString()),
          cl.nodes.map((m, i) => `from-${m.opts.impl}-${i}`),
        );
      }
      for (const n of cl.nodes) {
        const m = await eventually(async () => {
          const r = await cl.members(n);
          if (r.members.some((x) => x.name === '')) throw new Error('not all published');
          return r;
        });
        assert.deepEqual(m.members.map((x) => x.name).sort(), ['m0', 'm1', 'm2']);
      }
    });
  });
}
