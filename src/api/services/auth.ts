// etcdserverpb.Auth: every call proposes on behalf of its caller (a token
// that is not valid fails first, as etcd resolves it to build the raft
// header), except Authenticate, which checks the password first, and
// AuthStatus (etcd 3.5's), which needs no credentials.
import type { AuthPort } from '../../server/ports.js';
import type { ServiceImplementation } from '../grpc/types.js';
import type { AuthWithStatusDefinition } from './auth-status.js';
import { type Identify, NO_CHECK, onBehalf } from './credentials.js';
import { guarded, toGrpcError } from './errors.js';

export function authService(
  auth: AuthPort,
  identify: Identify,
): ServiceImplementation<typeof AuthWithStatusDefinition> {
  const as = <Req, Res>(fn: (req: Req, who: Awaited<ReturnType<Identify>>) => Promise<Res>) =>
    onBehalf(identify, NO_CHECK, fn);
  return {
    authEnable: as((_req, who) => auth.authEnable(who)),
    authDisable: as((_req, who) => auth.authDisable(who)),
    authStatus: guarded(async () => auth.authStatus()),
    authenticate: async (req, ctx) => {
      try {
        return await auth.authenticate(req, async () => identify(ctx));
      } catch (err) {
        throw toGrpcError(err);
      }
    },
    userAdd: as((req, who) => auth.userAdd(req, who)),
    userGet: as((req, who) => auth.userGet(req, who)),
    userList: as((_req, who) => auth.userList(who)),
    userDelete: as((req, who) => auth.userDelete(req, who)),
    userChangePassword: as((req, who) => auth.userChangePassword(req, who)),
    userGrantRole: as((req, who) => auth.userGrantRole(req, who)),
    userRevokeRole: as((req, who) => auth.userRevokeRole(req, who)),
    roleAdd: as((req, who) => auth.roleAdd(req, who)),
    roleGet: as((req, who) => auth.roleGet(req, who)),
    roleList: as((_req, who) => auth.roleList(who)),
    roleDelete: as((req, who) => auth.roleDelete(req, who)),
    roleGrantPermission: as((req, who) => auth.roleGrantPermission(req, who)),
    roleRevokePermission: as((req, who) => auth.roleRevokePermission(req, who)),
  };
}
