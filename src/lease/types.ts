// Shared shapes and constants of the lease core. Ids are int64 on the wire and bigint here; TTLs are
// whole seconds and fit in a JS number (the largest allowed TTL is 9e9 s); times are milliseconds of a
// monotonic clock that the shell reads and passes in.

/** A lease id. Valid ids are 1 .. 2^63-1; 0 means "no lease" on a key. */
export type LeaseId = bigint;

/** The id a key carries when it has no lease. */
export const NO_LEASE: LeaseId = 0n;

/** The largest id the lessor accepts (int64 max). */
export const MAX_LEASE_ID: LeaseId = (1n << 63n) - 1n;

/** etcd refuses a grant whose TTL exceeds this many seconds. */
export const MAX_LEASE_TTL_SEC = 9_000_000_000;

/** How many leases etcd revokes per second at most. */
export const LEASE_REVOKE_RATE = 1000;

/** How often etcd's lessor looks for expired leases (ms). */
export const EXPIRY_CHECK_INTERVAL_MS = 500;

/** The lessor's own default for re-reporting a lease whose revoke did not happen (ms). */
export const DEFAULT_EXPIRED_RETRY_MS = 3000;

/** etcd's default spacing of lease checkpoints (5 minutes, in ms). */
export const DEFAULT_CHECKPOINT_INTERVAL_MS = 5 * 60 * 1000;

/** How many revoke proposals etcd's server keeps in flight at once. */
export const MAX_PENDING_REVOKES = 16;

/** The name of the backend bucket holding one record per lease. */
export const LEASE_BUCKET = 'lease';

/**
 * What `timeToLive` reports on a member whose lessor is not primary: etcd turns the "never"
 * expiry (the largest Go duration) into whole seconds, which gives this number.
 */
export const FOREVER_TTL_SEC = 9_223_372_036;

export interface LessorOptions {
  /** Smallest TTL granted, in seconds (>= 1); shorter requests are raised to it. See `minLeaseTtlSec`. */
  minTtlSec: number;
  /**
   * After `expired` reports a lease, it is reported again only if it is still there this many ms later.
   * etcd's server passes its request timeout (see `requestTimeoutMs`); the lessor alone defaults to 3 s.
   */
  expiredRetryMs?: number;
  /** Revokes per second the shell will issue; `promote` spreads expiries to stay under it. Default 1000. */
  revokeRatePerSec?: number;
  /** Turn on lease checkpointing (etcd: --experimental-enable-lease-checkpoint). Default off. */
  checkpointing?: boolean;
  /** How long after a checkpoint (or grant/promote) the next one is due, ms. Default 5 min. */
  checkpointIntervalMs?: number;
  /** Persist checkpointed remaining TTLs (etcd: --experimental-enable-lease-checkpoint-persist). */
  checkpointPersist?: boolean;
}

/** A backend write the server must put into the same batch as the applied entry. */
export interface LeasePut {
  bucket: typeof LEASE_BUCKET;
  key: Uint8Array;
  value: Uint8Array;
}

/** A backend delete the server must put into the same batch as the applied entry. */
export interface LeaseDelete {
  bucket: typeof LEASE_BUCKET;
  key: Uint8Array;
}

/** The persisted form of one lease (etcd's leasepb.Lease). */
export interface LeaseRecord {
  id: LeaseId;
  /** Granted TTL, seconds. */
  ttl: number;
  /** Last checkpointed remaining TTL, seconds; 0 = none. */
  remainingTtl: number;
}

/** A read-only snapshot of one lease. */
export interface LeaseView {
  id: LeaseId;
  /** The TTL the lease was granted with (after raising to the minimum), seconds. */
  grantedTtl: number;
  /** Last checkpointed remaining TTL in seconds, 0 when none. */
  checkpointedTtl: number;
  /** Monotonic ms at which the lease expires; `Infinity` while this lessor is not primary. */
  expiryMs: number;
  /** How many keys are attached. */
  keyCount: number;
}

export interface GrantResult {
  lease: LeaseView;
  /** The record to write in the applying batch. */
  put: LeasePut;
}

export interface RevokeResult {
  /** The attached keys in bytewise order: delete them all at one revision. */
  keys: Uint8Array[];
  /** The record to delete in the same batch. */
  del: LeaseDelete;
}

export interface TimeToLive {
  id: LeaseId;
  /** Remaining whole seconds as etcd reports them (truncated toward zero; may be <= 0 once expired). */
  ttl: number;
  grantedTtl: number;
  /** Attached keys in bytewise order, only when asked for. */
  keys?: Uint8Array[];
}

export interface Attachment {
  key: Uint8Array;
  lease: LeaseId;
}

export interface RestoreResult {
  leases: number;
  attached: number;
  /** Attachments naming a lease that is not in the bucket; etcd logs and skips these. */
  orphans: Attachment[];
}

/** A checkpoint the leader should propose (etcd's LeaseCheckpoint {ID, Remaining_TTL}). */
export interface CheckpointProposal {
  id: LeaseId;
  /** Remaining seconds (rounded up); 0 clears a previous checkpoint. */
  remainingTtl: number;
}
