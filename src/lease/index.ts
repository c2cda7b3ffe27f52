// The lease core: a pure lessor plus its persistence codec and timing helpers.
export { LeaseError, type LeaseErrorCode, LeaseInvariantError } from './errors.js';
export { ExpiryQueue, type QueueEntry } from './expiry-queue.js';
export { Lessor, type LessorObserver } from './lessor.js';
export { electionTimeoutMs, minLeaseTtlSec, requestTimeoutMs, revokeLimitPerRound } from './limits.js';
export { decodeLeaseRecord, encodeLeaseRecord, leaseIdFromKey, leaseKey } from './record.js';
export * from './types.js';
