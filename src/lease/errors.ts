// Errors the lessor reports to the server. `code` is what the server's error table keys on. For the
// three conditions etcd maps to gRPC statuses (v3rpc/util.go) the message is the client-visible text
// from rpctypes; "not primary" has no gRPC mapping in etcd 3.4 (the server forwards to the leader
// instead), so its message is the lessor's internal wording.

export type LeaseErrorCode =
  | 'lease-not-found'
  | 'lease-exists'
  | 'ttl-too-large'
  | 'not-primary'
  /**
   * Renew of a lease whose expiry has passed and whose revoke is pending. etcd blocks such a renew
   * until the lease is revoked (then: not found) or this member stops leading (then: not primary);
   * it never succeeds. The shell decides whether to wait or answer at once.
   */
  | 'lease-expired';

const MESSAGES: Record<LeaseErrorCode, string> = {
  'lease-not-found': 'etcdserver: requested lease not found',
  'lease-exists': 'etcdserver: lease already exists',
  'ttl-too-large': 'etcdserver: too large lease TTL',
  'not-primary': 'not a primary lessor',
  'lease-expired': 'etcdserver: requested lease has expired and awaits revocation',
};

export class LeaseError extends Error {
  readonly code: LeaseErrorCode;

  constructor(code: LeaseErrorCode) {
    super(MESSAGES[code]);
    this.name = 'LeaseError';
    this.code = code;
  }
}

/** A broken invariant: a bug in the caller or a corrupt backend, never a client error. */
export class LeaseInvariantError extends Error {
  constructor(what: string) {
    super(`lease invariant violated: ${what}`);
    this.name = 'LeaseInvariantError';
  }
}

export function invariant(condition: boolean, what: string): asserts condition {
  if (!condition) throw new LeaseInvariantError(what);
}
