// The simulated application: an append-only list of applied write ids plus a hash
// chain over every applied entry, so two replicas can be compared in O(1) per index.
import { type Entry, EntryType } from '../../src/raft/index.js';

const WRITE_MAGIC = 0x57; // 'W'

/** A client write's payload: magic, uint32 write id, then padding to `size` bytes. */
export function encodeWrite(writeId: number, size = 5): Uint8Array {
  if (!Number.isInteger(writeId) || writeId < 0 || writeId > 0xffffffff)
    throw new Error(`bad write id ${writeId}`);
  const b = new Uint8Array(Math.max(5, size));
  b[0] = WRITE_MAGIC;
  new DataView(b.buffer).setUint32(1, writeId, true);
  return b;
}

/** The write id in a Normal entry, or undefined for the leader's empty no-op. */
export function decodeWrite(data: Uint8Array): number | undefined {
  if (data.length === 0) return undefined;
  if (data.length < 5 || data[0] !== WRITE_MAGIC) throw new Error('app: unknown normal entry payload');
  return new DataView(data.buffer, data.byteOffset, data.byteLength).getUint32(1, true);
}

function fnv(h: number, x: number): number {
  h ^= x & 0xffff;
  h = Math.imul(h, 0x01000193);
  h ^= x >>> 16;
  return Math.imul(h, 0x01000193) >>> 0;
}

function digestBytes(data: Uint8Array): number {
  let h = 0x811c9dc5;
  for (const byte of data) h = fnv(h, byte);
  return h;
}

/** A fingerprint of an entry's identity (term, type, payload), independent of who holds it. */
export function entryDigest(e: Entry): number {
  let h = fnv(0x811c9dc5, e.term);
  h = fnv(h, e.type);
  if (e.type === EntryType.Normal) {
    const w = decodeWrite(e.data);
    return fnv(h, w === undefined ? 0 : w + 1);
  }
  return fnv(h, digestBytes(e.data));
}

interface Image {
  index: number;
  hash: number;
  writes: number[];
}

export class AppStateMachine {
  applied = 0;
  /** Hash chain over (index, entry digest) of everything applied so far. */
  hash = 0;
  readonly writes: number[] = [];
  readonly writeSet = new Set<number>();

  /** Apply the next entry; returns its write id if it is a client write. */
  apply(e: Entry): number | undefined {
    if (e.index !== this.applied + 1) throw new Error(`app: applying ${e.index} after ${this.applied}`);
    this.applied = e.index;
    this.hash = fnv(fnv(this.hash, e.index), entryDigest(e));
    if (e.type !== EntryType.Normal) return undefined;
    const w = decodeWrite(e.data);
    if (w !== undefined) {
      this.writes.push(w);
      this.writeSet.add(w);
    }
    return w;
  }

  encode(): Uint8Array {
    const image: Image = { index: this.applied, hash: this.hash, writes: this.writes };
    return new TextEncoder().encode(JSON.stringify(image));
  }

  static decode(data: Uint8Array, expectedIndex: number): AppStateMachine {
    const sm = new AppStateMachine();
    if (expectedIndex === 0 && data.length === 0) return sm;
    const image = JSON.parse(new TextDecoder().decode(data)) as Image;
    if (image.index !== expectedIndex) {
      throw new Error(`app: snapshot image at ${image.index} labelled ${expectedIndex}`);
    }
    sm.applied = image.index;
    sm.hash = image.hash;
    for (const w of image.writes) {
      sm.writes.push(w);
      sm.writeSet.add(w);
    }
    return sm;
  }
}
