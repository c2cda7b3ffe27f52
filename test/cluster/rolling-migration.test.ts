// The migration path users take: a running 3-member etcd 3.4 cluster has
// each of its members replaced by an etcd-ts member, one at a time, under
// write load (member add → start the new member with
// --initial-cluster-state existing → member remove the old one). No
// acknowledged write is lost, the cluster id never changes, and the writers
// are never without a working member for longer than an election or two.
import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { EtcdClient } from '../../src/client/index.js';
import { eventually, sleep } from '../integration/harness.js';
import { addAndStart, type ClusterNode, haveRealEtcd, removeMember, TestCluster } from './harness.js';

const skip = haveRealEtcd ? false : 'real etcd 3.4 (/usr/bin/etcd) is not installed';

describe('replacing every member of an etcd 3.4 cluster with etcd-ts, under writes', {
  skip,
  timeout: 240_000,
}, () => {
  let c: TestCluster | undefined;
  let client: EtcdClient | undefined;
  after(async () => {
    client?.close();
    await c?.stop();
  });

  test('no acknowledged write lost, same cluster id, short outages only', async () => {
    c = await TestCluster.create(['real', 'real', 'real']);
    const cl = c;
    const olds = [...cl.nodes];
    const news: ClusterNode[] = [];
    for (let i = 0; i < 3; i++) news.push(await cl.addNode('ts', `ts${i}`));
    for (const n of olds) n.start();
    await cl.ready(olds);
    const clusterId = (await cl.status(olds[0]!)).header!.clusterId;
    client = new EtcdClient({ endpoints: [...olds, ...news].map((n) => n.endpoint) });
    const writer = client;

    const acked: string[] = [];
    let lastOk = Date.now();
    let longestGapMs = 0;
    let stop = false;
    const writers = [0, 1].map(async (w) => {
      for (let i = 0; !stop; i++) {
        const key = `mig/${w}/${i}`;
        try {
          await writer.put(
            { key: Buffer.from(key), value: Buffer.from('v') },
            { deadline: Date.now() + 3000 },
          );
          acked.push(key);
          const now = Date.now();
          longestGapMs = Math.max(longestGapMs, now - lastOk);
          lastOk = now;
        } catch {
          await sleep(20);
        }
      }
    });

    for (let i = 0; i < 3; i++) {
      const old = olds[i]!;
      const via = olds[(i + 1) % 3] ?? news[0]!;
      const alive = i === 2 ? news[0]! : via;
      const oldId = (await cl.status(old)).header!.memberId;
      await addAndStart(cl, alive, news[i]!);
      await eventually(async () => cl.get(news[i]!, 'probe'), 30_000, 200);
      await eventually(() => removeMember(cl, alive, oldId), 20_000, 500);
      assert.notEqual(await old.waitExit(20_000), undefined, `old member ${old.opts.name} did not stop`);
      cl.closeClient(old);
      await sleep(500);
    }
    await sleep(1000);
    stop = true;
    await Promise.all(writers);

    const members = await cl.members(news[0]!);
    assert.deepEqual(members.members.map((m) => m.name).sort(), ['ts0', 'ts1', 'ts2']);
    assert.equal((await cl.status(news[0]!)).header!.clusterId, clusterId, 'the cluster id changed');
    const stored = new Set(
      (await cl.range(news[1]!, 'mig/')).kvs.map((kv) => Buffer.from(kv.key).toString()),
    );
    assert.ok(acked.length > 50, `only ${acked.length} writes acknowledged`);
    assert.deepEqual(
      acked.filter((k) => !stored.has(k)),
      [],
      'acknowledged writes lost',
    );
    assert.ok(longestGapMs < 5000, `writers went ${longestGapMs} ms without a successful write`);
  });
});
