// The Raft state machine: state shared by all roles, role transitions, ticking, and the common
// part of step() (term comparison and vote requests). Role-specific handling lives in
// step-leader.ts, step-candidate.ts and step-follower.ts.
import { CampaignKind } from './campaign.js';
import { applyConfChangeTo } from './conf-change.js';
import { decodeConfChange } from './confchange-codec.js';
import { RaftLog } from './log.js';
import { CAMPAIGN_TRANSFER, type MessageInit, newMessage } from './messages.js';
import { VoteResult } from './quorum.js';
import { ReadOnly } from './read-only.js';
import { stepCandidate } from './step-candidate.js';
import { stepFollower } from './step-follower.js';
import { bcastAppend, broadcastCommit, stepLeader } from './step-leader.js';
import { checkTerm, handleVoteRequest } from './term-and-votes.js';
import { ProgressTracker } from './tracker.js';
import {
  type ConfChange,
  type ConfState,
  type Entry,
  EntryType,
  type HardState,
  type Message,
  MessageType,
  NONE,
  type NodeId,
  type RaftConfig,
  type ReadState,
  type Snapshot,
  type SoftState,
  StateType,
} from './types.js';
import { assert, EMPTY_BYTES, payloadSize, violated } from './util.js';

export class Raft {
  readonly id: NodeId;
  term = 0;
  vote: NodeId = NONE;
  lead: NodeId = NONE;
  state: StateType = StateType.Follower;
  readonly log: RaftLog;
  readonly tracker: ProgressTracker;
  readonly cfg: RaftConfig;
  /** The last entry the application reported durable (see persisted()). */
  private persistedIndex = 0;
  private persistedTerm = 0;
  msgs: Message[] = [];
  readStates: ReadState[] = [];
  readOnly = new ReadOnly();
  /** ReadIndex requests received before this leader committed an entry of its own term. */
  pendingReadIndexMessages: Message[] = [];
  leadTransferee: NodeId = NONE;
  /** Index of the newest conf change that may not be applied yet; only one may be in flight. */
  pendingConfIndex = 0;
  /** Payload bytes of proposals appended by this leader and not yet committed. */
  uncommittedSize = 0;
  electionElapsed = 0;
  heartbeatElapsed = 0;
  randomizedElectionTimeout = 0;

  constructor(cfg: RaftConfig) {
    validateConfig(cfg);
    this.cfg = cfg;
    this.id = cfg.id;
    this.log = new RaftLog(cfg.storage, Math.max(cfg.maxSizePerMsg, 1));
    this.tracker = new ProgressTracker(cfg.maxInflightMsgs, cfg.maxInflightBytes);
    const { hardState, confState } = cfg.storage.initialState();
    this.tracker.reset(confState, this.log.lastIndex() + 1);
    this.loadHardState(hardState);
    // What the storage holds at start is durable by definition.
    this.persistedIndex = this.log.lastIndex();
    this.persistedTerm = this.log.lastTerm();
    // Everything up to the storage's snapshot counts as applied whatever the application says.
    if (cfg.applied > this.log.applied) this.log.appliedTo(cfg.applied);
    this.replayAppliedConfChanges();
    this.becomeFollower(this.term, NONE);
  }

  /**
   * The storage's ConfState is as of its snapshot. Conf changes after the snapshot that the
   * application reports as already applied will not be handed out again, so apply them here.
   */
  private replayAppliedConfChanges(): void {
    const lo = this.log.firstIndex();
    const hi = this.log.applied;
    if (hi < lo) return;
    for (const e of this.log.slice(lo, hi + 1, Number.MAX_SAFE_INTEGER)) {
      if (e.type === EntryType.ConfChange)
        applyConfChangeTo(this.tracker, decodeConfChange(e.data), this.log.lastIndex() + 1);
    }
  }

  private loadHardState(hs: HardState): void {
    if (hs.term === 0 && hs.vote === NONE && hs.commit === 0) return;
    // A commit below the snapshot is stale (the snapshot itself proves commitment); above the log is corruption.
    assert(
      hs.commit <= this.log.lastIndex(),
      `hard state commit ${hs.commit} beyond last index ${this.log.lastIndex()}`,
    );
    this.log.commitTo(hs.commit);
    this.term = hs.term;
    this.vote = hs.vote;
  }

  log_(level: 'debug' | 'info' | 'warn' | 'error', msg: string, fields?: Record<string, unknown>): void {
    this.cfg.logger?.(level, msg, { id: this.id, term: this.term, ...fields });
  }

  /** Cheap checks run after every input: the log's order invariant and our own consistency. */
  assertInvariants(): void {
    // Messages are built only on failure: this runs after every input.
    const log = this.log;
    if (log.applied > log.committed) violated(`applied ${log.applied} > committed ${log.committed}`);
    if (log.committed > log.lastIndex())
      violated(`committed ${log.committed} > last index ${log.lastIndex()}`);
    assert(this.state !== StateType.Leader || this.lead === this.id, 'a leader must know itself as leader');
    assert(this.vote === NONE || this.term > 0, 'a vote needs a term');
  }

  // ---- observable state ----

  softState(): SoftState {
    return { leader: this.lead, state: this.state };
  }

  hardState(): HardState {
    return { term: this.term, vote: this.vote, commit: this.log.committed };
  }

  confState(): ConfState {
    return this.tracker.confState();
  }

  /** May this node become leader? Only voters, and not while a snapshot is still being persisted. */
  promotable(): boolean {
    return this.tracker.isVoter(this.id) && !this.log.hasPendingSnapshot();
  }

  isLearner(): boolean {
    return this.tracker.isLearner(this.id);
  }

  // ---- sending ----

  send(init: MessageInit): void {
    const m = newMessage(init);
    if (m.from === NONE) m.from = this.id;
    const t = m.type;
    if (
      t === MessageType.Vote ||
      t === MessageType.VoteResp ||
      t === MessageType.PreVote ||
      t === MessageType.PreVoteResp
    ) {
      // Vote traffic carries an explicit term: a pre-vote names the term it would campaign in.
      assert(m.term !== 0, `vote message ${t} without a term`);
    } else if (t !== MessageType.Prop && t !== MessageType.ReadIndex) {
      // Forwarded proposals and reads travel with term 0, so they are never rejected as stale.
      m.term = this.term;
    }
    this.msgs.push(m);
  }

  // ---- role transitions ----

  private setTerm(term: number): void {
    assert(term >= this.term, `term must not decrease: ${this.term} -> ${term}`);
    if (term !== this.term) {
      this.term = term;
      this.vote = NONE;
    }
  }

  reset(term: number): void {
    this.setTerm(term);
    this.lead = NONE;
    this.electionElapsed = 0;
    this.heartbeatElapsed = 0;
    this.resetRandomizedElectionTimeout();
    this.abortLeaderTransfer();
    this.tracker.resetVotes();
    const last = this.log.lastIndex();
    const own = this.ownDurableIndex();
    for (const [id, pr] of this.tracker.progress) pr.restart(id === this.id ? own : 0, last + 1);
    this.pendingConfIndex = 0;
    this.uncommittedSize = 0;
    this.readOnly = new ReadOnly();
    this.pendingReadIndexMessages = [];
  }

  private resetRandomizedElectionTimeout(): void {
    const r = this.cfg.random();
    assert(r >= 0 && r < 1, `random() returned ${r}, outside [0, 1)`);
    this.randomizedElectionTimeout = this.cfg.electionTick + Math.floor(r * this.cfg.electionTick);
  }

  becomeFollower(term: number, lead: NodeId): void {
    this.reset(term);
    this.lead = lead;
    this.state = StateType.Follower;
  }

  becomeCandidate(): void {
    assert(this.state !== StateType.Leader, 'leader cannot become candidate');
    this.reset(this.term + 1);
    this.vote = this.id;
    this.state = StateType.Candidate;
  }

  /** A pre-candidate asks whether it could win before disturbing anyone: term and vote stay as they are. */
  becomePreCandidate(): void {
    assert(this.state !== StateType.Leader, 'leader cannot become pre-candidate');
    this.tracker.resetVotes();
    this.lead = NONE;
    this.state = StateType.PreCandidate;
  }

  becomeLeader(): void {
    assert(this.state !== StateType.Follower, 'follower cannot become leader without an election');
    this.reset(this.term);
    this.lead = this.id;
    this.state = StateType.Leader;
    this.tracker.progress.get(this.id)?.becomeReplicate();
    // Conf changes still in the log may be unapplied: hold new ones until they are.
    this.pendingConfIndex = this.log.lastIndex();
    // The no-op entry lets the new leader commit (and so learn the commit point) in its own term (§8).
    const ok = this.appendEntries([{ term: 0, index: 0, type: EntryType.Normal, data: EMPTY_BYTES }]);
    assert(ok, 'the empty no-op entry cannot exceed the uncommitted size bound');
    this.log_('info', 'became leader');
  }

  // ---- ticking ----

  tick(): void {
    if (this.state === StateType.Leader) this.tickHeartbeat();
    else this.tickElection();
  }

  private tickElection(): void {
    this.electionElapsed++;
    if (this.promotable() && this.electionElapsed >= this.randomizedElectionTimeout) {
      this.electionElapsed = 0;
      this.step(newMessage({ type: MessageType.Hup, from: this.id }));
    }
  }

  private tickHeartbeat(): void {
    this.heartbeatElapsed++;
    this.electionElapsed++;
    if (this.electionElapsed >= this.cfg.electionTick) {
      this.electionElapsed = 0;
      if (this.cfg.checkQuorum) this.step(newMessage({ type: MessageType.CheckQuorum, from: this.id }));
      // A transfer that did not finish within an election timeout is abandoned.
      if (this.state === StateType.Leader && this.leadTransferee !== NONE) this.abortLeaderTransfer();
    }
    if (this.state !== StateType.Leader) return;
    if (this.heartbeatElapsed >= this.cfg.heartbeatTick) {
      this.heartbeatElapsed = 0;
      this.step(newMessage({ type: MessageType.Beat, from: this.id }));
    }
  }

  // ---- elections ----

  hup(kind: CampaignKind): void {
    if (this.state === StateType.Leader) return;
    if (!this.promotable()) {
      this.log_('warn', 'not promotable, ignoring campaign');
      return;
    }
    if (this.hasUnappliedConfChanges()) {
      // Winning now could act on a membership the node has not applied yet.
      this.log_('warn', 'unapplied conf changes, ignoring campaign');
      return;
    }
    this.campaign(kind);
  }

  private hasUnappliedConfChanges(): boolean {
    if (this.log.applied >= this.log.committed) return false;
    const lo = Math.max(this.log.applied + 1, this.log.firstIndex());
    if (lo > this.log.committed) return false;
    const ents = this.log.slice(lo, this.log.committed + 1, Number.MAX_SAFE_INTEGER);
    return ents.some((e) => e.type === EntryType.ConfChange);
  }

  campaign(kind: CampaignKind): void {
    if (!this.promotable()) return;
    let voteType: MessageType;
    let term: number;
    if (kind === CampaignKind.PreElection) {
      this.becomePreCandidate();
      voteType = MessageType.PreVote;
      term = this.term + 1;
    } else {
      this.becomeCandidate();
      voteType = MessageType.Vote;
      term = this.term;
    }
    if (this.poll(this.id, true) === VoteResult.Won) {
      // A single voter wins at once.
      if (kind === CampaignKind.PreElection) this.campaign(CampaignKind.Election);
      else this.becomeLeader();
      return;
    }
    for (const id of [...this.tracker.voters].sort(compareIds)) {
      if (id === this.id) continue;
      this.send({
        type: voteType,
        to: id,
        term,
        index: this.log.lastIndex(),
        logTerm: this.log.lastTerm(),
        context: kind === CampaignKind.Transfer ? CAMPAIGN_TRANSFER : undefined,
      });
    }
  }

  poll(id: NodeId, granted: boolean): VoteResult {
    this.tracker.recordVote(id, granted);
    return this.tracker.tallyVotes().result;
  }

  // ---- step ----

  step(m: Message): void {
    if (!checkTerm(this, m)) return;
    switch (m.type) {
      case MessageType.Hup:
        this.hup(this.cfg.preVote ? CampaignKind.PreElection : CampaignKind.Election);
        return;
      case MessageType.Vote:
      case MessageType.PreVote:
        handleVoteRequest(this, m);
        return;
      default:
        this.stepRole(m);
    }
  }

  private stepRole(m: Message): void {
    switch (this.state) {
      case StateType.Leader:
        stepLeader(this, m);
        return;
      case StateType.Candidate:
      case StateType.PreCandidate:
        stepCandidate(this, m);
        return;
      case StateType.Follower:
        stepFollower(this, m);
        return;
    }
  }

  // ---- log ----

  /** Leader appends proposals at the end of its log; false when the uncommitted bound refuses them. */
  appendEntries(ents: Entry[]): boolean {
    if (!this.increaseUncommittedSize(ents)) return false;
    const last = this.log.lastIndex();
    ents.forEach((e, i) => {
      e.term = this.term;
      e.index = last + 1 + i;
    });
    this.log.append(ents);
    // The leader's own copy counts towards the quorum as far as it is durable (at once
    // unless selfAckOnPersist: then the Ready contract persists before messages are sent).
    this.tracker.progress.get(this.id)?.maybeUpdate(this.ownDurableIndex());
    this.maybeCommit();
    return true;
  }

  /**
   * How far our own log counts towards the quorum: all of it, unless selfAckOnPersist
   * holds it to what the application reported durable (only with other voters: a lone
   * voter's commit needs nobody else, and the application applies after its own save).
   */
  ownDurableIndex(): number {
    const last = this.log.lastIndex();
    if (this.cfg.selfAckOnPersist !== true || this.tracker.voters.size <= 1) return last;
    if (!this.log.matchTerm(this.persistedIndex, this.persistedTerm)) {
      // Our log was cut back below what was persisted; what replaced it is not durable yet.
      return Math.min(this.log.committed, last);
    }
    return Math.min(this.persistedIndex, last);
  }

  /**
   * The application has made our log durable up to (index, term). The leader may now
   * count itself for those entries: a commit that moves is broadcast, as after an ack.
   */
  persisted(index: number, term: number): boolean {
    if (!this.log.matchTerm(index, term)) return false;
    if (index < this.persistedIndex && this.log.matchTerm(this.persistedIndex, this.persistedTerm))
      return false;
    this.persistedIndex = index;
    this.persistedTerm = term;
    if (this.state !== StateType.Leader) return false;
    const pr = this.tracker.progress.get(this.id);
    if (pr === undefined || !pr.maybeUpdate(this.ownDurableIndex())) return false;
    if (!this.maybeCommit()) return false;
    broadcastCommit(this);
    return true;
  }

  maybeCommit(): boolean {
    const idx = this.tracker.committed();
    if (!Number.isFinite(idx)) return false;
    return this.log.maybeCommit(idx, this.term);
  }

  private increaseUncommittedSize(ents: Entry[]): boolean {
    const max = this.cfg.maxUncommittedEntriesSize;
    const size = payloadSize(ents);
    // Always admit at least one proposal, however large, so progress is possible.
    if (max > 0 && this.uncommittedSize > 0 && size > 0 && this.uncommittedSize + size > max) return false;
    this.uncommittedSize += size;
    return true;
  }

  reduceUncommittedSize(ents: Entry[]): void {
    if (this.state !== StateType.Leader) return;
    this.uncommittedSize = Math.max(0, this.uncommittedSize - payloadSize(ents));
  }

  committedEntryInCurrentTerm(): boolean {
    return this.log.termOrZero(this.log.committed) === this.term;
  }

  // ---- leadership transfer ----

  abortLeaderTransfer(): void {
    this.leadTransferee = NONE;
  }

  sendTimeoutNow(to: NodeId): void {
    this.send({ type: MessageType.TimeoutNow, to });
  }

  // ---- membership ----

  applyConfChange(cc: ConfChange): ConfState {
    // Node 0 is how the application applies a change it rejected: nothing changes (etcd's raft too).
    if (cc.nodeId === NONE) return this.confState();
    // A new member starts one entry back (as etcd does), so the probe sent right
    // below carries the last entry and reaches it at once instead of waiting for
    // the next proposal or heartbeat.
    applyConfChangeTo(this.tracker, cc, Math.max(this.log.lastIndex(), 1));
    return this.afterConfChange();
  }

  private afterConfChange(): ConfState {
    const cs = this.confState();
    if (this.state !== StateType.Leader) return cs;
    if (!this.tracker.progress.has(this.id) || this.isLearner()) {
      // A leader removed from (or demoted in) the configuration steps down; the rest elect a new one.
      this.becomeFollower(this.term, NONE);
      return cs;
    }
    if (this.leadTransferee !== NONE && !this.tracker.isVoter(this.leadTransferee))
      this.abortLeaderTransfer();
    // Going from a lone voter to several, our own count falls back to what is durable.
    const own = this.tracker.progress.get(this.id);
    if (own !== undefined && own.match > this.ownDurableIndex()) own.match = this.ownDurableIndex();
    // A smaller quorum may commit more; new members need their first probe.
    if (this.maybeCommit()) bcastAppend(this);
    else bcastAppend(this, false);
    return cs;
  }

  /** Restore from a snapshot sent by the leader; false when it is stale or we already have its entries. */
  restoreSnapshot(s: Snapshot): boolean {
    const meta = s.metadata;
    if (meta.index <= this.log.committed) return false;
    assert(this.state === StateType.Follower, 'only a follower restores a snapshot');
    // The snapshot may predate the conf change that added this node (a new member catching up from
    // an older snapshot): accept it anyway; the later log entries add us (as etcd 3.4 does).
    if (this.log.matchTerm(meta.index, meta.term)) {
      // We already have the entries: just move the commit point.
      this.log.commitTo(meta.index);
      return false;
    }
    this.log.restore(s);
    const last = this.log.lastIndex();
    this.tracker.reset(meta.confState, last + 1);
    this.tracker.progress.get(this.id)?.maybeUpdate(last);
    this.log_('info', 'restored snapshot', { index: meta.index, term: meta.term });
    return true;
  }
}

function compareIds(a: NodeId, b: NodeId): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function validateConfig(cfg: RaftConfig): void {
  if (cfg.id === NONE) throw new Error('raft: cannot use none as id');
  if (cfg.heartbeatTick <= 0) throw new Error('raft: heartbeat tick must be greater than 0');
  if (cfg.electionTick <= cfg.heartbeatTick)
    throw new Error('raft: election tick must be greater than heartbeat tick');
  if (cfg.maxInflightMsgs <= 0) throw new Error('raft: max inflight messages must be greater than 0');
  if (cfg.maxSizePerMsg < 0 || cfg.maxInflightBytes < 0 || cfg.maxUncommittedEntriesSize < 0)
    throw new Error('raft: size limits must not be negative');
  if (cfg.readOnlyOption === 1 && !cfg.checkQuorum)
    throw new Error('raft: CheckQuorum must be enabled when ReadOnlyOption is LeaseBased');
}
