// Streaming bbolt writer. Buckets and their entries arrive in key order; leaf pages are written
// as soon as they are full and only the open branch node of each tree level stays in memory, so
// memory is O(tree depth × page size) per open bucket whatever the db size.
//
// The meta pages come first in the file but name the root page and the page count, which are
// only known at the end. Rather than seeking back (impossible on a socket), writeBolt runs the
// producer twice: a measuring pass that lays pages out without encoding them, then the writing
// pass that emits the metas first and every page in id order. The producer must therefore be
// deterministic (e.g. read from one read transaction). Page layout, inline buckets and the
// freelist choice are documented in docs/decisions/0011-bbolt.md.

import { setImmediate as yieldToLoop } from 'node:timers/promises';
import { BoltWriteError } from './errors.js';
import {
  BUCKET_HEADER_SIZE,
  compareBytes,
  DEFAULT_PAGE_SIZE,
  ELEMENT_BUCKET,
  encodeMetaPage,
  FLAG_FREELIST,
  isSanePageSize,
  MAX_KEY_SIZE,
  MAX_VALUE_SIZE,
  NO_FREELIST,
  PAGE_HEADER_SIZE,
} from './format.js';
import {
  type BranchItem,
  branchItemSize,
  encodeBranch,
  encodeLeaf,
  type LeafItem,
  leafItemSize,
} from './node-encoder.js';
import { type BoltOutput, PageSink } from './sink.js';

/** What a producer writes through. Await every call (most return undefined, i.e. go on). */
export interface BoltBuilder {
  /** Opens a bucket inside the innermost open one (top-level when none is open). */
  bucket(name: string | Uint8Array): Promise<void> | undefined;
  /** Adds a key to the innermost open bucket; keys must strictly ascend. Buffers are kept, not copied. */
  put(key: Uint8Array, value: Uint8Array): Promise<void> | undefined;
  /** Closes the innermost open bucket. */
  end(): Promise<void> | undefined;
}

/** Writes the whole db through the builder. Called twice by writeBolt: it must be replayable. */
export type BoltProducer = (b: BoltBuilder) => Promise<void>;

export interface BoltWriteOptions {
  /** Default 4096 (what etcd on x86-64 and arm64 Linux writes). */
  pageSize?: number;
  /** txid of meta page 0; meta page 1 gets txid - 1, as bbolt's WriteTo does. Default 2. */
  txid?: bigint;
  /** 'none' (default, like etcd's NoFreelistSync) or 'page': an empty freelist page at page 2. */
  freelist?: 'none' | 'page';
  /** Append sha256(db) after the db, as `etcdctl snapshot save` files have. */
  sha256Trailer?: boolean;
  /**
   * Called by writeBolt after measuring, before the first byte is written: lets a sender announce
   * the size first (etcd's Snapshot RPC sends remaining_bytes; add 32 for the trailer).
   */
  onLayout?: (layout: BoltLayout) => void | Promise<void>;
}

export interface BoltLayout {
  /** meta.pgid: pages in the db, metas included. */
  pages: number;
  /** meta.root. */
  root: number;
  /** pages × pageSize. */
  size: number;
}

export interface BoltWriteResult extends BoltLayout {
  /** sha256 of the db bytes (what the snapshot trailer holds). */
  sha256: Buffer;
  /** Bytes written, trailer included. */
  bytesWritten: number;
}

/** Yield to the event loop after this much data has gone by. */
const YIELD_EVERY_BYTES = 1 << 20;

interface Level {
  items: BranchItem[];
  size: number;
  pages: number;
}

/** One bucket being written: its open leaf and one open branch node per level above it. */
class Tree {
  leaf: LeafItem[] = [];
  leafSize = PAGE_HEADER_SIZE;
  levels: Level[] = [];
  hasSubBucket = false;
  lastKey: Uint8Array | undefined;

  constructor(
    readonly name: string,
    readonly isRoot: boolean,
  ) {}
}

type Emit = (buf: Buffer, pgid: number) => Promise<void> | undefined;

class StreamingWriter implements BoltBuilder {
  private readonly stack: Tree[];
  private nextPgid: number;
  private sinceYield = 0;
  private blocked: Promise<void> | undefined;
  private done = false;

  /** `emit` undefined: measuring pass, pages are counted but not encoded. */
  constructor(
    private readonly pageSize: number,
    firstPgid: number,
    private readonly emit: Emit | undefined,
  ) {
    this.nextPgid = firstPgid;
    this.stack = [new Tree('root bucket', true)];
  }

  bucket(name: string | Uint8Array): Promise<void> | undefined {
    const key = typeof name === 'string' ? Buffer.from(name) : name;
    const parent = this.open();
    this.checkKey(parent, key);
    parent.lastKey = key;
    parent.hasSubBucket = true;
    this.stack.push(
      new Tree(`${parent.isRoot ? '' : `${parent.name}/`}${Buffer.from(key).toString('latin1')}`, false),
    );
    return undefined;
  }

  put(key: Uint8Array, value: Uint8Array): Promise<void> | undefined {
    const t = this.open();
    if (t.isRoot)
      throw new BoltWriteError('open a bucket before putting keys (the root bucket holds buckets only)');
    if (value.length > MAX_VALUE_SIZE)
      throw new BoltWriteError(`value of ${value.length} bytes is too large`);
    this.checkKey(t, key);
    t.lastKey = key;
    this.addLeafItem(t, { flags: 0, key, value });
    return this.pace(leafItemSize(key, value));
  }

  end(): Promise<void> | undefined {
    const t = this.open();
    if (t.isRoot) throw new BoltWriteError('end() without an open bucket');
    this.stack.pop();
    const parent = this.stack[this.stack.length - 1]!;
    const value = this.finishTree(t);
    // The name was checked and recorded by bucket(); add the entry without re-checking order.
    this.addLeafItem(parent, { flags: ELEMENT_BUCKET, key: parent.lastKey!, value });
    return this.pace(0);
  }

  /** Closes the root bucket; returns its root page id and the page count. */
  finish(): { root: number; pages: number } {
    if (this.stack.length !== 1) throw new BoltWriteError(`bucket ${this.open().name} was never closed`);
    const root = this.finishTree(this.stack[0]!);
    this.done = true;
    return { root: Number(root.readBigUInt64LE(0)), pages: this.nextPgid };
  }

  /** Settles once every page emitted so far has been handed to the output. */
  async drain(): Promise<void> {
    await this.blocked;
    this.blocked = undefined;
  }

  private open(): Tree {
    if (this.done) throw new BoltWriteError('used after finish');
    if (this.blocked) throw new BoltWriteError('call made before the previous one was awaited');
    return this.stack[this.stack.length - 1]!;
  }

  private checkKey(t: Tree, key: Uint8Array): void {
    if (key.length === 0) throw new BoltWriteError(`empty key in ${t.name}`);
    if (key.length > MAX_KEY_SIZE)
      throw new BoltWriteError(`key of ${key.length} bytes in ${t.name} is too large`);
    if (t.lastKey !== undefined && compareBytes(t.lastKey, key) >= 0) {
      throw new BoltWriteError(`keys out of order in ${t.name}: ${hex(key)} after ${hex(t.lastKey)}`);
    }
  }

  private addLeafItem(t: Tree, item: LeafItem): void {
    const size = leafItemSize(item.key, item.value);
    if (t.leaf.length > 0 && t.leafSize + size > this.pageSize) this.flushLeaf(t);
    t.leaf.push(item);
    t.leafSize += size;
  }

  private flushLeaf(t: Tree): void {
    const pages = Math.ceil(t.leafSize / this.pageSize);
    const pgid = this.allocate(pages);
    if (this.emit) {
      const buf = Buffer.alloc(pages * this.pageSize);
      encodeLeaf(buf, 0, pgid, pages - 1, t.leaf);
      this.send(buf, pgid);
    }
    const first = t.leaf[0]?.key ?? Buffer.alloc(0);
    t.leaf = [];
    t.leafSize = PAGE_HEADER_SIZE;
    this.addBranchItem(t, 0, { key: first, pgid });
  }

  private addBranchItem(t: Tree, level: number, item: BranchItem): void {
    let l = t.levels[level];
    if (l === undefined) {
      l = { items: [], size: PAGE_HEADER_SIZE, pages: 0 };
      t.levels[level] = l;
    }
    const size = branchItemSize(item.key);
    if (l.items.length > 0 && l.size + size > this.pageSize) this.flushBranch(t, level);
    l.items.push(item);
    l.size += size;
  }

  private flushBranch(t: Tree, level: number): void {
    const l = t.levels[level]!;
    const pages = Math.ceil(l.size / this.pageSize);
    const pgid = this.allocate(pages);
    if (this.emit) {
      const buf = Buffer.alloc(pages * this.pageSize);
      encodeBranch(buf, pgid, pages - 1, l.items);
      this.send(buf, pgid);
    }
    const first = l.items[0]!.key;
    l.items = [];
    l.size = PAGE_HEADER_SIZE;
    l.pages++;
    this.addBranchItem(t, level + 1, { key: first, pgid });
  }

  /**
   * Ends a tree and returns the bucket value for its parent: a 16-byte header naming the root
   * page, or, for a small bucket bbolt would inline, the header with root 0 and the leaf image.
   */
  private finishTree(t: Tree): Buffer {
    const inlineable =
      !t.isRoot && t.levels.length === 0 && !t.hasSubBucket && t.leafSize <= this.pageSize / 4;
    if (inlineable) {
      const value = Buffer.alloc(BUCKET_HEADER_SIZE + t.leafSize);
      encodeLeaf(value, BUCKET_HEADER_SIZE, 0, 0, t.leaf);
      return value;
    }
    if (t.leaf.length > 0 || t.levels.length === 0) this.flushLeaf(t);
    let root = -1;
    for (let level = 0; root < 0; level++) {
      const l = t.levels[level]!;
      if (l.pages === 0 && l.items.length === 1) root = l.items[0]!.pgid;
      else this.flushBranch(t, level);
    }
    const value = Buffer.alloc(BUCKET_HEADER_SIZE);
    value.writeBigUInt64LE(BigInt(root), 0);
    return value;
  }

  private allocate(pages: number): number {
    const pgid = this.nextPgid;
    this.nextPgid += pages;
    return pgid;
  }

  private send(buf: Buffer, pgid: number): void {
    const wait = this.emit!(buf, pgid);
    if (wait) this.blocked = this.blocked ? this.blocked.then(() => wait) : wait;
    this.sinceYield += buf.length;
  }

  /** Returns what the caller must await: the sink's backpressure, or a periodic yield. */
  private pace(bytes: number): Promise<void> | undefined {
    this.sinceYield += bytes;
    let wait = this.blocked;
    if (this.sinceYield >= YIELD_EVERY_BYTES) {
      this.sinceYield = 0;
      wait = wait ? wait.then(() => yieldToLoop()) : yieldToLoop();
    }
    if (wait === undefined) return undefined;
    this.blocked = wait;
    return wait.then(() => {
      this.blocked = undefined;
    });
  }
}

function hex(b: Uint8Array): string {
  const h = Buffer.from(b).toString('hex');
  return h.length > 80 ? `${h.slice(0, 80)}…` : h;
}

function resolvePageSize(opts: BoltWriteOptions): number {
  const ps = opts.pageSize ?? DEFAULT_PAGE_SIZE;
  if (!isSanePageSize(ps)) throw new BoltWriteError(`unsupported page size ${ps}`);
  return ps;
}

/** Pages 0 and 1 are metas; with a freelist page it is page 2. */
function firstDataPage(opts: BoltWriteOptions): number {
  return opts.freelist === 'page' ? 3 : 2;
}

/** Runs the producer once without writing: how big the db will be, and its root page. */
export async function measureBolt(produce: BoltProducer, opts: BoltWriteOptions = {}): Promise<BoltLayout> {
  const ps = resolvePageSize(opts);
  const w = new StreamingWriter(ps, firstDataPage(opts), undefined);
  await produce(w);
  const { root, pages } = w.finish();
  return { root, pages, size: pages * ps };
}

/**
 * Writes a bbolt file: measures (first run of the producer), then writes the metas and every
 * page in order (second run). `out` is a path (created, truncated, fsynced), a file descriptor
 * (written at its current offset, left open) or a Writable (not ended).
 */
export async function writeBolt(
  produce: BoltProducer,
  out: BoltOutput,
  opts: BoltWriteOptions = {},
): Promise<BoltWriteResult> {
  const layout = await measureBolt(produce, opts);
  await opts.onLayout?.(layout);
  return writeMeasuredBolt(produce, layout, out, opts);
}

/** The writing pass alone, for callers that measured already (e.g. to announce the size first). */
export async function writeMeasuredBolt(
  produce: BoltProducer,
  layout: BoltLayout,
  out: BoltOutput,
  opts: BoltWriteOptions = {},
): Promise<BoltWriteResult> {
  const ps = resolvePageSize(opts);
  const txid = opts.txid ?? 2n;
  if (txid < 1n) throw new BoltWriteError('txid must be at least 1');
  const sink = PageSink.open(out);
  try {
    const meta = {
      pageSize: ps,
      flags: 0,
      root: BigInt(layout.root),
      rootSequence: 0n,
      freelist: opts.freelist === 'page' ? 2n : NO_FREELIST,
      pgid: BigInt(layout.pages),
      txid,
    };
    for (const id of [0, 1]) {
      const page = Buffer.alloc(ps);
      encodeMetaPage(page, id, { ...meta, txid: id === 0 ? txid : txid - 1n });
      await sink.write(page);
    }
    if (opts.freelist === 'page') {
      const page = Buffer.alloc(ps);
      page.writeBigUInt64LE(2n, 0);
      page.writeUInt16LE(FLAG_FREELIST, 8);
      await sink.write(page);
    }
    let expected = firstDataPage(opts);
    const emit: Emit = (buf, pgid) => {
      if (pgid !== expected) throw new BoltWriteError(`page ${pgid} emitted out of order`);
      expected += buf.length / ps;
      return sink.write(buf);
    };
    const w = new StreamingWriter(ps, firstDataPage(opts), emit);
    await produce(w);
    const { root, pages } = w.finish();
    await w.drain();
    if (root !== layout.root || pages !== layout.pages) {
      throw new BoltWriteError(
        `the producer wrote a different db the second time (root ${root} vs ${layout.root}, ` +
          `pages ${pages} vs ${layout.pages}): it must be deterministic`,
      );
    }
    const sha256 = sink.digest();
    if (opts.sha256Trailer) await sink.writeUnhashed(sha256);
    const bytesWritten = sink.written;
    await sink.finish();
    return { ...layout, sha256, bytesWritten };
  } finally {
    sink.close();
  }
}
