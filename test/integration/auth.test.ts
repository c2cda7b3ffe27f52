// Authentication and authorization on a real member, per RPC family, each
// with a user that may and one that may not: KV (txn compares and both
// branches), watch, lease revoke (and expiry, revoked as root), lock,
// maintenance, cluster, the Auth calls themselves; tokens invalidated by a
// password change and by a restart; the auth state surviving the restart.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { AuthStatusRequest, AuthStatusResponse } from '../../src/auth/status-codec.js';
import { EtcdClient, type GrpcError } from '../../src/client/index.js';
import { Permission_Type } from '../../src/pb/authpb/auth.js';
import { TxnRequest } from '../../src/pb/etcdserverpb/rpc.js';
import { eventually, type MemberProcess, sleep } from './harness.js';
import { type RunningMember, runningMember } from './kv-client.js';

const b = (s: string): Buffer => Buffer.from(s);

function fails(code: number, details: string) {
  return (e: unknown): boolean => {
    const g = e as GrpcError;
    assert.equal(g.details, details);
    assert.equal(g.code, code);
    return true;
  };
}

const DENIED = fails(7, 'etcdserver: permission denied');

describe('auth on a real member', { timeout: 60_000 }, () => {
  let running: RunningMember;
  let member: MemberProcess;
  let open: EtcdClient;
  let root: EtcdClient;
  let alice: EtcdClient;
  let bob: EtcdClient;
  const clients: EtcdClient[] = [];
  const as = (username: string, password: string): EtcdClient => {
    const c = new EtcdClient({ endpoints: [member.endpoint], username, password });
    clients.push(c);
    return c;
  };

  before(async () => {
    running = await runningMember('auth', ['--bcrypt-cost=4']);
    member = running.member;
    open = new EtcdClient({ endpoints: [member.endpoint] });
    clients.push(open);
    await assert.rejects(
      open.auth.authenticate({ name: 'root', password: 'x' }),
      fails(9, 'etcdserver: authentication is not enabled'),
    );
    const a = open.auth;
    await a.userAdd({ name: 'root', password: 'rootpw' });
    await a.userGrantRole({ user: 'root', role: 'root' });
    await a.roleAdd({ name: 'app' });
    await a.roleGrantPermission({
      name: 'app',
      perm: { permType: Permission_Type.READWRITE, key: b('/a/'), rangeEnd: b('/a0') },
    });
    await a.userAdd({ name: 'alice', password: 'alicepw' });
    await a.userGrantRole({ user: 'alice', role: 'app' });
    await a.userAdd({ name: 'bob', password: 'bobpw' });
    await a.authEnable({});
    root = as('root', 'rootpw');
    alice = as('alice', 'alicepw');
    bob = as('bob', 'bobpw');
  });

  after(async () => {
    for (const c of clients) c.close();
    await running?.stop();
  });

  test('KV: allowed and denied reads and writes; no credentials is "user name is empty"', async () => {
    await alice.put({ key: b('/a/x'), value: b('1') });
    assert.equal((await alice.range({ key: b('/a/x') })).count, 1);
    assert.equal((await alice.range({ key: b('/a/'), rangeEnd: b('/a0') })).count, 1);
    await assert.rejects(alice.range({ key: b('/a/'), rangeEnd: b('/a1') }), DENIED);
    await assert.rejects(bob.range({ key: b('/a/x') }), DENIED);
    await assert.rejects(bob.put({ key: b('/a/x'), value: b('2') }), DENIED);
    await assert.rejects(alice.deleteRange({ key: b('/b') }), DENIED);
    await assert.rejects(open.range({ key: b('/a/x') }), fails(3, 'etcdserver: user name is empty'));
    await root.put({ key: b('/secret'), value: b('s') });
  });

  test('txn: compares and both branches are checked, whichever branch runs', async () => {
    const put = (k: string) => ({
      request: { $case: 'requestPut' as const, requestPut: { key: b(k), value: b('v') } },
    });
    const txn = (t: Parameters<typeof TxnRequest.fromPartial>[0]) => alice.txn(TxnRequest.fromPartial(t));
    const r = await txn({
      compare: [{ key: b('/a/x'), target: 0, result: 0 }],
      success: [put('/a/y')],
      failure: [put('/a/z')],
    });
    assert.equal(r.succeeded, false);
    await assert.rejects(txn({ success: [put('/a/y')], failure: [put('/secret')] }), DENIED);
    await assert.rejects(
      txn({ compare: [{ key: b('/secret'), target: 0, result: 0 }], success: [put('/a/y')] }),
      DENIED,
    );
    const readOnly = await txn({
      success: [{ request: { $case: 'requestRange', requestRange: { key: b('/a/x') } } }],
    });
    assert.equal(readOnly.succeeded, true);
    await assert.rejects(
      txn({ success: [{ request: { $case: 'requestRange', requestRange: { key: b('/secret') } } }] }),
      DENIED,
    );
  });

  test('watch: created where the user may read, canceled with the reason elsewhere', async () => {
    const w = await alice.watch.watch();
    w.send({
      requestUnion: { $case: 'createRequest', createRequest: { key: b('/a/'), rangeEnd: b('/a0') } },
    });
    w.send({ requestUnion: { $case: 'createRequest', createRequest: { key: b('/secret') } } });
    const created = (await w.next()).value;
    assert.equal(created?.created, true);
    assert.equal(created?.canceled, false);
    const refused = (await w.next()).value;
    assert.equal(refused?.watchId, -1);
    assert.equal(refused?.canceled, true);
    assert.equal(
      refused?.cancelReason,
      'rpc error: code = PermissionDenied desc = etcdserver: permission denied',
    );
    await root.put({ key: b('/a/w'), value: b('seen') });
    const ev = (await w.next()).value;
    assert.equal(ev?.events[0]?.kv?.key.toString(), '/a/w');
    w.cancel();
  });

  test('lease revoke needs write on every attached key; the leader revokes expired leases as root', async () => {
    const g = await alice.lease.leaseGrant({ ID: 0n, TTL: 60 });
    await alice.put({ key: b('/a/l'), value: b('v'), lease: g.ID });
    await root.put({ key: b('/secret-l'), value: b('v'), lease: g.ID });
    await assert.rejects(alice.lease.leaseRevoke({ ID: g.ID }), DENIED);
    // Nor may she attach more of her keys to a lease she could not revoke.
    await assert.rejects(alice.put({ key: b('/a/m'), value: b('v'), lease: g.ID }), DENIED);
    await root.lease.leaseRevoke({ ID: g.ID });
    assert.equal((await root.range({ key: b('/secret-l') })).count, 0);

    const short = await alice.lease.leaseGrant({ ID: 0n, TTL: 2 });
    await alice.put({ key: b('/a/e'), value: b('v'), lease: short.ID });
    await root.put({ key: b('/secret-e'), value: b('v'), lease: short.ID });
    await eventually(
      async () => assert.equal((await root.range({ key: b('/secret-e') })).count, 0),
      10_000,
      200,
    );
  });

  test('lock on behalf of the caller', async () => {
    const held = await alice.lock.lock({ name: b('/a/lock') });
    assert.ok(held.key.toString().startsWith('/a/lock/'));
    await alice.lock.unlock({ key: held.key });
    await assert.rejects(bob.lock.lock({ name: b('/a/lock') }), fails(2, 'etcdserver: permission denied'));
  });

  test('maintenance and cluster: root only where etcd says so', async () => {
    await assert.rejects(alice.maintenance.hashKV({ revision: 0 }), fails(2, 'auth: permission denied'));
    await assert.rejects(alice.maintenance.defragment({}), fails(2, 'auth: permission denied'));
    await root.maintenance.hashKV({ revision: 0 });
    await alice.status({});
    await assert.rejects(alice.cluster.memberRemove({ ID: 1n }), DENIED);
    await assert.rejects(root.cluster.memberRemove({ ID: 1n }), fails(5, 'etcdserver: member not found'));
    await alice.memberList({});
  });

  test('auth calls: root only, but anyone reads their own user and roles', async () => {
    assert.deepEqual((await alice.auth.userGet({ name: 'alice' })).roles, ['app']);
    assert.equal((await alice.auth.roleGet({ role: 'app' })).perm.length, 1);
    await assert.rejects(alice.auth.userGet({ name: 'root' }), DENIED);
    await assert.rejects(alice.auth.userList({}), DENIED);
    await assert.rejects(bob.auth.roleAdd({ name: 'x' }), DENIED);
    await assert.rejects(
      root.auth.userDelete({ name: 'root' }),
      fails(3, 'etcdserver: invalid auth management'),
    );
    assert.deepEqual((await root.auth.userList({})).users, ['alice', 'bob', 'root']);
  });

  test('AuthStatus (etcd 3.5 adds it): enabled and the auth revision, asked by anyone', async () => {
    const status = async (c: EtcdClient) =>
      AuthStatusResponse.decode(
        await c.unaryRaw('/etcdserverpb.Auth/AuthStatus', AuthStatusRequest.encode({}).finish(), {}, true),
      );
    const first = await status(open);
    assert.equal(first.enabled, true);
    assert.ok(first.authRevision > 1);
    assert.deepEqual((await status(bob)).authRevision, first.authRevision);
    await root.auth.roleAdd({ name: 'status-probe' });
    await root.auth.roleDelete({ role: 'status-probe' });
    assert.equal((await status(alice)).authRevision, first.authRevision + 2);
  });

  test("a password change ends the user's tokens; a restart ends all; the auth state stays", async () => {
    const token = (await open.auth.authenticate({ name: 'alice', password: 'alicepw' })).token;
    const withToken = { metadata: { token } };
    assert.equal((await open.range({ key: b('/a/x') }, withToken)).count, 1);
    await root.auth.userChangePassword({ name: 'alice', password: 'newpw' });
    await assert.rejects(
      open.range({ key: b('/a/x') }, withToken),
      fails(16, 'etcdserver: invalid auth token'),
    );
    await assert.rejects(
      open.auth.authenticate({ name: 'alice', password: 'alicepw' }),
      fails(3, 'etcdserver: authentication failed, invalid user ID or password'),
    );
    const fresh = (await open.auth.authenticate({ name: 'alice', password: 'newpw' })).token;

    await member.stop();
    member.start();
    await eventually(() => root.status({}), 15_000);
    await assert.rejects(
      open.range({ key: b('/a/x') }, { metadata: { token: fresh } }),
      fails(16, 'etcdserver: invalid auth token'),
    );
    await assert.rejects(open.range({ key: b('/a/x') }), fails(3, 'etcdserver: user name is empty'));
    const again = as('alice', 'newpw');
    assert.equal((await again.range({ key: b('/a/x') })).count, 1);
    await assert.rejects(again.range({ key: b('/secret') }), DENIED);
    await sleep(0);
  });
});
