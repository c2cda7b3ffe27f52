// etcd 3.4's corruption checks across three etcd-ts members: one member's stored value is
// changed behind raft's back (stopped, its backend file edited by our own mvcc code, restarted).
// The leader's periodic check (--experimental-corrupt-check-time) raises CORRUPT (member 0, as
// etcd 3.4.23), `etcdctl alarm list` shows it and writes fail with "etcdserver: corrupt
// cluster"; the edited member restarted with --experimental-initial-corrupt-check refuses to
// start with etcd's error.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { promisify } from 'node:util';
import { Backend } from '../../src/mvcc/backend.js';
import { decodeKeyValue, encodeKeyValue } from '../../src/mvcc/kv-codec.js';
import type { StoredRecord } from '../../src/mvcc/store-backend.js';
import { eventually } from '../integration/harness.js';
import { type ClusterNode, TestCluster } from './harness.js';

const run = promisify(execFile);
const ETCDCTL = '/usr/bin/etcdctl';

/** Rewrites the newest stored value of `key` in a stopped member's backend (same revision). */
async function tamper(dataDir: string, key: string, value: string): Promise<void> {
  const b = Backend.open(join(dataDir, 'member', 'snap', 'db'));
  try {
    let newest: StoredRecord | undefined;
    b.scan(0, Number.MAX_SAFE_INTEGER, (rec) => {
      if (!rec.tombstone && Buffer.from(decodeKeyValue(rec.value).key).toString() === key) newest = rec;
      return true;
    });
    assert.ok(newest !== undefined, `no record of ${key}`);
    const kv = decodeKeyValue(newest.value);
    b.loadRecords([{ ...newest, value: encodeKeyValue({ ...kv, value: Buffer.from(value) }) }]);
  } finally {
    await b.close();
  }
}

describe('corruption checks in a 3-member etcd-ts cluster', { timeout: 90_000 }, () => {
  let c: TestCluster;
  let victim: ClusterNode;

  before(async () => {
    c = await TestCluster.create(['ts', 'ts', 'ts'], ['--experimental-corrupt-check-time=1s']);
    c.startAll();
    await c.ready();
  });

  after(async () => {
    await c?.stop();
  });

  test('a member whose data differs: CORRUPT raised, listed by etcdctl, writes refused', async () => {
    const leader = await c.leader();
    victim = c.nodes.find((n) => n !== leader) as ClusterNode;
    await c.put(leader, 'k', 'good');
    for (const n of c.nodes) await eventually(async () => assert.equal(await c.get(n, 'k'), 'good'));
    c.closeClient(victim);
    await victim.stop();
    await tamper(victim.opts.dataDir, 'k', 'evil');
    victim.start();
    // Reads are served (etcd keeps its read path); the stored value is the tampered one.
    await eventually(async () => assert.equal(await c.get(victim, 'k', true), 'evil'), 20_000);

    const endpoints = c.nodes.map((n) => `http://${n.endpoint}`).join(',');
    const listed = await eventually(async () => {
      const { stdout } = await run(ETCDCTL, ['--endpoints', endpoints, 'alarm', 'list'], {
        env: { ...process.env, ETCDCTL_API: '3' },
      });
      assert.match(stdout, /alarm:CORRUPT/);
      return stdout;
    }, 20_000);
    // etcdctl prints an AlarmMember as protobuf's compact text: member 0 leaves memberID out.
    assert.equal(listed.trim(), 'alarm:CORRUPT');
    const refused = await run(ETCDCTL, ['--endpoints', endpoints, 'put', 'k2', 'v'], {
      env: { ...process.env, ETCDCTL_API: '3' },
    }).catch((err: { stderr: string }) => err);
    assert.match('stderr' in refused ? refused.stderr : '', /etcdserver: corrupt cluster/);
    assert.ok(
      c.nodes.some((n) => n.output.includes('same compact revision then hashes must match')),
      'the leader logged the mismatch as etcd does',
    );
  });

  test('--experimental-initial-corrupt-check: the differing member refuses to start', async () => {
    c.closeClient(victim);
    await victim.stop();
    victim.opts.extraArgs = [...(victim.opts.extraArgs ?? []), '--experimental-initial-corrupt-check=true'];
    victim.start();
    const code = await victim.waitExit(20_000);
    const lines = victim.output.split('\n').filter((l) => /corrupt|hash/i.test(l));
    assert.notEqual(code, undefined, `the member kept running:\n${lines.join('\n')}`);
    assert.notEqual(code, 0);
    assert.match(victim.output, /found data inconsistency with peers/);
    assert.match(victim.output, /found different hash values from remote peer/);
  });
});
