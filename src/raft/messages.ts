// Message construction and classification.
import { type Message, MessageType, NONE } from './types.js';
import { entriesSize } from './util.js';

/** Context of a Vote sent because of a leadership transfer: voters then ignore their leader lease. */
export const CAMPAIGN_TRANSFER: Uint8Array = new TextEncoder().encode('CampaignTransfer');

export type MessageInit = Partial<Message> & Pick<Message, 'type'>;

export function newMessage(init: MessageInit): Message {
  return {
    to: NONE,
    from: NONE,
    term: 0,
    logTerm: 0,
    index: 0,
    entries: [],
    commit: 0,
    reject: false,
    rejectHint: 0,
    ...init,
  };
}

const LOCAL_ONLY: ReadonlySet<MessageType> = new Set([
  MessageType.Hup,
  MessageType.Beat,
  MessageType.Unreachable,
  MessageType.SnapStatus,
  MessageType.CheckQuorum,
]);

/** Types that only the node itself produces; they must never arrive from the network. */
export function isLocalOnly(t: MessageType): boolean {
  return LOCAL_ONLY.has(t);
}

const RESPONSES: ReadonlySet<MessageType> = new Set([
  MessageType.AppResp,
  MessageType.VoteResp,
  MessageType.HeartbeatResp,
  MessageType.Unreachable,
  MessageType.PreVoteResp,
]);

export function isResponse(t: MessageType): boolean {
  return RESPONSES.has(t);
}

export function voteResponseType(t: MessageType): MessageType {
  return t === MessageType.PreVote ? MessageType.PreVoteResp : MessageType.VoteResp;
}

/** Approximate encoded size in bytes, for flow control and benchmarks. */
export function messageSize(m: Message): number {
  let size = 48 + entriesSize(m.entries);
  if (m.snapshot)
    size +=
      m.snapshot.data.length +
      32 +
      8 * (m.snapshot.metadata.confState.voters.length + m.snapshot.metadata.confState.learners.length);
  if (m.context) size += m.context.length;
  return size;
}
