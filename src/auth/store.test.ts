import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Permission_Type, Role, User } from '../pb/authpb/auth.js';
import { AuthError, type AuthErrorKind } from './errors.js';
import { AUTH_BUCKET, AUTH_ROLES_BUCKET, AUTH_USERS_BUCKET, type AuthWrite } from './records.js';
import { checkTxnRequest, checkWatchCreate } from './request-checks.js';
import { type AuthInfo, AuthStore } from './store.js';

const b = (s: string): Buffer => Buffer.from(s, 'latin1');
const hash = b('$2a$04$hash');

function throwsAuth(fn: () => unknown, kind: AuthErrorKind): void {
  assert.throws(fn, (e: unknown) => e instanceof AuthError && e.kind === kind);
}

/** A backend's auth buckets, kept from the writes the store hands out. */
class Buckets {
  readonly data = new Map<string, Map<string, Uint8Array>>();
  apply(writes: AuthWrite[]): void {
    for (const w of writes) {
      const m = this.data.get(w.bucket) ?? new Map<string, Uint8Array>();
      this.data.set(w.bucket, m);
      if (w.op === 'put') m.set(Buffer.from(w.key).toString('latin1'), w.value);
      else m.delete(Buffer.from(w.key).toString('latin1'));
    }
  }
  entries(bucket: string): [Uint8Array, Uint8Array][] {
    return [...(this.data.get(bucket) ?? new Map<string, Uint8Array>())].map(([k, v]) => [b(k), v]);
  }
  restore(): AuthStore {
    return AuthStore.restore({
      auth: this.entries(AUTH_BUCKET),
      users: this.entries(AUTH_USERS_BUCKET),
      roles: this.entries(AUTH_ROLES_BUCKET),
    });
  }
}

/** root (root role), alice (role rw: readwrite foo, read /p/ prefix), bob (no role); auth enabled. */
function fixture(): { s: AuthStore; disk: Buckets } {
  const s = new AuthStore();
  const disk = new Buckets();
  const w = (writes: AuthWrite[]) => disk.apply(writes);
  w(s.initialWrites());
  w(s.userAdd('root', hash, false));
  w(s.userGrantRole('root', 'root'));
  w(s.roleAdd('rw'));
  w(s.roleGrantPermission('rw', { permType: Permission_Type.READWRITE, key: b('foo'), rangeEnd: b('') }));
  w(s.roleGrantPermission('rw', { permType: Permission_Type.READ, key: b('/p/'), rangeEnd: b('/p0') }));
  w(s.userAdd('alice', hash, false));
  w(s.userGrantRole('alice', 'rw'));
  w(s.userAdd('bob', hash, false));
  w(s.enable());
  return { s, disk };
}

const as = (s: AuthStore, username: string): AuthInfo => ({ username, revision: s.revision });

describe('the auth store', () => {
  test('starts at revision 1; each change raises it, enabling does not', () => {
    const s = new AuthStore();
    assert.deepEqual(s.initialWrites().length, 1);
    assert.equal(s.revision, 1);
    assert.deepEqual(s.initialWrites(), [], 'written once');
    s.userAdd('root', hash, false);
    assert.equal(s.revision, 2);
    s.userGrantRole('root', 'root');
    assert.equal(s.revision, 3);
    s.userGrantRole('root', 'root');
    assert.equal(s.revision, 3, 'granting a held role changes nothing');
    s.enable();
    assert.equal(s.revision, 3);
    s.disable();
    assert.equal(s.revision, 4);
  });

  test('enabling needs root with the root role', () => {
    const s = new AuthStore();
    throwsAuth(() => s.enable(), 'rootUserNotExist');
    s.userAdd('root', hash, false);
    throwsAuth(() => s.enable(), 'rootRoleNotExist');
    s.userGrantRole('root', 'root');
    assert.equal(s.enable().length, 1);
    assert.deepEqual(s.enable(), [], 'enabling again is not an error');
  });

  test("root's rules hold while auth is on, not while it is off", () => {
    const { s } = fixture();
    throwsAuth(() => s.userDelete('root'), 'invalidAuthMgmt');
    throwsAuth(() => s.userRevokeRole('root', 'root'), 'invalidAuthMgmt');
    throwsAuth(() => s.roleDelete('root'), 'invalidAuthMgmt');
    s.disable();
    s.userRevokeRole('root', 'root');
    s.userDelete('root');
  });

  test('names, existence and grants', () => {
    const { s } = fixture();
    throwsAuth(() => s.userAdd('', hash, false), 'userEmpty');
    throwsAuth(() => s.userAdd('bob', hash, false), 'userAlreadyExist');
    throwsAuth(() => s.roleAdd(''), 'roleEmpty');
    throwsAuth(() => s.roleAdd('rw'), 'roleAlreadyExist');
    throwsAuth(() => s.userGrantRole('bob', 'nope'), 'roleNotFound');
    throwsAuth(() => s.userGrantRole('nope', 'rw'), 'userNotFound');
    throwsAuth(() => s.userRevokeRole('bob', 'rw'), 'roleNotGranted');
    throwsAuth(() => s.roleRevokePermission('rw', b('x'), b('')), 'permissionNotGranted');
    throwsAuth(() => s.roleGet('nope'), 'roleNotFound');
    assert.deepEqual(s.userList(), ['alice', 'bob', 'root']);
    assert.deepEqual(s.roleList(), ['rw']);
  });

  test('grants stay sorted by key; the same key and end updates the type', () => {
    const s = new AuthStore();
    s.roleAdd('r');
    const grant = (t: Permission_Type, k: string, e = '') =>
      s.roleGrantPermission('r', { permType: t, key: b(k), rangeEnd: b(e) });
    grant(Permission_Type.READ, 'm');
    grant(Permission_Type.READ, 'a', 'c');
    grant(Permission_Type.WRITE, 'z');
    grant(Permission_Type.READWRITE, 'a', 'c');
    grant(Permission_Type.READ, 'a', 'b');
    const perms = s.roleGet('r').map((p) => `${p.key.toString()}-${p.rangeEnd.toString()}:${p.permType}`);
    assert.deepEqual(perms, ['a-c:2', 'a-b:0', 'm-:0', 'z-:1']);
  });

  test('deleting a role takes it from its users', () => {
    const { s } = fixture();
    s.roleDelete('rw');
    assert.deepEqual(s.userGet('alice'), []);
    throwsAuth(() => s.checkRange(as(s, 'alice'), b('foo'), b('')), 'permissionDenied');
  });

  test("persisted writes restore the same store, in etcd's encodings", () => {
    const { s, disk } = fixture();
    const r = disk.restore();
    assert.equal(r.enabled, true);
    assert.equal(r.revision, s.revision);
    assert.deepEqual(r.userList(), s.userList());
    assert.deepEqual(r.roleGet('rw'), s.roleGet('rw'));
    assert.equal(Buffer.from(disk.data.get(AUTH_BUCKET)?.get('authEnabled') ?? []).toString('hex'), '01');
    assert.equal(
      Buffer.from(disk.data.get(AUTH_BUCKET)?.get('authRevision') ?? []).toString('hex'),
      s.revision.toString(16).padStart(16, '0'),
    );
    // authpb.User{name, password, roles, options{}}: etcd always writes the options message.
    const bob = disk.data.get(AUTH_USERS_BUCKET)?.get('bob') ?? new Uint8Array();
    assert.equal(
      Buffer.from(bob).toString('hex'),
      `0a03626f6212${hash.length.toString(16).padStart(2, '0')}${hash.toString('hex')}2200`,
    );
    assert.deepEqual(User.decode(bob).options, { noPassword: false });
    const rw = Role.decode(disk.data.get(AUTH_ROLES_BUCKET)?.get('rw') ?? new Uint8Array());
    assert.equal(rw.keyPermission.length, 2);
  });

  test('a reload replaces everything', () => {
    const { s } = fixture();
    s.reload({ auth: [], users: [], roles: [] });
    assert.equal(s.enabled, false);
    assert.equal(s.revision, 0);
    assert.deepEqual(s.userList(), []);
  });
});

describe('permission checks', () => {
  test('everything passes while auth is disabled', () => {
    const s = new AuthStore();
    s.checkPut({ username: '', revision: 0 }, b('x'));
    s.checkAdmin(undefined);
  });

  test('no credentials, stale credentials, unknown users', () => {
    const { s } = fixture();
    throwsAuth(() => s.checkRange({ username: '', revision: 0 }, b('foo'), b('')), 'userEmpty');
    throwsAuth(
      () => s.checkRange({ username: 'alice', revision: s.revision - 1 }, b('foo'), b('')),
      'authOldRevision',
    );
    s.checkRange({ username: 'alice', revision: s.revision + 1 }, b('foo'), b(''));
    throwsAuth(() => s.checkRange(as(s, 'ghost'), b('foo'), b('')), 'permissionDenied');
  });

  test('root passes everything; others what their roles grant', () => {
    const { s } = fixture();
    s.checkDeleteRange(as(s, 'root'), b('\0'), b('\0'));
    s.checkPut(as(s, 'alice'), b('foo'));
    s.checkRange(as(s, 'alice'), b('/p/a'), b('/p/b'));
    throwsAuth(() => s.checkPut(as(s, 'alice'), b('/p/a')), 'permissionDenied');
    throwsAuth(() => s.checkRange(as(s, 'bob'), b('foo'), b('')), 'permissionDenied');
  });

  test('a role change is seen by the next check (permissions are not cached across changes)', () => {
    const { s } = fixture();
    s.checkPut(as(s, 'alice'), b('foo'));
    s.roleRevokePermission('rw', b('foo'), b(''));
    throwsAuth(() => s.checkPut(as(s, 'alice'), b('foo')), 'permissionDenied');
    s.roleGrantPermission('rw', { permType: Permission_Type.WRITE, key: b('foo'), rangeEnd: b('') });
    s.checkPut(as(s, 'alice'), b('foo'));
    throwsAuth(() => s.checkRange(as(s, 'alice'), b('foo'), b('')), 'permissionDenied');
  });

  test('admin: no name, unknown user, not root', () => {
    const { s } = fixture();
    throwsAuth(() => s.checkAdmin(undefined), 'userEmpty');
    throwsAuth(() => s.checkAdmin({ username: 'ghost', revision: 1 }), 'userNotFound');
    throwsAuth(() => s.checkAdmin(as(s, 'alice')), 'permissionDenied');
    s.checkAdmin({ username: 'root', revision: 0 });
  });

  test('a txn needs its compares and both branches, nested txns included', () => {
    const { s } = fixture();
    const alice = as(s, 'alice');
    const put = (k: string) => ({
      request: {
        $case: 'requestPut' as const,
        requestPut: {
          key: b(k),
          value: b(''),
          lease: 0n,
          prevKv: false,
          ignoreValue: false,
          ignoreLease: false,
        },
      },
    });
    const txn = { compare: [], success: [put('foo')], failure: [] };
    checkTxnRequest(s, alice, txn);
    throwsAuth(() => checkTxnRequest(s, alice, { ...txn, failure: [put('bar')] }), 'permissionDenied');
    const nested = {
      request: {
        $case: 'requestTxn' as const,
        requestTxn: { compare: [], success: [put('bar')], failure: [] },
      },
    };
    throwsAuth(
      () => checkTxnRequest(s, alice, { compare: [], success: [nested], failure: [] }),
      'permissionDenied',
    );
  });

  test('a from-key watch needs read on every key from its start', () => {
    const { s } = fixture();
    const alice = as(s, 'alice');
    checkWatchCreate(s, alice, b('foo'), b(''));
    throwsAuth(() => checkWatchCreate(s, alice, b('foo'), b('\0')), 'permissionDenied');
    throwsAuth(() => checkWatchCreate(s, alice, b(''), b('')), 'permissionDenied');
  });
});
