// The msgapp stream (/raft/stream/msgapp/<id>, rafthttp/msgappv2_codec.go). Each frame
// starts with a type byte:
//   0  link heartbeat, nothing follows;
//   1  "AppEntries": u64 n ‖ n × (u64 size ‖ raftpb.Entry) ‖ u64 commit — a MsgApp that
//      continues exactly where the previous MsgApp on this connection ended, so its
//      term, logTerm and index come from connection-local state;
//   2  u64 size ‖ raftpb.Message, any message in full; it resets that state.
// All integers are big-endian. Both ends start each connection at (term 0, index 0).
import { type Entry, type Message, MessageType } from '../../raft/types.js';
import { ByteQueue } from './byte-queue.js';
import { ExactWriter, WireError } from './gogo-wire.js';
import { isLinkHeartbeat, linkHeartbeatMessage, MAX_STREAM_MESSAGE_BYTES } from './message-stream.js';
import { decodeEntry, decodeMessage, encodedEntrySize, encodeMessage, writeEncodedEntry } from './raftpb.js';

const TYPE_LINK_HEARTBEAT = 0;
const TYPE_APP_ENTRIES = 1;
const TYPE_APP = 2;

/**
 * Our own bound on one type-1 frame's entry count (etcd has none). An encoded entry takes
 * at least 6 bytes plus its 8-byte size, so this is the 512 MiB frame limit in entries.
 */
const MAX_ENTRIES_PER_FRAME = Math.floor(MAX_STREAM_MESSAGE_BYTES / 14);

/** The sending side of one msgapp stream connection. */
export class MsgAppV2Encoder {
  private term = 0;
  private index = 0;

  encode(m: Message): Uint8Array {
    if (isLinkHeartbeat(m)) return this.heartbeat();
    // etcd checks only the numbers; it never routes anything but MsgApp here. We also
    // require MsgApp, since the receiver rebuilds a type-1 frame as one.
    if (
      m.type === MessageType.App &&
      this.index === m.index &&
      this.term === m.logTerm &&
      m.logTerm === m.term
    ) {
      return this.encodeAppEntries(m);
    }
    const body = encodeMessage(m);
    const w = new ExactWriter(9 + body.length);
    w.byte(TYPE_APP);
    w.uintBE(body.length);
    w.raw(body);
    this.term = m.term;
    this.index = m.entries.length > 0 ? m.entries[m.entries.length - 1]!.index : m.index;
    return w.finish('msgappv2 app frame');
  }

  heartbeat(): Uint8Array {
    return Uint8Array.of(TYPE_LINK_HEARTBEAT);
  }

  /** One buffer for the frame: each entry is written in place after its size. */
  private encodeAppEntries(m: Message): Uint8Array {
    const entries = m.entries;
    const sizes = new Array<number>(entries.length);
    let size = 1 + 8 + 8;
    for (let i = 0; i < entries.length; i++) {
      const n = encodedEntrySize(entries[i]!);
      sizes[i] = n;
      size += 8 + n;
    }
    const w = new ExactWriter(size);
    w.byte(TYPE_APP_ENTRIES);
    w.uintBE(entries.length);
    for (let i = 0; i < entries.length; i++) {
      w.uintBE(sizes[i]!);
      writeEncodedEntry(w, entries[i]!);
    }
    w.uintBE(m.commit);
    this.index += entries.length;
    return w.finish('msgappv2 entries frame');
  }
}

/** Where the decoder is in the stream (numbers, not objects: it moves on for every entry). */
const Stage = {
  type: 0,
  entryCount: 1,
  entrySize: 2,
  entryBody: 3,
  commit: 4,
  appSize: 5,
  appBody: 6,
} as const;
type Stage = (typeof Stage)[keyof typeof Stage];

/**
 * The receiving side of one msgapp stream connection: `localId` is this member, `remoteId`
 * the member whose stream it is (type-1 frames carry neither). Feed it the body chunks as
 * they arrive. A throw (WireError) means the stream is corrupt; close it.
 */
export class MsgAppV2Decoder {
  private readonly queue = new ByteQueue();
  private stage: Stage = Stage.type;
  /** Entries still to read in the current type-1 frame. */
  private entriesLeft = 0;
  /** Size of the entry or message body being waited for. */
  private bodySize = 0;
  private term = 0;
  private index = 0;
  /** The type-1 message being assembled. */
  private app: Message | undefined;

  constructor(
    private readonly localId: bigint,
    private readonly remoteId: bigint,
  ) {}

  /** Takes ownership of `chunk`; returns the messages it completed, link heartbeats included. */
  push(chunk: Uint8Array): Message[] {
    this.queue.push(chunk);
    const out: Message[] = [];
    for (;;) {
      const m = this.step();
      if (m === 'need-more') return out;
      if (m !== undefined) out.push(m);
    }
  }

  /** Advances by one stage: a finished message, undefined (progress), or 'need-more'. */
  private step(): Message | undefined | 'need-more' {
    const q = this.queue;
    switch (this.stage) {
      case Stage.type: {
        if (q.length < 1) return 'need-more';
        const type = q.takeU8();
        if (type === TYPE_LINK_HEARTBEAT) return linkHeartbeatMessage();
        if (type === TYPE_APP) this.stage = Stage.appSize;
        else if (type === TYPE_APP_ENTRIES) this.stage = Stage.entryCount;
        else throw new WireError(`failed to parse type ${type} in msgappv2 stream`);
        return undefined;
      }
      case Stage.entryCount: {
        if (q.length < 8) return 'need-more';
        const n = q.takeU64BENumber();
        if (n > MAX_ENTRIES_PER_FRAME) throw new WireError(`msgappv2: ${n} entries in one frame`);
        this.app = {
          type: MessageType.App,
          to: this.localId,
          from: this.remoteId,
          term: this.term,
          logTerm: this.term,
          index: this.index,
          entries: [],
          commit: 0,
          reject: false,
          rejectHint: 0,
        };
        this.entriesLeft = n;
        this.stage = n === 0 ? Stage.commit : Stage.entrySize;
        return undefined;
      }
      case Stage.entrySize: {
        if (q.length < 8) return 'need-more';
        this.bodySize = sizeWithinLimit(q.takeU64BENumber(), 'entry');
        this.stage = Stage.entryBody;
        return undefined;
      }
      case Stage.entryBody: {
        if (q.length < this.bodySize) return 'need-more';
        const entry: Entry = decodeEntry(q.take(this.bodySize));
        this.app!.entries.push(entry);
        this.index++;
        this.entriesLeft--;
        this.stage = this.entriesLeft === 0 ? Stage.commit : Stage.entrySize;
        return undefined;
      }
      case Stage.commit: {
        if (q.length < 8) return 'need-more';
        const commit = q.takeU64BENumber();
        if (commit > Number.MAX_SAFE_INTEGER) {
          throw new WireError(`msgappv2: commit ${commit} exceeds 2^53-1`);
        }
        const m = this.app!;
        m.commit = commit;
        this.app = undefined;
        this.stage = Stage.type;
        return m;
      }
      case Stage.appSize: {
        if (q.length < 8) return 'need-more';
        this.bodySize = sizeWithinLimit(q.takeU64BENumber(), 'message');
        this.stage = Stage.appBody;
        return undefined;
      }
      case Stage.appBody: {
        if (q.length < this.bodySize) return 'need-more';
        const m = decodeMessage(q.take(this.bodySize));
        this.term = m.term;
        this.index = m.entries.length > 0 ? m.entries[m.entries.length - 1]!.index : m.index;
        this.stage = Stage.type;
        return m;
      }
    }
  }
}

/** Our safety bound (etcd allocates whatever the peer announces). */
function sizeWithinLimit(size: number, what: string): number {
  if (size > MAX_STREAM_MESSAGE_BYTES) {
    throw new WireError(`msgappv2: ${what} of ${size} bytes exceeds the 512 MiB limit`);
  }
  return size;
}
