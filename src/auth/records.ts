// The auth state as etcd 3.4 keeps it in its backend, byte for byte: bucket
// "auth" holds "authEnabled" (one byte, 1 or 0) and "authRevision" (uint64,
// big-endian); "authUsers" maps a user name to an authpb.User, "authRoles" a
// role name to an authpb.Role. Snapshots and the bbolt export carry these
// buckets as they are, so the names and encodings here must not drift.
import { Role, User } from '../pb/authpb/auth.js';

export const AUTH_BUCKET = 'auth';
export const AUTH_USERS_BUCKET = 'authUsers';
export const AUTH_ROLES_BUCKET = 'authRoles';
export const ENABLED_KEY = Buffer.from('authEnabled');
export const REVISION_KEY = Buffer.from('authRevision');

/** One change to the auth buckets; the applier writes them in the batch of the entry that made them. */
export type AuthWrite =
  | { op: 'put'; bucket: string; key: Uint8Array; value: Uint8Array }
  | { op: 'delete'; bucket: string; key: Uint8Array };

/** The auth buckets as read back from the backend. */
export interface AuthBuckets {
  auth: Iterable<[Uint8Array, Uint8Array]>;
  users: Iterable<[Uint8Array, Uint8Array]>;
  roles: Iterable<[Uint8Array, Uint8Array]>;
}

export function enabledWrite(enabled: boolean): AuthWrite {
  return { op: 'put', bucket: AUTH_BUCKET, key: ENABLED_KEY, value: Uint8Array.of(enabled ? 1 : 0) };
}

export function revisionWrite(revision: number): AuthWrite {
  const value = Buffer.alloc(8);
  value.writeBigUInt64BE(BigInt(revision));
  return { op: 'put', bucket: AUTH_BUCKET, key: REVISION_KEY, value };
}

export function decodeRevision(value: Uint8Array): number {
  if (value.length !== 8) throw new Error(`auth: revision of ${value.length} bytes`);
  const rev = Buffer.from(value.buffer, value.byteOffset, 8).readBigUInt64BE(0);
  if (rev > BigInt(Number.MAX_SAFE_INTEGER)) throw new Error(`auth: revision ${rev} out of range`);
  return Number(rev);
}

export function userWrite(user: User): AuthWrite {
  return { op: 'put', bucket: AUTH_USERS_BUCKET, key: user.name, value: User.encode(user).finish() };
}

export function roleWrite(role: Role): AuthWrite {
  return { op: 'put', bucket: AUTH_ROLES_BUCKET, key: role.name, value: Role.encode(role).finish() };
}

export function userDelete(name: string): AuthWrite {
  return { op: 'delete', bucket: AUTH_USERS_BUCKET, key: Buffer.from(name) };
}

export function roleDelete(name: string): AuthWrite {
  return { op: 'delete', bucket: AUTH_ROLES_BUCKET, key: Buffer.from(name) };
}

export function decodeUser(value: Uint8Array): User {
  return User.decode(value);
}

export function decodeRole(value: Uint8Array): Role {
  return Role.decode(value);
}
