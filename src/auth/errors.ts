// The auth core's failures, with etcd 3.4's own texts ("auth: ..."). Clients
// usually see them translated to etcd's gRPC errors (server/auth-errors.ts),
// but some services hand them out untranslated, as etcd's do, so the text here
// is itself part of the wire contract.

const MESSAGES = {
  rootUserNotExist: 'auth: root user does not exist',
  rootRoleNotExist: 'auth: root user does not have root role',
  userAlreadyExist: 'auth: user already exists',
  userEmpty: 'auth: user name is empty',
  userNotFound: 'auth: user not found',
  roleAlreadyExist: 'auth: role already exists',
  roleNotFound: 'auth: role not found',
  roleEmpty: 'auth: role name is empty',
  authFailed: 'auth: authentication failed, invalid user ID or password',
  noPasswordUser: 'auth: authentication failed, password was given for no password user',
  permissionDenied: 'auth: permission denied',
  roleNotGranted: 'auth: role is not granted to the user',
  permissionNotGranted: 'auth: permission is not granted to the role',
  authNotEnabled: 'auth: authentication is not enabled',
  authOldRevision: 'auth: revision in header is old',
  invalidAuthToken: 'auth: invalid auth token',
  invalidAuthOpts: 'auth: invalid auth options',
  invalidAuthMgmt: 'auth: invalid auth management',
  invalidAuthMethod: 'auth: invalid auth signature method',
  missingKey: 'auth: missing key data',
  keyMismatch: "auth: public and private keys don't match",
  verifyOnly: 'auth: token signing attempted with verify-only key',
} as const;

export type AuthErrorKind = keyof typeof MESSAGES;

export class AuthError extends Error {
  constructor(readonly kind: AuthErrorKind) {
    super(MESSAGES[kind]);
    this.name = 'AuthError';
  }
}

export function authError(kind: AuthErrorKind): AuthError {
  return new AuthError(kind);
}
