// The Lock, Election and gRPC Health services of one real member, called the
// way etcd's own clients call them: lock exclusion and hand-over, election
// campaign/leader/observe/proclaim/resign, and the health check gRPC load
// balancers probe.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import {
  HealthCheckRequest,
  HealthCheckResponse,
  HealthCheckResponse_ServingStatus,
} from '../../src/pb/grpc/health/v1/health.js';
import {
  CampaignRequest,
  CampaignResponse,
  LeaderRequest,
  LeaderResponse,
  ProclaimRequest,
  ProclaimResponse,
  ResignRequest,
  ResignResponse,
} from '../../src/pb/v3electionpb/v3election.js';
import { LockRequest, LockResponse, UnlockRequest, UnlockResponse } from '../../src/pb/v3lockpb/v3lock.js';
import { sleep } from './harness.js';
import { type KvClient, type LeaseClient, type RunningMember, runningMember } from './kv-client.js';

interface GrpcFailure {
  code: number;
  details: string;
}

const b = (s: string): Buffer => Buffer.from(s);

describe('lock, election and health services', () => {
  let running: RunningMember;
  let kv: KvClient;
  let leases: LeaseClient;

  before(async () => {
    running = await runningMember('c0');
    ({ kv, leases } = running);
  });

  after(() => running.stop());

  const lock = (name: string, lease: bigint, timeoutMs = 10_000) =>
    kv.raw.call('/v3lockpb.Lock/Lock', LockRequest, LockResponse, { name: b(name), lease }, timeoutMs);
  const unlock = (key: Buffer) =>
    kv.raw.call('/v3lockpb.Lock/Unlock', UnlockRequest, UnlockResponse, { key });

  test('a second locker waits until the first unlocks; keys are name/lease-in-hex', async () => {
    const l1 = (await leases.grant(30)).ID;
    const l2 = (await leases.grant(30)).ID;
    const first = await lock('/locks/job', l1);
    assert.equal(first.key.toString(), `/locks/job/${l1.toString(16)}`);
    let secondHeld = false;
    const second = lock('/locks/job', l2).then((r) => {
      secondHeld = true;
      return r;
    });
    await sleep(500);
    assert.equal(secondHeld, false, 'the second locker got the lock while the first held it');
    await unlock(first.key);
    const s = await second;
    assert.equal(s.key.toString(), `/locks/job/${l2.toString(16)}`);
    assert.ok((s.header?.revision ?? 0) > (first.header?.revision ?? 0));
    await unlock(s.key);
  });

  test('revoking the holder’s lease hands the lock on; an unknown lease is refused', async () => {
    const l1 = (await leases.grant(30)).ID;
    const l2 = (await leases.grant(30)).ID;
    await lock('/locks/rev', l1);
    const second = lock('/locks/rev', l2);
    await sleep(200);
    await leases.revoke(l1);
    assert.equal((await second).key.toString(), `/locks/rev/${l2.toString(16)}`);
    await assert.rejects(lock('/locks/other', 999_999n), (e: GrpcFailure) => {
      assert.equal(e.code, 2);
      assert.equal(e.details, 'etcdserver: requested lease not found');
      return true;
    });
  });

  test('election: campaign, leader, proclaim, a waiting candidate takes over after resign', async () => {
    const la = (await leases.grant(30)).ID;
    const lb = (await leases.grant(30)).ID;
    const a = await kv.raw.call(
      '/v3electionpb.Election/Campaign',
      CampaignRequest,
      CampaignResponse,
      { name: b('/el'), lease: la, value: b('a') },
      10_000,
    );
    const leaderKey = a.leader!;
    assert.equal(leaderKey.key.toString(), `/el/${la.toString(16)}`);
    let bLeads = false;
    const bCampaign = kv.raw
      .call(
        '/v3electionpb.Election/Campaign',
        CampaignRequest,
        CampaignResponse,
        { name: b('/el'), lease: lb, value: b('b') },
        10_000,
      )
      .then((r) => {
        bLeads = true;
        return r;
      });
    await kv.raw.call('/v3electionpb.Election/Proclaim', ProclaimRequest, ProclaimResponse, {
      leader: leaderKey,
      value: b('a2'),
    });
    const now = await kv.raw.call('/v3electionpb.Election/Leader', LeaderRequest, LeaderResponse, {
      name: b('/el'),
    });
    assert.equal(now.kv?.value.toString(), 'a2');
    await sleep(300);
    assert.equal(bLeads, false);
    await kv.raw.call('/v3electionpb.Election/Resign', ResignRequest, ResignResponse, { leader: leaderKey });
    const bResp = await bCampaign;
    assert.equal(bResp.leader?.key.toString(), `/el/${lb.toString(16)}`);
    await assert.rejects(
      kv.raw.call('/v3electionpb.Election/Proclaim', ProclaimRequest, ProclaimResponse, {
        leader: leaderKey,
        value: b('stale'),
      }),
      (e: GrpcFailure) => {
        assert.equal(e.details, 'election: not leader');
        return true;
      },
    );
  });

  test('gRPC health: SERVING for the server, NOT_FOUND for an unknown service', async () => {
    const r = await kv.raw.call('/grpc.health.v1.Health/Check', HealthCheckRequest, HealthCheckResponse, {
      service: '',
    });
    assert.equal(r.status, HealthCheckResponse_ServingStatus.SERVING);
    await assert.rejects(
      kv.raw.call('/grpc.health.v1.Health/Check', HealthCheckRequest, HealthCheckResponse, {
        service: 'nope',
      }),
      (e: GrpcFailure) => {
        assert.equal(e.code, 5);
        assert.equal(e.details, 'unknown service');
        return true;
      },
    );
  });
});
