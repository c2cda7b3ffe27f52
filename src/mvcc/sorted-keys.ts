// The key index's ordered view: values kept sorted by a string key (JS string order, which
// for latin1 keys is byte order), in chunks of at most MAX_CHUNK. A range scan walks the
// chunks from a binary-searched start; an insert splices into one chunk and splits it when it
// grows too big. Appending past the largest key, the common case for keys written in order
// (sequence numbers, timestamps, etcdbench --sequential-keys), only pushes onto the last chunk.
//
// Replaces sorted-btree here: its insert into a full leaf first shifts an element into a
// sibling (array shift and max-key updates on every level), so a run of ascending inserts
// paid that on every put; it was ~5% of a follower's CPU under a put load of new keys.
// Pure: no I/O.

/** Chunks are split in two beyond this; big enough that the chunk directory stays small. */
const MAX_CHUNK = 512;

export class SortedKeys<V> {
  /** Non-empty, sorted chunks; every key of chunk i is below every key of chunk i+1. */
  private chunks: V[][] = [];
  private count = 0;

  constructor(private readonly keyOf: (v: V) => string) {}

  get size(): number {
    return this.count;
  }

  /** Adds `v`, whose key must not be present yet. */
  insert(v: V): void {
    const key = this.keyOf(v);
    const chunks = this.chunks;
    const last = chunks[chunks.length - 1];
    if (last === undefined) {
      chunks.push([v]);
      this.count++;
      return;
    }
    if (key > this.keyOf(last[last.length - 1]!)) {
      if (last.length >= MAX_CHUNK) chunks.push([v]);
      else last.push(v);
      this.count++;
      return;
    }
    const ci = this.chunkFor(key);
    const chunk = chunks[ci]!;
    const at = this.lowerBound(chunk, key);
    if (at < chunk.length && this.keyOf(chunk[at]!) === key) {
      throw new Error(`SortedKeys: key already present`);
    }
    chunk.splice(at, 0, v);
    this.count++;
    if (chunk.length > MAX_CHUNK) chunks.splice(ci + 1, 0, chunk.splice(chunk.length >> 1));
  }

  /** Removes the value with `key`; false if there is none. */
  delete(key: string): boolean {
    if (this.chunks.length === 0) return false;
    const ci = this.chunkFor(key);
    const chunk = this.chunks[ci]!;
    const at = this.lowerBound(chunk, key);
    if (at >= chunk.length || this.keyOf(chunk[at]!) !== key) return false;
    chunk.splice(at, 1);
    this.count--;
    if (chunk.length === 0) this.chunks.splice(ci, 1);
    return true;
  }

  /**
   * The values with keys >= `from` (all when omitted), in key order. The structure must not be
   * changed while the iteration is going on.
   */
  *from(from?: string): Generator<V> {
    const chunks = this.chunks;
    let ci = 0;
    let at = 0;
    if (from !== undefined && chunks.length > 0) {
      ci = this.chunkFor(from);
      at = this.lowerBound(chunks[ci]!, from);
    }
    for (; ci < chunks.length; ci++, at = 0) {
      const chunk = chunks[ci]!;
      for (; at < chunk.length; at++) yield chunk[at]!;
    }
  }

  /** The first chunk whose largest key is >= key; the last chunk when every key is smaller. */
  private chunkFor(key: string): number {
    const chunks = this.chunks;
    let lo = 0;
    let hi = chunks.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      const c = chunks[mid]!;
      if (this.keyOf(c[c.length - 1]!) < key) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** The first position in `chunk` whose key is >= key. */
  private lowerBound(chunk: V[], key: string): number {
    let lo = 0;
    let hi = chunk.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.keyOf(chunk[mid]!) < key) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }
}
