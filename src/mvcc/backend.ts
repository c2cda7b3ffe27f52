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

  private constructor(
    readonly path: string,
    private readonly root: RootDatabase,
    private readonly keys: Database<Buffer, Buffer>,
    private readonly meta: Database<Buffer, Buffer>,
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
   * Rewrites the file without free pages (etcd's defragment): copies it compacted next to
   * itself, closes, swaps the copy in and returns the backend reopened on it. This backend is
   * closed afterwards.
   */
  async defragmented(): Promise<Backend> {
    const tmp = `${this.path}.defrag`;
    fs.rmSync(tmp, { force: true });
    await this.copyTo(tmp);
    await this.close();
    fs.renameSync(tmp, this.path);
    fs.rmSync(`${tmp}-lock`, { force: true });
    return Backend.open(this.path, this.opts);
  }

  /** Closes this backend, moves the LMDB file at `sourcePath` over ours and reopens on it. */
  async replacedBy(sourcePath: string): Promise<Backend> {
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
  }
}
