// What a member reports as it works, for whoever watches it (the metrics, in
// src/metrics): plain optional callbacks, so the member's parts stay free of any
// metrics library and a member without an observer pays nothing. Each callback
// fires where etcd 3.4 moves the matching metric.
import type { PeerObserver } from '../peer/observer.js';
import { type Message, MessageType } from '../raft/types.js';
import { type Clock, realClock } from '../runtime/clock.js';
import type { MemberState } from './member-state.js';
import type { KvPort } from './ports.js';
import { isTxnReadOnly } from './read-txn.js';

export interface MemberObserver {
  /** A proposal entered raft and now waits to be applied (+1), or stopped waiting (-1). */
  proposalPending?(delta: 1 | -1): void;
  /** A proposal could not enter raft, or timed out waiting to be applied. */
  proposalFailed?(): void;
  /** An apply (or a read-only range/txn) took longer than --experimental-warning-apply-duration. */
  slowApply?(): void;
  /** The leader sent a heartbeat to `to` later than twice the heartbeat interval after the last one. */
  heartbeatSendFailed?(to: bigint): void;
  /** A read index request could not be sent to raft. */
  readIndexFailed?(): void;
  /** A read index answer was for an earlier request, or no answer came in time. */
  slowReadIndex?(): void;
  /** A lease was granted (applied) with this TTL in seconds, after raising it to the minimum. */
  leaseGranted?(ttlSec: number): void;
  /** A lease was revoked (applied). */
  leaseRevoked?(): void;
  /** The leader renewed a lease (a keep-alive). */
  leaseRenewed?(): void;
  /** Events sent to watch clients (etcd_debugging_mvcc_events_total). */
  watchEventsSent?(count: number): void;
  /** The peer transport's events (bytes, failures, active peers, round trips, snapshots). */
  peer?: PeerObserver;
}

/**
 * The raft loop's transport seen through etcd's heartbeat timeout detector: while leading,
 * a heartbeat to a peer sent more than two heartbeat intervals after the previous one to
 * the same peer is a late heartbeat (etcd: "leader failed to send out heartbeat on time",
 * usually a slow disk holding the loop back). Restarts whenever leadership changes.
 */
export class HeartbeatDelays {
  private readonly lastSent = new Map<bigint, number>();
  private readonly maxGapMs: number;

  constructor(
    private readonly inner: { send(messages: Message[]): void },
    state: Pick<MemberState, 'onLeadership'>,
    heartbeatMs: number,
    private readonly clock: Pick<Clock, 'now'>,
    private readonly onLate: (to: bigint) => void,
  ) {
    this.maxGapMs = 2 * heartbeatMs;
    state.onLeadership(() => this.lastSent.clear());
  }

  send(messages: Message[]): void {
    const now = this.clock.now();
    for (const m of messages) {
      if (m.type !== MessageType.Heartbeat) continue;
      const last = this.lastSent.get(m.to);
      this.lastSent.set(m.to, now);
      if (last !== undefined && now - last > this.maxGapMs) this.onLate(m.to);
    }
    this.inner.send(messages);
  }
}

/**
 * `kv` whose ranges and read-only txns (served without raft) count as slow applies when they
 * take longer than `thresholdMs`, linearizable wait included, as etcd's v3 server times them.
 */
export function observeSlowReads(
  kv: KvPort,
  thresholdMs: number,
  onSlow: () => void,
  /** The member's monotonic clock (virtual under the simulator); default the real one. */
  monotonic: () => number = realClock.monotonic,
): KvPort {
  const timed = async <T>(read: () => Promise<T>): Promise<T> => {
    const started = monotonic();
    try {
      return await read();
    } finally {
      if (monotonic() - started > thresholdMs) onSlow();
    }
  };
  return {
    range: (req, who) => timed(() => kv.range(req, who)),
    put: (req, who) => kv.put(req, who),
    deleteRange: (req, who) => kv.deleteRange(req, who),
    txn: (req, who) => (isTxnReadOnly(req) ? timed(() => kv.txn(req, who)) : kv.txn(req, who)),
    compact: (req, who) => kv.compact(req, who),
  };
}
