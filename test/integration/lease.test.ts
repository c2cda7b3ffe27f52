// Leases on one real member: grant/attach/revoke with etcd's answers, expiry
// deleting the attached keys, and leases surviving a clean restart and a
// SIGKILL with their keys still attached and their TTLs renewed (as etcd's
// new leader does).
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { eventually, type MemberProcess, sleep } from './harness.js';
import { type KvClient, type LeaseClient, type RunningMember, runningMember } from './kv-client.js';

interface GrpcFailure {
  code: number;
  details: string;
}

const keysOf = (r: { keys: Buffer[] }): string[] => r.keys.map((k) => k.toString()).sort();

describe('leases on a real member', () => {
  let running: RunningMember;
  let member: MemberProcess;
  let kv: KvClient;
  let leases: LeaseClient;

  before(async () => {
    running = await runningMember('l0');
    ({ member, kv, leases } = running);
  });

  after(() => running.stop());

  test('grant, attach, time-to-live with keys, revoke deletes the keys at one revision', async () => {
    const g = await leases.grant(60);
    assert.ok(g.ID > 0n, 'server-chosen id is positive');
    assert.equal(g.TTL, 60);
    await kv.put('/svc/a', '1', { lease: g.ID });
    await kv.put('/svc/b', '2', { lease: g.ID });
    const t = await leases.timeToLive(g.ID);
    assert.equal(t.grantedTTL, 60);
    assert.ok(t.TTL >= 58 && t.TTL <= 60, `remaining ${t.TTL}`);
    assert.deepEqual(keysOf(t), ['/svc/a', '/svc/b']);
    const before = (await kv.range('/ready')).header?.revision ?? 0;
    const r = await leases.revoke(g.ID);
    assert.equal(r.header?.revision, before + 1, 'both keys deleted at one revision');
    assert.equal((await kv.range('/svc/', { rangeEnd: Buffer.from('/svc0') })).count, 0);
    assert.equal((await leases.timeToLive(g.ID)).TTL, -1);
    await assert.rejects(leases.revoke(g.ID), (e: GrpcFailure) => {
      assert.equal(e.code, 5);
      assert.equal(e.details, 'etcdserver: requested lease not found');
      return true;
    });
  });

  test('a key put again on another lease, then on none, leaves its old lease (no watcher open)', async () => {
    // Without a prev_kv watcher the store leaves the previous value out of put events; the old
    // lease must then come from the lessor's own key map.
    const a = await leases.grant(60);
    const b = await leases.grant(60);
    await kv.put('/moving', '1', { lease: a.ID });
    await kv.put('/moving', '2', { lease: b.ID });
    assert.deepEqual(keysOf(await leases.timeToLive(a.ID)), []);
    assert.deepEqual(keysOf(await leases.timeToLive(b.ID)), ['/moving']);
    await leases.revoke(a.ID);
    assert.equal((await kv.range('/moving')).count, 1, 'revoking the old lease keeps the key');
    await kv.put('/moving', '3');
    assert.deepEqual(keysOf(await leases.timeToLive(b.ID)), []);
    await leases.revoke(b.ID);
    const left = await kv.range('/moving');
    assert.equal(left.kvs[0]?.value.toString(), '3', 'a key on no lease outlives both');
  });

  test("etcd's errors: a put naming an unknown lease, a duplicate id, a TTL that is too large", async () => {
    await assert.rejects(kv.put('/x', 'y', { lease: 12345n }), (e: GrpcFailure) => {
      assert.equal(e.details, 'etcdserver: requested lease not found');
      return true;
    });
    await leases.grant(30, 777n);
    await assert.rejects(leases.grant(30, 777n), (e: GrpcFailure) => {
      assert.equal(e.code, 9);
      assert.equal(e.details, 'etcdserver: lease already exists');
      return true;
    });
    await assert.rejects(leases.grant(9_000_000_001), (e: GrpcFailure) => {
      assert.equal(e.code, 11);
      assert.equal(e.details, 'etcdserver: too large lease TTL');
      return true;
    });
    assert.equal((await leases.grant(1)).TTL, 2, 'TTLs below the minimum are raised to it');
  });

  test('an expired lease takes its keys with it', async () => {
    const g = await leases.grant(2);
    await kv.put('/ephemeral', 'x', { lease: g.ID });
    await eventually(
      async () => {
        assert.equal((await kv.range('/ephemeral')).count, 0);
      },
      8000,
      200,
    );
    assert.equal((await leases.timeToLive(g.ID)).TTL, -1);
  });

  test('leases and their keys survive a restart and a SIGKILL; TTLs start again', async () => {
    // A TTL long enough that a slow restart on a loaded machine cannot pass for a renewal.
    const g = await leases.grant(30);
    await kv.put('/kept', 'v', { lease: g.ID });
    await sleep(6000);
    await member.stop();
    member.start();
    await eventually(() => kv.put('/ready', 'y'));
    let t = await leases.timeToLive(g.ID);
    assert.deepEqual(keysOf(t), ['/kept']);
    // Without the renewal at most 24 s would be left; a new leader restarts every TTL (plus the election timeout).
    assert.ok(t.TTL >= 26, `remaining TTL ${t.TTL} renewed after the restart`);
    await member.kill();
    member.start();
    await eventually(() => kv.put('/ready', 'y'));
    t = await leases.timeToLive(g.ID);
    assert.deepEqual(keysOf(t), ['/kept']);
    assert.ok((await leases.leases()).leases.some((l) => l.ID === g.ID));
    await leases.revoke(g.ID);
    assert.equal((await kv.range('/kept')).count, 0);
  });
});
