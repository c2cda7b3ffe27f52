// The store's backend in memory, for the simulator: the LMDB backend's semantics without files.
// Writes collect in a batch that reads consult first; commit() applies the batch to the
// committed image as one unit (what a restarted process would find: LMDB commits without
// waiting for the disk); flush() makes everything committed durable. A batch only ends between
// applied entries, so every crash leaves a prefix of the applied entries whose last index is
// the stored consistent_index, as with LMDB.
//
// crash() is the simulator's power loss or process kill: it returns the backend a restarted
// member finds, and this instance refuses every later call (a dead process does nothing).

import { type DiskScheduler, immediateDisk } from '../fs/disk-control.js';
import { type Clock, realClock, type Timer } from '../runtime/clock.js';
import { DEFAULT_BACKEND_OPTIONS } from './backend.js';
import { assertInvariant } from './errors.js';
import { type ImageChange, MemoryImage } from './memory-image.js';
import type { BackendReadView, RawEntry } from './read-view.js';
import { decodeRevision, encodeRevision, type Revision, revisionLowerBound } from './revision.js';
import type { MetaName, StoreBackend, StoredRecord } from './store-backend.js';

export interface MemoryBackendOptions {
  /** Shown as the backend's path in logs (default "memory"). */
  name?: string;
  /** Commit once the batch holds this many records (checked between entries; default 10 000). */
  batchLimit?: number;
  /** Commit a non-empty batch at most this long after its first record (default 100 ms). */
  batchIntervalMs?: number;
  /** Arms the batch timer (default the real clock). The simulator passes its virtual clock. */
  clock?: Pick<Clock, 'after'>;
  /** flush() completes when this says its fsync did (default at once): slow and stalled disks. */
  disk?: DiskScheduler;
}

/**
 * What survives crash(): 'flushed' (a power loss: only what flush() made durable), 'committed'
 * (a process kill: commits are in the OS page cache and survive), or `{ random }` (a power loss
 * after the disk happened to write a random prefix of the commits made since the last flush).
 */
export type BackendCrash = 'flushed' | 'committed' | { random: () => number };

interface Settings {
  name: string;
  batchLimit: number;
  batchIntervalMs: number;
  clock: Pick<Clock, 'after'>;
  disk: DiskScheduler;
}

function asBuffer(u: Uint8Array): Buffer {
  return Buffer.isBuffer(u) ? u : Buffer.from(u.buffer, u.byteOffset, u.length);
}

function latin1(u: Uint8Array): string {
  return asBuffer(u).toString('latin1');
}

/** A private copy (LMDB hands out copies too, so callers may keep what they get). */
function copyOf(u: Uint8Array): Buffer {
  return Buffer.from(u);
}

const AUX_BUCKET = /^[a-zA-Z][a-zA-Z0-9_]*$/;

export class MemoryBackend implements StoreBackend {
  readonly path: string;
  private readonly settings: Settings;
  /** Everything committed: what a restarted process would read. */
  private live: MemoryImage;
  /** Everything flushed: what survives a power loss. */
  private durable: MemoryImage;
  /** Commits since the last flush, oldest first. */
  private unflushed: ImageChange[][] = [];
  private pending: StoredRecord[] = [];
  private pendingByMain = new Map<number, StoredRecord[]>();
  private pendingMeta = new Map<MetaName, number>();
  private pendingAux = new Map<string, Map<string, Uint8Array | null>>();
  private timer: Timer | undefined;
  /** High-water mark of the bytes held, as a file keeps its size until defragmented. */
  private allocatedBytes: number;
  private closed = false;
  private crashed = false;
  /**
   * The online defragmentation under way (as the LMDB backend's): commits since it started,
   * oldest first, and the copy they are replayed onto.
   */
  private defrag: { journal: ImageChange[][]; copy: MemoryImage | undefined } | undefined;

  /** An empty backend. */
  constructor(opts: MemoryBackendOptions = {}) {
    this.settings = {
      name: opts.name ?? 'memory',
      batchLimit: opts.batchLimit ?? DEFAULT_BACKEND_OPTIONS.batchLimit,
      batchIntervalMs: opts.batchIntervalMs ?? DEFAULT_BACKEND_OPTIONS.batchIntervalMs,
      clock: opts.clock ?? realClock,
      disk: opts.disk ?? immediateDisk,
    };
    assertInvariant(
      this.settings.batchLimit >= 1 && this.settings.batchIntervalMs >= 0,
      'bad backend batch options',
    );
    this.path = this.settings.name;
    this.live = new MemoryImage();
    this.durable = new MemoryImage();
    this.allocatedBytes = 0;
  }

  /** A backend whose committed and durable content is `image`. */
  private static holding(opts: MemoryBackendOptions, image: MemoryImage): MemoryBackend {
    const b = new MemoryBackend(opts);
    b.live = image;
    b.durable = image.clone();
    b.allocatedBytes = image.liveBytes;
    return b;
  }

  // ------------------------------------------------------------- crashes

  /** The backend a restarted member finds (same options); this one is dead afterwards. */
  crash(keep: BackendCrash = 'flushed'): MemoryBackend {
    this.assertAlive();
    this.crashed = true;
    this.clearTimer();
    let image: MemoryImage;
    if (keep === 'committed') {
      image = this.live.clone();
    } else {
      image = this.durable.clone();
      const n = keep === 'flushed' ? 0 : Math.floor(keep.random() * (this.unflushed.length + 1));
      for (const commit of this.unflushed.slice(0, n)) image.apply(commit);
    }
    return MemoryBackend.holding(this.options(), image);
  }

  /** After close(): the same data opened again (a clean restart). */
  reopen(): MemoryBackend {
    assertInvariant(this.closed && !this.crashed, 'reopen a memory backend only after close()');
    return MemoryBackend.holding(this.options(), this.durable.clone());
  }

  /** A new backend holding everything committed so far, durable (snapshotTo's counterpart). */
  copy(opts: MemoryBackendOptions = {}): MemoryBackend {
    this.commit();
    return MemoryBackend.holding({ ...this.options(), ...opts }, this.live.clone());
  }

  /** Commits made but not yet flushed (lost by a power loss, kept by a process kill). */
  unflushedCommits(): number {
    return this.unflushed.length;
  }

  private options(): MemoryBackendOptions {
    const { name, batchLimit, batchIntervalMs, clock, disk } = this.settings;
    return { name, batchLimit, batchIntervalMs, clock, disk };
  }

  // -------------------------------------------------------------- records

  get(rev: Revision): Uint8Array | undefined {
    this.assertAlive();
    const p = this.pendingByMain.get(rev.main)?.[rev.sub];
    if (p !== undefined) return p.tombstone ? undefined : p.value;
    const v = this.live.records.get(latin1(encodeRevision(rev, false)));
    return v === undefined ? undefined : copyOf(v);
  }

  putRecord(rev: Revision, tombstone: boolean, value: Uint8Array): void {
    this.assertOpen();
    let subs = this.pendingByMain.get(rev.main);
    if (subs === undefined) {
      subs = [];
      this.pendingByMain.set(rev.main, subs);
    }
    assertInvariant(subs.length === rev.sub, 'records of one revision must be added with sub 0, 1, 2, ...');
    const rec = { rev, tombstone, value };
    subs.push(rec);
    this.pending.push(rec);
    this.armTimer();
  }

  setMeta(name: MetaName, value: number): void {
    this.assertOpen();
    assertInvariant(Number.isSafeInteger(value) && value >= 0, 'meta values must be non-negative integers');
    this.pendingMeta.set(name, value);
    this.armTimer();
  }

  getMeta(name: MetaName): number | undefined {
    this.assertAlive();
    return this.pendingMeta.get(name) ?? this.live.meta.get(name);
  }

  setAux(bucket: string, key: Uint8Array, value: Uint8Array | null): void {
    this.assertOpen();
    assertInvariant(AUX_BUCKET.test(bucket) && bucket !== 'key' && bucket !== 'meta', 'bad bucket name');
    let writes = this.pendingAux.get(bucket);
    if (writes === undefined) {
      writes = new Map();
      this.pendingAux.set(bucket, writes);
    }
    writes.set(latin1(key), value === null ? null : copyOf(value));
    this.armTimer();
  }

  getAux(bucket: string, key: Uint8Array): Uint8Array | undefined {
    this.assertAlive();
    const k = latin1(key);
    const p = this.pendingAux.get(bucket)?.get(k);
    if (p !== undefined) return p === null ? undefined : p;
    const v = this.live.aux.get(bucket)?.get(k);
    return v === undefined ? undefined : copyOf(v);
  }

  scanAux(bucket: string): [Uint8Array, Uint8Array][] {
    this.assertAlive();
    const merged = new Map<string, Uint8Array | null>();
    for (const [k, v] of this.live.aux.get(bucket)?.entries() ?? []) merged.set(k, v);
    for (const [k, v] of this.pendingAux.get(bucket) ?? []) merged.set(k, v);
    const out: [Uint8Array, Uint8Array][] = [];
    for (const k of [...merged.keys()].sort()) {
      const v = merged.get(k);
      if (v) out.push([new Uint8Array(Buffer.from(k, 'latin1')), copyOf(v)]);
    }
    return out;
  }

  scan(fromMain: number, toMain: number, visit: (rec: StoredRecord) => boolean): void {
    this.assertAlive();
    if (fromMain >= toMain) return;
    const end = latin1(revisionLowerBound(toMain));
    // Visitors only read (the store's index rebuild, watch catch-up, HashKV): no commit mid-walk.
    for (const [k, v] of this.live.records.entries(latin1(revisionLowerBound(fromMain)))) {
      if (k >= end) break;
      const rev = decodeRevision(Buffer.from(k, 'latin1'));
      if (!visit({ rev, tombstone: rev.tombstone, value: copyOf(v) })) return;
    }
    for (const r of this.pending) {
      if (r.rev.main < fromMain || r.rev.main >= toMain) continue;
      if (!visit(r)) return;
    }
  }

  // -------------------------------------------------------------- batches

  endEntry(): void {
    if (this.pending.length >= this.settings.batchLimit) this.commit();
  }

  pendingRecords(): number {
    return this.pending.length;
  }

  commit(): void {
    this.clearTimer();
    if (this.pending.length === 0 && this.pendingMeta.size === 0 && this.pendingAux.size === 0) return;
    this.assertOpen();
    const changes: ImageChange[] = [];
    for (const r of this.pending) {
      changes.push({ kind: 'put', key: latin1(encodeRevision(r.rev, r.tombstone)), value: copyOf(r.value) });
    }
    for (const [bucket, writes] of this.pendingAux) {
      for (const [key, value] of writes) changes.push({ kind: 'aux', bucket, key, value });
    }
    for (const [name, value] of this.pendingMeta) changes.push({ kind: 'meta', name, value });
    this.pending = [];
    this.pendingByMain = new Map();
    this.pendingMeta = new Map();
    this.pendingAux = new Map();
    this.commitChanges(changes);
  }

  async flush(): Promise<void> {
    this.commit();
    const covered = this.unflushed.length;
    await this.settings.disk.delay({ kind: 'fsync', path: this.path });
    if (this.crashed) await new Promise<never>(() => {}); // a dead process sees no completion
    for (const commit of this.unflushed.slice(0, covered)) this.durable.apply(commit);
    this.unflushed = this.unflushed.slice(covered);
  }

  loadRecords(records: StoredRecord[]): void {
    this.assertOpen();
    this.commitChanges(
      records.map((r) => ({
        kind: 'put',
        key: latin1(encodeRevision(r.rev, r.tombstone)),
        value: copyOf(r.value),
      })),
    );
  }

  committedKeysUpTo(maxMain: number, after: Buffer | undefined, limit: number): Buffer[] {
    this.assertAlive();
    const out: Buffer[] = [];
    const end = latin1(revisionLowerBound(maxMain + 1));
    const start = after === undefined ? latin1(revisionLowerBound(0)) : latin1(after);
    for (const k of this.live.records.keys(start)) {
      if (k >= end || out.length === limit) break;
      if (after !== undefined && k === start) continue;
      out.push(Buffer.from(k, 'latin1'));
    }
    return out;
  }

  deleteCommitted(keys: Buffer[], meta: [MetaName, number][] = []): void {
    this.assertOpen();
    const changes: ImageChange[] = keys.map((k) => ({ kind: 'delete', key: latin1(k) }));
    for (const [name, value] of meta) changes.push({ kind: 'meta', name, value });
    this.commitChanges(changes);
  }

  private commitChanges(changes: ImageChange[]): void {
    if (changes.length === 0) return;
    this.live.apply(changes);
    this.defrag?.journal.push(changes);
    this.unflushed.push(changes);
    this.allocatedBytes = Math.max(this.allocatedBytes, this.live.liveBytes);
  }

  // ---------------------------------------------------- views and files

  readView(): BackendReadView {
    this.assertAlive();
    this.commit();
    return new MemoryReadView(this.live.clone());
  }

  async copyTo(destPath: string): Promise<void> {
    throw new Error(`memory backend ${this.path}: no file to copy to ${destPath}; use copy()`);
  }

  /**
   * The online part of a defragmentation, as the LMDB backend does it: journal the commits,
   * take the copy from a snapshot a turn later (LMDB's copy thread starts later too, so the
   * copy already holds some journaled commits: replaying them again must be, and is, exact),
   * then replay the journal onto the copy. Reads and writes go on meanwhile.
   */
  async prepareDefragment(): Promise<void> {
    this.assertOpen();
    if (this.defrag?.copy !== undefined) return;
    assertInvariant(this.defrag === undefined, 'a defragmentation is being prepared already');
    this.commit();
    const run: { journal: ImageChange[][]; copy: MemoryImage | undefined } = { journal: [], copy: undefined };
    this.defrag = run;
    await Promise.resolve();
    if (this.defrag !== run || this.closed || this.crashed) throw new Error('defragmentation cancelled');
    const copy = this.live.clone();
    for (const commit of run.journal.splice(0)) copy.apply(commit);
    run.copy = copy;
  }

  async cancelDefragment(): Promise<void> {
    this.defrag = undefined;
  }

  /**
   * Swaps the (prepared, else made now) copy in: what is live is unchanged, the space accounting
   * shrinks to it, and it is all durable (the LMDB copy is synced before its rename; a crash
   * before the swap keeps the old state). Returns this backend.
   */
  async defragmented(): Promise<MemoryBackend> {
    this.assertOpen();
    if (this.defrag?.copy === undefined) await this.prepareDefragment();
    const run = this.defrag;
    const copy = run?.copy;
    assertInvariant(run !== undefined && copy !== undefined, 'defragmentation not prepared');
    this.commit();
    for (const commit of run.journal.splice(0)) copy.apply(commit);
    await this.settings.disk.delay({ kind: 'fsync', path: `${this.path}.defrag` });
    if (this.crashed) await new Promise<never>(() => {}); // a dead process sees no completion
    for (const commit of run.journal.splice(0)) copy.apply(commit);
    this.defrag = undefined;
    this.live = copy;
    this.durable = copy.clone();
    this.unflushed = [];
    this.allocatedBytes = copy.liveBytes;
    return this;
  }

  async replacedBy(sourcePath: string): Promise<StoreBackend> {
    throw new Error(`memory backend ${this.path}: cannot take the file ${sourcePath}; use replacedWith()`);
  }

  /**
   * Takes everything `source` committed in place of our content, durable at once (as the
   * LMDB backend takes an imported file that was synced before the rename), and closes
   * `source`. Returns this backend, so whoever holds it (the simulator) keeps a valid handle.
   */
  async replacedWith(source: StoreBackend): Promise<MemoryBackend> {
    this.assertOpen();
    this.defrag = undefined;
    assertInvariant(source instanceof MemoryBackend, 'a memory backend can only be replaced by another');
    await source.close();
    this.clearTimer();
    this.pending = [];
    this.pendingByMain = new Map();
    this.pendingMeta = new Map();
    this.pendingAux = new Map();
    this.live = source.live.clone();
    this.durable = source.live.clone();
    this.unflushed = [];
    this.allocatedBytes = this.live.liveBytes;
    return this;
  }

  sizeBytes(): number {
    return this.allocatedBytes;
  }

  sizeInUseBytes(): number {
    return this.live.liveBytes;
  }

  /** After close() (a clean stop): open the data again with reopen(). */
  get isClosed(): boolean {
    return this.closed;
  }

  async close(): Promise<void> {
    if (this.closed || this.crashed) return;
    this.defrag = undefined;
    await this.flush();
    this.closed = true;
  }

  // ------------------------------------------------------------ internals

  private armTimer(): void {
    if (this.timer !== undefined) return;
    // Fires between event-loop turns (or simulator steps), hence always between two applied entries.
    this.timer = this.settings.clock.after(
      this.settings.batchIntervalMs,
      () => {
        this.timer = undefined;
        if (!this.closed && !this.crashed) this.commit();
      },
      { unref: true },
    );
  }

  private clearTimer(): void {
    this.timer?.cancel();
    this.timer = undefined;
  }

  private assertAlive(): void {
    assertInvariant(!this.crashed, `memory backend ${this.path} used after crash()`);
  }

  private assertOpen(): void {
    this.assertAlive();
    assertInvariant(!this.closed, 'backend used after close');
  }
}

class MemoryReadView implements BackendReadView {
  private closed = false;

  constructor(private readonly image: MemoryImage) {}

  *records(): Generator<RawEntry> {
    yield* this.entries(this.image.records.entries());
  }

  metaValue(name: MetaName): number | undefined {
    this.assertOpen();
    return this.image.meta.get(name);
  }

  auxBuckets(): string[] {
    return [...this.image.aux.keys()].sort();
  }

  *aux(bucket: string): Generator<RawEntry> {
    const tree = this.image.aux.get(bucket);
    if (tree !== undefined) yield* this.entries(tree.entries());
  }

  close(): void {
    this.closed = true;
  }

  private *entries(it: Iterable<[string, Uint8Array]>): Generator<RawEntry> {
    this.assertOpen();
    for (const [k, v] of it) {
      this.assertOpen();
      yield { key: Buffer.from(k, 'latin1'), value: copyOf(v) };
    }
  }

  private assertOpen(): void {
    assertInvariant(!this.closed, 'backend read view used after close');
  }
}
