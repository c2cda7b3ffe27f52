// Auth in a mixed cluster (etcd-ts and etcd 3.4 members): user changes
// proposed on either kind apply on both (etcd 3.4 members hash the password
// of an etcd-ts proposal themselves; etcd-ts members hash an etcd 3.4
// proposal's password when they apply it), permissions are enforced alike,
// and a simple token issued through one member works on every member (each
// assigns it when it applies the Authenticate entry), until a password change
// ends it everywhere.
import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { EtcdClient, type GrpcError } from '../../src/client/index.js';
import { Permission_Type } from '../../src/pb/authpb/auth.js';
import { eventually } from '../integration/harness.js';
import { type ClusterNode, haveRealEtcd, TestCluster } from './harness.js';

const skip = haveRealEtcd ? false : 'real etcd 3.4 (/usr/bin/etcd) is not installed';
const b = (s: string): Buffer => Buffer.from(s);

describe('auth across etcd-ts and etcd 3.4 members', { skip, timeout: 90_000 }, () => {
  let c: TestCluster | undefined;
  const clients: EtcdClient[] = [];
  const on = (n: ClusterNode, creds?: { username: string; password: string }): EtcdClient => {
    const cl = new EtcdClient({ endpoints: [n.endpoint], ...creds });
    clients.push(cl);
    return cl;
  };

  after(async () => {
    for (const cl of clients) cl.close();
    await c?.stop();
  });

  test('users from either kind of member, permissions and tokens on all', async () => {
    c = await TestCluster.create(['ts', 'real', 'ts'], ['--bcrypt-cost=4']);
    c.startAll();
    try {
      await c.ready();
    } catch (err) {
      throw new Error(`cluster did not come up: ${(err as Error).message}\n${c.logs()}`);
    }
    const [ts0, real, ts2] = c.nodes as [ClusterNode, ClusterNode, ClusterNode];
    const viaTs = on(ts0).auth;
    const viaReal = on(real).auth;
    await viaTs.userAdd({ name: 'root', password: 'rootpw' });
    await viaTs.userGrantRole({ user: 'root', role: 'root' });
    await viaTs.roleAdd({ name: 'app' });
    await viaTs.roleGrantPermission({
      name: 'app',
      perm: { permType: Permission_Type.READWRITE, key: b('/a/'), rangeEnd: b('/a0') },
    });
    await viaTs.userAdd({ name: 'alice', password: 'apw' });
    await viaTs.userGrantRole({ user: 'alice', role: 'app' });
    await viaReal.userAdd({ name: 'bob', password: 'bpw' });
    await viaReal.authEnable({});

    for (const n of c.nodes) {
      const alice = on(n, { username: 'alice', password: 'apw' });
      await eventually(() => alice.put({ key: b(`/a/${n.opts.name}`), value: b(n.opts.impl) }), 5000, 100);
      await assert.rejects(alice.put({ key: b('/b'), value: b('x') }), (e: GrpcError) => e.code === 7);
      const bob = on(n, { username: 'bob', password: 'bpw' });
      await assert.rejects(bob.range({ key: b('/a/m0') }), (e: GrpcError) => {
        assert.equal(e.details, 'etcdserver: permission denied', `bob on ${n.opts.impl}`);
        return true;
      });
    }

    // A token issued through one member is valid on the others once they have applied its entry.
    const anon = on(ts2);
    const fromReal = (await on(real).auth.authenticate({ name: 'alice', password: 'apw' })).token;
    const fromTs = (await on(ts0).auth.authenticate({ name: 'alice', password: 'apw' })).token;
    for (const n of c.nodes) {
      const cl = on(n);
      for (const token of [fromReal, fromTs]) {
        const r = await eventually(
          () => cl.range({ key: b('/a/'), rangeEnd: b('/a0') }, { metadata: { token } }),
          5000,
          100,
        );
        assert.equal(r.count, 3, `token ${token} on ${n.opts.impl}`);
      }
    }
    await on(real, { username: 'root', password: 'rootpw' }).auth.userChangePassword({
      name: 'alice',
      password: 'new',
    });
    for (const token of [fromReal, fromTs]) {
      await eventually(
        () =>
          assert.rejects(anon.range({ key: b('/a/m0') }, { metadata: { token } }), (e: GrpcError) => {
            assert.equal(e.details, 'etcdserver: invalid auth token');
            return true;
          }),
        5000,
        100,
      );
    }
  });
});
