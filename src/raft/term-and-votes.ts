// The part of step() shared by every role: comparing terms (and the leader lease), and
// answering vote and pre-vote requests (§5.2, §5.4.1, thesis §4.2.3 and §9.6).
import { CAMPAIGN_TRANSFER, voteResponseType } from './messages.js';
import type { Raft } from './raft.js';
import { type Message, MessageType, NONE } from './types.js';
import { bytesEqual } from './util.js';

/** Compare the message's term with ours; returns false when the message is to be dropped. */
export function checkTerm(r: Raft, m: Message): boolean {
  if (m.term === 0) return true; // local message, or a forwarded proposal/read
  if (m.term > r.term) return onHigherTerm(r, m);
  if (m.term < r.term) {
    onLowerTerm(r, m);
    return false;
  }
  return true;
}

function onHigherTerm(r: Raft, m: Message): boolean {
  const isVoteRequest = m.type === MessageType.Vote || m.type === MessageType.PreVote;
  if (isVoteRequest) {
    const forced = bytesEqual(m.context, CAMPAIGN_TRANSFER);
    // Leader lease: while we hear from a leader, a vote request is most likely from a partitioned
    // or removed node and must not depose that leader (thesis §4.2.3).
    const inLease = r.cfg.checkQuorum && r.lead !== NONE && r.electionElapsed < r.cfg.electionTick;
    if (!forced && inLease) {
      r.log_('info', 'ignoring vote request within leader lease', { from: m.from, msgTerm: m.term });
      return false;
    }
  }
  if (m.type === MessageType.PreVote) return true; // a pre-vote never changes our term
  if (m.type === MessageType.PreVoteResp && !m.reject) {
    // Granted pre-votes name the future term; the term moves only when the real election starts.
    return true;
  }
  const fromLeader =
    m.type === MessageType.App || m.type === MessageType.Heartbeat || m.type === MessageType.Snap;
  r.becomeFollower(m.term, fromLeader ? m.from : NONE);
  return true;
}

function onLowerTerm(r: Raft, m: Message): void {
  if (
    (r.cfg.checkQuorum || r.cfg.preVote) &&
    (m.type === MessageType.Heartbeat || m.type === MessageType.App)
  ) {
    // A stale leader (e.g. healed from a partition) would otherwise never learn of the newer term,
    // since with pre-vote/check-quorum we do not bump terms with our own elections.
    r.send({ type: MessageType.AppResp, to: m.from });
  } else if (m.type === MessageType.PreVote) {
    // Reject so the pre-candidate learns of the newer term instead of waiting forever.
    r.send({ type: MessageType.PreVoteResp, to: m.from, term: r.term, reject: true });
  }
}

export function handleVoteRequest(r: Raft, m: Message): void {
  const canVote =
    r.vote === m.from ||
    (r.vote === NONE && r.lead === NONE) ||
    (m.type === MessageType.PreVote && m.term > r.term);
  const respType = voteResponseType(m.type);
  if (canVote && r.log.isUpToDate(m.index, m.logTerm)) {
    // Reply in the candidate's term, so a pre-candidate counts a granted pre-vote for its future term.
    r.send({ type: respType, to: m.from, term: m.term });
    if (m.type === MessageType.Vote) {
      r.electionElapsed = 0;
      r.vote = m.from;
    }
  } else {
    r.send({ type: respType, to: m.from, term: r.term, reject: true });
  }
}
