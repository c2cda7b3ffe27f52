// How a leader reacts to each message: proposals, replication responses, heartbeats,
// ReadIndex, check-quorum, snapshots status and leadership transfer.
import type { Progress } from './progress.js';
import { VoteResult, voteResult } from './quorum.js';
import type { Raft } from './raft.js';
import { MAX_PENDING_READ_INDEX_MESSAGES } from './read-only.js';
import {
  CompactedError,
  type Entry,
  EntryType,
  type Message,
  MessageType,
  NONE,
  type NodeId,
  ProposalDroppedError,
  ReadOnlyOption,
  type Snapshot,
  SnapshotTemporarilyUnavailableError,
} from './types.js';
import { assert, EMPTY_BYTES, entriesSize } from './util.js';

export function stepLeader(r: Raft, m: Message): void {
  switch (m.type) {
    case MessageType.Beat:
      bcastHeartbeat(r);
      return;
    case MessageType.CheckQuorum:
      checkQuorum(r);
      return;
    case MessageType.Prop:
      handleProposal(r, m);
      return;
    case MessageType.ReadIndex:
      handleReadIndex(r, m);
      return;
  }
  const pr = r.tracker.progress.get(m.from);
  if (pr === undefined) return; // a peer no longer (or not yet) in the configuration
  switch (m.type) {
    case MessageType.AppResp:
      handleAppendResponse(r, m, pr);
      return;
    case MessageType.HeartbeatResp:
      handleHeartbeatResponse(r, m, pr);
      return;
    case MessageType.SnapStatus:
      handleSnapshotStatus(m, pr);
      return;
    case MessageType.Unreachable:
      // Optimistic replication to an unreachable peer only piles up lost messages.
      if (pr.state === 'replicate') pr.becomeProbe();
      return;
    case MessageType.TransferLeader:
      handleTransferLeader(r, m.from, pr);
      return;
  }
}

// ---- sending ----

/** Send the next append (or a snapshot) to `to` if flow control allows; returns whether something was sent. */
export function maybeSendAppend(r: Raft, to: NodeId, sendIfEmpty = true): boolean {
  const pr = r.tracker.progress.get(to);
  if (pr === undefined || pr.isPaused()) return false;
  let prevTerm: number;
  let ents: Entry[];
  try {
    prevTerm = r.log.term(pr.next - 1);
    ents = r.log.entries(pr.next, r.cfg.maxSizePerMsg);
  } catch (e) {
    if (e instanceof CompactedError) return maybeSendSnapshot(r, to, pr);
    throw e;
  }
  if (ents.length === 0 && !sendIfEmpty) return false;
  r.send({
    type: MessageType.App,
    to,
    index: pr.next - 1,
    logTerm: prevTerm,
    entries: ents,
    commit: r.log.committed,
  });
  pr.sentEntries(ents.length > 0 ? ents[ents.length - 1].index : undefined, entriesSize(ents));
  return true;
}

function maybeSendSnapshot(r: Raft, to: NodeId, pr: Progress): boolean {
  // An inactive peer would only make us build and ship a snapshot into the void.
  if (!pr.recentActive) return false;
  let snap: Snapshot;
  try {
    snap = r.log.snapshot();
  } catch (e) {
    if (e instanceof SnapshotTemporarilyUnavailableError) return false;
    throw e;
  }
  assert(snap.metadata.index > 0, 'need a non-empty snapshot to replace compacted entries');
  pr.becomeSnapshot(snap.metadata.index);
  r.send({ type: MessageType.Snap, to, snapshot: snap });
  return true;
}

export function bcastAppend(r: Raft, sendIfEmpty = true): void {
  for (const id of r.tracker.progress.keys()) {
    if (id !== r.id) maybeSendAppend(r, id, sendIfEmpty);
  }
}

function sendHeartbeat(r: Raft, to: NodeId, ctx: Uint8Array | undefined): void {
  const pr = r.tracker.progress.get(to);
  // Never tell a follower to commit beyond what it is known to hold.
  const commit = Math.min(pr?.match ?? 0, r.log.committed);
  r.send({ type: MessageType.Heartbeat, to, commit, context: ctx });
}

function bcastHeartbeatWithCtx(r: Raft, ctx: Uint8Array | undefined): void {
  for (const id of r.tracker.progress.keys()) {
    if (id !== r.id) sendHeartbeat(r, id, ctx);
  }
}

export function bcastHeartbeat(r: Raft): void {
  bcastHeartbeatWithCtx(r, r.readOnly.lastPendingRequestCtx());
}

// ---- handlers ----

function checkQuorum(r: Raft): void {
  const active = r.tracker.quorumActive(r.id);
  for (const [id, pr] of r.tracker.progress) if (id !== r.id) pr.recentActive = false;
  if (!active) {
    r.log_('warn', 'stepped down: quorum is not active');
    r.becomeFollower(r.term, NONE);
  }
}

function handleProposal(r: Raft, m: Message): void {
  assert(m.entries.length > 0, 'empty proposal');
  if (!r.tracker.progress.has(r.id)) throw new ProposalDroppedError('leader is not in the configuration');
  if (r.leadTransferee !== NONE) throw new ProposalDroppedError('leadership transfer in progress');
  // Copy: the message may be shared (e.g. a duplicated network delivery) and we assign term and index.
  const ents = m.entries.map((e) => ({ ...e }));
  const last = r.log.lastIndex();
  ents.forEach((e, i) => {
    if (e.type !== EntryType.ConfChange) return;
    if (r.pendingConfIndex > r.log.applied) {
      // One membership change at a time: the second becomes an empty entry, as in etcd.
      r.log_('info', 'conf change ignored: another one is pending', { pendingConfIndex: r.pendingConfIndex });
      ents[i] = { term: 0, index: 0, type: EntryType.Normal, data: EMPTY_BYTES };
    } else {
      r.pendingConfIndex = last + i + 1;
    }
  });
  if (!r.appendEntries(ents)) throw new ProposalDroppedError('too many uncommitted entries');
  bcastAppend(r);
}

function handleAppendResponse(r: Raft, m: Message, pr: Progress): void {
  pr.recentActive = true;
  if (m.reject) {
    handleAppendRejection(r, m, pr);
    return;
  }
  const oldPaused = pr.isPaused();
  if (!pr.maybeUpdate(m.index) && !(pr.match === m.index && pr.state === 'probe')) return;
  if (pr.state === 'probe') {
    pr.becomeReplicate();
  } else if (pr.state === 'snapshot' && pr.match + 1 >= r.log.firstIndex()) {
    // The follower has caught up past what the snapshot covered; plain appends work again.
    pr.becomeProbe();
    pr.becomeReplicate();
  } else if (pr.state === 'replicate') {
    pr.inflights.freeLE(m.index);
  }
  if (r.maybeCommit()) {
    releasePendingReadIndexMessages(r);
    bcastAppend(r);
  } else if (oldPaused) {
    maybeSendAppend(r, m.from);
  }
  // Fill the window; bounded because each send either pauses the peer or advances `next`.
  while (maybeSendAppend(r, m.from, false)) {}
  if (m.from === r.leadTransferee && pr.match === r.log.lastIndex()) {
    r.log_('info', 'transferee caught up, sending TimeoutNow', { to: m.from });
    r.sendTimeoutNow(m.from);
  }
}

function handleAppendRejection(r: Raft, m: Message, pr: Progress): void {
  // The follower told us its last index at or below the rejected one, and that entry's term:
  // skip every entry of ours whose term is above it (it cannot match there).
  let nextProbe = m.rejectHint;
  if (m.logTerm > 0) nextProbe = r.log.findConflictByTerm(m.rejectHint, m.logTerm)[0];
  if (!pr.maybeDecrTo(m.index, nextProbe)) return;
  if (pr.state === 'replicate') pr.becomeProbe();
  maybeSendAppend(r, m.from);
}

function handleHeartbeatResponse(r: Raft, m: Message, pr: Progress): void {
  pr.recentActive = true;
  pr.probeSent = false;
  // A full window may be full of lost messages: let one more through per heartbeat.
  if (pr.state === 'replicate' && pr.inflights.full()) pr.inflights.freeFirstOne();
  if (pr.match < r.log.lastIndex() || pr.state === 'probe') maybeSendAppend(r, m.from);
  if (r.cfg.readOnlyOption !== ReadOnlyOption.Safe || m.context === undefined || m.context.length === 0)
    return;
  const acks = r.readOnly.recvAck(m.from, m.context);
  if (acks === undefined) return;
  const votes = new Map<NodeId, boolean>();
  for (const id of acks) votes.set(id, true);
  if (voteResult(r.tracker.voters, votes) !== VoteResult.Won) return;
  for (const st of r.readOnly.advance(m.context)) respondToReadIndex(r, st.req, st.index);
}

function handleSnapshotStatus(m: Message, pr: Progress): void {
  if (pr.state !== 'snapshot') return;
  // On failure forget the snapshot, so probing restarts from what the follower is known to have.
  if (m.reject) pr.pendingSnapshot = 0;
  pr.becomeProbe();
  // Wait for a heartbeat response before probing, rather than racing the snapshot's application.
  pr.probeSent = true;
}

function handleTransferLeader(r: Raft, transferee: NodeId, pr: Progress): void {
  if (pr.isLearner) {
    r.log_('info', 'ignoring leadership transfer to a learner', { transferee });
    return;
  }
  if (r.leadTransferee !== NONE) {
    if (r.leadTransferee === transferee) return;
    r.abortLeaderTransfer();
  }
  if (transferee === r.id) return;
  // The transfer must finish within one election timeout (see tickHeartbeat).
  r.electionElapsed = 0;
  r.leadTransferee = transferee;
  if (pr.match === r.log.lastIndex()) r.sendTimeoutNow(transferee);
  else maybeSendAppend(r, transferee);
}

// ---- ReadIndex ----

function handleReadIndex(r: Raft, m: Message): void {
  if (m.context === undefined) return;
  if (r.tracker.isSingleVoter(r.id)) {
    respondToReadIndex(r, m, r.log.committed);
    return;
  }
  // Until it commits an entry of its term, the leader does not know the cluster's commit index (§6.4).
  if (!r.committedEntryInCurrentTerm()) {
    if (r.pendingReadIndexMessages.length < MAX_PENDING_READ_INDEX_MESSAGES)
      r.pendingReadIndexMessages.push(m);
    return;
  }
  confirmReadIndex(r, m);
}

function confirmReadIndex(r: Raft, m: Message): void {
  const ctx = m.context;
  if (ctx === undefined) return;
  if (r.cfg.readOnlyOption === ReadOnlyOption.LeaseBased) {
    respondToReadIndex(r, m, r.log.committed);
    return;
  }
  if (!r.readOnly.addRequest(r.log.committed, m)) return;
  r.readOnly.recvAck(r.id, ctx);
  bcastHeartbeatWithCtx(r, ctx);
}

/** The leader's commit index moved outside an append response (its own durable write): tell everyone. */
export function broadcastCommit(r: Raft): void {
  releasePendingReadIndexMessages(r);
  bcastAppend(r);
}

function releasePendingReadIndexMessages(r: Raft): void {
  if (r.pendingReadIndexMessages.length === 0 || !r.committedEntryInCurrentTerm()) return;
  const pending = r.pendingReadIndexMessages;
  r.pendingReadIndexMessages = [];
  for (const m of pending) confirmReadIndex(r, m);
}

function respondToReadIndex(r: Raft, req: Message, index: number): void {
  const ctx = req.context ?? EMPTY_BYTES;
  if (req.from === NONE || req.from === r.id) {
    r.readStates.push({ index, requestCtx: ctx });
  } else {
    r.send({ type: MessageType.ReadIndexResp, to: req.from, index, context: ctx });
  }
}
