// The auth requests that travel through raft (etcd's InternalRaftRequest
// fields 1000-1204) and what applying each one yields. One table, as
// server/ops.ts has for the other kinds: the raft op `{ kind: 'auth', req: AuthOp }`
// carries one of these, and its result names the same type.
import type { Permission } from '../pb/authpb/auth.js';
import type {
  AuthDisableRequest,
  AuthEnableRequest,
  AuthRoleAddRequest,
  AuthRoleDeleteRequest,
  AuthRoleGetRequest,
  AuthRoleGrantPermissionRequest,
  AuthRoleListRequest,
  AuthRoleRevokePermissionRequest,
  AuthUserAddRequest,
  AuthUserChangePasswordRequest,
  AuthUserDeleteRequest,
  AuthUserGetRequest,
  AuthUserGrantRoleRequest,
  AuthUserListRequest,
  AuthUserRevokeRoleRequest,
} from '../pb/etcdserverpb/rpc.js';

/** etcd's InternalAuthenticateRequest: the password was checked before proposing, so it stays empty. */
export interface InternalAuthenticateRequest {
  name: string;
  password: string;
  /** The random prefix of the simple token this entry issues ("" with JWT). */
  simpleToken: string;
}

/**
 * A password change as proposed: etcd 3.4 members hash `password` themselves
 * when they apply it; etcd-ts members use `hashedPassword` (bcrypt, base64, as
 * etcd 3.5 writes it) so that no member hashes inside the apply loop.
 */
export interface WithHashedPassword {
  hashedPassword: string;
}

export interface AuthOpRequests {
  authEnable: AuthEnableRequest;
  authDisable: AuthDisableRequest;
  authenticate: InternalAuthenticateRequest;
  userAdd: AuthUserAddRequest & WithHashedPassword;
  userDelete: AuthUserDeleteRequest;
  userGet: AuthUserGetRequest;
  userChangePassword: AuthUserChangePasswordRequest & WithHashedPassword;
  userGrantRole: AuthUserGrantRoleRequest;
  userRevokeRole: AuthUserRevokeRoleRequest;
  userList: AuthUserListRequest;
  roleList: AuthRoleListRequest;
  roleAdd: AuthRoleAddRequest;
  roleDelete: AuthRoleDeleteRequest;
  roleGet: AuthRoleGetRequest;
  roleGrantPermission: AuthRoleGrantPermissionRequest;
  roleRevokePermission: AuthRoleRevokePermissionRequest;
}

export type AuthOpType = keyof AuthOpRequests;

// biome-ignore lint/complexity/noBannedTypes: an applied change that answers nothing but its header
type Nothing = {};

export interface AuthOpResults {
  authEnable: Nothing;
  authDisable: Nothing;
  /** The token, issued lazily: only the member that answers the client signs a JWT. */
  authenticate: { issue(): Promise<string> };
  userAdd: Nothing;
  userDelete: Nothing;
  userGet: { roles: string[] };
  userChangePassword: Nothing;
  userGrantRole: Nothing;
  userRevokeRole: Nothing;
  userList: { users: string[] };
  roleList: { roles: string[] };
  roleAdd: Nothing;
  roleDelete: Nothing;
  roleGet: { perm: Permission[] };
  roleGrantPermission: Nothing;
  roleRevokePermission: Nothing;
}

export type AuthOp = { [K in AuthOpType]: { type: K; req: AuthOpRequests[K] } }[AuthOpType];

/** What applying an auth op returns: its result, and the store revision at that point (for the header). */
export type AuthOutcome = { [K in AuthOpType]: { type: K; res: AuthOpResults[K] } }[AuthOpType] & {
  revision: number;
};

/** The result of `type` out of an outcome of the op of that type. */
export function resultOf<K extends AuthOpType>(outcome: AuthOutcome, type: K): AuthOpResults[K] {
  if (outcome.type !== type) throw new Error(`auth: ${type} answered as ${outcome.type}`);
  return outcome.res as AuthOpResults[K];
}

/** The requests etcd 3.4 lets only root apply (its needAdminPermission). */
export const ADMIN_OPS: ReadonlySet<AuthOpType> = new Set<AuthOpType>([
  'authEnable',
  'authDisable',
  'userAdd',
  'userDelete',
  'userChangePassword',
  'userGrantRole',
  'userRevokeRole',
  'roleAdd',
  'roleGrantPermission',
  'roleRevokePermission',
  'roleDelete',
  'userList',
  'roleList',
]);
