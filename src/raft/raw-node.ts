// The synchronous application-facing API: feed inputs (tick, step, propose, ...), then collect
// everything to do as one Ready, do it, and call advance().
import { CampaignKind } from './campaign.js';
import { encodeConfChange } from './confchange-codec.js';
import { isLocalOnly, isResponse, newMessage } from './messages.js';
import { Raft } from './raft.js';
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
  type ProgressStatus,
  ProposalDroppedError,
  type RaftConfig,
  type Ready,
  type SoftState,
  StateType,
  type Status,
} from './types.js';
import { assert } from './util.js';

export class RawNode {
  private readonly raft: Raft;
  private prevSoftState: SoftState;
  private prevHardState: HardState;

  constructor(cfg: RaftConfig) {
    this.raft = new Raft(cfg);
    this.prevSoftState = this.raft.softState();
    this.prevHardState = this.raft.hardState();
  }

  /**
   * First start of a member of a brand-new cluster: the initial membership becomes the first
   * log entries (term 1), already committed and applied to the tracker.
   */
  bootstrap(peers: ConfChange[]): void {
    if (peers.length === 0) throw new Error('raft: bootstrap needs at least one peer');
    if (this.raft.cfg.storage.lastIndex() !== 0 || this.raft.log.lastIndex() !== 0)
      throw new Error('raft: can only bootstrap an empty log');
    const r = this.raft;
    r.becomeFollower(1, NONE);
    const ents: Entry[] = peers.map((cc, i) => ({
      term: 1,
      index: i + 1,
      type: EntryType.ConfChange,
      data: encodeConfChange(cc),
    }));
    r.log.append(ents);
    r.log.commitTo(ents.length);
    for (const cc of peers) r.applyConfChange(cc);
  }

  /**
   * The term this node leads in, or undefined when it does not lead: raft's own state at this
   * moment, which can be ahead of the last Ready the caller has processed.
   */
  leaderTerm(): number | undefined {
    return this.raft.state === StateType.Leader ? this.raft.term : undefined;
  }

  tick(): void {
    this.raft.tick();
    this.assertInvariants();
  }

  campaign(): void {
    this.raft.step(newMessage({ type: MessageType.Hup, from: this.raft.id }));
  }

  /** Force an election without pre-vote (used by tests and tooling). */
  forceCampaign(): void {
    this.raft.hup(CampaignKind.Election);
  }

  propose(data: Uint8Array): void {
    this.proposeEntry({ term: 0, index: 0, type: EntryType.Normal, data });
  }

  /**
   * Several Normal entries in one proposal: one MsgProp, appended together, so the leader
   * sends them to each follower in one append (one proposal each would be one append each).
   */
  proposeMany(datas: readonly Uint8Array[]): void {
    if (datas.length === 0) return;
    this.proposeEntries(datas.map((data) => ({ term: 0, index: 0, type: EntryType.Normal, data })));
  }

  proposeConfChange(cc: ConfChange): void {
    this.proposeEntry({ term: 0, index: 0, type: EntryType.ConfChange, data: encodeConfChange(cc) });
  }

  private proposeEntry(e: Entry): void {
    this.proposeEntries([e]);
  }

  private proposeEntries(entries: Entry[]): void {
    this.raft.step(newMessage({ type: MessageType.Prop, from: this.raft.id, entries }));
  }

  applyConfChange(cc: ConfChange): ConfState {
    return this.raft.applyConfChange(cc);
  }

  step(m: Message): void {
    if (isLocalOnly(m.type)) throw new Error(`raft: cannot step local message type ${m.type}`);
    // Answers from peers we no longer track (e.g. removed members) carry nothing we can use.
    if (isResponse(m.type) && !this.raft.tracker.progress.has(m.from)) return;
    try {
      this.raft.step(m);
    } catch (e) {
      // A forwarded proposal the leader cannot take is lost like a dropped packet; the proposer retries.
      if (!(e instanceof ProposalDroppedError)) throw e;
    }
    this.assertInvariants();
  }

  readIndex(ctx: Uint8Array): void {
    this.raft.step(newMessage({ type: MessageType.ReadIndex, context: ctx }));
  }

  transferLeader(to: NodeId): void {
    this.raft.step(newMessage({ type: MessageType.TransferLeader, from: to }));
  }

  reportUnreachable(id: NodeId): void {
    this.raft.step(newMessage({ type: MessageType.Unreachable, from: id }));
  }

  reportSnapshot(id: NodeId, ok: boolean): void {
    this.raft.step(newMessage({ type: MessageType.SnapStatus, from: id, reject: !ok }));
  }

  /**
   * The application's write of the log up to (index, term) is durable (needed with
   * selfAckOnPersist, harmless without). May move the leader's commit index: check hasReady.
   */
  persisted(index: number, term: number): void {
    this.raft.persisted(index, term);
  }

  hasReady(): boolean {
    const r = this.raft;
    if (!softStateEqual(r.softState(), this.prevSoftState)) return true;
    if (!hardStateEqual(r.hardState(), this.prevHardState)) return true;
    if (r.log.hasPendingSnapshot()) return true;
    if (r.msgs.length > 0 || r.readStates.length > 0) return true;
    return r.log.unstable.entries.length > 0 || r.log.hasNextEntries();
  }

  /** Everything to do now. Messages and read states are handed over (not repeated); the rest stays until advance(). */
  ready(): Ready {
    const r = this.raft;
    const soft = r.softState();
    const hard = r.hardState();
    assert(
      hard.term >= this.prevHardState.term,
      `term went back: ${this.prevHardState.term} -> ${hard.term}`,
    );
    assert(
      hard.commit >= this.prevHardState.commit,
      `commit went back: ${this.prevHardState.commit} -> ${hard.commit}`,
    );
    const entries = r.log.unstableEntries();
    const rd: Ready = {
      readStates: r.readStates,
      entries,
      committedEntries: r.log.nextEntries(),
      messages: r.msgs,
      mustSync:
        entries.length > 0 || hard.term !== this.prevHardState.term || hard.vote !== this.prevHardState.vote,
    };
    if (!softStateEqual(soft, this.prevSoftState)) rd.softState = soft;
    if (!hardStateEqual(hard, this.prevHardState)) rd.hardState = hard;
    if (r.log.unstable.snapshot) rd.snapshot = r.log.unstable.snapshot;
    r.msgs = [];
    r.readStates = [];
    this.prevSoftState = soft;
    this.prevHardState = hard;
    return rd;
  }

  /** The application has persisted, sent and applied everything in `rd`. */
  advance(rd: Ready): void {
    const log = this.raft.log;
    if (rd.snapshot) {
      log.stableSnapTo(rd.snapshot.metadata.index);
      if (rd.snapshot.metadata.index > log.applied) log.appliedTo(rd.snapshot.metadata.index);
    }
    if (rd.entries.length > 0) {
      const last = rd.entries[rd.entries.length - 1];
      log.stableTo(last.index, last.term);
    }
    if (rd.committedEntries.length > 0) {
      const last = rd.committedEntries[rd.committedEntries.length - 1];
      if (last.index > log.applied) log.appliedTo(last.index);
      this.raft.reduceUncommittedSize(rd.committedEntries);
    }
    this.assertInvariants();
  }

  private assertInvariants(): void {
    this.raft.assertInvariants();
  }

  status(): Status {
    const r = this.raft;
    const st: Status = {
      id: r.id,
      hardState: r.hardState(),
      softState: r.softState(),
      applied: r.log.applied,
      leadTransferee: r.leadTransferee,
      confState: r.confState(),
    };
    if (r.state === StateType.Leader) {
      const progress = new Map<NodeId, ProgressStatus>();
      for (const [id, pr] of r.tracker.progress) progress.set(id, pr.toStatus());
      st.progress = progress;
    }
    return st;
  }
}

function softStateEqual(a: SoftState, b: SoftState): boolean {
  return a.leader === b.leader && a.state === b.state;
}

function hardStateEqual(a: HardState, b: HardState): boolean {
  return a.term === b.term && a.vote === b.vote && a.commit === b.commit;
}
