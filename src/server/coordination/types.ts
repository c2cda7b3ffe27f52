// What the lock and election recipes need from the member, and what they hand
// back. etcd runs these recipes (clientv3/concurrency) over an in-process
// client; here they run on this narrow view of the server instead, so the
// contract below spells out the client behaviour the recipes rely on.
import type { Event, KeyValue } from '../../mvcc/types.js';
import type {
  DeleteRangeResponse as DeleteOutcome,
  DeleteRangeRequest,
  ResponseHeader as Header,
  RangeResponse as RangeOutcome,
  RangeRequest,
  TxnResponse as TxnOutcome,
  TxnRequest,
} from '../../pb/etcdserverpb/rpc.js';

/** One watch response: the events of one or more revisions, in revision order. */
export interface WatchBatch {
  /** Response header as a Watch stream would carry it (its revision is the store revision it reports). */
  header: Header;
  /** Never empty. */
  events: Event[];
}

/**
 * The member's KV, as etcd's in-process client sees it: every call goes the way
 * the KV service would send it (linearizable reads, writes through raft, quota),
 * and failures are thrown as the server's errors (ServerError/MvccError) so
 * their etcd text survives. Requests and responses are the generated wire
 * messages, as the member's KvPort takes them; responses must carry a header.
 */
export interface CoordinationKv {
  /**
   * A write or read transaction. Puts on the chosen branch with a lease that does
   * not exist must fail with "requested lease not found" atomically with the
   * evaluation (etcd's applier does this check; a separate pre-check would race
   * with lease revocation and, on a follower, with a grant not yet applied).
   */
  txn(req: TxnRequest): Promise<TxnOutcome>;
  /** Linearizable range (the recipes never set `serializable` or `revision`). */
  range(req: RangeRequest): Promise<RangeOutcome>;
  deleteRange(req: DeleteRangeRequest): Promise<DeleteOutcome>;
  /**
   * Events on [key, rangeEnd) — only `key` itself when rangeEnd is empty — with
   * revisions >= fromRevision (history first, then as they are applied), until
   * `signal` aborts. Iteration rejects when the watch cannot go on (e.g. the
   * compacted error when fromRevision is compacted) and ends without error when
   * the watch is closed for another reason (e.g. the server stopping). On abort
   * it may either end or reject; the recipes check the signal themselves.
   */
  watch(
    key: Uint8Array,
    rangeEnd: Uint8Array,
    fromRevision: number,
    signal: AbortSignal,
  ): AsyncIterable<WatchBatch>;
  /**
   * LeaseGrant with a server-chosen id. etcd's v3lock/v3election open a session
   * per call; a request lease of 0 makes that session grant a fresh lease with
   * the default session TTL (60 s) that nobody keeps alive.
   */
  grantLease(ttlSeconds: number): Promise<bigint>;
}

/** Identifies one holder of an election (v3electionpb.LeaderKey). */
export interface LeaderKey {
  name: Buffer;
  /** The candidate's key: `name + "/" + lease in hex`. */
  key: Buffer;
  /** Creation revision of `key`, the candidate's place in line. */
  rev: number;
  lease: bigint;
}

/** A key-value with the header of the response it came in. */
export interface HeadedKv {
  header: Header;
  kv: KeyValue;
}

/**
 * Failures the recipes produce themselves. The texts are those of etcd's
 * concurrency package, which clients may compare against.
 */
export class CoordinationError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CoordinationError';
  }
}

export const CoordinationErrors = {
  notLeader: (): CoordinationError => new CoordinationError('election: not leader'),
  noLeader: (): CoordinationError => new CoordinationError('election: no leader'),
  lostWatcher: (): CoordinationError => new CoordinationError('lost watcher waiting for delete'),
} as const;
