// The auth store: users, roles, their permissions, the enabled flag and the
// auth revision, as etcd 3.4's authStore keeps them -- a pure state machine.
// Every change is applied from a committed raft entry on every member, so the
// methods below are deterministic: passwords arrive already hashed, tokens are
// someone else's business (tokens.ts), and each change returns the backend
// writes that persist it (records.ts) instead of doing any I/O.
//
// The auth revision counts changes (etcd's commitRevision): every successful
// user/role change and disabling auth raise it; enabling auth does not. A
// request checked against an older revision than the store's is refused with
// "revision in header is old", which is how a changed permission reaches
// requests already in flight.
import { type Permission, Permission_Type, type Role, type User } from '../pb/authpb/auth.js';
import { authError } from './errors.js';
import { type Access, UserPermissions } from './permissions.js';
import {
  type AuthBuckets,
  type AuthWrite,
  decodeRevision,
  decodeRole,
  decodeUser,
  ENABLED_KEY,
  enabledWrite,
  REVISION_KEY,
  revisionWrite,
  roleDelete,
  roleWrite,
  userDelete,
  userWrite,
} from './records.js';

export const ROOT_USER = 'root';
export const ROOT_ROLE = 'root';

/** Who a request runs as: etcd's AuthInfo (from a token or a client certificate). */
export interface AuthInfo {
  username: string;
  /** The auth revision the credentials were issued (simple tokens: checked) at; 0 = no credentials. */
  revision: number;
}

/** A password hash as the store keeps it (bcrypt's "$2a$..." text as bytes). */
export type PasswordHash = Uint8Array;

function byBytes(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a), Buffer.from(b));
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return Buffer.compare(a, b) === 0;
}

function hasRootRole(u: User): boolean {
  return u.roles.includes(ROOT_ROLE);
}

export class AuthStore {
  private readonly users = new Map<string, User>();
  private readonly roles = new Map<string, Role>();
  private enabled_ = false;
  private revision_ = 0;
  /** Merged permissions per user, rebuilt on demand after any change (etcd's rangePermCache). */
  private readonly permCache = new Map<string, UserPermissions>();

  /** The store as the backend's auth buckets hold it. */
  static restore(b: AuthBuckets): AuthStore {
    const s = new AuthStore();
    s.reload(b);
    return s;
  }

  /** Replaces everything with what the buckets hold (a snapshot installed a new backend). */
  reload(b: AuthBuckets): void {
    this.users.clear();
    this.roles.clear();
    this.permCache.clear();
    this.enabled_ = false;
    this.revision_ = 0;
    for (const [k, v] of b.auth) {
      if (sameBytes(k, ENABLED_KEY)) this.enabled_ = v.length === 1 && v[0] === 1;
      else if (sameBytes(k, REVISION_KEY)) this.revision_ = decodeRevision(v);
    }
    for (const [, v] of b.users) {
      const u = decodeUser(v);
      this.users.set(u.name.toString(), u);
    }
    for (const [, v] of b.roles) {
      const r = decodeRole(v);
      this.roles.set(r.name.toString(), r);
    }
  }

  /** etcd starts a fresh store at revision 1 (written on first start, outside any entry). */
  initialWrites(): AuthWrite[] {
    if (this.revision_ !== 0) return [];
    this.revision_ = 1;
    return [revisionWrite(1)];
  }

  get enabled(): boolean {
    return this.enabled_;
  }

  get revision(): number {
    return this.revision_;
  }

  private commitRevision(writes: AuthWrite[]): AuthWrite[] {
    this.revision_++;
    this.permCache.clear();
    writes.push(revisionWrite(this.revision_));
    return writes;
  }

  private user(name: string): User {
    const u = this.users.get(name);
    if (u === undefined) throw authError('userNotFound');
    return u;
  }

  private role(name: string): Role {
    const r = this.roles.get(name);
    if (r === undefined) throw authError('roleNotFound');
    return r;
  }

  // ---- applied changes ----------------------------------------------------

  /** Needs a root user holding the root role; enabling twice is not an error. */
  enable(): AuthWrite[] {
    if (this.enabled_) return [];
    const root = this.users.get(ROOT_USER);
    if (root === undefined) throw authError('rootUserNotExist');
    if (!hasRootRole(root)) throw authError('rootRoleNotExist');
    this.enabled_ = true;
    this.permCache.clear();
    return [enabledWrite(true)];
  }

  disable(): AuthWrite[] {
    if (!this.enabled_) return [];
    this.enabled_ = false;
    return this.commitRevision([enabledWrite(false)]);
  }

  /** `hash` is undefined for a user without password (certificate-only). */
  userAdd(name: string, hash: PasswordHash | undefined, noPassword: boolean): AuthWrite[] {
    if (name.length === 0) throw authError('userEmpty');
    if (this.users.has(name)) throw authError('userAlreadyExist');
    const user: User = {
      name: Buffer.from(name),
      password: noPassword || hash === undefined ? Buffer.alloc(0) : Buffer.from(hash),
      roles: [],
      options: { noPassword },
    };
    this.users.set(name, user);
    return this.commitRevision([userWrite(user)]);
  }

  userDelete(name: string): AuthWrite[] {
    if (this.enabled_ && name === ROOT_USER) throw authError('invalidAuthMgmt');
    this.user(name);
    this.users.delete(name);
    return this.commitRevision([userDelete(name)]);
  }

  userChangePassword(name: string, hash: PasswordHash): AuthWrite[] {
    const old = this.user(name);
    const user: User = { ...old, name: Buffer.from(name), password: Buffer.from(hash) };
    this.users.set(name, user);
    return this.commitRevision([userWrite(user)]);
  }

  /** The root role need not exist as a role to be granted; granting a held role changes nothing. */
  userGrantRole(name: string, role: string): AuthWrite[] {
    const old = this.user(name);
    if (role !== ROOT_ROLE) this.role(role);
    if (old.roles.includes(role)) return [];
    const user: User = { ...old, roles: [...old.roles, role].sort(byBytes) };
    this.users.set(name, user);
    return this.commitRevision([userWrite(user)]);
  }

  userRevokeRole(name: string, role: string): AuthWrite[] {
    if (this.enabled_ && name === ROOT_USER && role === ROOT_ROLE) throw authError('invalidAuthMgmt');
    const old = this.user(name);
    const roles = old.roles.filter((r) => r !== role);
    if (roles.length === old.roles.length) throw authError('roleNotGranted');
    const user: User = { ...old, roles };
    this.users.set(name, user);
    return this.commitRevision([userWrite(user)]);
  }

  roleAdd(name: string): AuthWrite[] {
    if (name.length === 0) throw authError('roleEmpty');
    if (this.roles.has(name)) throw authError('roleAlreadyExist');
    const role: Role = { name: Buffer.from(name), keyPermission: [] };
    this.roles.set(name, role);
    return this.commitRevision([roleWrite(role)]);
  }

  /** Deleting a role also takes it away from every user holding it. */
  roleDelete(name: string): AuthWrite[] {
    if (this.enabled_ && name === ROOT_ROLE) throw authError('invalidAuthMgmt');
    this.role(name);
    this.roles.delete(name);
    const writes: AuthWrite[] = [roleDelete(name)];
    for (const [userName, u] of [...this.users].sort(([a], [b]) => byBytes(a, b))) {
      const roles = u.roles.filter((r) => r !== name);
      if (roles.length === u.roles.length) continue;
      const updated: User = { ...u, roles };
      this.users.set(userName, updated);
      writes.push(userWrite(updated));
    }
    return this.commitRevision(writes);
  }

  /**
   * Permissions stay sorted by key. A grant on the same key and range end as
   * the first permission at that key only changes its type (etcd looks no
   * further than that first one, so a range end granted twice behind another
   * with the same key is appended twice, as in etcd).
   */
  roleGrantPermission(name: string, perm: Permission): AuthWrite[] {
    const old = this.role(name);
    const perms = old.keyPermission.map((p) => ({ ...p }));
    const idx = perms.findIndex((p) => Buffer.compare(p.key, perm.key) >= 0);
    const at = idx < 0 ? undefined : perms[idx];
    if (at !== undefined && sameBytes(at.key, perm.key) && sameBytes(at.rangeEnd, perm.rangeEnd)) {
      at.permType = perm.permType;
    } else {
      perms.push({
        permType: perm.permType,
        key: Buffer.from(perm.key),
        rangeEnd: Buffer.from(perm.rangeEnd),
      });
      // Stable, as Go's sort.Sort is for the small slices roles have.
      perms.sort((a, b) => Buffer.compare(a.key, b.key));
    }
    const role: Role = { name: old.name, keyPermission: perms };
    this.roles.set(name, role);
    return this.commitRevision([roleWrite(role)]);
  }

  roleRevokePermission(name: string, key: Uint8Array, rangeEnd: Uint8Array): AuthWrite[] {
    const old = this.role(name);
    const perms = old.keyPermission.filter((p) => !sameBytes(p.key, key) || !sameBytes(p.rangeEnd, rangeEnd));
    if (perms.length === old.keyPermission.length) throw authError('permissionNotGranted');
    const role: Role = { name: old.name, keyPermission: perms };
    this.roles.set(name, role);
    return this.commitRevision([roleWrite(role)]);
  }

  // ---- queries --------------------------------------------------------------

  userGet(name: string): string[] {
    return [...this.user(name).roles];
  }

  /** Names in the backend's (byte) order. */
  userList(): string[] {
    return [...this.users.keys()].sort(byBytes);
  }

  roleGet(name: string): Permission[] {
    return this.role(name).keyPermission.map((p) => ({ ...p }));
  }

  roleList(): string[] {
    return [...this.roles.keys()].sort(byBytes);
  }

  hasRole(user: string, role: string): boolean {
    return this.users.get(user)?.roles.includes(role) === true;
  }

  /**
   * What checking a password needs (etcd's CheckPassword, before bcrypt): the
   * stored hash and the revision it was read at.
   */
  passwordOf(name: string): { hash: PasswordHash; revision: number } {
    if (!this.enabled_) throw authError('authNotEnabled');
    const u = this.users.get(name);
    if (u === undefined) throw authError('authFailed');
    if (u.options?.noPassword === true) throw authError('noPasswordUser');
    return { hash: u.password, revision: this.revision_ };
  }

  /** Whether an applied Authenticate may issue a token to `name` (etcd's Authenticate). */
  checkAuthenticate(name: string): void {
    if (!this.enabled_) throw authError('authNotEnabled');
    const u = this.users.get(name);
    if (u === undefined || u.options?.noPassword === true) throw authError('authFailed');
  }

  // ---- permission checks ----------------------------------------------------

  /**
   * etcd's isOpPermitted: everything passes while auth is disabled; otherwise
   * the request needs credentials, issued at the current auth revision, of a
   * user who holds the root role or whose roles grant the access.
   */
  checkKeyAccess(who: AuthInfo, access: Access, key: Uint8Array, rangeEnd: Uint8Array): void {
    if (!this.enabled_) return;
    if (who.revision === 0) throw authError('userEmpty');
    if (who.revision < this.revision_) throw authError('authOldRevision');
    const user = this.users.get(who.username);
    if (user === undefined) throw authError('permissionDenied');
    if (hasRootRole(user)) return;
    if (this.permissionsOf(user).permits(access, key, rangeEnd)) return;
    throw authError('permissionDenied');
  }

  checkPut(who: AuthInfo, key: Uint8Array): void {
    this.checkKeyAccess(who, 'write', key, EMPTY);
  }

  checkRange(who: AuthInfo, key: Uint8Array, rangeEnd: Uint8Array): void {
    this.checkKeyAccess(who, 'read', key, rangeEnd);
  }

  checkDeleteRange(who: AuthInfo, key: Uint8Array, rangeEnd: Uint8Array): void {
    this.checkKeyAccess(who, 'write', key, rangeEnd);
  }

  /** etcd's IsAdminPermitted: the user must exist and hold the root role (no revision check). */
  checkAdmin(who: AuthInfo | undefined): void {
    if (!this.enabled_) return;
    if (who === undefined || who.username === '') throw authError('userEmpty');
    const user = this.users.get(who.username);
    if (user === undefined) throw authError('userNotFound');
    if (!hasRootRole(user)) throw authError('permissionDenied');
  }

  private permissionsOf(user: User): UserPermissions {
    const name = user.name.toString();
    let perms = this.permCache.get(name);
    if (perms === undefined) {
      const granted: Permission[] = [];
      for (const r of user.roles) granted.push(...(this.roles.get(r)?.keyPermission ?? []));
      perms = new UserPermissions(granted);
      this.permCache.set(name, perms);
    }
    return perms;
  }
}

const EMPTY = new Uint8Array(0);

/** A permission of type READ on nothing: what a grant without a permission amounts to. */
export const EMPTY_PERMISSION: Permission = {
  permType: Permission_Type.READ,
  key: Buffer.alloc(0),
  rangeEnd: Buffer.alloc(0),
};
