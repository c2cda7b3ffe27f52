// The message stream (/raft/stream/message/<id>, rafthttp/msg_codec.go): frames of
// u64 big-endian length ‖ raftpb.Message. A link heartbeat is the Message
// {Type: MsgHeartbeat, From: 0, To: 0}, sent every ~1.67 s to keep the reader's 5 s deadline.
import { type Message, MessageType } from '../../raft/types.js';
import { ByteQueue } from './byte-queue.js';
import { WireError } from './gogo-wire.js';
import { decodeMessage, encodeMessage } from './raftpb.js';

/** etcd's readBytesLimit: a larger length prefix is refused (ErrExceedSizeLimit). */
export const MAX_STREAM_MESSAGE_BYTES = 512 * 1024 * 1024;

export function linkHeartbeatMessage(): Message {
  return {
    type: MessageType.Heartbeat,
    to: 0n,
    from: 0n,
    term: 0,
    logTerm: 0,
    index: 0,
    entries: [],
    commit: 0,
    reject: false,
    rejectHint: 0,
  };
}

/** etcd's isLinkHeartbeatMessage: receivers drop these instead of stepping raft. */
export function isLinkHeartbeat(m: Message): boolean {
  return m.type === MessageType.Heartbeat && m.from === 0n && m.to === 0n;
}

export function encodeMessageFrame(m: Message): Uint8Array {
  return encodeMessage(m, 8);
}

/** The 38-byte link heartbeat frame of the message stream (shared: do not modify). */
export const LINK_HEARTBEAT_FRAME: Uint8Array = encodeMessageFrame(linkHeartbeatMessage());

/**
 * Incremental decoder for one connection: feed it the response body chunks as they arrive.
 * A throw (WireError) means the stream is corrupt; close it and drop the decoder.
 */
export class MessageStreamDecoder {
  private readonly queue = new ByteQueue();
  /** Length of the frame being read, once its prefix has arrived. */
  private bodyLength: number | undefined;

  /** Takes ownership of `chunk`; returns the messages it completed, in order. */
  push(chunk: Uint8Array): Message[] {
    this.queue.push(chunk);
    const out: Message[] = [];
    for (;;) {
      if (this.bodyLength === undefined) {
        if (this.queue.length < 8) return out;
        const len = this.queue.takeU64BENumber();
        if (len > MAX_STREAM_MESSAGE_BYTES) {
          throw new WireError(`message stream: frame of ${len} bytes exceeds the 512 MiB limit`);
        }
        this.bodyLength = len;
      }
      if (this.queue.length < this.bodyLength) return out;
      const body = this.queue.take(this.bodyLength);
      this.bodyLength = undefined;
      out.push(decodeMessage(body));
    }
  }
}
