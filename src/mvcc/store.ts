// MvccStore: etcd 3.4's multi-version key-value store. Every change creates a
// new main revision (the first write on an empty store is revision 2); the
// writes of one request share it and are told apart by sub revision. The key
// index lives in memory (tree-index.ts), the records in a StoreBackend: LMDB (backend.ts), or
// memory (memory-backend.ts) under the simulator.
//
// Applying is driven by the server with committed raft entries: every write
// call takes the entry's index, which is stored as the consistent index in the
// same backend batch as the entry's records, so replay after a crash resumes
// exactly after the last entry the backend holds.
//
// The mechanics live next door: write-txn.ts (the writes of one request),
// txn-plan.ts (deciding and checking a txn before it writes), compaction.ts
// (deleting compacted records in the background, HashKV), records.ts (reading
// a record through the index) and request-fields.ts (range_end and lease).

import { Backend, DEFAULT_BACKEND_OPTIONS } from './backend.js';
import { type CompactionObserver, Compactor, hashKeptRecords } from './compaction.js';
import { hasOnlineDefrag } from './defrag-online.js';
import { assertInvariant, MvccError } from './errors.js';
import { decodeKeyValue } from './kv-codec.js';
import { fetchLimit, finishRange } from './range-options.js';
import type { BackendReadView } from './read-view.js';
import { getKey, readRecord } from './records.js';
import { toLease, toRangeEnd } from './request-fields.js';
import { isTxnReadOnly } from './request-op.js';
import type { StoreBackend } from './store-backend.js';
import { bytesToKey, keyToBytes, type RangeEnd, TreeIndex } from './tree-index.js';
import { applyPlan, checkPlanPuts, checkPlanRanges, planTxn, type TxnReads } from './txn-plan.js';
import {
  type CompactResult,
  type DeleteRangeRequest,
  type DeleteRangeResult,
  type Event,
  EventType,
  type HashKVResult,
  type KeyValue,
  type LogFn,
  type PutRequest,
  type PutResult,
  type RangeRequest,
  type RangeResult,
  type TxnRequest,
  type TxnResult,
} from './types.js';
import { checkTxnDuplicates } from './validate.js';
import { WriteTxn } from './write-txn.js';

const ALWAYS = (): boolean => true;

export interface MvccStoreOptions extends MvccStoreOnOptions {
  /** Backend batch: commit after this many records (default 10 000, like etcd). */
  batchLimit?: number;
  /** Backend batch: commit at most this long after the first uncommitted write (default 100 ms). */
  batchIntervalMs?: number;
}

/** Options of a store on a backend made by the caller (the backend has its own batch settings). */
export interface MvccStoreOnOptions {
  log?: LogFn;
  /** Records deleted per backend transaction while compacting (default 1000, like etcd). */
  compactionBatchLimit?: number;
  /** Lease existence check for puts with a lease (etcd's "lease not found"); none when absent. */
  leaseExists?: (id: bigint) => boolean;
}

interface RawRange {
  kvs: KeyValue[];
  count: number;
  rev: number;
}

export class MvccStore {
  private index = new TreeIndex();
  private currentRev = 1;
  /** -1 until the first compaction, as in etcd. */
  private compactMainRev = -1;
  private appliedIndex = 0;
  private readonly compactor: Compactor;
  private commitObserver: ((seconds: number) => void) | undefined;
  private leaseExists: ((id: bigint) => boolean) | undefined;
  private closed = false;
  private defragmenting = false;
  private putEventsPrevKv: () => boolean = ALWAYS;
  /**
   * The reads txn planning needs, as one adapter made once per store (not per txn), so
   * txn-plan.ts sees no private field and the store's public API stays as it is.
   */
  private readonly txnReads: TxnReads = {
    currentRevision: () => this.currentRev,
    compactedRevision: () => this.compactMainRev,
    kvsInRange: (key, end) => this.rangeKeys(key, end, 0, this.currentRev, 0, false).kvs,
    currentKey: (key) => getKey(this.index, this.backend, key, this.currentRev),
    checkLease: (lease) => this.checkLease(lease),
    rangeAt: (req, curRev) => this.rangeAt(req, curRev),
  };

  private constructor(
    private backend: StoreBackend,
    private readonly log: LogFn,
    opts: MvccStoreOnOptions,
  ) {
    this.leaseExists = opts.leaseExists;
    this.compactor = new Compactor(opts.compactionBatchLimit ?? 1000, log);
  }

  /** Opens (creating if needed) the LMDB file at `path` and rebuilds the key index from it. */
  static open(path: string, opts: MvccStoreOptions = {}): MvccStore {
    const backend = Backend.open(path, {
      batchLimit: opts.batchLimit ?? DEFAULT_BACKEND_OPTIONS.batchLimit,
      batchIntervalMs: opts.batchIntervalMs ?? DEFAULT_BACKEND_OPTIONS.batchIntervalMs,
    });
    return MvccStore.openOn(backend, opts);
  }

  /**
   * A store on `backend` (e.g. a MemoryBackend, fresh or as a crash left it): the key index is
   * rebuilt from what the backend holds. The store owns the backend from now on.
   */
  static openOn(backend: StoreBackend, opts: MvccStoreOnOptions = {}): MvccStore {
    const store = new MvccStore(backend, opts.log ?? (() => {}), opts);
    store.restore();
    return store;
  }

  consistentIndex(): number {
    return this.appliedIndex;
  }

  currentRevision(): number {
    return this.currentRev;
  }

  compactedRevision(): number {
    return this.compactMainRev;
  }

  /**
   * Tells the store whether put events must carry the key's previous KeyValue (a watcher with
   * prev_kv is open); asked once per write. Without a predicate they always do.
   */
  setPutEventsPrevKv(wanted: (() => boolean) | undefined): void {
    this.putEventsPrevKv = wanted ?? ALWAYS;
  }

  setLeaseChecker(leaseExists: ((id: bigint) => boolean) | undefined): void {
    this.leaseExists = leaseExists;
  }

  /** Observes the backend's batch commits (seconds each) where the backend reports them (metrics). */
  setCommitObserver(observer: ((seconds: number) => void) | undefined): void {
    this.commitObserver = observer;
    if (this.backend instanceof Backend) this.backend.commitObserver = observer;
  }

  /** Observes compactions (index pause, deletion chunks, totals) for metrics. */
  setCompactionObserver(observer: CompactionObserver | undefined): void {
    this.compactor.observer = observer;
  }

  // ---------------------------------------------------------------- reads

  range(req: RangeRequest): RangeResult {
    this.assertOpen();
    return this.rangeAt(req, this.currentRev);
  }

  private rangeAt(req: RangeRequest, curRev: number): RangeResult {
    const raw = this.rangeKeys(
      req.key,
      toRangeEnd(req.rangeEnd),
      req.revision ?? 0,
      curRev,
      fetchLimit(req),
      req.countOnly ?? false,
    );
    const { kvs, more } = finishRange(req, raw.kvs);
    return { kvs, more, count: raw.count, revision: raw.rev };
  }

  /** etcd's rangeKeys: reads at `reqRev` (0 = curRev); `count` is every key in range. */
  private rangeKeys(
    key: Uint8Array,
    end: RangeEnd,
    reqRev: number,
    curRev: number,
    limit: number,
    countOnly: boolean,
  ): RawRange {
    if (reqRev > curRev) throw new MvccError('future-rev');
    const atRev = reqRev <= 0 ? curRev : reqRev;
    if (atRev < this.compactMainRev) throw new MvccError('compacted');
    const revs = this.index.range(bytesToKey(key), end, atRev);
    if (countOnly || revs.length === 0) return { kvs: [], count: revs.length, rev: curRev };
    const take = limit > 0 ? Math.min(limit, revs.length) : revs.length;
    const kvs: KeyValue[] = new Array(take);
    for (let i = 0; i < take; i++) kvs[i] = readRecord(this.backend, revs[i]!.rev);
    return { kvs, count: revs.length, rev: curRev };
  }

  /** The key as of revision `rev` (undefined when absent or deleted then): prev_kv for watch catch-up. */
  keyAt(key: Uint8Array, rev: number): KeyValue | undefined {
    this.assertOpen();
    return getKey(this.index, this.backend, key, rev);
  }

  /**
   * Change events with main revision in [fromRev, toRev], in revision order, at most `limit`
   * (0 = all). For watch catch-up; DELETE events carry {key, modRevision} like etcd's. No prevKv.
   */
  readEvents(fromRev: number, toRev: number, limit = 0): Event[] {
    this.assertOpen();
    const out: Event[] = [];
    this.backend.scan(Math.max(fromRev, 0), toRev + 1, (rec) => {
      const kv = decodeKeyValue(rec.value);
      if (rec.tombstone) {
        out.push({ type: EventType.DELETE, kv: { ...kv, modRevision: rec.rev.main } });
      } else {
        out.push({ type: EventType.PUT, kv });
      }
      return limit <= 0 || out.length < limit;
    });
    return out;
  }

  /** Live keys that carry a lease (for rebuilding lease attachments after a restart). */
  keysWithLeases(): { key: Uint8Array; lease: bigint }[] {
    this.assertOpen();
    const out: { key: Uint8Array; lease: bigint }[] = [];
    this.index.forEachAt('', '', this.currentRev, (k, at) => {
      const kv = readRecord(this.backend, at.modified);
      if (kv.lease !== 0n) out.push({ key: keyToBytes(k), lease: kv.lease });
      return true;
    });
    return out;
  }

  // ---------------------------------------------------------------- writes

  put(index: number, req: PutRequest): PutResult {
    return this.applyEntry(index, () => {
      this.checkLease(toLease(req.lease));
      const tw = this.beginWrite();
      const prevKv = tw.put(req);
      this.finishWrite(tw);
      return { rev: tw.beginRev + 1, ...(prevKv ? { prevKv } : {}), events: tw.events };
    });
  }

  deleteRange(index: number, req: DeleteRangeRequest): DeleteRangeResult {
    return this.applyEntry(index, () => {
      const tw = this.beginWrite();
      const { deleted, prevKvs } = tw.deleteRange(req);
      this.finishWrite(tw);
      return { rev: this.currentRev, deleted, prevKvs, events: tw.events };
    });
  }

  txn(index: number, req: TxnRequest): TxnResult {
    return this.applyEntry(index, () => {
      checkTxnDuplicates(req);
      const plan = planTxn(this.txnReads, req);
      if (!isTxnReadOnly(req)) checkPlanPuts(this.txnReads, plan);
      checkPlanRanges(this.txnReads, plan);
      const tw = this.beginWrite();
      const resp = applyPlan(this.txnReads, tw, plan);
      this.finishWrite(tw);
      resp.header.revision = this.currentRev;
      return {
        rev: this.currentRev,
        succeeded: resp.succeeded,
        responses: resp.responses,
        events: tw.events,
      };
    });
  }

  /** Records that entry `index` was applied without touching keys (no-ops, conf changes, leases...). */
  markApplied(index: number): void {
    this.applyEntry(index, () => undefined);
  }

  /**
   * Compacts at `rev`: history at or below it becomes unreadable at once; the backend
   * records are deleted in the background (`done`). Throws 'compacted' when rev <= the
   * current compaction, 'future-rev' when rev > the current revision.
   */
  compact(index: number, rev: number): CompactResult {
    return this.applyEntry(index, () => {
      if (rev <= this.compactMainRev) throw new MvccError('compacted');
      if (rev > this.currentRev) throw new MvccError('future-rev');
      this.compactMainRev = rev;
      this.backend.setMeta('scheduledCompactRev', rev);
      // Recorded before the commit in scheduleCompaction so a crash does not replay this entry.
      this.appliedIndex = index;
      this.backend.setMeta('consistent_index', index);
      return { revision: this.currentRev, done: this.scheduleCompaction(rev) };
    });
  }

  /**
   * Side buckets (leases, auth, members, alarms...) kept in the same backend and the same batch
   * as the key-value records, so one consistent index covers them. Call these while applying an
   * entry, synchronously before the call that records its index (markApplied/put/txn...): a batch
   * commits only between entries, so the writes land on disk atomically with that index.
   */
  putAux(bucket: string, key: Uint8Array, value: Uint8Array): void {
    this.assertOpen();
    this.backend.setAux(bucket, key, value);
  }

  deleteAux(bucket: string, key: Uint8Array): void {
    this.assertOpen();
    this.backend.setAux(bucket, key, null);
  }

  getAux(bucket: string, key: Uint8Array): Uint8Array | undefined {
    this.assertOpen();
    return this.backend.getAux(bucket, key);
  }

  /** All entries of a side bucket in key order (to rebuild lease/auth/member state on open). */
  scanAux(bucket: string): [Uint8Array, Uint8Array][] {
    this.assertOpen();
    return this.backend.scanAux(bucket);
  }

  /** Commits the current batch and waits until the backend file is on disk. */
  async flush(): Promise<void> {
    this.assertOpen();
    await this.backend.flush();
  }

  // ---------------------------------------------------------------- status

  /**
   * etcd's HashKV: CRC-32C over the records up to `rev` (0 = current), skipping records at or
   * below the compaction revision that a compaction at `rev` would not keep, so members agree
   * whatever their physical compaction progress.
   */
  hashKV(rev: number): HashKVResult {
    this.assertOpen();
    const compactRev = this.compactMainRev;
    if (rev > 0 && rev <= compactRev) throw new MvccError('compacted');
    if (rev > 0 && rev > this.currentRev) throw new MvccError('future-rev');
    const atRev = rev === 0 ? this.currentRev : rev;
    const hash = hashKeptRecords(this.backend, this.index.keep(atRev), compactRev, atRev);
    return { hash, compactRevision: compactRev, revision: this.currentRev };
  }

  /**
   * Writes a consistent, compacted copy of the backend (everything applied so far, consistent
   * index included) to the new file `destPath`; MvccStore.open(destPath) reads it back. For raft
   * snapshots and `snapshot save`.
   */
  async snapshotTo(destPath: string): Promise<void> {
    this.assertOpen();
    await this.backend.copyTo(destPath);
  }

  /**
   * A consistent read-only view of everything applied so far (the batch is committed first), for
   * exporting the store (etcd's bbolt file). Close it promptly; do not close or defragment the
   * store while it is open.
   */
  exportView(): BackendReadView {
    this.assertOpen();
    return this.backend.readView();
  }

  /**
   * The online part of defragment(): the backend copies itself compacted while this store stays
   * in use, so defragment() afterwards only swaps files (see defrag-online.ts).
   */
  async prepareDefragment(): Promise<void> {
    this.assertOpen();
    await this.compactor.idle();
    if (hasOnlineDefrag(this.backend)) await this.backend.prepareDefragment();
  }

  /**
   * Shrinks the backend file to its live pages (etcd's Defragment). Waits for running
   * compactions first. The store must not be used until this resolves: the caller (the server)
   * holds back applies and reads meanwhile, as etcd does.
   */
  async defragment(): Promise<void> {
    this.assertOpen();
    this.defragmenting = true;
    try {
      await this.compactor.idle();
      const before = this.backend.sizeBytes();
      this.backend = await this.backend.defragmented();
      this.setCommitObserver(this.commitObserver);
      this.log('info', 'defragmented backend', { before, after: this.backend.sizeBytes() });
    } finally {
      this.defragmenting = false;
    }
  }

  /**
   * Replaces everything in the store with the LMDB file at `source` (a store built by importing
   * a raft snapshot's database), or with the content of the backend `source` (of the same kind
   * as ours; it is closed): the content takes the place of ours and the key index, revisions
   * and consistent index are rebuilt from it. Same rules as defragment: the caller holds back
   * applies and reads meanwhile.
   */
  async replaceFrom(source: string | StoreBackend): Promise<void> {
    this.assertOpen();
    await this.compactor.idle();
    this.backend =
      typeof source === 'string'
        ? await this.backend.replacedBy(source)
        : await this.backend.replacedWith(source);
    // A replaced backend is a new object: the commit observer follows it.
    this.setCommitObserver(this.commitObserver);
    this.index = new TreeIndex();
    this.currentRev = 1;
    this.compactMainRev = -1;
    this.appliedIndex = 0;
    this.restore();
  }

  /** Size of the backend file in bytes. */
  sizeBytes(): number {
    return this.backend.sizeBytes();
  }

  /** Bytes of backend pages holding data (approximate). */
  sizeInUseBytes(): number {
    return this.backend.sizeInUseBytes();
  }

  /** Waits for running compactions, commits and syncs, and closes the backend. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.compactor.idle();
    await this.backend.close();
  }

  // ---------------------------------------------------------------- internals

  /**
   * Runs one committed entry. An entry rejected with an MvccError still counts as applied
   * (its outcome is that error on every member), so the index is recorded either way.
   */
  private applyEntry<T>(index: number, apply: () => T): T {
    this.assertOpen();
    assertInvariant(Number.isSafeInteger(index), 'entry index must be an integer');
    if (index <= this.appliedIndex) {
      assertInvariant(
        false,
        `entry ${index} already applied (consistent index ${this.appliedIndex}); skip it`,
      );
    }
    let result: T;
    try {
      result = apply();
    } catch (err) {
      if (err instanceof MvccError) this.recordApplied(index);
      throw err;
    }
    this.recordApplied(index);
    return result;
  }

  private recordApplied(index: number): void {
    this.appliedIndex = index;
    this.backend.setMeta('consistent_index', index);
    this.backend.endEntry();
  }

  /** Starts the writes of one request; finishWrite ends them. */
  private beginWrite(): WriteTxn {
    return new WriteTxn(this.currentRev, this.index, this.backend, this.putEventsPrevKv());
  }

  private finishWrite(tw: WriteTxn): void {
    assertInvariant(this.currentRev === tw.beginRev, 'store revision moved during a write');
    if (tw.events.length > 0) this.currentRev = tw.beginRev + 1;
  }

  /** Lease existence check for a put (etcd's "lease not found"); 0n = no lease, always fine. */
  private checkLease(lease: bigint): void {
    if (lease !== 0n && this.leaseExists && !this.leaseExists(lease)) throw new MvccError('lease-not-found');
  }

  /** Queues the physical deletion behind any compaction still running. */
  private scheduleCompaction(rev: number): Promise<void> {
    return this.compactor.schedule(this.backend, this.index, rev);
  }

  /** Rebuilds the index from the backend (records in revision order) and resumes a compaction. */
  private restore(): void {
    let maxMain = 1;
    this.backend.scan(0, Number.MAX_SAFE_INTEGER, (rec) => {
      const kv = decodeKeyValue(rec.value);
      const created = { main: kv.createRevision, sub: 0 };
      this.index.restoreRecord(bytesToKey(kv.key), rec.rev, rec.tombstone, created, kv.version);
      maxMain = Math.max(maxMain, rec.rev.main);
      return true;
    });
    const finished = this.backend.getMeta('finishedCompactRev') ?? -1;
    const scheduled = this.backend.getMeta('scheduledCompactRev') ?? -1;
    this.appliedIndex = this.backend.getMeta('consistent_index') ?? 0;
    this.compactMainRev = finished;
    // Compaction may have removed the newest records (tombstones): the revision is at least the
    // compaction point.
    this.currentRev = Math.max(maxMain, finished, scheduled);
    this.log('info', 'restored mvcc store', {
      path: this.backend.path,
      currentRevision: this.currentRev,
      compactRevision: finished,
      consistentIndex: this.appliedIndex,
    });
    if (scheduled > finished) {
      this.log('info', 'resuming scheduled compaction', { revision: scheduled });
      this.compactMainRev = scheduled;
      void this.scheduleCompaction(scheduled).catch(() => {});
    }
  }

  private assertOpen(): void {
    if (this.closed) throw new MvccError('closed');
    assertInvariant(!this.defragmenting, 'store used while defragmenting');
  }
}
