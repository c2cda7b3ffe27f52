// The errors the server hands to clients: a gRPC status code and etcd's exact
// message (clients match on the text). Codes and texts are etcd 3.4's
// (api/v3rpc/rpctypes); this is the one table the services translate from.
import { AuthError } from '../auth/errors.js';
import { LeaseError, type LeaseErrorCode } from '../lease/index.js';
import { MvccError, type MvccErrorCode } from '../mvcc/errors.js';
import { authServerError } from './auth-errors.js';
import { MembershipError } from './membership.js';

export const GrpcCode = {
  OK: 0,
  Canceled: 1,
  Unknown: 2,
  InvalidArgument: 3,
  DeadlineExceeded: 4,
  NotFound: 5,
  AlreadyExists: 6,
  PermissionDenied: 7,
  ResourceExhausted: 8,
  FailedPrecondition: 9,
  Aborted: 10,
  OutOfRange: 11,
  Unimplemented: 12,
  Internal: 13,
  Unavailable: 14,
  DataLoss: 15,
  Unauthenticated: 16,
} as const;
export type GrpcCode = (typeof GrpcCode)[keyof typeof GrpcCode];

/** An error with a client-facing status. */
export class ServerError extends Error {
  constructor(
    readonly code: GrpcCode,
    message: string,
  ) {
    super(message);
    this.name = 'ServerError';
  }
}

function make(code: GrpcCode, message: string): () => ServerError {
  return () => new ServerError(code, message);
}

export const Errors = {
  emptyKey: make(GrpcCode.InvalidArgument, 'etcdserver: key is not provided'),
  keyNotFound: make(GrpcCode.InvalidArgument, 'etcdserver: key not found'),
  valueProvided: make(GrpcCode.InvalidArgument, 'etcdserver: value is provided'),
  leaseProvided: make(GrpcCode.InvalidArgument, 'etcdserver: lease is provided'),
  tooManyOps: make(GrpcCode.InvalidArgument, 'etcdserver: too many operations in txn request'),
  duplicateKey: make(GrpcCode.InvalidArgument, 'etcdserver: duplicate key given in txn request'),
  compacted: make(GrpcCode.OutOfRange, 'etcdserver: mvcc: required revision has been compacted'),
  futureRev: make(GrpcCode.OutOfRange, 'etcdserver: mvcc: required revision is a future revision'),
  noSpace: make(GrpcCode.ResourceExhausted, 'etcdserver: mvcc: database space exceeded'),
  leaseNotFound: make(GrpcCode.NotFound, 'etcdserver: requested lease not found'),
  leaseExist: make(GrpcCode.FailedPrecondition, 'etcdserver: lease already exists'),
  leaseTtlTooLarge: make(GrpcCode.OutOfRange, 'etcdserver: too large lease TTL'),
  memberNotFound: make(GrpcCode.NotFound, 'etcdserver: member not found'),
  requestTooLarge: make(GrpcCode.InvalidArgument, 'etcdserver: request is too large'),
  tooManyRequests: make(GrpcCode.ResourceExhausted, 'etcdserver: too many requests'),
  noLeader: make(GrpcCode.Unavailable, 'etcdserver: no leader'),
  notLeader: make(GrpcCode.FailedPrecondition, 'etcdserver: not leader'),
  badLeaderTransferee: make(GrpcCode.FailedPrecondition, 'etcdserver: bad leader transferee'),
  // Not in etcd's v3rpc error table, so it leaves as Unknown.
  timeoutLeaderTransfer: make(
    GrpcCode.Unknown,
    'etcdserver: request timed out, leader transfer took too long',
  ),
  leaderChanged: make(GrpcCode.Unavailable, 'etcdserver: leader changed'),
  stopped: make(GrpcCode.Unavailable, 'etcdserver: server stopped'),
  timeout: make(GrpcCode.Unavailable, 'etcdserver: request timed out'),
  timeoutWaitApplied: make(
    GrpcCode.Unavailable,
    'etcdserver: request timed out, waiting for the applied index took too long',
  ),
  corrupt: make(GrpcCode.DataLoss, 'etcdserver: corrupt cluster'),
} as const;

const MVCC_ERRORS: Record<MvccErrorCode, () => ServerError> = {
  compacted: Errors.compacted,
  'future-rev': Errors.futureRev,
  'key-not-found': Errors.keyNotFound,
  'value-provided': Errors.valueProvided,
  'lease-provided': Errors.leaseProvided,
  'empty-key': Errors.emptyKey,
  'duplicate-key': Errors.duplicateKey,
  'too-many-ops': Errors.tooManyOps,
  'lease-not-found': Errors.leaseNotFound,
  closed: Errors.stopped,
};

const LEASE_ERRORS: Record<LeaseErrorCode, () => ServerError> = {
  'lease-not-found': Errors.leaseNotFound,
  'lease-exists': Errors.leaseExist,
  'ttl-too-large': Errors.leaseTtlTooLarge,
  // Only the leader renews; forwarding to it comes with clusters.
  'not-primary': Errors.notLeader,
  // etcd's renew waits for the pending revoke and then answers "not found".
  'lease-expired': Errors.leaseNotFound,
};

/** Turns anything thrown below the API into a ServerError (unknown errors keep their text). */
/** Apply-time membership rejections as etcd's v3rpc reports them. */
const MEMBERSHIP_ERRORS: Record<MembershipError['kind'], () => ServerError> = {
  removed: Errors.memberNotFound,
  notFound: Errors.memberNotFound,
  exists: make(GrpcCode.FailedPrecondition, 'etcdserver: member ID already exist'),
  peerUrlExists: make(GrpcCode.FailedPrecondition, 'etcdserver: Peer URLs already exists'),
  notLearner: make(GrpcCode.FailedPrecondition, 'etcdserver: can only promote a learner member'),
  tooManyLearners: make(GrpcCode.FailedPrecondition, 'etcdserver: too many learner members in cluster'),
};

export function toServerError(err: unknown): ServerError {
  if (err instanceof ServerError) return err;
  if (err instanceof MvccError) return MVCC_ERRORS[err.code]();
  if (err instanceof LeaseError) return LEASE_ERRORS[err.code]();
  if (err instanceof MembershipError) return MEMBERSHIP_ERRORS[err.kind]();
  if (err instanceof AuthError) return authServerError(err);
  const message = err instanceof Error ? err.message : String(err);
  return new ServerError(GrpcCode.Unknown, message);
}
