// Auth failures as etcd's gRPC errors (v3rpc's toGRPCErrorMap entries for the
// auth store's errors, with rpctypes' codes and "etcdserver: ..." texts).
// Failures etcd leaves out of that map (a no-password user trying a password,
// a verify-only JWT key asked to sign) leave as UNKNOWN with the auth text.
import type { AuthError, AuthErrorKind } from '../auth/index.js';
import { GrpcCode, ServerError } from './errors.js';

// Built on first use: errors.ts imports this module, so GrpcCode is not ready at load time.
let table: Partial<Record<AuthErrorKind, [GrpcCode, string]>> | undefined;

const buildTable = (): Partial<Record<AuthErrorKind, [GrpcCode, string]>> => ({
  rootUserNotExist: [GrpcCode.FailedPrecondition, 'etcdserver: root user does not exist'],
  rootRoleNotExist: [GrpcCode.FailedPrecondition, 'etcdserver: root user does not have root role'],
  userAlreadyExist: [GrpcCode.FailedPrecondition, 'etcdserver: user name already exists'],
  userEmpty: [GrpcCode.InvalidArgument, 'etcdserver: user name is empty'],
  userNotFound: [GrpcCode.FailedPrecondition, 'etcdserver: user name not found'],
  roleAlreadyExist: [GrpcCode.FailedPrecondition, 'etcdserver: role name already exists'],
  roleNotFound: [GrpcCode.FailedPrecondition, 'etcdserver: role name not found'],
  roleEmpty: [GrpcCode.InvalidArgument, 'etcdserver: role name is empty'],
  authFailed: [GrpcCode.InvalidArgument, 'etcdserver: authentication failed, invalid user ID or password'],
  permissionDenied: [GrpcCode.PermissionDenied, 'etcdserver: permission denied'],
  roleNotGranted: [GrpcCode.FailedPrecondition, 'etcdserver: role is not granted to the user'],
  permissionNotGranted: [GrpcCode.FailedPrecondition, 'etcdserver: permission is not granted to the role'],
  authNotEnabled: [GrpcCode.FailedPrecondition, 'etcdserver: authentication is not enabled'],
  invalidAuthToken: [GrpcCode.Unauthenticated, 'etcdserver: invalid auth token'],
  invalidAuthMgmt: [GrpcCode.InvalidArgument, 'etcdserver: invalid auth management'],
  authOldRevision: [GrpcCode.InvalidArgument, 'etcdserver: revision of auth store is old'],
});

export function authServerError(err: AuthError): ServerError {
  table ??= buildTable();
  const mapped = table[err.kind];
  return mapped === undefined ? new ServerError(GrpcCode.Unknown, err.message) : new ServerError(...mapped);
}

/** The auth error's own text with UNKNOWN, as etcd's maintenance service returns them untranslated. */
export function untranslatedAuthError(err: AuthError): ServerError {
  return new ServerError(GrpcCode.Unknown, err.message);
}
