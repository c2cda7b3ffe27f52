// Read-only access to a bbolt 1.3 file: pick the valid newest meta, walk buckets (paged or
// inline, nested to any depth), iterate a bucket's entries in key order, look keys up. Pages
// are read on demand from a PageSource; nothing is mapped or cached, so memory stays at a few
// pages per open cursor. Corrupt input raises BoltFormatError: every page id is bounds-checked
// against meta.pgid and the file size, and a walk refuses to visit a page twice (no cycles).

import { BoltFormatError } from './errors.js';
import {
  BUCKET_HEADER_SIZE,
  compareBytes,
  DEFAULT_PAGE_SIZE,
  decodeMetaPage,
  ELEMENT_BUCKET,
  isSanePageSize,
  type Meta,
  NO_FREELIST,
  PAGE_HEADER_SIZE,
} from './format.js';
import {
  branchElement,
  checkElementArray,
  freelistIds,
  isBranch,
  isLeaf,
  leafElement,
  type PageView,
  parsePageHeader,
} from './page.js';
import { BufferSource, FileSource, type PageSource } from './page-source.js';

/** Deeper than any real tree (a 4 KiB-page tree of depth 10 holds far more than 2^48 bytes). */
const MAX_DEPTH = 64;

export interface BoltEntry {
  key: Buffer;
  /** The value; for a sub-bucket, its raw header (use bucket(key) to open it). */
  value: Buffer;
  isBucket: boolean;
}

export class BoltDb {
  private constructor(
    private readonly src: PageSource,
    readonly meta: Meta,
    /** Which meta page (0 or 1) is current. */
    readonly metaPage: 0 | 1,
  ) {}

  /** Opens a file read-only. The file may be longer than the db (a sha256 trailer, a grown file). */
  static openFile(path: string): BoltDb {
    const src = new FileSource(path);
    try {
      return BoltDb.fromSource(src);
    } catch (err) {
      src.close();
      throw err;
    }
  }

  static fromBuffer(buf: Buffer): BoltDb {
    return BoltDb.fromSource(new BufferSource(buf));
  }

  static fromSource(src: PageSource): BoltDb {
    if (src.size < PAGE_HEADER_SIZE + 64) {
      throw new BoltFormatError(`file too small to be a bbolt db (${src.size} bytes)`);
    }
    const m0 = decodeMetaPage(src.read(0, Math.min(src.size, DEFAULT_PAGE_SIZE)));
    // bbolt takes the page size from meta 0 when it validates, else the OS page size.
    const pageSize = m0.ok ? m0.meta.pageSize : DEFAULT_PAGE_SIZE;
    if (!isSanePageSize(pageSize)) throw new BoltFormatError(`unsupported page size ${pageSize}`);
    if (src.size < 2 * pageSize) {
      throw new BoltFormatError(
        `truncated file: ${src.size} bytes, less than two ${pageSize}-byte meta pages`,
      );
    }
    const m1 = decodeMetaPage(src.read(pageSize, pageSize));
    let meta: Meta;
    let metaPage: 0 | 1;
    if (m0.ok && m1.ok) {
      metaPage = m1.meta.txid > m0.meta.txid ? 1 : 0;
      meta = metaPage === 1 ? m1.meta : m0.meta;
    } else if (m0.ok) {
      [meta, metaPage] = [m0.meta, 0];
    } else if (m1.ok) {
      [meta, metaPage] = [m1.meta, 1];
    } else {
      throw new BoltFormatError(`no valid meta page (meta 0: ${m0.reason}; meta 1: ${m1.reason})`);
    }
    if (meta.pageSize !== pageSize) {
      throw new BoltFormatError(`meta ${metaPage} page size ${meta.pageSize} differs from ${pageSize}`);
    }
    const dbBytes = meta.pgid * BigInt(pageSize);
    if (dbBytes > BigInt(src.size)) {
      throw new BoltFormatError(
        `truncated file: meta says ${meta.pgid} pages (${dbBytes} bytes) but the file has ${src.size} bytes`,
      );
    }
    if (meta.root < 2n || meta.root >= meta.pgid) {
      throw new BoltFormatError(`root page ${meta.root} outside [2, ${meta.pgid})`);
    }
    if (meta.freelist !== NO_FREELIST && (meta.freelist < 2n || meta.freelist >= meta.pgid)) {
      throw new BoltFormatError(`freelist page ${meta.freelist} outside [2, ${meta.pgid})`);
    }
    return new BoltDb(src, meta, metaPage);
  }

  get pageSize(): number {
    return this.meta.pageSize;
  }

  /** Size of the database proper: pgid × pageSize (bbolt's tx.Size()). */
  get size(): number {
    return Number(this.meta.pgid) * this.meta.pageSize;
  }

  /** The root bucket, whose keys are the top-level buckets. */
  root(): BoltBucket {
    return new BoltBucket(this, this.meta.root, this.meta.rootSequence, undefined, 'root bucket');
  }

  /** A top-level bucket, or undefined. */
  bucket(name: string | Uint8Array): BoltBucket | undefined {
    return this.root().bucket(name);
  }

  /** Reads page `pgid` with its overflow pages, checking it lies inside the db. */
  page(pgid: bigint): PageView {
    const ps = this.meta.pageSize;
    if (pgid < 2n || pgid >= this.meta.pgid) {
      throw new BoltFormatError(`page ${pgid} out of bounds (db has ${this.meta.pgid} pages)`);
    }
    const first = parsePageHeader(this.src.read(Number(pgid) * ps, ps), `page ${pgid}`);
    if (first.id !== pgid) throw new BoltFormatError(`page ${pgid}: header says it is page ${first.id}`);
    if (first.overflow === 0) return first;
    const end = pgid + BigInt(first.overflow);
    if (end >= this.meta.pgid) {
      throw new BoltFormatError(
        `page ${pgid}: ${first.overflow} overflow pages run past page ${this.meta.pgid}`,
      );
    }
    const buf = this.src.read(Number(pgid) * ps, (first.overflow + 1) * ps);
    return { ...first, buf };
  }

  /** The ids in the freelist page, or undefined when the freelist is not stored. */
  freelist(): bigint[] | undefined {
    if (this.meta.freelist === NO_FREELIST) return undefined;
    return freelistIds(this.page(this.meta.freelist));
  }

  close(): void {
    this.src.close();
  }
}

/** A bucket name for messages: quoted when printable ASCII, else hex. */
function printable(key: Buffer): string {
  const s = key.toString('latin1');
  return /^[\x20-\x7e]{1,64}$/.test(s) ? JSON.stringify(s) : `0x${key.subarray(0, 32).toString('hex')}`;
}

interface Frame {
  page: PageView;
  next: number;
}

export class BoltBucket {
  /** @internal use BoltDb.root() / BoltBucket.bucket() */
  constructor(
    private readonly db: BoltDb,
    /** Root page id, 0 for an inline bucket. */
    readonly rootPage: bigint,
    readonly sequence: bigint,
    private readonly inline: PageView | undefined,
    readonly where: string,
  ) {}

  get isInline(): boolean {
    return this.inline !== undefined;
  }

  /** Every entry in key order (sub-buckets included, flagged). Keys are checked to ascend. */
  *entries(): Generator<BoltEntry> {
    let last: Buffer | undefined;
    const visited = new Set<bigint>();
    const stack: Frame[] = [{ page: this.rootPageView(), next: 0 }];
    visited.add(this.rootPage);
    while (stack.length > 0) {
      const top = stack[stack.length - 1]!;
      if (top.next >= top.page.count) {
        stack.pop();
        continue;
      }
      const i = top.next++;
      if (isLeaf(top.page)) {
        const e = leafElement(top.page, i);
        if (last !== undefined && compareBytes(last, e.key) >= 0) {
          throw new BoltFormatError(`${top.page.where}: keys out of order in ${this.where}`);
        }
        last = e.key;
        yield { key: e.key, value: e.value, isBucket: (e.flags & ELEMENT_BUCKET) !== 0 };
      } else {
        const child = branchElement(top.page, i).pgid;
        if (visited.has(child)) throw new BoltFormatError(`page ${child} referenced twice in ${this.where}`);
        if (stack.length >= MAX_DEPTH)
          throw new BoltFormatError(`${this.where} deeper than ${MAX_DEPTH} levels`);
        visited.add(child);
        stack.push({ page: this.treePage(child), next: 0 });
      }
    }
  }

  /** The entry with exactly this key, or undefined. */
  getEntry(key: string | Uint8Array): BoltEntry | undefined {
    const k = typeof key === 'string' ? Buffer.from(key) : key;
    let page = this.rootPageView();
    for (let depth = 0; isBranch(page); depth++) {
      if (depth >= MAX_DEPTH) throw new BoltFormatError(`${this.where} deeper than ${MAX_DEPTH} levels`);
      if (page.count === 0) return undefined;
      // Last element whose key <= k, or the first one.
      let lo = 0;
      let hi = page.count - 1;
      while (lo < hi) {
        const mid = (lo + hi + 1) >> 1;
        if (compareBytes(branchElement(page, mid).key, k) <= 0) lo = mid;
        else hi = mid - 1;
      }
      page = this.treePage(branchElement(page, lo).pgid);
    }
    let lo = 0;
    let hi = page.count - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      const e = leafElement(page, mid);
      const c = compareBytes(e.key, k);
      if (c === 0) return { key: e.key, value: e.value, isBucket: (e.flags & ELEMENT_BUCKET) !== 0 };
      if (c < 0) lo = mid + 1;
      else hi = mid - 1;
    }
    return undefined;
  }

  /** The value of a plain key (not a sub-bucket), or undefined. */
  get(key: string | Uint8Array): Buffer | undefined {
    const e = this.getEntry(key);
    return e === undefined || e.isBucket ? undefined : e.value;
  }

  /** A sub-bucket, or undefined when absent or when the key holds a plain value (as bbolt does). */
  bucket(name: string | Uint8Array): BoltBucket | undefined {
    const e = this.getEntry(name);
    if (e === undefined || !e.isBucket) return undefined;
    return this.open(e);
  }

  /** Opens the sub-bucket an entry from entries() stands for. */
  open(e: BoltEntry): BoltBucket {
    const name = `bucket ${printable(e.key)}`;
    if (!e.isBucket) throw new Error(`bbolt: ${name} is not a bucket`);
    if (e.value.length < BUCKET_HEADER_SIZE) {
      throw new BoltFormatError(`${name}: header of ${e.value.length} bytes, need ${BUCKET_HEADER_SIZE}`);
    }
    const root = e.value.readBigUInt64LE(0);
    const sequence = e.value.readBigUInt64LE(8);
    if (root !== 0n) return new BoltBucket(this.db, root, sequence, undefined, name);
    const image = e.value.subarray(BUCKET_HEADER_SIZE);
    const page = parsePageHeader(image, `inline page of ${name}`);
    if (!isLeaf(page))
      throw new BoltFormatError(`${page.where}: not a leaf (flags 0x${page.flags.toString(16)})`);
    checkElementArray(page);
    return new BoltBucket(this.db, 0n, sequence, page, name);
  }

  private rootPageView(): PageView {
    return this.inline ?? this.treePage(this.rootPage);
  }

  private treePage(pgid: bigint): PageView {
    const p = this.db.page(pgid);
    checkElementArray(p);
    return p;
  }
}
