// etcd 3.4's raftpb (raft/raftpb/raft.proto, proto2 + gogoproto) for our raft types,
// byte-for-byte what Go's Marshal produces:
// - non-nullable scalars are always written, even when zero;
// - every Message carries a Snapshot submessage (an empty one when m.snapshot is unset);
// - Entry.Data, Snapshot.Data are written only when non-empty (Go: non-nil; we cannot tell
//   nil from empty, and etcd never sends an explicitly empty one);
// - Message.Context is written whenever it is set, even empty (Go: non-nil);
// - ConfState ids are unpacked; auto_leave is always written.
// Decoding follows gogo's Unmarshal (see gogo-wire.ts): unknown fields skipped, repeated
// u64s packed or not, repeated submessages merged. What our types cannot hold is a
// WireError: EntryConfChangeV2, unknown enum values, terms/indexes above 2^53-1, and
// joint-consensus ConfState fields.
import {
  type ConfState,
  type Entry,
  EntryType,
  type HardState,
  type Message,
  MessageType,
  type Snapshot,
} from '../../raft/types.js';
import {
  checkU64,
  checkUint,
  delimitedSize,
  ExactWriter,
  Reader,
  u64Size,
  uintSize,
  WireError,
  WireType,
} from './gogo-wire.js';

export { WireError } from './gogo-wire.js';

/** raftpb.EntryConfChangeV2: etcd 3.4 panics when it applies one, so it never crosses our wire. */
const ENTRY_CONF_CHANGE_V2 = 2;
const MESSAGE_TYPE_MAX = MessageType.PreVoteResp;
const EMPTY: Uint8Array = new Uint8Array(0);
const EMPTY_CONF_STATE: ConfState = { voters: [], learners: [] };

// ---------------------------------------------------------------- sizes

function entrySize(e: Entry): number {
  checkUint(e.term, 'entry term');
  checkUint(e.index, 'entry index');
  if (e.type !== EntryType.Normal && e.type !== EntryType.ConfChange) {
    throw new WireError(`entry type ${e.type} cannot be encoded`);
  }
  let n = 1 + uintSize(e.type) + 1 + uintSize(e.term) + 1 + uintSize(e.index);
  if (e.data.length > 0) n += 1 + delimitedSize(e.data.length);
  return n;
}

function idsSize(ids: readonly bigint[], what: string): number {
  let n = 0;
  for (const id of ids) {
    checkU64(id, what);
    n += 1 + u64Size(id);
  }
  return n;
}

function confStateSize(cs: ConfState): number {
  return idsSize(cs.voters, 'voter id') + idsSize(cs.learners, 'learner id') + 2;
}

function metadataSize(s: Snapshot, csSize: number): number {
  checkUint(s.metadata.index, 'snapshot index');
  checkUint(s.metadata.term, 'snapshot term');
  return 1 + delimitedSize(csSize) + 1 + uintSize(s.metadata.index) + 1 + uintSize(s.metadata.term);
}

interface SnapshotSizes {
  total: number;
  metadata: number;
  confState: number;
}

function snapshotSizes(s: Snapshot): SnapshotSizes {
  const confState = confStateSize(s.metadata.confState);
  const metadata = metadataSize(s, confState);
  let total = 1 + delimitedSize(metadata);
  if (s.data.length > 0) total += 1 + delimitedSize(s.data.length);
  return { total, metadata, confState };
}

// ---------------------------------------------------------------- writers

function writeEntry(w: ExactWriter, e: Entry): void {
  w.byte(0x08);
  w.uint(e.type);
  w.byte(0x10);
  w.uint(e.term);
  w.byte(0x18);
  w.uint(e.index);
  if (e.data.length > 0) {
    w.byte(0x22);
    w.bytes(e.data);
  }
}

function writeConfState(w: ExactWriter, cs: ConfState): void {
  for (const id of cs.voters) {
    w.byte(0x08);
    w.u64(id);
  }
  for (const id of cs.learners) {
    w.byte(0x10);
    w.u64(id);
  }
  w.byte(0x28); // auto_leave: always written, always false in etcd 3.4
  w.bool(false);
}

function writeSnapshot(w: ExactWriter, s: Snapshot, sizes: SnapshotSizes): void {
  if (s.data.length > 0) {
    w.byte(0x0a);
    w.bytes(s.data);
  }
  w.byte(0x12);
  w.uint(sizes.metadata);
  w.byte(0x0a);
  w.uint(sizes.confState);
  writeConfState(w, s.metadata.confState);
  w.byte(0x10);
  w.uint(s.metadata.index);
  w.byte(0x18);
  w.uint(s.metadata.term);
}

// ---------------------------------------------------------------- public encoders

export function encodeEntry(e: Entry): Uint8Array {
  const w = new ExactWriter(entrySize(e));
  writeEntry(w, e);
  return w.finish('entry');
}

/** The encoded size of an entry (checks that it can be encoded). */
export function encodedEntrySize(e: Entry): number {
  return entrySize(e);
}

/** Writes an entry whose size encodedEntrySize gave into a writer sized for it. */
export function writeEncodedEntry(w: ExactWriter, e: Entry): void {
  writeEntry(w, e);
}

export function encodeConfState(cs: ConfState): Uint8Array {
  const w = new ExactWriter(confStateSize(cs));
  writeConfState(w, cs);
  return w.finish('conf state');
}

export function encodeSnapshot(s: Snapshot): Uint8Array {
  const sizes = snapshotSizes(s);
  const w = new ExactWriter(sizes.total);
  writeSnapshot(w, s, sizes);
  return w.finish('snapshot');
}

export function encodeHardState(hs: HardState): Uint8Array {
  checkUint(hs.term, 'hard state term');
  checkUint(hs.commit, 'hard state commit');
  checkU64(hs.vote, 'hard state vote');
  const w = new ExactWriter(3 + uintSize(hs.term) + u64Size(hs.vote) + uintSize(hs.commit));
  w.byte(0x08);
  w.uint(hs.term);
  w.byte(0x10);
  w.u64(hs.vote);
  w.byte(0x18);
  w.uint(hs.commit);
  return w.finish('hard state');
}

const EMPTY_SNAPSHOT: Snapshot = {
  data: EMPTY,
  metadata: { index: 0, term: 0, confState: EMPTY_CONF_STATE },
};

/**
 * The bytes of Go's raftpb.Message.Marshal() for m. With `lengthPrefix` 8 they come after
 * their length as 8 big-endian bytes (the message stream's frame), in the same buffer.
 */
export function encodeMessage(m: Message, lengthPrefix: 0 | 8 = 0): Uint8Array {
  if (!isMessageType(m.type)) throw new WireError(`message type ${m.type} cannot be encoded`);
  checkU64(m.to, 'message to');
  checkU64(m.from, 'message from');
  checkUint(m.term, 'message term');
  checkUint(m.logTerm, 'message logTerm');
  checkUint(m.index, 'message index');
  checkUint(m.commit, 'message commit');
  checkUint(m.rejectHint, 'message rejectHint');
  const snapshot = m.snapshot ?? EMPTY_SNAPSHOT;
  const snap = snapshotSizes(snapshot);
  const entrySizes = m.entries.map(entrySize);
  let size =
    1 +
    uintSize(m.type) +
    1 +
    u64Size(m.to) +
    1 +
    u64Size(m.from) +
    1 +
    uintSize(m.term) +
    1 +
    uintSize(m.logTerm) +
    1 +
    uintSize(m.index) +
    1 +
    uintSize(m.commit) +
    1 +
    delimitedSize(snap.total) +
    2 +
    1 +
    uintSize(m.rejectHint);
  for (const n of entrySizes) size += 1 + delimitedSize(n);
  if (m.context !== undefined) size += 1 + delimitedSize(m.context.length);

  const w = new ExactWriter(lengthPrefix + size);
  if (lengthPrefix === 8) w.uintBE(size);
  w.byte(0x08);
  w.uint(m.type);
  w.byte(0x10);
  w.u64(m.to);
  w.byte(0x18);
  w.u64(m.from);
  w.byte(0x20);
  w.uint(m.term);
  w.byte(0x28);
  w.uint(m.logTerm);
  w.byte(0x30);
  w.uint(m.index);
  m.entries.forEach((e, i) => {
    w.byte(0x3a);
    w.uint(entrySizes[i]!);
    writeEntry(w, e);
  });
  w.byte(0x40);
  w.uint(m.commit);
  w.byte(0x4a);
  w.uint(snap.total);
  writeSnapshot(w, snapshot, snap);
  w.byte(0x50);
  w.bool(m.reject);
  w.byte(0x58);
  w.uint(m.rejectHint);
  if (m.context !== undefined) {
    w.byte(0x62);
    w.bytes(m.context);
  }
  return w.finish('message');
}

// ---------------------------------------------------------------- decoding

/** Go's ConfState with the joint-consensus fields we refuse after decoding. */
interface ConfStateDraft extends ConfState {
  votersOutgoing: bigint[];
  learnersNext: bigint[];
  autoLeave: boolean;
}

function newConfStateDraft(): ConfStateDraft {
  return { voters: [], learners: [], votersOutgoing: [], learnersNext: [], autoLeave: false };
}

function isJoint(cs: ConfStateDraft): boolean {
  return cs.votersOutgoing.length > 0 || cs.learnersNext.length > 0 || cs.autoLeave;
}

interface SnapshotDraft {
  data: Uint8Array;
  index: number;
  term: number;
  confState: ConfStateDraft;
}

function newSnapshotDraft(): SnapshotDraft {
  return { data: EMPTY, index: 0, term: 0, confState: newConfStateDraft() };
}

/** Repeated uint64, packed or one per tag, as gogo accepts both. */
function readIds(r: Reader, into: bigint[], name: string): void {
  if (r.wireType === WireType.Varint) {
    into.push(r.u64());
  } else if (r.wireType === WireType.Bytes) {
    const [start, stop] = r.span();
    const packed = new Reader(r.buf, r.what, start, stop);
    while (!packed.done()) into.push(packed.u64());
  } else {
    r.fail(`wrong wireType = ${r.wireType} for field ${name}`);
  }
}

function mergeConfState(r: Reader, cs: ConfStateDraft): void {
  while (!r.done()) {
    r.tag();
    switch (r.field) {
      case 1:
        readIds(r, cs.voters, 'Voters');
        break;
      case 2:
        readIds(r, cs.learners, 'Learners');
        break;
      case 3:
        readIds(r, cs.votersOutgoing, 'VotersOutgoing');
        break;
      case 4:
        readIds(r, cs.learnersNext, 'LearnersNext');
        break;
      case 5:
        r.expect(WireType.Varint, 'AutoLeave');
        cs.autoLeave = r.bool();
        break;
      default:
        r.skip();
    }
  }
}

function mergeMetadata(r: Reader, s: SnapshotDraft): void {
  while (!r.done()) {
    r.tag();
    switch (r.field) {
      case 1: {
        r.expect(WireType.Bytes, 'ConfState');
        const [start, stop] = r.span();
        mergeConfState(new Reader(r.buf, 'raftpb.ConfState', start, stop), s.confState);
        break;
      }
      case 2:
        r.expect(WireType.Varint, 'Index');
        s.index = r.uint('snapshot index');
        break;
      case 3:
        r.expect(WireType.Varint, 'Term');
        s.term = r.uint('snapshot term');
        break;
      default:
        r.skip();
    }
  }
}

function mergeSnapshot(r: Reader, s: SnapshotDraft): void {
  while (!r.done()) {
    r.tag();
    switch (r.field) {
      case 1:
        r.expect(WireType.Bytes, 'Data');
        s.data = r.bytes();
        break;
      case 2: {
        r.expect(WireType.Bytes, 'Metadata');
        const [start, stop] = r.span();
        mergeMetadata(new Reader(r.buf, 'raftpb.SnapshotMetadata', start, stop), s);
        break;
      }
      default:
        r.skip();
    }
  }
}

function finishConfState(cs: ConfStateDraft): ConfState {
  if (isJoint(cs)) {
    throw new WireError(
      'raftpb.ConfState: joint consensus (voters_outgoing, learners_next, auto_leave) is not supported',
    );
  }
  return { voters: cs.voters, learners: cs.learners };
}

function finishSnapshot(s: SnapshotDraft): Snapshot {
  return {
    data: s.data,
    metadata: { index: s.index, term: s.term, confState: finishConfState(s.confState) },
  };
}

function readEntry(r: Reader): Entry {
  let type = 0;
  let term = 0;
  let index = 0;
  let data = EMPTY;
  while (!r.done()) {
    r.tag();
    switch (r.field) {
      case 1:
        r.expect(WireType.Varint, 'Type');
        type = r.enum32();
        break;
      case 2:
        r.expect(WireType.Varint, 'Term');
        term = r.uint('entry term');
        break;
      case 3:
        r.expect(WireType.Varint, 'Index');
        index = r.uint('entry index');
        break;
      case 4:
        r.expect(WireType.Bytes, 'Data');
        data = r.bytes();
        break;
      default:
        r.skip();
    }
  }
  if (type === ENTRY_CONF_CHANGE_V2) {
    r.fail(`entry ${index} is EntryConfChangeV2, which etcd 3.4 cannot apply and we do not support`);
  }
  if (type !== EntryType.Normal && type !== EntryType.ConfChange) r.fail(`unknown entry type ${type}`);
  return { term, index, type, data };
}

function isMessageType(t: number): t is MessageType {
  return Number.isInteger(t) && t >= 0 && t <= MESSAGE_TYPE_MAX;
}

function isEmptySnapshot(s: SnapshotDraft): boolean {
  const cs = s.confState;
  return (
    s.data.length === 0 &&
    s.index === 0 &&
    s.term === 0 &&
    cs.voters.length === 0 &&
    cs.learners.length === 0 &&
    !isJoint(cs)
  );
}

/** Go's Marshal of an empty raftpb.Snapshot: Metadata{ConfState{AutoLeave:false}, Index:0, Term:0}. */
const EMPTY_SNAPSHOT_BYTES = [0x12, 0x08, 0x0a, 0x02, 0x28, 0x00, 0x10, 0x00, 0x18, 0x00];

function isEmptySnapshotEncoding(b: Uint8Array, start: number, stop: number): boolean {
  if (stop - start !== EMPTY_SNAPSHOT_BYTES.length) return false;
  for (let i = 0; i < EMPTY_SNAPSHOT_BYTES.length; i++)
    if (b[start + i] !== EMPTY_SNAPSHOT_BYTES[i]) return false;
  return true;
}

/** Parses what Go's raftpb.Message.Unmarshal accepts; `snapshot` is unset when it is the empty one. */
export function decodeMessage(b: Uint8Array): Message {
  const r = new Reader(b, 'raftpb.Message');
  let type = 0;
  let to = 0n;
  let from = 0n;
  let term = 0;
  let logTerm = 0;
  let index = 0;
  const entries: Entry[] = [];
  let commit = 0;
  let snapshot: SnapshotDraft | undefined;
  let reject = false;
  let rejectHint = 0;
  let context: Uint8Array | undefined;
  while (!r.done()) {
    r.tag();
    switch (r.field) {
      case 1:
        r.expect(WireType.Varint, 'Type');
        type = r.enum32();
        break;
      case 2:
        r.expect(WireType.Varint, 'To');
        to = r.u64();
        break;
      case 3:
        r.expect(WireType.Varint, 'From');
        from = r.u64();
        break;
      case 4:
        r.expect(WireType.Varint, 'Term');
        term = r.uint('message term');
        break;
      case 5:
        r.expect(WireType.Varint, 'LogTerm');
        logTerm = r.uint('message logTerm');
        break;
      case 6:
        r.expect(WireType.Varint, 'Index');
        index = r.uint('message index');
        break;
      case 7: {
        r.expect(WireType.Bytes, 'Entries');
        const [start, stop] = r.span();
        entries.push(readEntry(new Reader(b, 'raftpb.Entry', start, stop)));
        break;
      }
      case 8:
        r.expect(WireType.Varint, 'Commit');
        commit = r.uint('message commit');
        break;
      case 9: {
        r.expect(WireType.Bytes, 'Snapshot');
        const [start, stop] = r.span();
        // Nearly every message carries the empty snapshot, in the one way Go encodes it.
        if (snapshot === undefined && isEmptySnapshotEncoding(b, start, stop)) break;
        snapshot ??= newSnapshotDraft();
        mergeSnapshot(new Reader(b, 'raftpb.Snapshot', start, stop), snapshot);
        break;
      }
      case 10:
        r.expect(WireType.Varint, 'Reject');
        reject = r.bool();
        break;
      case 11:
        r.expect(WireType.Varint, 'RejectHint');
        rejectHint = r.uint('message rejectHint');
        break;
      case 12:
        r.expect(WireType.Bytes, 'Context');
        context = r.bytes();
        break;
      default:
        r.skip();
    }
  }
  if (!isMessageType(type)) throw new WireError(`raftpb.Message: unknown message type ${type}`);
  const m: Message = { type, to, from, term, logTerm, index, entries, commit, reject, rejectHint };
  if (snapshot !== undefined && !isEmptySnapshot(snapshot)) m.snapshot = finishSnapshot(snapshot);
  if (context !== undefined) m.context = context;
  return m;
}

export function decodeEntry(b: Uint8Array): Entry {
  return readEntry(new Reader(b, 'raftpb.Entry'));
}

export function decodeSnapshot(b: Uint8Array): Snapshot {
  const s = newSnapshotDraft();
  mergeSnapshot(new Reader(b, 'raftpb.Snapshot'), s);
  return finishSnapshot(s);
}

export function decodeConfState(b: Uint8Array): ConfState {
  const cs = newConfStateDraft();
  mergeConfState(new Reader(b, 'raftpb.ConfState'), cs);
  return finishConfState(cs);
}

export function decodeHardState(b: Uint8Array): HardState {
  const r = new Reader(b, 'raftpb.HardState');
  const hs: HardState = { term: 0, vote: 0n, commit: 0 };
  while (!r.done()) {
    r.tag();
    switch (r.field) {
      case 1:
        r.expect(WireType.Varint, 'Term');
        hs.term = r.uint('hard state term');
        break;
      case 2:
        r.expect(WireType.Varint, 'Vote');
        hs.vote = r.u64();
        break;
      case 3:
        r.expect(WireType.Varint, 'Commit');
        hs.commit = r.uint('hard state commit');
        break;
      default:
        r.skip();
    }
  }
  return hs;
}
