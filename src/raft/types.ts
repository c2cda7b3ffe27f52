// The data contract between the pure Raft core and everything around it.
// Nothing here does I/O. Node ids are etcd member ids: uint64, so bigint.
// Terms and log indexes stay far below 2^53 in any real deployment, so they
// are plain numbers (cheaper on every message than bigint).

export type NodeId = bigint;

/** 0n means "nobody" (no vote cast, no known leader), as in etcd. */
export const NONE: NodeId = 0n;

export const EntryType = {
  Normal: 0,
  ConfChange: 1,
} as const;
export type EntryType = (typeof EntryType)[keyof typeof EntryType];

export interface Entry {
  term: number;
  index: number;
  type: EntryType;
  /** Opaque to Raft. An empty Normal entry is the leader's no-op. A ConfChange entry holds encodeConfChange(). */
  data: Uint8Array;
}

export const ConfChangeType = {
  AddNode: 0,
  RemoveNode: 1,
  UpdateNode: 2,
  AddLearnerNode: 3,
} as const;
export type ConfChangeType = (typeof ConfChangeType)[keyof typeof ConfChangeType];

/** One membership change. Raft allows one pending (uncommitted or unapplied) change at a time. */
export interface ConfChange {
  /** etcd's request id (raftpb.ConfChange.ID) that the proposer waits on; absent means 0. */
  id?: bigint;
  type: ConfChangeType;
  nodeId: NodeId;
  /** Opaque to Raft (the server puts the member's name and URLs here). */
  context: Uint8Array;
}

/** The membership as of some log index. A node is never in both lists. */
export interface ConfState {
  voters: NodeId[];
  learners: NodeId[];
}

/** What must be on stable storage before any message that depends on it is sent. */
export interface HardState {
  term: number;
  vote: NodeId;
  commit: number;
}

export interface SnapshotMetadata {
  index: number;
  term: number;
  confState: ConfState;
}

export interface Snapshot {
  metadata: SnapshotMetadata;
  /** The application's state machine image at metadata.index; opaque to Raft. */
  data: Uint8Array;
}

export const MessageType = {
  /** Local: start an election (the election timer fired, or campaign() was called). */
  Hup: 0,
  /** Local: leader should broadcast heartbeats. */
  Beat: 1,
  /** A proposal, locally or forwarded from a follower to the leader. */
  Prop: 2,
  App: 3,
  AppResp: 4,
  Vote: 5,
  VoteResp: 6,
  Snap: 7,
  Heartbeat: 8,
  HeartbeatResp: 9,
  /** Local: the transport could not reach `from`. */
  Unreachable: 10,
  /** Local: the outcome of sending a snapshot to `from` (reject = failure). */
  SnapStatus: 11,
  /** Local: leader checks that a quorum was active during the last election timeout. */
  CheckQuorum: 12,
  /** Leadership transfer request; `from` is the transferee. */
  TransferLeader: 13,
  /** Leader tells the transferee to campaign at once, skipping pre-vote and lease checks. */
  TimeoutNow: 14,
  ReadIndex: 15,
  ReadIndexResp: 16,
  PreVote: 17,
  PreVoteResp: 18,
} as const;
export type MessageType = (typeof MessageType)[keyof typeof MessageType];

export interface Message {
  type: MessageType;
  to: NodeId;
  from: NodeId;
  term: number;
  /** App: term of the entry at `index` (the consistency check). Vote/PreVote: candidate's last log term. */
  logTerm: number;
  /** App: index before `entries`. AppResp: last index accepted, or the rejected index. Vote: last log index. */
  index: number;
  entries: Entry[];
  commit: number;
  snapshot?: Snapshot;
  reject: boolean;
  /** AppResp with reject: a hint of the follower's last index, for fast back-off. */
  rejectHint: number;
  /** Heartbeat/ReadIndex: the read request context being confirmed; TimeoutNow/Vote: campaign kind. */
  context?: Uint8Array;
}

export const StateType = {
  Follower: 0,
  Candidate: 1,
  Leader: 2,
  PreCandidate: 3,
} as const;
export type StateType = (typeof StateType)[keyof typeof StateType];

export interface SoftState {
  leader: NodeId;
  state: StateType;
}

/** A linearizable read point: once the application has applied `index`, reads for `requestCtx` may proceed. */
export interface ReadState {
  index: number;
  requestCtx: Uint8Array;
}

/**
 * Everything the application must do, in this order:
 * 1. persist `snapshot` (if any), `entries` and `hardState` (fsync when `mustSync`);
 * 2. send `messages` (they may depend on 1);
 * 3. apply `committedEntries` in order (ConfChange entries through applyConfChange);
 * 4. call advance().
 */
export interface Ready {
  softState?: SoftState;
  hardState?: HardState;
  readStates: ReadState[];
  entries: Entry[];
  snapshot?: Snapshot;
  committedEntries: Entry[];
  messages: Message[];
  mustSync: boolean;
}

/** The log the application has made durable; Raft reads it, never writes it. */
export interface Storage {
  initialState(): { hardState: HardState; confState: ConfState };
  /** Entries [lo, hi), at most maxSizeBytes (always at least one). Throws CompactedError / UnavailableError. */
  entries(lo: number, hi: number, maxSizeBytes: number): Entry[];
  /** Term of entry i; valid for firstIndex()-1 .. lastIndex(). Throws CompactedError / UnavailableError. */
  term(i: number): number;
  lastIndex(): number;
  firstIndex(): number;
  /** The newest snapshot. Throws SnapshotTemporarilyUnavailableError if none can be made right now. */
  snapshot(): Snapshot;
}

export class CompactedError extends Error {
  constructor() {
    super('requested index is unavailable due to compaction');
  }
}
export class UnavailableError extends Error {
  constructor() {
    super('requested entry at index is unavailable');
  }
}
export class SnapshotTemporarilyUnavailableError extends Error {
  constructor() {
    super('snapshot is temporarily unavailable');
  }
}
export class SnapOutOfDateError extends Error {
  constructor() {
    super('requested index is older than the existing snapshot');
  }
}
/** A proposal that cannot be accepted now (no leader, transfer in progress, learner, conf change pending). */
export class ProposalDroppedError extends Error {
  constructor(why: string) {
    super(`raft proposal dropped: ${why}`);
  }
}

export const ReadOnlyOption = {
  /** ReadIndex confirmed by a quorum heartbeat round (etcd's default). */
  Safe: 0,
  /** ReadIndex served from the leader lease; needs bounded clock drift and check-quorum. */
  LeaseBased: 1,
} as const;
export type ReadOnlyOption = (typeof ReadOnlyOption)[keyof typeof ReadOnlyOption];

export interface RaftConfig {
  id: NodeId;
  /** Ticks without a leader message before a follower campaigns; randomized in [electionTick, 2*electionTick). */
  electionTick: number;
  heartbeatTick: number;
  storage: Storage;
  /** Last index the application has applied; entries at or below are never handed out again. */
  applied: number;
  maxSizePerMsg: number;
  maxInflightMsgs: number;
  /** Bound on bytes in flight to one follower; 0 = unbounded. */
  maxInflightBytes: number;
  /** Bound on bytes of proposed but uncommitted entries; 0 = unbounded. */
  maxUncommittedEntriesSize: number;
  checkQuorum: boolean;
  preVote: boolean;
  /**
   * With other voters present, the leader counts its own log towards the commit quorum only
   * once the application reports it durable (`RawNode.persisted`). The application may then
   * send appends before its own write has finished (the leader's disk write runs beside the
   * followers') without ever committing an entry that fewer than a quorum have on disk --
   * etcd 3.4 counts the leader at once and can, after a leader crash, lose such an entry.
   */
  selfAckOnPersist?: boolean;
  readOnlyOption: ReadOnlyOption;
  /** Injected randomness in [0, 1): the only source of nondeterminism in the core. */
  random: () => number;
  /** Optional sink for the core's diagnostic lines (no I/O of its own). */
  logger?: (
    level: 'debug' | 'info' | 'warn' | 'error',
    msg: string,
    fields?: Record<string, unknown>,
  ) => void;
}

export interface ProgressStatus {
  match: number;
  next: number;
  state: 'probe' | 'replicate' | 'snapshot';
  recentActive: boolean;
  isLearner: boolean;
}

export interface Status {
  id: NodeId;
  hardState: HardState;
  softState: SoftState;
  applied: number;
  leadTransferee: NodeId;
  /** Present on the leader only. */
  progress?: Map<NodeId, ProgressStatus>;
  confState: ConfState;
}
