// Our raft core carries a ReadIndex request's context in Message.context;
// etcd's raft carries it as the data of a single entry (Entries[0].Data) in
// MsgReadIndex and MsgReadIndexResp, and an etcd leader indexes Entries[0]
// without checking. The transport converts at the wire, both ways.
import { type Message, MessageType } from '../raft/types.js';

function isReadIndex(m: Message): boolean {
  return m.type === MessageType.ReadIndex || m.type === MessageType.ReadIndexResp;
}

/** Before encoding: the context moves into one entry, as etcd expects it. */
export function toWire(m: Message): Message {
  if (!isReadIndex(m) || m.context === undefined) return m;
  const { context, ...rest } = m;
  return { ...rest, entries: [{ term: 0, index: 0, type: 0, data: context }] };
}

/** After decoding: the entry's data becomes the context our raft reads. */
export function fromWire(m: Message): Message {
  if (!isReadIndex(m) || m.context !== undefined || m.entries.length === 0) return m;
  return { ...m, context: m.entries[0]!.data, entries: [] };
}
