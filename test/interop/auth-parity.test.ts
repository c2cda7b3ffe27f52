// Authentication and authorization against the real etcd 3.4: the same
// scenario (auth-script.ts) runs against etcd-ts and against etcd, and every
// call must end the same way -- same status code and message, or the same
// response (headers included: the twins share member and cluster ids).
// Covers the Auth RPCs and their errors, root rules, permissions on KV
// (range, put, delete, txn compares and both branches), watch creation,
// lease revoke, compaction, maintenance and cluster calls, token
// invalidation, and simple and JWT tokens.
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { AuthScript, b, type Step } from './auth-script.js';
import { REAL_ETCD, runCommand, twinsForSuite } from './twins.js';

const skip = existsSync(REAL_ETCD) ? false : 'real etcd 3.4 (/usr/bin/etcd) is not installed';

/** Users and roles, set up while auth is still off (with its errors on the way). */
const SETUP: Step[] = [
  { call: 'Auth.authenticate', req: { name: 'root', password: 'x' } },
  { call: 'KV.range', as: 'bogus', req: { key: b('foo') } },
  { call: 'Auth.authEnable' },
  { call: 'Auth.userAdd', req: { name: '', password: 'x' } },
  { call: 'Auth.userAdd', req: { name: 'root', password: 'rootpw' } },
  { call: 'Auth.userAdd', req: { name: 'root', password: 'again' } },
  { call: 'Auth.authEnable' },
  { call: 'Auth.roleAdd', req: { name: '' } },
  { call: 'Auth.roleAdd', req: { name: 'rw' } },
  { call: 'Auth.roleAdd', req: { name: 'rw' } },
  { call: 'Auth.roleGet', req: { role: 'nope' } },
  { call: 'Auth.userGrantRole', req: { user: 'root', role: 'nope' } },
  { call: 'Auth.userGrantRole', req: { user: 'nobody', role: 'rw' } },
  { call: 'Auth.userGrantRole', req: { user: 'root', role: 'root' } },
  { call: 'Auth.userGrantRole', req: { user: 'root', role: 'root' } },
  { call: 'Auth.roleGrantPermission', req: { name: 'rw', perm: { permType: 'READWRITE', key: b('foo') } } },
  {
    call: 'Auth.roleGrantPermission',
    req: { name: 'rw', perm: { permType: 'READ', key: b('/p/'), rangeEnd: b('/p0') } },
  },
  {
    call: 'Auth.roleGrantPermission',
    req: { name: 'rw', perm: { permType: 'WRITE', key: b('a'), rangeEnd: b('m') } },
  },
  {
    call: 'Auth.roleGrantPermission',
    req: { name: 'rw', perm: { permType: 'WRITE', key: b('l'), rangeEnd: b('z') } },
  },
  {
    call: 'Auth.roleGrantPermission',
    req: { name: 'rw', perm: { permType: 'READWRITE', key: b('k'), rangeEnd: b('\0') } },
  },
  { call: 'Auth.roleGrantPermission', req: { name: 'rw', perm: { permType: 'READ', key: b('foo') } } },
  { call: 'Auth.roleGrantPermission', req: { name: 'nope', perm: { permType: 'READ', key: b('x') } } },
  { call: 'Auth.roleGet', req: { role: 'rw' } },
  { call: 'Auth.roleRevokePermission', req: { role: 'rw', key: b('zz') } },
  { call: 'Auth.roleRevokePermission', req: { role: 'nope', key: b('zz') } },
  { call: 'Auth.userRevokeRole', req: { name: 'root', role: 'rw' } },
  { call: 'Auth.userAdd', req: { name: 'alice', password: 'alicepw' } },
  { call: 'Auth.userAdd', req: { name: 'bob', password: 'bobpw' } },
  { call: 'Auth.userAdd', req: { name: 'cert', options: { noPassword: true } } },
  { call: 'Auth.userGrantRole', req: { user: 'alice', role: 'rw' } },
  { call: 'Auth.userList' },
  { call: 'Auth.roleList' },
  { call: 'Auth.userGet', req: { name: 'alice' } },
  { call: 'Auth.userDelete', req: { name: 'nobody' } },
  { call: 'KV.put', req: { key: b('foo'), value: b('1') } },
  { call: 'KV.put', req: { key: b('bar'), value: b('2') } },
  { call: 'KV.put', req: { key: b('/p/x'), value: b('3') } },
  { call: 'Lease.leaseGrant', req: { ID: 1001, TTL: 600 } },
  { call: 'KV.put', req: { key: b('foo'), value: b('leased'), lease: 1001 } },
  { call: 'Lease.leaseGrant', req: { ID: 1002, TTL: 600 } },
  { call: 'KV.put', req: { key: b('/p/x'), value: b('leased'), lease: 1002 } },
  { call: 'Auth.authEnable' },
];

/** With auth on: who may do what. */
const ENABLED: Step[] = [
  { call: 'KV.range', req: { key: b('foo') } },
  { call: 'Auth.userList' },
  { login: 'root', password: 'wrong' },
  { login: 'nobody', password: 'x' },
  { login: 'cert', password: '' },
  { login: 'root', password: 'rootpw' },
  { login: 'alice', password: 'alicepw' },
  { login: 'bob', password: 'bobpw' },
  { call: 'KV.range', as: 'bogus', req: { key: b('foo') } },
  { call: 'KV.range', as: 'alice', req: { key: b('foo') } },
  { call: 'KV.range', as: 'alice', req: { key: b('bar') } },
  { call: 'KV.range', as: 'bob', req: { key: b('foo') } },
  { call: 'KV.range', as: 'root', req: { key: b('a'), rangeEnd: b('\0') } },
  { call: 'KV.range', as: 'alice', req: { key: b('/p/'), rangeEnd: b('/p0') } },
  { call: 'KV.range', as: 'alice', req: { key: b('/p/'), rangeEnd: b('/p1') } },
  { call: 'KV.range', as: 'alice', req: { key: b('k'), rangeEnd: b('\0') } },
  { call: 'KV.range', as: 'alice', req: { key: b('j'), rangeEnd: b('\0') } },
  { call: 'KV.range', as: 'alice', req: { key: b('foo'), rangeEnd: b('\0') } },
  { call: 'KV.range', as: 'alice', req: { key: b('/p/'), rangeEnd: b('/p0'), serializable: true } },
  { call: 'KV.put', as: 'alice', req: { key: b('bar'), value: b('x') } },
  { call: 'KV.put', as: 'alice', req: { key: b('b'), value: b('x'), prevKv: true } },
  { call: 'KV.put', as: 'alice', req: { key: b('zz'), value: b('x') } },
  { call: 'KV.put', as: 'bob', req: { key: b('foo'), value: b('x') } },
  { call: 'KV.put', req: { key: b('foo'), value: b('x') } },
  { call: 'KV.put', as: 'bogus', req: { key: b('foo'), value: b('x') } },
  { call: 'KV.put', as: 'alice', req: { key: b('c'), value: b('x'), lease: 1002 } },
  { call: 'KV.put', as: 'alice', req: { key: b('c'), value: b('x'), lease: 1001 } },
  { call: 'KV.deleteRange', as: 'alice', req: { key: b('a'), rangeEnd: b('z') } },
  { call: 'KV.deleteRange', as: 'alice', req: { key: b('a'), rangeEnd: b('m'), prevKv: true } },
  { call: 'KV.deleteRange', as: 'alice', req: { key: b('c') } },
  {
    call: 'KV.txn',
    as: 'alice',
    req: { compare: [{ key: b('foo'), target: 'VERSION' }], success: [{ requestRange: { key: b('foo') } }] },
  },
  {
    call: 'KV.txn',
    as: 'alice',
    req: { compare: [{ key: b('bar'), target: 'VERSION' }], success: [{ requestRange: { key: b('foo') } }] },
  },
  {
    call: 'KV.txn',
    as: 'alice',
    req: {
      compare: [{ key: b('foo') }],
      success: [{ requestPut: { key: b('foo') } }],
      failure: [{ requestPut: { key: b('bar') } }],
    },
  },
  {
    call: 'KV.txn',
    as: 'alice',
    req: {
      compare: [{ key: b('foo') }],
      success: [{ requestPut: { key: b('foo') } }],
      failure: [{ requestPut: { key: b('zz') } }],
    },
  },
  { call: 'KV.txn', as: 'alice', req: { success: [{ requestDeleteRange: { key: b('b'), prevKv: true } }] } },
  { call: 'KV.txn', as: 'alice', req: { success: [{ requestDeleteRange: { key: b('b') } }] } },
  { call: 'KV.txn', as: 'alice', req: { failure: [{ requestRange: { key: b('bar') } }] } },
  { call: 'KV.txn', req: { success: [{ requestRange: { key: b('foo') } }] } },
  { call: 'KV.txn', req: {} },
  { call: 'KV.txn', as: 'bogus', req: {} },
  {
    call: 'KV.txn',
    as: 'root',
    req: { compare: [{ key: b('zz') }], success: [{ requestPut: { key: b('zz'), value: b('r') } }] },
  },
  { call: 'KV.compact', req: { revision: 2 } },
  { call: 'KV.compact', as: 'bob', req: { revision: 3 } },
  { call: 'KV.compact', as: 'bogus', req: { revision: 3 } },
  { call: 'Lease.leaseGrant', req: { ID: 2001, TTL: 600 } },
  { call: 'Lease.leaseGrant', as: 'bogus', req: { ID: 2002, TTL: 600 } },
  { call: 'Lease.leaseGrant', as: 'bob', req: { ID: 2003, TTL: 600 } },
  { call: 'Lease.leaseTimeToLive', as: 'bogus', req: { ID: 2001 } },
  { call: 'Lease.leaseRevoke', req: { ID: 2001 } },
  { call: 'Lease.leaseRevoke', as: 'alice', req: { ID: 1002 } },
  { call: 'Lease.leaseRevoke', as: 'bob', req: { ID: 1001 } },
  { call: 'Lease.leaseRevoke', as: 'alice', req: { ID: 1001 } },
  { call: 'Lease.leaseRevoke', as: 'bob', req: { ID: 2003 } },
  {
    watch: [
      { key: b('foo') },
      { key: b('bar') },
      { key: b('k'), rangeEnd: b('\0') },
      { key: b('j'), rangeEnd: b('\0') },
      { key: '' },
      { key: b('/p/'), rangeEnd: b('/p0') },
    ],
    as: 'alice',
  },
  { watch: [{ key: b('foo') }], as: 'bogus' },
  { watch: [{ key: b('foo') }] },
  { call: 'Maintenance.status', as: 'bogus', show: 'code' },
  { call: 'Maintenance.hashKV', as: 'alice' },
  { call: 'Maintenance.hashKV' },
  { call: 'Maintenance.hashKV', as: 'bogus' },
  { call: 'Maintenance.hashKV', as: 'root', show: 'code' },
  { call: 'Maintenance.defragment', as: 'alice' },
  { call: 'Maintenance.alarm', as: 'alice', show: 'code' },
  { call: 'Maintenance.alarm', as: 'bogus' },
  { call: 'Cluster.memberList', as: 'bogus' },
  { call: 'Cluster.memberAdd', as: 'alice', req: { peerURLs: ['http://127.0.0.1:1'] } },
  { call: 'Cluster.memberAdd', req: { peerURLs: ['http://127.0.0.1:1'] } },
  { call: 'Cluster.memberAdd', as: 'bogus', req: { peerURLs: ['http://127.0.0.1:1'] } },
  { call: 'Cluster.memberRemove', as: 'alice', req: { ID: 1 } },
  { call: 'Cluster.memberRemove', as: 'root', req: { ID: 1 } },
  { call: 'Auth.userGet', as: 'alice', req: { name: 'alice' } },
  { call: 'Auth.userGet', as: 'alice', req: { name: 'root' } },
  { call: 'Auth.userGet', req: { name: 'alice' } },
  { call: 'Auth.roleGet', as: 'alice', req: { role: 'rw' } },
  { call: 'Auth.roleGet', as: 'alice', req: { role: 'root' } },
  { call: 'Auth.userList', as: 'alice' },
  { call: 'Auth.roleList', as: 'bob' },
  { call: 'Auth.userAdd', as: 'alice', req: { name: 'eve', password: 'x' } },
  { call: 'Auth.authDisable', as: 'alice' },
  { call: 'Auth.authEnable', as: 'alice' },
  { call: 'Auth.authEnable', as: 'root' },
  { call: 'Auth.authenticate', as: 'bogus', req: { name: 'root', password: 'rootpw' } },
  { call: 'Auth.userDelete', as: 'root', req: { name: 'root' } },
  { call: 'Auth.userRevokeRole', as: 'root', req: { name: 'root', role: 'root' } },
  { call: 'Auth.roleDelete', as: 'root', req: { role: 'root' } },
  // Invalidation: a new password and a deleted user end their tokens; a role change keeps simple tokens valid.
  { call: 'Auth.userChangePassword', as: 'root', req: { name: 'alice', password: 'alice2' } },
  { call: 'KV.range', as: 'alice', req: { key: b('foo') } },
  { call: 'Auth.userDelete', as: 'root', req: { name: 'bob' } },
  { call: 'KV.range', as: 'bob', req: { key: b('foo') } },
  { login: 'alice', password: 'alicepw' },
  { login: 'alice', password: 'alice2' },
  { call: 'KV.range', as: 'alice', req: { key: b('foo') } },
  { call: 'Auth.userRevokeRole', as: 'root', req: { name: 'alice', role: 'rw' } },
  { call: 'KV.range', as: 'alice', req: { key: b('foo') } },
  { call: 'Auth.userRevokeRole', as: 'root', req: { name: 'alice', role: 'rw' } },
  { call: 'Auth.roleDelete', as: 'root', req: { role: 'rw' } },
  { call: 'Auth.roleList', as: 'root' },
  { call: 'Auth.authDisable', as: 'root' },
  { call: 'KV.range', as: 'root', req: { key: b('foo') } },
  { call: 'KV.range', req: { key: b('foo') } },
  { call: 'Auth.authenticate', req: { name: 'root', password: 'rootpw' } },
];

/** JWT: a token names the auth revision it was issued at, so any change makes it stale. */
const JWT: Step[] = [
  { call: 'Auth.userAdd', req: { name: 'root', password: 'rootpw' } },
  { call: 'Auth.userGrantRole', req: { user: 'root', role: 'root' } },
  { call: 'Auth.userAdd', req: { name: 'alice', password: 'alicepw' } },
  { call: 'Auth.roleAdd', req: { name: 'r' } },
  {
    call: 'Auth.roleGrantPermission',
    req: { name: 'r', perm: { permType: 'READWRITE', key: b('a'), rangeEnd: b('b') } },
  },
  { call: 'Auth.userGrantRole', req: { user: 'alice', role: 'r' } },
  { call: 'Auth.authEnable' },
  { login: 'root', password: 'rootpw' },
  { login: 'alice', password: 'alicepw' },
  { call: 'KV.put', as: 'alice', req: { key: b('a1'), value: b('v') } },
  { call: 'KV.range', as: 'alice', req: { key: b('a1') } },
  { call: 'Auth.roleAdd', as: 'root', req: { name: 'other' } },
  { call: 'KV.put', as: 'alice', req: { key: b('a1'), value: b('v') } },
  { call: 'KV.range', as: 'alice', req: { key: b('a1') } },
  { call: 'KV.txn', as: 'alice', req: { success: [{ requestRange: { key: b('a1') } }] } },
  { watch: [{ key: b('a1') }], as: 'alice' },
  { call: 'Auth.userGet', as: 'alice', req: { name: 'alice' } },
  { login: 'alice', password: 'alicepw' },
  { call: 'KV.range', as: 'alice', req: { key: b('a1') } },
  { call: 'Auth.authDisable', as: 'root' },
  { call: 'KV.range', as: 'alice', req: { key: b('a1') } },
  { call: 'KV.range', as: 'root', req: { key: b('a1') } },
];

/** test/fixtures/auth/ of the source tree, found upwards from the compiled test (dist/ or another build dir). */
export function authFixtures(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const candidate = join(dir, 'test', 'fixtures', 'auth');
    if (existsSync(join(candidate, 'jwt-rs256.pem'))) return `${candidate}/`;
    const up = dirname(dir);
    if (up === dir) throw new Error('test/fixtures/auth not found');
    dir = up;
  }
}

async function transcript(endpoint: string, steps: Step[]): Promise<string[]> {
  const s = new AuthScript(endpoint);
  try {
    return await s.run(steps);
  } finally {
    s.close();
  }
}

function assertSame(ours: string[], real: string[], logs: () => string): void {
  const n = Math.max(ours.length, real.length);
  for (let i = 0; i < n; i++) {
    if (ours[i] !== real[i]) {
      assert.fail(
        `step ${i} differs:\n  etcd-ts: ${ours[i]}\n  etcd:    ${real[i]}\n\n${ours.join('\n')}\n${logs().slice(-4000)}`,
      );
    }
  }
}

describe('auth: the same calls end the same way on etcd-ts and on etcd 3.4', {
  skip,
  timeout: 120_000,
}, () => {
  describe('simple tokens', () => {
    const twins = twinsForSuite(() => ['--bcrypt-cost=4']);

    test('users, roles, permissions, tokens', async () => {
      const t = twins();
      const steps = [...SETUP, ...ENABLED];
      const [ours, real] = await Promise.all([
        transcript(t.oursEndpoint, steps),
        transcript(t.realEndpoint, steps),
      ]);
      assertSame(ours, real, t.logs);
      // A few lines spelled out, so that a change on both sides does not pass unnoticed.
      assert.ok(ours.includes('Auth.authenticate - ERR 9 etcdserver: authentication is not enabled'));
      assert.ok(ours.includes('KV.range bob ERR 7 etcdserver: permission denied'));
      assert.ok(ours.includes('Maintenance.hashKV alice ERR 2 auth: permission denied'));
    });
  });

  describe('JWT tokens', () => {
    const twins = twinsForSuite(() => {
      const key = authFixtures();
      return [
        '--bcrypt-cost=4',
        `--auth-token=jwt,pub-key=${key}jwt-rs256.pub,priv-key=${key}jwt-rs256.pem,sign-method=RS256,ttl=10m`,
      ];
    });

    test('stale after any auth change, valid again after authenticating', async () => {
      const t = twins();
      const [ours, real] = await Promise.all([
        transcript(t.oursEndpoint, JWT),
        transcript(t.realEndpoint, JWT),
      ]);
      assertSame(ours, real, t.logs);
      assert.ok(ours.includes('KV.range alice ERR 3 etcdserver: revision of auth store is old'));
    });

    test("etcd-ts's tokens verify with the public key alone: openssl, and the real etcd accepts them", async () => {
      const t = twins();
      // The previous test left auth disabled, at the same auth revision on both.
      const steps: Step[] = [{ call: 'Auth.authEnable' }, { login: 'root', password: 'rootpw' }];
      const ours = new AuthScript(t.oursEndpoint);
      const real = new AuthScript(t.realEndpoint);
      try {
        await Promise.all([ours.run(steps), real.run(steps)]);
        const token = ours.token('root');
        const [h, p, sig] = token.split('.') as [string, string, string];
        const claims = JSON.parse(Buffer.from(p, 'base64url').toString()) as Record<string, unknown>;
        assert.deepEqual(Object.keys(claims), ['exp', 'revision', 'username']);
        assert.equal(claims.username, 'root');
        // An independent tool checks the RS256 signature over the JWS signing input.
        const dir = mkdtempSync(join(tmpdir(), 'etcd-ts-jwt-'));
        try {
          writeFileSync(join(dir, 'input'), `${h}.${p}`);
          writeFileSync(join(dir, 'sig'), Buffer.from(sig, 'base64url'));
          const v = await runCommand('openssl', [
            'dgst',
            '-sha256',
            '-verify',
            `${authFixtures()}jwt-rs256.pub`,
            '-signature',
            join(dir, 'sig'),
            join(dir, 'input'),
          ]);
          assert.equal(v.stdout.trim(), 'Verified OK', v.stderr);
        } finally {
          rmSync(dir, { recursive: true, force: true });
        }
        // The real etcd, holding the same key pair and the same auth revision, takes it as root's.
        real.useToken('root', token);
        const lines = await real.run([{ call: 'Auth.userList', as: 'root' }]);
        assert.match(lines.at(-1) ?? '', /^Auth\.userList root OK .*"users":\["alice","root"\]/);
      } finally {
        ours.close();
        real.close();
      }
    });
  });

  describe('JWT expiry', () => {
    const twins = twinsForSuite(() => {
      const key = authFixtures();
      return [
        '--bcrypt-cost=4',
        `--auth-token=jwt,pub-key=${key}jwt-es256.pub,priv-key=${key}jwt-es256.pem,sign-method=ES256,ttl=1s`,
      ];
    });

    test('a token is refused once its exp has passed', async () => {
      const t = twins();
      const steps: Step[] = [
        { call: 'Auth.userAdd', req: { name: 'root', password: 'rootpw' } },
        { call: 'Auth.userGrantRole', req: { user: 'root', role: 'root' } },
        { call: 'Auth.authEnable' },
        { login: 'root', password: 'rootpw' },
        { call: 'Auth.userList', as: 'root' },
      ];
      const expired: Step[] = [{ call: 'Auth.userList', as: 'root' }];
      const run = async (endpoint: string) => {
        const s = new AuthScript(endpoint);
        try {
          await s.run(steps);
          await new Promise((r) => setTimeout(r, 2500));
          return await s.run(expired);
        } finally {
          s.close();
        }
      };
      const [ours, real] = await Promise.all([run(t.oursEndpoint), run(t.realEndpoint)]);
      assertSame(ours, real, t.logs);
      assert.equal(ours.at(-1), 'Auth.userList root ERR 16 etcdserver: invalid auth token');
    });
  });
});
