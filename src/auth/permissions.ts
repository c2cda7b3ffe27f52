// Key-range permissions and the question etcd's auth store asks of them: may
// this user read (or write) this key, or every key of this range?
//
// Ranges follow etcd's interval semantics (pkg/adt's "bytes affine" intervals):
// half-open [begin, end), with an EMPTY byte string standing for +infinity --
// as an end it means "every key from begin on" (a from-key permission or
// request), and, faithfully to etcd, an empty begin is +infinity as well. A
// permission's range end "\0" is the from-key marker and becomes that empty
// end; a permission with no range end covers its one key, [key, key+"\0").
//
// A point (a single key) is permitted when one granted interval contains it;
// a range only when the granted intervals overlapping it cover it without a
// gap (etcd's IntervalTree.Contains: overlapping grants are merged).
import { type Permission, Permission_Type } from '../pb/authpb/auth.js';

export interface KeyInterval {
  readonly begin: Uint8Array;
  /** Exclusive; empty means +infinity. */
  readonly end: Uint8Array;
}

/** Byte order in which the empty string sorts after everything (pkg/adt's BytesAffineComparable). */
export function affineCompare(a: Uint8Array, b: Uint8Array): number {
  if (a.length === 0) return b.length === 0 ? 0 : 1;
  if (b.length === 0) return -1;
  return Buffer.compare(a, b);
}

function isFromKeyEnd(end: Uint8Array): boolean {
  return end.length === 1 && end[0] === 0;
}

/** The one-key interval [key, key+"\0"). */
export function pointInterval(key: Uint8Array): KeyInterval {
  const end = new Uint8Array(key.length + 1);
  end.set(key);
  return { begin: key, end };
}

/** The keys a granted permission covers, as etcd's range permission cache stores them. */
export function permissionInterval(p: Pick<Permission, 'key' | 'rangeEnd'>): KeyInterval {
  if (p.rangeEnd.length === 0) return pointInterval(p.key);
  return { begin: p.key, end: isFromKeyEnd(p.rangeEnd) ? new Uint8Array(0) : p.rangeEnd };
}

/** a and b share at least one key (adt's Interval.Compare answering 0). */
function overlaps(a: KeyInterval, b: KeyInterval): boolean {
  const aLeftOfB = affineCompare(a.begin, b.begin) < 0 && affineCompare(a.end, b.begin) <= 0;
  const aRightOfB = affineCompare(a.begin, b.end) >= 0;
  return !aLeftOfB && !aRightOfB;
}

/** A set of granted intervals, sorted by their beginning. */
export class IntervalSet {
  private readonly intervals: KeyInterval[];

  constructor(intervals: Iterable<KeyInterval>) {
    this.intervals = [...intervals].sort((x, y) => affineCompare(x.begin, y.begin));
  }

  get size(): number {
    return this.intervals.length;
  }

  /** Some granted interval contains `key`. */
  containsKey(key: Uint8Array): boolean {
    const point = pointInterval(key);
    return this.intervals.some((iv) => overlaps(point, iv));
  }

  /** The granted intervals overlapping `range` leave no key of it uncovered. */
  covers(range: KeyInterval): boolean {
    let minBegin: Uint8Array | undefined;
    let maxEnd: Uint8Array = new Uint8Array(0);
    for (const iv of this.intervals) {
      if (!overlaps(range, iv)) continue;
      if (minBegin === undefined) {
        minBegin = iv.begin;
        maxEnd = iv.end;
        continue;
      }
      if (affineCompare(maxEnd, iv.begin) < 0) return false;
      if (affineCompare(iv.end, maxEnd) > 0) maxEnd = iv.end;
    }
    return (
      minBegin !== undefined &&
      affineCompare(maxEnd, range.end) >= 0 &&
      affineCompare(minBegin, range.begin) <= 0
    );
  }
}

export type Access = 'read' | 'write';

/** Everything one user may read and write, merged over all of its roles. */
export class UserPermissions {
  private readonly read: IntervalSet;
  private readonly write: IntervalSet;

  constructor(perms: Iterable<Pick<Permission, 'permType' | 'key' | 'rangeEnd'>>) {
    const read: KeyInterval[] = [];
    const write: KeyInterval[] = [];
    for (const p of perms) {
      const iv = permissionInterval(p);
      if (p.permType === Permission_Type.READ || p.permType === Permission_Type.READWRITE) read.push(iv);
      if (p.permType === Permission_Type.WRITE || p.permType === Permission_Type.READWRITE) write.push(iv);
    }
    this.read = new IntervalSet(read);
    this.write = new IntervalSet(write);
  }

  /**
   * etcd's isRangeOpPermitted: with no range end the request names one key;
   * a range end "\0" means every key from `key` on.
   */
  permits(access: Access, key: Uint8Array, rangeEnd: Uint8Array): boolean {
    const set = access === 'read' ? this.read : this.write;
    if (rangeEnd.length === 0) return set.containsKey(key);
    return set.covers({ begin: key, end: isFromKeyEnd(rangeEnd) ? new Uint8Array(0) : rangeEnd });
  }
}
