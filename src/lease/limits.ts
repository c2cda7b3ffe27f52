// Pure helpers that derive the lessor's numbers from a member's raft timing, the way etcd's server
// does (etcdserver/server.go, etcdserver/config.go), and the per-round revoke budget.

import { EXPIRY_CHECK_INTERVAL_MS, LEASE_REVOKE_RATE } from './types.js';

/**
 * The smallest TTL a lease gets: one and a half election timeouts, in whole ticks (integer halving),
 * rounded up to whole seconds. With etcd's defaults (10 ticks of 100 ms) this is 2 s.
 */
export function minLeaseTtlSec(electionTicks: number, heartbeatMs: number): number {
  if (!Number.isInteger(electionTicks) || electionTicks <= 0)
    throw new RangeError('electionTicks must be > 0');
  if (!(heartbeatMs > 0)) throw new RangeError('heartbeatMs must be > 0');
  const ms = Math.floor((3 * electionTicks) / 2) * heartbeatMs;
  return Math.max(1, Math.ceil(ms / 1000));
}

/** The election timeout in ms; etcd extends every lease by this much when a leader promotes its lessor. */
export function electionTimeoutMs(electionTicks: number, tickMs: number): number {
  return electionTicks * tickMs;
}

/**
 * etcd's request timeout: 5 s plus two election timeouts. The server hands it to the lessor as the
 * interval after which a lease reported expired but not yet revoked is reported again.
 */
export function requestTimeoutMs(electionTicks: number, tickMs: number): number {
  return 5000 + 2 * electionTimeoutMs(electionTicks, tickMs);
}

/**
 * How many expired leases one expiry round may hand out for revocation: the revoke rate spread over
 * the rounds of a second (etcd: 1000/s checked every 500 ms gives 500 per round). Never below 1.
 */
export function revokeLimitPerRound(
  roundMs: number = EXPIRY_CHECK_INTERVAL_MS,
  ratePerSec: number = LEASE_REVOKE_RATE,
): number {
  if (!(roundMs > 0) || !(ratePerSec > 0)) throw new RangeError('round and rate must be > 0');
  return Math.max(1, Math.floor((ratePerSec * roundMs) / 1000));
}
