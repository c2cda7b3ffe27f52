// Errors mvcc reports to its callers. Messages are etcd's own strings (clients
// match on them); `code` is a stable handle for the server's gRPC error table.

export type MvccErrorCode =
  | 'compacted'
  | 'future-rev'
  | 'key-not-found'
  | 'value-provided'
  | 'lease-provided'
  | 'empty-key'
  | 'duplicate-key'
  | 'too-many-ops'
  | 'lease-not-found'
  | 'closed';

const MESSAGES: Record<MvccErrorCode, string> = {
  compacted: 'mvcc: required revision has been compacted',
  'future-rev': 'mvcc: required revision is a future revision',
  'key-not-found': 'etcdserver: key not found',
  'value-provided': 'etcdserver: value is provided',
  'lease-provided': 'etcdserver: lease is provided',
  'empty-key': 'etcdserver: key is not provided',
  'duplicate-key': 'etcdserver: duplicate key given in txn request',
  'too-many-ops': 'etcdserver: too many operations in txn request',
  'lease-not-found': 'lease not found',
  closed: 'mvcc: closed',
};

export class MvccError extends Error {
  readonly code: MvccErrorCode;

  constructor(code: MvccErrorCode) {
    super(MESSAGES[code]);
    this.name = 'MvccError';
    this.code = code;
  }
}

/** Invariant violation: a bug or a corrupt backend, never a client error. */
export function assertInvariant(condition: boolean, what: string): asserts condition {
  if (!condition) throw new Error(`mvcc invariant violated: ${what}`);
}
