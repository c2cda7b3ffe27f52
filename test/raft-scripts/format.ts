// One-line renderings of Raft values for transcripts. Conventions: "T/I" is an entry (or log
// position) of term T at index I; node sets are "(1,2,3)"; byte strings are JSON-quoted.
import {
  type ConfChange,
  ConfChangeType,
  type ConfState,
  decodeConfChange,
  type Entry,
  EntryType,
  type Message,
  MessageType,
  type NodeId,
  type Snapshot,
  StateType,
} from '../../src/raft/index.js';

const MESSAGE_NAMES = new Map<number, string>(Object.entries(MessageType).map(([k, v]) => [v, k]));
const STATE_NAMES = new Map<number, string>(Object.entries(StateType).map(([k, v]) => [v, k]));

export function stateName(s: StateType): string {
  return STATE_NAMES.get(s) ?? `State${s}`;
}

export function ids(list: readonly NodeId[]): string {
  return `(${list.join(',')})`;
}

export function confState(cs: ConfState): string {
  return `voters=${ids(cs.voters)} learners=${ids(cs.learners)}`;
}

export function bytes(b: Uint8Array | undefined): string {
  return JSON.stringify(new TextDecoder().decode(b ?? new Uint8Array(0)));
}

const CONF_VERBS: Record<ConfChangeType, string> = {
  [ConfChangeType.AddNode]: 'add',
  [ConfChangeType.RemoveNode]: 'remove',
  [ConfChangeType.UpdateNode]: 'update',
  [ConfChangeType.AddLearnerNode]: 'add-learner',
};

export function confChange(cc: ConfChange): string {
  return `conf(${CONF_VERBS[cc.type]} ${cc.nodeId})`;
}

export function entry(e: Entry): string {
  const pos = `${e.term}/${e.index}`;
  if (e.type === EntryType.ConfChange) return `${pos} ${confChange(decodeConfChange(e.data))}`;
  // An empty normal entry is a new leader's no-op.
  return e.data.length === 0 ? `${pos} noop` : `${pos} ${bytes(e.data)}`;
}

export function entries(ents: readonly Entry[]): string {
  return `[${ents.map(entry).join(', ')}]`;
}

export function snapshot(s: Snapshot): string {
  return `${s.metadata.term}/${s.metadata.index} ${confState(s.metadata.confState)}`;
}

/** `sender` is the node whose Ready produced the message; it differs from `from` for forwarded requests. */
export function message(m: Message, sender?: NodeId): string {
  const parts = [`${m.from}->${m.to}`, MESSAGE_NAMES.get(m.type) ?? `Msg${m.type}`];
  // Forwarded proposals, reads and transfer requests travel without a term.
  if (m.term !== 0) parts.push(`term=${m.term}`);
  parts.push(...details(m));
  if (sender !== undefined && sender !== m.from) parts.push(`(sent by ${sender})`);
  return parts.join(' ');
}

function details(m: Message): string[] {
  const ctx = m.context !== undefined && m.context.length > 0 ? [`ctx=${bytes(m.context)}`] : [];
  switch (m.type) {
    case MessageType.App:
      return [
        `prev=${m.logTerm}/${m.index}`,
        `commit=${m.commit}`,
        ...(m.entries.length > 0 ? [`entries=${entries(m.entries)}`] : []),
      ];
    case MessageType.AppResp:
      return m.reject
        ? [`index=${m.index}`, `reject hint=${m.logTerm}/${m.rejectHint}`]
        : [`index=${m.index}`];
    case MessageType.Vote:
    case MessageType.PreVote:
      return [`last=${m.logTerm}/${m.index}`, ...(ctx.length > 0 ? ['(transfer)'] : [])];
    case MessageType.VoteResp:
    case MessageType.PreVoteResp:
      return [m.reject ? 'rejected' : 'granted'];
    case MessageType.Heartbeat:
      return [`commit=${m.commit}`, ...ctx];
    case MessageType.HeartbeatResp:
    case MessageType.ReadIndex:
      return ctx;
    case MessageType.ReadIndexResp:
      return [`index=${m.index}`, ...ctx];
    case MessageType.Snap:
      return m.snapshot ? [`snapshot=${snapshot(m.snapshot)}`] : ['snapshot=none'];
    case MessageType.Prop:
      return [`entries=${entries(m.entries)}`];
    default:
      return [];
  }
}
