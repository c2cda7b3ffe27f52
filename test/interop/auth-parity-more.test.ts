// More of auth against the real etcd 3.4, each case the same calls on twins
// (etcd-ts and etcd, same identity) ending the same way: Lock and Election
// acting on behalf of their caller; the Maintenance calls auth-parity.test.ts
// leaves out (Hash, Snapshot, MoveLeader); simple tokens living --auth-token-ttl
// seconds after their last use, then refused; and --bcrypt-cost showing in
// the stored hash (read back from a snapshot of each server), an invalid cost
// replaced by the default as etcd does.
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { BoltDb } from '../../src/bbolt/index.js';
import { User } from '../../src/pb/authpb/auth.js';
import { sleep } from '../integration/harness.js';
import { AuthScript, b, type Step } from './auth-script.js';
import { REAL_CTL, REAL_ETCD, runCommand, startTwins, type Twins, twinsForSuite } from './twins.js';

const skip =
  existsSync(REAL_ETCD) && existsSync(REAL_CTL) ? false : 'real etcd/etcdctl 3.4 are not installed';

function assertSame(ours: string[], real: string[], logs: () => string): void {
  for (let i = 0; i < Math.max(ours.length, real.length); i++) {
    if (ours[i] !== real[i]) {
      assert.fail(
        `step ${i} differs:\n  etcd-ts: ${ours[i]}\n  etcd:    ${real[i]}\n\n${ours.join('\n')}\n${logs().slice(-4000)}`,
      );
    }
  }
}

/** Runs `phases` in order on a fresh script per server, both servers at once, pausing between phases. */
async function onBoth(t: Twins, phases: Array<Step[] | number>): Promise<[string[], string[]]> {
  const run = async (endpoint: string): Promise<string[]> => {
    const s = new AuthScript(endpoint);
    try {
      for (const p of phases) {
        if (typeof p === 'number') await sleep(p);
        else await s.run(p);
      }
      return s.lines;
    } finally {
      s.close();
    }
  };
  return Promise.all([run(t.oursEndpoint), run(t.realEndpoint)]);
}

const ROOT_AND_ENABLE: Step[] = [
  { call: 'Auth.userAdd', req: { name: 'root', password: 'rootpw' } },
  { call: 'Auth.userGrantRole', req: { user: 'root', role: 'root' } },
  { call: 'Auth.authEnable' },
  { login: 'root', password: 'rootpw' },
];

// Lease 3001 is alice's, 3002 bob's: lock and leader keys are "<name>/<lease in hex>".
const COORDINATION: Step[] = [
  { call: 'Auth.roleAdd', req: { name: 'co' } },
  {
    call: 'Auth.roleGrantPermission',
    req: { name: 'co', perm: { permType: 'READWRITE', key: b('/a/'), rangeEnd: b('/a0') } },
  },
  { call: 'Auth.userAdd', req: { name: 'alice', password: 'alicepw' } },
  { call: 'Auth.userGrantRole', req: { user: 'alice', role: 'co' } },
  { call: 'Auth.userAdd', req: { name: 'bob', password: 'bobpw' } },
  { call: 'Lease.leaseGrant', req: { ID: 3001, TTL: 600 } },
  { call: 'Lease.leaseGrant', req: { ID: 3002, TTL: 600 } },
  ...ROOT_AND_ENABLE,
  { login: 'alice', password: 'alicepw' },
  { login: 'bob', password: 'bobpw' },
  // Lock: the recipe's txn and reads run as the caller.
  { call: 'Lock.lock', as: 'alice', req: { name: b('/a/lk'), lease: 3001 } },
  { call: 'Lock.lock', as: 'bob', req: { name: b('/a/lk'), lease: 3002 } },
  { call: 'Lock.lock', req: { name: b('/a/lk'), lease: 3002 } },
  { call: 'Lock.lock', as: 'bogus', req: { name: b('/a/lk'), lease: 3002 } },
  { call: 'Lock.unlock', as: 'bob', req: { key: b('/a/lk/bb9') } },
  { call: 'Lock.unlock', as: 'alice', req: { key: b('/a/lk/bb9') } },
  // Election: campaign, leader, proclaim, resign, each allowed for alice and denied to bob.
  { call: 'Election.campaign', as: 'alice', req: { name: b('/a/el'), lease: 3001, value: b('v1') } },
  { call: 'Election.campaign', as: 'bob', req: { name: b('/a/el'), lease: 3002, value: b('v2') } },
  { call: 'Election.campaign', req: { name: b('/a/el'), lease: 3002, value: b('v2') } },
  { call: 'Election.leader', as: 'alice', req: { name: b('/a/el') } },
  { call: 'Election.leader', as: 'bob', req: { name: b('/a/el') } },
  { call: 'Election.leader', as: 'bogus', req: { name: b('/a/el') } },
  {
    call: 'Election.proclaim',
    as: 'bob',
    req: { leader: { name: b('/a/el'), key: b('/a/el/bb9'), rev: 4, lease: 3001 }, value: b('bob') },
  },
  {
    call: 'Election.proclaim',
    as: 'alice',
    req: { leader: { name: b('/a/el'), key: b('/a/el/bb9'), rev: 4, lease: 3001 }, value: b('v3') },
  },
  { call: 'Election.leader', as: 'alice', req: { name: b('/a/el') } },
  {
    call: 'Election.resign',
    as: 'bob',
    req: { leader: { name: b('/a/el'), key: b('/a/el/bb9'), rev: 4, lease: 3001 } },
  },
  {
    call: 'Election.resign',
    as: 'alice',
    req: { leader: { name: b('/a/el'), key: b('/a/el/bb9'), rev: 4, lease: 3001 } },
  },
  { call: 'Election.leader', as: 'alice', req: { name: b('/a/el') } },
  // Outside the granted prefix, alice is denied too.
  { call: 'Lock.lock', as: 'alice', req: { name: b('/b/lk'), lease: 3001 } },
  { call: 'Election.campaign', as: 'alice', req: { name: b('/b/el'), lease: 3001, value: b('v') } },
  { call: 'Lock.lock', as: 'root', req: { name: b('/b/lk'), lease: 3002 } },
];

describe('auth against etcd 3.4, more: lock and election, --auth-token-ttl, --bcrypt-cost', {
  skip,
  timeout: 120_000,
}, () => {
  describe('lock and election on behalf of their caller', () => {
    const twins = twinsForSuite(() => ['--bcrypt-cost=4']);

    test('allowed where the caller may write, denied elsewhere, with the same errors', async () => {
      const t = twins();
      const [ours, real] = await onBoth(t, [COORDINATION]);
      if (process.env.AUTH_DEBUG) console.log(ours.join('\n'));
      assertSame(ours, real, t.logs);
      // Spelled out, so that a change on both sides does not pass unnoticed.
      const line = (prefix: string) => ours.find((l) => l.startsWith(prefix)) ?? '';
      assert.match(line('Lock.lock alice OK'), /"key":"L2EvbGsvYmI5"/); // "/a/lk/bb9"
      assert.equal(line('Lock.lock bob'), 'Lock.lock bob ERR 2 etcdserver: permission denied');
      assert.match(line('Election.campaign alice OK'), /"rev":4,"lease":"3001"/);
      assert.equal(line('Election.leader bob'), 'Election.leader bob ERR 2 etcdserver: permission denied');
      assert.equal(
        line('Election.proclaim bob'),
        'Election.proclaim bob ERR 2 etcdserver: permission denied',
      );
    });
  });

  describe('maintenance: Hash, Snapshot and MoveLeader where etcd 3.4 checks them', () => {
    const twins = twinsForSuite(() => ['--bcrypt-cost=4']);

    test('Hash and Snapshot need root; MoveLeader is not checked', async () => {
      const t = twins();
      const steps: Step[] = [
        { call: 'Auth.userAdd', req: { name: 'alice', password: 'alicepw' } },
        ...ROOT_AND_ENABLE,
        { login: 'alice', password: 'alicepw' },
        { call: 'Maintenance.hash', as: 'alice' },
        { call: 'Maintenance.hash' },
        { call: 'Maintenance.hash', as: 'bogus' },
        { call: 'Maintenance.hash', as: 'root', show: 'code' },
        { call: 'Maintenance.moveLeader', as: 'alice', req: { targetID: 1 } },
        { call: 'Maintenance.moveLeader', req: { targetID: 1 } },
      ];
      const run = async (endpoint: string): Promise<string[]> => {
        const s = new AuthScript(endpoint);
        try {
          const lines = await s.run(steps);
          for (const who of ['alice', undefined, 'bogus', 'root']) lines.push(await s.snapshot(who));
          return lines;
        } finally {
          s.close();
        }
      };
      const [ours, real] = await Promise.all([run(t.oursEndpoint), run(t.realEndpoint)]);
      if (process.env.AUTH_DEBUG) console.log(ours.join('\n'));
      assertSame(ours, real, t.logs);
      assert.ok(ours.includes('Maintenance.hash alice ERR 2 auth: permission denied'));
      assert.ok(ours.includes('Maintenance.snapshot alice ERR 2 auth: permission denied'));
      assert.equal(ours.at(-1), 'Maintenance.snapshot root OK');
    });
  });

  describe('simple tokens and --auth-token-ttl', () => {
    const twins = twinsForSuite(() => ['--bcrypt-cost=4', '--auth-token-ttl=3']);

    test('a token lives for the TTL after its last use, then is refused', async () => {
      const t = twins();
      const use: Step[] = [{ call: 'Auth.userList', as: 'root' }];
      // Used every second for 4 s (longer than the TTL): each use keeps it alive. Then unused for
      // longer than the TTL (plus etcd's one-second sweep): refused, and a new login works.
      const later: Step[] = [...use, { login: 'root', password: 'rootpw' }, ...use];
      const [ours, real] = await onBoth(t, [
        ROOT_AND_ENABLE,
        ...[use, 1000, use, 1000, use, 1000, use, 1000, use],
        5500,
        later,
      ]);
      assertSame(ours, real, t.logs);
      const tail = ours.slice(ROOT_AND_ENABLE.length);
      assert.equal(tail.slice(0, 5).filter((l) => l.startsWith('Auth.userList root OK')).length, 5);
      assert.equal(tail[5], 'Auth.userList root ERR 16 etcdserver: invalid auth token');
      assert.match(tail[7] ?? '', /^Auth\.userList root OK /);
    });
  });

  describe('--bcrypt-cost', () => {
    /** The stored password hash of `user`, read from a snapshot the real etcdctl takes of `endpoint`. */
    async function storedHash(endpoint: string, user: string): Promise<string> {
      const dir = mkdtempSync(join(tmpdir(), 'etcd-ts-bcrypt-'));
      try {
        const file = join(dir, 'snap.db');
        const r = await runCommand(REAL_CTL, [
          `--endpoints=${endpoint}`,
          '--user=root:rootpw',
          'snapshot',
          'save',
          file,
        ]);
        assert.equal(r.code, 0, r.stderr);
        const db = BoltDb.openFile(file);
        try {
          for (const e of db.bucket('authUsers')?.entries() ?? []) {
            if (e.key.toString() === user) return Buffer.from(User.decode(e.value).password).toString();
          }
        } finally {
          db.close();
        }
        throw new Error(`user ${user} not in the snapshot`);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    }

    for (const [flag, stored] of [
      ['5', '$2a$05$'],
      ['3', '$2a$10$'],
    ] as const) {
      test(`--bcrypt-cost=${flag}: hashes stored as "${stored}...", on etcd-ts as on etcd`, async () => {
        const t = await startTwins([`--bcrypt-cost=${flag}`]);
        try {
          const steps: Step[] = [
            { call: 'Auth.userAdd', req: { name: 'u', password: 'upw' } },
            ...ROOT_AND_ENABLE,
            { login: 'u', password: 'upw' },
            { login: 'u', password: 'wrong' },
          ];
          const [ours, real] = await onBoth(t, [steps]);
          assertSame(ours, real, t.logs);
          assert.equal(ours.at(-2), 'login u OK');
          const [ourHash, realHash] = await Promise.all([
            storedHash(t.oursEndpoint, 'u'),
            storedHash(t.realEndpoint, 'u'),
          ]);
          assert.equal(realHash.slice(0, 7), stored);
          assert.equal(ourHash.slice(0, 7), stored);
          assert.equal(ourHash.length, 60);
        } finally {
          await t.stop();
        }
      });
    }
  });
});
