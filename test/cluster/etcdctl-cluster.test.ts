// etcdctl against a 3-member etcd-ts cluster, ours and the real 3.4 one side
// by side: several endpoints with a dead one first (clients fail over),
// `endpoint status|health --cluster`, `member list`, `move-leader`.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { freePort } from '../integration/harness.js';
import { REAL_CTL, runCommand } from '../interop/twins.js';
import { TestCluster } from './harness.js';

/** Our etcdctl from the same build as this test. */
const OUR_CTL_MAIN = fileURLToPath(new URL('../../src/cmd/etcdctl/main.js', import.meta.url));
type Ctl = (args: string[]) => ReturnType<typeof runCommand>;
const ctls: [string, Ctl][] = [['ours', (args) => runCommand(process.execPath, [OUR_CTL_MAIN, ...args])]];
if (existsSync(REAL_CTL)) ctls.push(['real', (args) => runCommand(REAL_CTL, args)]);

interface StatusJson {
  Endpoint: string;
  Status: { header: { member_id: number; raft_term: number }; leader: number };
}

describe('etcdctl against a 3-member etcd-ts cluster', { timeout: 120_000 }, () => {
  let c: TestCluster;
  let dead: string;
  before(async () => {
    c = await TestCluster.create(['ts', 'ts', 'ts']);
    c.startAll();
    await c.ready();
    dead = `127.0.0.1:${await freePort()}`;
  });
  after(async () => {
    await c?.stop();
  });

  for (const [which, ctl] of ctls) {
    test(`${which} etcdctl: fails over past a dead endpoint; --cluster status and health; move-leader`, async () => {
      const eps = [dead, ...c.nodes.map((n) => n.endpoint)].join(',');
      const put = await ctl([`--endpoints=${eps}`, 'put', `ctl/${which}`, 'v']);
      assert.equal(put.code, 0, put.stderr);
      assert.equal(put.stdout, 'OK\n');
      const get = await ctl([`--endpoints=${eps}`, 'get', `ctl/${which}`, '--print-value-only']);
      assert.equal(get.stdout, 'v\n', get.stderr);

      const one = c.nodes[0]!.endpoint;
      const status = await ctl([`--endpoints=${one}`, 'endpoint', 'status', '--cluster', '-w', 'json']);
      assert.equal(status.code, 0, status.stderr);
      const rows = JSON.parse(status.stdout) as StatusJson[];
      assert.equal(rows.length, 3);
      assert.equal(new Set(rows.map((r) => r.Status.leader)).size, 1, 'members disagree on the leader');
      assert.equal(
        new Set(rows.map((r) => r.Status.header.raft_term)).size,
        1,
        'members disagree on the term',
      );
      const health = await ctl([`--endpoints=${one}`, 'endpoint', 'health', '--cluster']);
      assert.equal(health.code, 0, health.stderr);
      assert.equal(
        `${health.stdout}${health.stderr}`.split('\n').filter((l) => / is healthy: /.test(l)).length,
        3,
        health.stderr,
      );

      const leader = await c.leader();
      const target = c.nodes.find((n) => n !== leader)!;
      const targetId = (await c.status(target)).header!.memberId.toString(16);
      const moved = await ctl([`--endpoints=${leader.endpoint}`, 'move-leader', targetId]);
      assert.equal(moved.code, 0, moved.stderr);
      assert.match(moved.stdout, new RegExp(`^Leadership transferred from [0-9a-f]+ to ${targetId}\\n$`));
      assert.equal(await c.leader(), target);
      const notLeader = await ctl([`--endpoints=${leader.endpoint}`, 'move-leader', targetId]);
      assert.notEqual(notLeader.code, 0);
      // etcdctl itself checks that one of its endpoints leads before asking.
      assert.equal(notLeader.stderr, `Error: no leader endpoint given at [${leader.endpoint}]\n`);
    });
  }
});
