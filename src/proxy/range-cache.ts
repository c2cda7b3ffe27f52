// The proxy's cache of Range responses (etcd's grpcproxy cache): serializable
// ranges are answered from it; every range that went upstream is stored as if
// it had been serializable. Writes through the proxy invalidate the entries
// whose key interval they touch. A request pinned to a revision never changes,
// so it is not indexed for invalidation; one below the compacted revision is
// refused as etcd's cache does. Bounded: least recently used entries go first.
import { RangeRequest, type RangeResponse } from '../pb/etcdserverpb/rpc.js';

export const DEFAULT_MAX_ENTRIES = 2048;

/** An interval of the keyspace: [key, end), a single key when end is empty, open-ended when end is "\0". */
interface KeyInterval {
  key: Buffer;
  end: Buffer;
}

export class CompactedError extends Error {
  constructor() {
    super('etcdserver: mvcc: required revision has been compacted');
  }
}

export class RangeCache {
  /** Encoded request (as serializable) → response; Map order is the LRU order (oldest first). */
  private readonly entries = new Map<string, RangeResponse>();
  /** Interval (as "hex(key)/hex(end)") → the cache keys stored for requests over it. */
  private readonly byInterval = new Map<string, { interval: KeyInterval; keys: Set<string> }>();
  private compactedRevision = -1;

  constructor(private readonly maxEntries = DEFAULT_MAX_ENTRIES) {}

  get size(): number {
    return this.entries.size;
  }

  /** The cached answer, undefined on a miss; throws CompactedError below the compacted revision. */
  get(req: RangeRequest): RangeResponse | undefined {
    const key = cacheKey(req);
    if (req.revision > 0 && req.revision < this.compactedRevision) {
      this.entries.delete(key);
      throw new CompactedError();
    }
    const hit = this.entries.get(key);
    if (hit === undefined) return undefined;
    this.entries.delete(key);
    this.entries.set(key, hit);
    return hit;
  }

  add(req: RangeRequest, resp: RangeResponse): void {
    const key = cacheKey(req);
    // Revision 0 means "latest", never compacted (etcd's cache stops caching those after a compaction).
    if (req.revision === 0 || req.revision > this.compactedRevision) {
      this.entries.delete(key);
      this.entries.set(key, resp);
      while (this.entries.size > this.maxEntries) {
        const oldest = this.entries.keys().next().value as string;
        this.entries.delete(oldest);
      }
    }
    if (req.revision !== 0) return;
    const interval = { key: Buffer.from(req.key), end: Buffer.from(req.rangeEnd) };
    const id = `${interval.key.toString('hex')}/${interval.end.toString('hex')}`;
    let slot = this.byInterval.get(id);
    if (slot === undefined) {
      slot = { interval, keys: new Set() };
      this.byInterval.set(id, slot);
    }
    slot.keys.add(key);
  }

  /** Drops every entry over an interval that overlaps [key, end). */
  invalidate(key: Uint8Array, end: Uint8Array): void {
    const written = { key: Buffer.from(key), end: Buffer.from(end) };
    for (const [id, slot] of this.byInterval) {
      if (!overlaps(slot.interval, written)) continue;
      for (const k of slot.keys) this.entries.delete(k);
      this.byInterval.delete(id);
    }
  }

  compact(revision: number): void {
    if (revision > this.compactedRevision) this.compactedRevision = revision;
  }
}

/** The request as the cache knows it: its encoding with serializable set. */
function cacheKey(req: RangeRequest): string {
  return Buffer.from(RangeRequest.encode({ ...req, serializable: true }).finish()).toString('latin1');
}

const isOpenEnd = (end: Buffer) => end.length === 1 && end[0] === 0;

/** Exclusive upper bound of an interval, or undefined for "to the end of the keyspace". */
function upper(i: KeyInterval): Buffer | undefined {
  if (isOpenEnd(i.end)) return undefined;
  if (i.end.length === 0) return Buffer.concat([i.key, Buffer.from([0])]);
  return i.end;
}

function overlaps(a: KeyInterval, b: KeyInterval): boolean {
  const aUpper = upper(a);
  const bUpper = upper(b);
  // a starts before b ends, and b starts before a ends.
  const aBeforeBEnd = bUpper === undefined || Buffer.compare(a.key, bUpper) < 0;
  const bBeforeAEnd = aUpper === undefined || Buffer.compare(b.key, aUpper) < 0;
  return aBeforeBEnd && bBeforeAEnd;
}
