// The Auth service as served: etcd 3.4's methods plus etcd 3.5's AuthStatus
// (codec in src/auth/status-codec.ts).
import { AuthStatusRequest, AuthStatusResponse } from '../../auth/status-codec.js';
import { AuthDefinition } from '../../pb/etcdserverpb/rpc.js';

/** etcd 3.4's Auth service plus 3.5's AuthStatus. */
export const AuthWithStatusDefinition = {
  ...AuthDefinition,
  methods: {
    ...AuthDefinition.methods,
    authStatus: {
      name: 'AuthStatus',
      requestType: AuthStatusRequest,
      requestStream: false,
      responseType: AuthStatusResponse,
      responseStream: false,
      options: {},
    },
  },
} as const;
