// The v2 store in a mixed etcd/etcd-ts cluster (--enable-v2 on every member):
// v2 writes through either kind of member are applied by both (same store
// indexes), the leader's TTL sweep expires keys everywhere, watches on one
// member see writes made through the other, and a member that catches up by a
// raft snapshot gets the v2 keys inside it (etcd's v2-store JSON), both ways.
import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { eventually } from '../integration/harness.js';
import { addAndStart, type ClusterNode, haveRealEtcd, type Impl, TestCluster } from './harness.js';

interface V2Answer {
  status: number;
  index: string | null;
  json: { action?: string; node?: V2Node; errorCode?: number };
}
interface V2Node {
  key?: string;
  value?: string;
  dir?: boolean;
  nodes?: V2Node[];
  ttl?: number;
  expiration?: string;
  modifiedIndex?: number;
  createdIndex?: number;
}

async function v2(
  n: ClusterNode,
  method: string,
  path: string,
  form?: Record<string, string>,
): Promise<V2Answer> {
  const res = await fetch(`http://127.0.0.1:${n.opts.clientPort}/v2/keys${path}`, {
    method,
    ...(form === undefined ? {} : { body: new URLSearchParams(form) }),
    signal: AbortSignal.timeout(10_000),
  });
  return {
    status: res.status,
    index: res.headers.get('x-etcd-index'),
    json: (await res.json()) as V2Answer['json'],
  };
}

/** A listing without the fields that depend on the reader's clock. */
function timeless(n: V2Node | undefined): unknown {
  if (n === undefined) return undefined;
  const { ttl: _ttl, expiration: _exp, nodes, ...rest } = n;
  return { ...rest, ...(nodes === undefined ? {} : { nodes: nodes.map(timeless) }) };
}

const skip = haveRealEtcd ? false : 'real etcd 3.4 is not installed';

describe('v2 keys across etcd and etcd-ts members', { skip, timeout: 120_000 }, () => {
  let c: TestCluster | undefined;
  after(async () => {
    await c?.stop();
  });

  test('writes through either member, one store, TTL expiry everywhere, cross-member watches', async () => {
    c = await TestCluster.create(['ts', 'real', 'ts'], ['--enable-v2']);
    const cl = c;
    cl.startAll();
    await cl.ready();
    const [ts, real] = [cl.nodes[0]!, cl.nodes[1]!];
    const viaTs = await v2(ts, 'PUT', '/from-ts', { value: 'a' });
    assert.equal(viaTs.status, 201);
    const viaReal = await v2(real, 'PUT', '/from-real', { value: 'b' });
    assert.equal(viaReal.status, 201);
    // One store: the later write has the higher index (membership or cluster-version writes may
    // land in between, e.g. when the version is raised once every member answers /version).
    assert.ok((viaReal.json.node?.createdIndex ?? 0) > (viaTs.json.node?.createdIndex ?? 0));
    // Quorum reads go through raft: both members answer from the same store.
    assert.equal((await v2(real, 'GET', '/from-ts?quorum=true')).json.node?.value, 'a');
    assert.equal((await v2(ts, 'GET', '/from-real?quorum=true')).json.node?.value, 'b');
    // A watch on etcd-ts woken by a write through etcd, and the other way round.
    const onTs = v2(ts, 'GET', '/watched?wait=true');
    const onReal = v2(real, 'GET', '/watched2?wait=true');
    await new Promise((r) => setTimeout(r, 200));
    await v2(real, 'PUT', '/watched', { value: 'w1' });
    await v2(ts, 'PUT', '/watched2', { value: 'w2' });
    assert.equal((await onTs).json.node?.value, 'w1');
    assert.equal((await onReal).json.node?.value, 'w2');
    // A TTL key, expired by whoever leads, on every member.
    await v2(ts, 'PUT', '/short', { value: 's', ttl: '1' });
    for (const n of cl.nodes) {
      await eventually(
        async () => assert.equal((await v2(n, 'GET', '/short?quorum=true')).status, 404),
        10_000,
        100,
      );
    }
    // Every member has the same tree at the same store index.
    const listings = await Promise.all(
      cl.nodes.map((n) => v2(n, 'GET', '/?recursive=true&sorted=true&quorum=true')),
    );
    for (const l of listings.slice(1)) {
      assert.deepEqual(timeless(l.json.node), timeless(listings[0]!.json.node));
      assert.equal(l.index, listings[0]!.index);
    }
  });
});

interface Flow {
  seed: Impl;
  joiner: Impl;
  /** Enough entries that the joiner must catch up by a snapshot (etcd 3.4 keeps 5,000 behind one). */
  writes: number;
}

const flows: Flow[] = [
  { seed: 'ts', joiner: 'real', writes: 200 },
  { seed: 'real', joiner: 'ts', writes: 5200 },
];
const TS_SNAPSHOT_FLAGS = ['--snapshot-count=100', '--experimental-snapshot-catchup-entries=10'];

for (const f of flows) {
  describe(`v2 keys reach a ${f.joiner} member in a ${f.seed} leader's snapshot`, {
    skip,
    timeout: 180_000,
  }, () => {
    let c: TestCluster | undefined;
    after(async () => {
      await c?.stop();
    });

    test('the joiner serves the v2 keys, TTLs and indexes it got by snapshot', async () => {
      const flags =
        f.seed === 'ts' ? [...TS_SNAPSHOT_FLAGS, '--enable-v2'] : ['--snapshot-count=100', '--enable-v2'];
      c = await TestCluster.create([f.seed], flags);
      const cl = c;
      const seed = cl.nodes[0]!;
      cl.startAll();
      await cl.ready();
      await v2(seed, 'PUT', '/dir/a', { value: '1' });
      await v2(seed, 'PUT', '/dir/b', { value: '2', ttl: '600' });
      await v2(seed, 'POST', '/queue', { value: 'job' });
      for (let i = 0; i < f.writes; i += 100) {
        await Promise.all(
          Array.from({ length: Math.min(100, f.writes - i) }, (_, j) =>
            v2(seed, 'PUT', '/bulk', { value: String(i + j) }),
          ),
        );
      }
      const want = await v2(seed, 'GET', '/?recursive=true&sorted=true');
      const joiner = await cl.addNode(
        f.joiner,
        'joiner',
        f.joiner === 'ts' ? [...TS_SNAPSHOT_FLAGS, '--enable-v2'] : ['--enable-v2'],
      );
      await addAndStart(cl, seed, joiner);
      // Concurrent writes land in any order: wait for the value the seed ended with.
      const last = want.json.node?.nodes?.find((n) => n.key === '/bulk')?.value;
      await eventually(
        async () => assert.equal((await v2(joiner, 'GET', '/bulk')).json.node?.value, last),
        60_000,
        300,
      );
      assert.match(joiner.output, /received and saved database snapshot/, 'no snapshot was sent');
      const got = await v2(joiner, 'GET', '/?recursive=true&sorted=true');
      assert.deepEqual(timeless(got.json.node), timeless(want.json.node));
      const b = (await v2(joiner, 'GET', '/dir/b')).json.node;
      assert.ok((b?.ttl ?? 0) > 500, `TTL after the snapshot: ${b?.ttl}`);
      // Writes after the snapshot take the same next index on both.
      const next = await v2(joiner, 'PUT', '/after', { value: 'x' });
      assert.equal(next.status, 201);
      const onSeed = await v2(seed, 'GET', '/after?quorum=true');
      assert.equal(onSeed.json.node?.modifiedIndex, next.json.node?.modifiedIndex);
    });
  });
}
