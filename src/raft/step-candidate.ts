// How a candidate or pre-candidate reacts: count votes, or yield to a leader of its term.
import { CampaignKind } from './campaign.js';
import { VoteResult } from './quorum.js';
import type { Raft } from './raft.js';
import { handleAppendEntries, handleHeartbeat, handleSnapshot } from './step-follower.js';
import { bcastAppend } from './step-leader.js';
import { type Message, MessageType, NONE, ProposalDroppedError, StateType } from './types.js';

export function stepCandidate(r: Raft, m: Message): void {
  // A pre-candidate only counts pre-votes; stale real votes from an earlier election are ignored.
  const myVoteResp = r.state === StateType.PreCandidate ? MessageType.PreVoteResp : MessageType.VoteResp;
  switch (m.type) {
    case MessageType.Prop:
      throw new ProposalDroppedError('no leader');
    case MessageType.App:
      r.becomeFollower(m.term, m.from);
      handleAppendEntries(r, m);
      return;
    case MessageType.Heartbeat:
      r.becomeFollower(m.term, m.from);
      handleHeartbeat(r, m);
      return;
    case MessageType.Snap:
      r.becomeFollower(m.term, m.from);
      handleSnapshot(r, m);
      return;
    case myVoteResp:
      countVote(r, m);
      return;
  }
}

function countVote(r: Raft, m: Message): void {
  const result = r.poll(m.from, !m.reject);
  if (result === VoteResult.Won) {
    if (r.state === StateType.PreCandidate) {
      r.campaign(CampaignKind.Election);
    } else {
      r.becomeLeader();
      bcastAppend(r);
    }
  } else if (result === VoteResult.Lost) {
    r.becomeFollower(r.term, NONE);
  }
}
