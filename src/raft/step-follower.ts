// How a follower reacts: accept the leader's appends, heartbeats and snapshots; forward
// proposals, reads and transfer requests to the leader.
import { CampaignKind } from './campaign.js';
import type { Raft } from './raft.js';
import { type Message, MessageType, NONE, ProposalDroppedError } from './types.js';

export function stepFollower(r: Raft, m: Message): void {
  switch (m.type) {
    case MessageType.Prop:
      if (r.lead === NONE) throw new ProposalDroppedError('no leader');
      r.send({ ...m, to: r.lead });
      return;
    case MessageType.App:
      heardFromLeader(r, m);
      handleAppendEntries(r, m);
      return;
    case MessageType.Heartbeat:
      heardFromLeader(r, m);
      handleHeartbeat(r, m);
      return;
    case MessageType.Snap:
      heardFromLeader(r, m);
      handleSnapshot(r, m);
      return;
    case MessageType.TransferLeader:
    case MessageType.ReadIndex:
      if (r.lead === NONE) {
        r.log_('info', 'no leader; dropping request', { type: m.type });
        return;
      }
      r.send({ ...m, to: r.lead });
      return;
    case MessageType.TimeoutNow:
      // The leader hands over: campaign at once, skipping pre-vote, with a vote that overrides leases.
      r.hup(CampaignKind.Transfer);
      return;
    case MessageType.ReadIndexResp:
      if (m.context !== undefined) r.readStates.push({ index: m.index, requestCtx: m.context });
      return;
  }
}

function heardFromLeader(r: Raft, m: Message): void {
  r.electionElapsed = 0;
  r.lead = m.from;
}

export function handleAppendEntries(r: Raft, m: Message): void {
  if (m.index < r.log.committed) {
    // Everything up to our commit index is already settled; tell the leader where we are.
    r.send({ type: MessageType.AppResp, to: m.from, index: r.log.committed });
    return;
  }
  const lastNew = r.log.maybeAppend(m.index, m.logTerm, m.commit, m.entries);
  if (lastNew !== undefined) {
    r.send({ type: MessageType.AppResp, to: m.from, index: lastNew });
    return;
  }
  // Consistency check failed. Hint the largest index that might still match, with its term,
  // so the leader can skip a whole run of conflicting entries in one round trip.
  const hintIndex = Math.min(m.index, r.log.lastIndex());
  const [index, term] = r.log.findConflictByTerm(hintIndex, m.logTerm);
  r.send({
    type: MessageType.AppResp,
    to: m.from,
    index: m.index,
    reject: true,
    rejectHint: index,
    logTerm: term,
  });
}

export function handleHeartbeat(r: Raft, m: Message): void {
  r.log.commitTo(m.commit);
  r.send({ type: MessageType.HeartbeatResp, to: m.from, context: m.context });
}

export function handleSnapshot(r: Raft, m: Message): void {
  if (m.snapshot === undefined) return;
  const index = r.restoreSnapshot(m.snapshot) ? r.log.lastIndex() : r.log.committed;
  r.send({ type: MessageType.AppResp, to: m.from, index });
}
