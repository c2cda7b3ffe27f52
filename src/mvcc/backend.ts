// LMDB backend: bucket "key" maps a revision (see revision.ts) to an encoded
// KeyValue; bucket "meta" holds the consistent index and compaction marks.
// Writes collect in an in-memory batch that reads consult first, and are
// committed as ONE LMDB transaction per batch (like etcd's batched bbolt
// commits: every 100 ms or 10 000 records). A batch only ever ends between
// two applied entries and carries their consistent index, so whatever a crash
// leaves on disk is a prefix of the applied entries whose last index is the
// stored consistent index. The WAL is the source of truth; flush() makes the
// backend durable (before WAL segments are released).

import fs from 'node:fs';
import { type Database, open, type RootDatabase, type TransactionFlags } from 'lmdb';
import { DefragJournal } from './defrag-journal.js';
import {
  defragHooks,
  LmdbDefragCopy,
  openLmdbDb,
  openLmdbRoot,
  removeCopyFiles,
  syncDirectoryOf,
} from './defrag-lmdb.js';
import { assertInvariant } from './errors.js';
import { type BackendReadView, LmdbReadView } from './read-view.js';
import { decodeRevision, encodeRevision, type Revision, revisionLowerBound } from './revision.js';
import type { MetaName, StoreBackend, StoredRecord } from './store-backend.js';

export type { MetaName, StoredRecord } from './store-backend.js';

export interface BackendOptions {
  /** Commit once the batch holds this many records (checked between entries). */
  batchLimit: number;
  /** Commit a non-empty batch at most this long after its first record. */
  batchIntervalMs: number;
}

export const DEFAULT_BACKEND_OPTIONS: BackendOptions = { batchLimit: 10_000, batchIntervalMs: 100 };

interface PendingRecord {
  rev: Revision;
  tombstone: boolean;
  value: Uint8Array;
}

// TransactionFlags.SYNCHRONOUS_COMMIT | NO_SYNC_FLUSH: commit now, let LMDB flush to disk in the
// background (overlappingSync keeps the file consistent even on power loss).
const COMMIT_WITHOUT_WAITING_FOR_FLUSH = 0x10002 as TransactionFlags;

/**
 * Copies a value lmdb hands out. getBinaryFast returns a view of a shared, reused buffer whose
 * `length` getter is overridden; only the first `length` bytes are the value.
 */
function copyOut(v: Buffer): Buffer {
  const n = v.length;
  // allocUnsafe draws small buffers from Node's pool: far cheaper than a fresh Uint8Array.
  const out = Buffer.allocUnsafe(n);
  out.set(v.subarray(0, n));
  return out;
}

function asBuffer(u: Uint8Array): Buffer {
  return Buffer.isBuffer(u) ? u : Buffer.from(u.buffer, u.byteOffset, u.length);
}

function encodeMeta(value: number): Buffer {
  const b = Buffer.alloc(8);
  b.writeBigUInt64BE(BigInt(value));
  return b;
}

export class Backend implements StoreBackend {
  /** Called with each batch commit's duration in seconds (the member's metrics); optional. */
  commitObserver: ((seconds: number) => void) | undefined;
  private pending: PendingRecord[] = [];
  private pendingByMain = new Map<number, PendingRecord[]>();
  private pendingMeta = new Map<MetaName, number>();
  /** Side-bucket writes of the batch: bucket → latin1 key → value, or null for a delete. */
  private pendingAux = new Map<string, Map<string, Uint8Array | null>>();
  private auxDbs = new Map<string, Database<Buffer, Buffer>>();
  private timer: NodeJS.Timeout | undefined;
  private readonly scratchKey = Buffer.alloc(18);
  private closed = false;
  /**
   * The file size as of the last commit (-1: unknown). The file only changes when a
   * transaction commits, and the quota check reads the size on every write: a stat(2) per put
   * cost ~3% of the server's CPU.
   */
  private cachedSize = -1;
  /** The online defragmentation under way: its journal of commits and, once made, its copy. */
  /** The files are being swapped: no commit may happen. */
  private swapping = false;
  private defrag: { journal: DefragJournal; copy?: LmdbDefragCopy; cancelled: boolean } | undefined;

  private constructor(
    readonly path: string,
    // Not readonly: a defragmentation swaps the file under the same Backend object.
    private root: RootDatabase,
    private keys: Database<Buffer, Buffer>,
    private meta: Database<Buffer, Buffer>,
    private readonly opts: BackendOptions,
  ) {}

  static open(path: string, opts: BackendOptions = DEFAULT_BACKEND_OPTIONS): Backend {
    assertInvariant(opts.batchLimit >= 1 && opts.batchIntervalMs >= 0, 'bad backend batch options');
    // noSubdir: one file at `path` (plus `path-lock`), like etcd's member/snap/db.
    const root = open({ path, noSubdir: true, keyEncoding: 'binary', encoding: 'binary', maxDbs: 32 });
    const keys = root.openDB<Buffer, Buffer>({ name: 'key', keyEncoding: 'binary', encoding: 'binary' });
    const meta = root.openDB<Buffer, Buffer>({ name: 'meta', keyEncoding: 'binary', encoding: 'binary' });
    return new Backend(path, root, keys, meta, opts);
  }

  /** The encoded KeyValue stored at `rev` (tombstones excluded), or undefined. */
  get(rev: Revision): Uint8Array | undefined {
    const p = this.pendingByMain.get(rev.main)?.[rev.sub];
    if (p !== undefined) return p.tombstone ? undefined : p.value;
    const v = this.keys.getBinaryFast(encodeRevision(rev, false, this.scratchKey));
    return v === undefined ? undefined : copyOut(v);
  }

  /** Adds a record to the current batch. Records must arrive in increasing revision order. */
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
    const p = this.pendingMeta.get(name);
    if (p !== undefined) return p;
    const v = this.meta.getBinaryFast(Buffer.from(name));
    if (v === undefined) return undefined;
    assertInvariant(v.length === 8, `meta ${name} must be 8 bytes`);
    return Number(v.readBigUInt64BE(0));
  }

  /** Writes (or, with null, deletes) `key` in side bucket `bucket` as part of the current batch. */
  setAux(bucket: string, key: Uint8Array, value: Uint8Array | null): void {
    this.assertOpen();
    assertInvariant(
      /^[a-zA-Z][a-zA-Z0-9_]*$/.test(bucket) && bucket !== 'key' && bucket !== 'meta',
      'bad bucket name',
    );
    let writes = this.pendingAux.get(bucket);
    if (writes === undefined) {
      writes = new Map();
      this.pendingAux.set(bucket, writes);
    }
    writes.set(
      asBuffer(key).toString('latin1'),
      value === null ? null : Uint8Array.prototype.slice.call(value),
    );
    this.armTimer();
  }

  getAux(bucket: string, key: Uint8Array): Uint8Array | undefined {
    const p = this.pendingAux.get(bucket)?.get(asBuffer(key).toString('latin1'));
    if (p !== undefined) return p === null ? undefined : p;
    const v = this.auxDb(bucket).getBinaryFast(asBuffer(key));
    return v === undefined ? undefined : copyOut(v);
  }

  /** Every entry of a side bucket, in key byte order, batch included. */
  scanAux(bucket: string): [Uint8Array, Uint8Array][] {
    const merged = new Map<string, Uint8Array | null>();
    for (const { key, value } of this.auxDb(bucket).getRange({})) {
      merged.set(Buffer.from(key).toString('latin1'), copyOut(value));
    }
    for (const [k, v] of this.pendingAux.get(bucket) ?? []) merged.set(k, v);
    const out: [Uint8Array, Uint8Array][] = [];
    for (const k of [...merged.keys()].sort()) {
      const v = merged.get(k);
      if (v) out.push([new Uint8Array(Buffer.from(k, 'latin1')), v]);
    }
    return out;
  }

  private auxDb(bucket: string): Database<Buffer, Buffer> {
    let db = this.auxDbs.get(bucket);
    if (db === undefined) {
      db = this.root.openDB<Buffer, Buffer>({
        name: `aux_${bucket}`,
        keyEncoding: 'binary',
        encoding: 'binary',
      });
      this.auxDbs.set(bucket, db);
    }
    return db;
  }

  /** Called after each applied entry: commits when the batch is full. */
  endEntry(): void {
    if (this.pending.length >= this.opts.batchLimit) this.commit();
  }

  pendingRecords(): number {
    return this.pending.length;
  }

  /** Writes the batch in one LMDB transaction (visible to other processes, flushed in the background). */
  commit(): void {
    this.clearTimer();
    if (this.pending.length === 0 && this.pendingMeta.size === 0 && this.pendingAux.size === 0) return;
    this.assertOpen();
    const records = this.pending;
    const metas = this.pendingMeta;
    const aux = [...this.pendingAux].map(([bucket, writes]) => [this.auxDb(bucket), writes] as const);
    const started = performance.now();
    this.root.transactionSync(() => {
      for (const r of records) this.keys.putSync(encodeRevision(r.rev, r.tombstone), asBuffer(r.value));
      for (const [db, writes] of aux) {
        for (const [k, v] of writes) {
          if (v === null) db.removeSync(Buffer.from(k, 'latin1'));
          else db.putSync(Buffer.from(k, 'latin1'), asBuffer(v));
        }
      }
      for (const [name, value] of metas) this.meta.putSync(Buffer.from(name), encodeMeta(value));
    }, COMMIT_WITHOUT_WAITING_FOR_FLUSH);
    this.commitObserver?.((performance.now() - started) / 1000);
    const journal = this.defrag?.journal;
    if (journal !== undefined) {
      for (const r of records) journal.record('key', encodeRevision(r.rev, r.tombstone), asBuffer(r.value));
      for (const [bucket, writes] of this.pendingAux) {
        for (const [k, v] of writes)
          journal.record(`aux_${bucket}`, Buffer.from(k, 'latin1'), v && asBuffer(v));
      }
      for (const [name, value] of metas) journal.record('meta', Buffer.from(name), encodeMeta(value));
    }
    this.cachedSize = -1;
    this.pending = [];
    this.pendingByMain = new Map();
    this.pendingMeta = new Map();
    this.pendingAux = new Map();
  }

  /** Commits the batch and waits until the file is fsynced. */
  async flush(): Promise<void> {
    this.commit();
    await this.root.flushed;
    await new Promise<void>((resolve, reject) => {
      // lmdb's env sync (mdb_env_sync) is not in its typings.
      const env = this.root as unknown as { sync(cb: (err?: Error) => void): void };
      env.sync((err) => (err ? reject(err) : resolve()));
    });
  }

  /**
   * Visits records with fromMain <= main < toMain in revision order (committed, then the batch,
   * whose revisions are all newer). Stop by returning false.
   */
  scan(fromMain: number, toMain: number, visit: (rec: StoredRecord) => boolean): void {
    if (fromMain >= toMain) return;
    const start = revisionLowerBound(fromMain);
    const end = revisionLowerBound(toMain);
    for (const { key, value } of this.keys.getRange({ start, end })) {
      const rev = decodeRevision(key);
      if (!visit({ rev, tombstone: rev.tombstone, value: copyOut(value) })) return;
    }
    for (const r of this.pending) {
      if (r.rev.main < fromMain || r.rev.main >= toMain) continue;
      if (!visit(r)) return;
    }
  }

  /**
   * Commits the batch and opens a consistent read-only view of the whole backend (for exporting
   * it). Close the view promptly; the backend must stay open meanwhile.
   */
  readView(): BackendReadView {
    this.commit();
    const names = LmdbReadView.auxBucketNames(this.root);
    const aux = new Map(names.map((name) => [name, this.auxDb(name)] as const));
    return new LmdbReadView(this.root, this.keys, this.meta, aux);
  }

  /**
   * Bulk load for imports: writes records as they are (gaps in sub revisions allowed, as
   * compaction leaves them) in one committed transaction, bypassing the batch.
   */
  loadRecords(records: StoredRecord[]): void {
    this.assertOpen();
    this.cachedSize = -1;
    this.root.transactionSync(() => {
      for (const r of records) this.keys.putSync(encodeRevision(r.rev, r.tombstone), asBuffer(r.value));
    }, COMMIT_WITHOUT_WAITING_FOR_FLUSH);
    const journal = this.defrag?.journal;
    if (journal !== undefined) {
      for (const r of records) journal.record('key', encodeRevision(r.rev, r.tombstone), asBuffer(r.value));
    }
  }

  /** Committed record keys with main <= maxMain, after `after` (exclusive), at most `limit`. */
  committedKeysUpTo(maxMain: number, after: Buffer | undefined, limit: number): Buffer[] {
    const out: Buffer[] = [];
    const end = revisionLowerBound(maxMain + 1);
    for (const key of this.keys.getKeys({ start: after ?? revisionLowerBound(0), end, limit: limit + 1 })) {
      const k = Buffer.from(key);
      if (after !== undefined && k.equals(after)) continue;
      out.push(k);
      if (out.length === limit) break;
    }
    return out;
  }

  /** Deletes committed records and sets meta values in one transaction. */
  deleteCommitted(keys: Buffer[], meta: [MetaName, number][] = []): void {
    this.assertOpen();
    this.cachedSize = -1;
    this.root.transactionSync(() => {
      for (const k of keys) this.keys.removeSync(k);
      for (const [name, value] of meta) this.meta.putSync(Buffer.from(name), encodeMeta(value));
    }, COMMIT_WITHOUT_WAITING_FOR_FLUSH);
    const journal = this.defrag?.journal;
    if (journal !== undefined) {
      for (const k of keys) journal.record('key', Buffer.from(k), null);
      for (const [name, value] of meta) journal.record('meta', Buffer.from(name), encodeMeta(value));
    }
  }

  /**
   * Writes a consistent copy of the committed database to `destPath` (a new file), compacting
   * free pages away. Commit first so the copy includes everything applied so far.
   */
  async copyTo(destPath: string): Promise<void> {
    this.commit();
    await this.root.backup(destPath, true);
  }

  /**
   * The online part of a defragmentation (etcd's defragment without its stop of the world):
   * copies the file compacted from one read snapshot while writes go on, recording every commit
   * meanwhile, then replays those commits onto the copy in rounds until few are left.
   * defragmented() then only replays the rest and swaps the files. Idempotent while prepared.
   */
  async prepareDefragment(): Promise<void> {
    this.assertOpen();
    if (this.defrag?.copy !== undefined) return;
    assertInvariant(this.defrag === undefined, 'a defragmentation is being prepared already');
    // Journal first, then snapshot: the copy then holds the state of some commit at or after the
    // journal's start, and replaying the whole journal onto it is exact (defrag-journal.ts).
    this.commit();
    const run: NonNullable<Backend['defrag']> = { journal: new DefragJournal(), cancelled: false };
    this.defrag = run;
    try {
      run.copy = await LmdbDefragCopy.create(this.root, `${this.path}.defrag`);
      if (run.cancelled) throw new Error('defragmentation cancelled');
      await run.copy.catchUp(run.journal, () => run.cancelled);
      defragHooks.at?.('caught-up');
      // The bulk of the copy reaches the disk now, outside the swap's short pause.
      await run.copy.sync();
      await run.copy.catchUp(run.journal, () => run.cancelled);
      if (run.cancelled) throw new Error('defragmentation cancelled');
    } catch (err) {
      await this.cancelDefragment();
      throw err;
    }
  }

  /**
   * Rewrites the file without free pages (etcd's defragment) and returns this backend, now on
   * the compacted file. Prepared (prepareDefragment) this is short: the rest of the journal is
   * replayed, the copy synced and renamed over the file. The caller keeps writes away meanwhile.
   * A crash at any point leaves either the old file or the complete, synced copy at `path`.
   */
  async defragmented(): Promise<Backend> {
    if (this.defrag?.copy === undefined) await this.prepareDefragment();
    const run = this.defrag;
    const copy = run?.copy;
    assertInvariant(run !== undefined && copy !== undefined, 'defragmentation not prepared');
    this.commit();
    // Until the files are swapped, commits (there should be none: the caller holds writes back)
    // still reach the copy; from here on none may happen at all.
    do {
      copy.apply(run.journal.take());
      await copy.sync();
    } while (run.journal.length > 0);
    this.defrag = undefined;
    this.swapping = true;
    defragHooks.at?.('synced');
    await copy.close();
    this.clearTimer();
    // The old file is replaced whole: nothing of it needs to reach the disk first.
    await this.root.close();
    defragHooks.at?.('old-closed');
    fs.renameSync(copy.file, this.path);
    fs.rmSync(`${this.path}-lock`, { force: true });
    syncDirectoryOf(this.path);
    defragHooks.at?.('renamed');
    this.root = openLmdbRoot(this.path);
    this.keys = openLmdbDb(this.root, 'key');
    this.meta = openLmdbDb(this.root, 'meta');
    this.auxDbs = new Map();
    this.cachedSize = -1;
    this.swapping = false;
    return this;
  }

  /** Stops a defragmentation being prepared and deletes its copy; the file stays as it is. */
  async cancelDefragment(): Promise<void> {
    const run = this.defrag;
    if (run === undefined) return;
    run.cancelled = true;
    this.defrag = undefined;
    if (run.copy !== undefined) await run.copy.discard();
    else removeCopyFiles(`${this.path}.defrag`);
  }

  /** Closes this backend, moves the LMDB file at `sourcePath` over ours and reopens on it. */
  async replacedBy(sourcePath: string): Promise<Backend> {
    await this.cancelDefragment();
    await this.close();
    fs.renameSync(sourcePath, this.path);
    fs.rmSync(`${sourcePath}-lock`, { force: true });
    fs.rmSync(`${this.path}-lock`, { force: true });
    return Backend.open(this.path, this.opts);
  }

  /** replacedBy for a backend opened elsewhere (an import target): closes it and moves its file over ours. */
  async replacedWith(source: StoreBackend): Promise<Backend> {
    assertInvariant(
      source instanceof Backend,
      'an LMDB backend can only be replaced by another LMDB backend',
    );
    await source.close();
    return this.replacedBy(source.path);
  }

  /** Size of the database file in bytes (etcd's db size). */
  sizeBytes(): number {
    if (this.cachedSize >= 0) return this.cachedSize;
    try {
      this.cachedSize = fs.statSync(this.path).size;
    } catch {
      return 0;
    }
    return this.cachedSize;
  }

  /** Bytes of pages holding live data (etcd's db size in use), approximately. */
  sizeInUseBytes(): number {
    const s = this.keys.getStats() as {
      pageSize: number;
      treeBranchPageCount: number;
      treeLeafPageCount: number;
      overflowPages: number;
    };
    return (s.treeBranchPageCount + s.treeLeafPageCount + s.overflowPages + 4) * s.pageSize;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    await this.cancelDefragment();
    await this.flush();
    this.closed = true;
    await this.root.close();
  }

  private armTimer(): void {
    if (this.timer !== undefined) return;
    // Fires between event-loop turns, hence always between two applied entries.
    this.timer = setTimeout(() => {
      this.timer = undefined;
      if (!this.closed) this.commit();
    }, this.opts.batchIntervalMs);
    this.timer.unref();
  }

  private clearTimer(): void {
    if (this.timer === undefined) return;
    clearTimeout(this.timer);
    this.timer = undefined;
  }

  private assertOpen(): void {
    assertInvariant(!this.closed, 'backend used after close');
    assertInvariant(!this.swapping, 'backend written while its defragmented file is swapped in');
  }
}
