// MvccStore: etcd 3.4's multi-version key-value store. Every change creates a
// new main revision (the first write on an empty store is revision 2); the
// writes of one request share it and are told apart by sub revision. The key
// index lives in memory (tree-index.ts), the records in LMDB (backend.ts).
//
// Applying is driven by the server with committed raft entries: every write
// call takes the entry's index, which is stored as the consistent index in the
// same backend batch as the entry's records, so replay after a crash resumes
// exactly after the last entry the backend holds.

import { crc32c } from '@node-rs/crc32';
import { Backend, DEFAULT_BACKEND_OPTIONS } from './backend.js';
import { evaluateCompare } from './compare.js';
import { assertInvariant, MvccError } from './errors.js';
import { decodeKeyValue, encodeKeyValue } from './kv-codec.js';
import { fetchLimit, finishRange } from './range-options.js';
import { deleteRangeOp, isTxnReadOnly, putOp, rangeOp, txnOp, unpackOp } from './request-op.js';
import { decodeRevision, encodeRevision, type Revision, revisionId } from './revision.js';
import { bytesToKey, keyToBytes, type RangeEnd, TreeIndex } from './tree-index.js';
import {
  asBuffer,
  type CompactResult,
  type DeleteRangeRequest,
  type DeleteRangeResult,
  EMPTY_BYTES,
  type Event,
  EventType,
  emptyHeader,
  type HashKVResult,
  type KeyValue,
  type LogFn,
  type PutRequest,
  type PutResult,
  type RangeRequest,
  type RangeResult,
  type ResponseOp,
  type TxnRequest,
  type TxnResponse,
  type TxnResult,
} from './types.js';
import { checkTxnDuplicates } from './validate.js';

export interface MvccStoreOptions {
  log?: LogFn;
  /** Backend batch: commit after this many records (default 10 000, like etcd). */
  batchLimit?: number;
  /** Backend batch: commit at most this long after the first uncommitted write (default 100 ms). */
  batchIntervalMs?: number;
  /** Records deleted per backend transaction while compacting (default 1000, like etcd). */
  compactionBatchLimit?: number;
  /** Lease existence check for puts with a lease (etcd's "lease not found"); none when absent. */
  leaseExists?: (id: bigint) => boolean;
}

/** Converts a request's range_end: empty = the key alone, "\0" = every key >= key. */
function toRangeEnd(rangeEnd: Uint8Array | undefined): RangeEnd {
  if (rangeEnd === undefined || rangeEnd.length === 0) return null;
  if (rangeEnd.length === 1 && rangeEnd[0] === 0) return '';
  return bytesToKey(rangeEnd);
}

function toLease(lease: number | bigint | undefined): bigint {
  if (lease === undefined) return 0n;
  return typeof lease === 'bigint' ? lease : BigInt(lease);
}

/** The writes of one applied request: they all get main revision beginRev + 1. */
class WriteTxn {
  readonly events: Event[] = [];
  constructor(readonly beginRev: number) {}

  /** The revision a read inside this txn sees: its own earlier writes included. */
  readRev(): number {
    return this.events.length > 0 ? this.beginRev + 1 : this.beginRev;
  }

  nextRevision(): Revision {
    return { main: this.beginRev + 1, sub: this.events.length };
  }
}

/** A txn's branch decisions, all taken against the store as it was before the txn. */
interface TxnPlan {
  succeeded: boolean;
  ops: TxnRequest['success'] & {};
  /** Plans of nested txns, by position in `ops`. */
  nested: Map<number, TxnPlan>;
}

interface RawRange {
  kvs: KeyValue[];
  count: number;
  rev: number;
}

export class MvccStore {
  private readonly index = new TreeIndex();
  private currentRev = 1;
  /** -1 until the first compaction, as in etcd. */
  private compactMainRev = -1;
  private appliedIndex = 0;
  private compactionChain: Promise<void> = Promise.resolve();
  private readonly compactionBatchLimit: number;
  private leaseExists: ((id: bigint) => boolean) | undefined;
  private closed = false;
  private defragmenting = false;

  private constructor(
    private backend: Backend,
    private readonly log: LogFn,
    opts: MvccStoreOptions,
  ) {
    this.compactionBatchLimit = opts.compactionBatchLimit ?? 1000;
    this.leaseExists = opts.leaseExists;
    assertInvariant(this.compactionBatchLimit >= 1, 'compactionBatchLimit must be >= 1');
  }

  /** Opens (creating if needed) the LMDB file at `path` and rebuilds the key index from it. */
  static open(path: string, opts: MvccStoreOptions = {}): MvccStore {
    const backend = Backend.open(path, {
      batchLimit: opts.batchLimit ?? DEFAULT_BACKEND_OPTIONS.batchLimit,
      batchIntervalMs: opts.batchIntervalMs ?? DEFAULT_BACKEND_OPTIONS.batchIntervalMs,
    });
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

  setLeaseChecker(leaseExists: ((id: bigint) => boolean) | undefined): void {
    this.leaseExists = leaseExists;
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
    for (let i = 0; i < take; i++) kvs[i] = this.readRecord(revs[i]!.rev);
    return { kvs, count: revs.length, rev: curRev };
  }

  private readRecord(rev: Revision): KeyValue {
    const raw = this.backend.get(rev);
    // (No template literal in the hot path unless it fails.)
    if (raw === undefined) {
      throw new Error(
        `mvcc invariant violated: index points at ${revisionId(rev.main, rev.sub)}, missing from backend`,
      );
    }
    return decodeKeyValue(raw);
  }

  /** The key as of revision `rev` (undefined when absent or deleted then): prev_kv for watch catch-up. */
  keyAt(key: Uint8Array, rev: number): KeyValue | undefined {
    this.assertOpen();
    return this.getKey(key, rev);
  }

  private getKey(key: Uint8Array, atRev: number): KeyValue | undefined {
    const at = this.index.get(bytesToKey(key), atRev);
    return at === undefined ? undefined : this.readRecord(at.modified);
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
      const kv = this.readRecord(at.modified);
      if (kv.lease !== 0n) out.push({ key: keyToBytes(k), lease: kv.lease });
      return true;
    });
    return out;
  }

  // ---------------------------------------------------------------- writes

  put(index: number, req: PutRequest): PutResult {
    return this.applyEntry(index, () => {
      const lease = toLease(req.lease);
      if (lease !== 0n && this.leaseExists && !this.leaseExists(lease))
        throw new MvccError('lease-not-found');
      const tw = new WriteTxn(this.currentRev);
      const prevKv = this.txnPut(tw, req);
      this.finishWrite(tw);
      return { rev: tw.beginRev + 1, ...(prevKv ? { prevKv } : {}), events: tw.events };
    });
  }

  deleteRange(index: number, req: DeleteRangeRequest): DeleteRangeResult {
    return this.applyEntry(index, () => {
      const tw = new WriteTxn(this.currentRev);
      const { deleted, prevKvs } = this.txnDeleteRange(tw, req);
      this.finishWrite(tw);
      return { rev: this.currentRev, deleted, prevKvs, events: tw.events };
    });
  }

  txn(index: number, req: TxnRequest): TxnResult {
    return this.applyEntry(index, () => {
      checkTxnDuplicates(req);
      const plan = this.planTxn(req);
      if (!isTxnReadOnly(req)) this.checkPlanPuts(plan);
      this.checkPlanRanges(plan);
      const tw = new WriteTxn(this.currentRev);
      const resp = this.applyPlan(tw, plan);
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
    const keep = this.index.keep(atRev);
    let hash = crc32c(Buffer.from('key'));
    this.backend.scan(0, atRev + 1, (rec) => {
      if (rec.rev.main <= compactRev && keep.size > 0 && !keep.has(revisionId(rec.rev.main, rec.rev.sub))) {
        return true;
      }
      hash = crc32c(encodeRevision(rec.rev, rec.tombstone), hash);
      hash = crc32c(Buffer.from(rec.value.buffer, rec.value.byteOffset, rec.value.length), hash);
      return true;
    });
    return { hash: hash >>> 0, compactRevision: compactRev, revision: this.currentRev };
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
   * Shrinks the backend file to its live pages (etcd's Defragment). Waits for running
   * compactions first. The store must not be used until this resolves: the caller (the server)
   * holds back applies and reads meanwhile, as etcd does.
   */
  async defragment(): Promise<void> {
    this.assertOpen();
    this.defragmenting = true;
    try {
      await this.compactionChain;
      const before = this.backend.sizeBytes();
      this.backend = await this.backend.defragmented();
      this.log('info', 'defragmented backend', { before, after: this.backend.sizeBytes() });
    } finally {
      this.defragmenting = false;
    }
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
    await this.compactionChain;
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

  private finishWrite(tw: WriteTxn): void {
    assertInvariant(this.currentRev === tw.beginRev, 'store revision moved during a write');
    if (tw.events.length > 0) this.currentRev = tw.beginRev + 1;
  }

  /** One put inside `tw`; checks ignore_value/ignore_lease before writing. Returns the previous kv. */
  private txnPut(tw: WriteTxn, req: PutRequest): KeyValue | undefined {
    const needsPrev = req.ignoreValue || req.ignoreLease || req.prevKv;
    const prev = needsPrev ? this.getKey(req.key, tw.readRev()) : undefined;
    if ((req.ignoreValue || req.ignoreLease) && prev === undefined) throw new MvccError('key-not-found');
    const value = req.ignoreValue ? prev!.value : (req.value ?? new Uint8Array(0));
    const lease = req.ignoreLease ? prev!.lease : toLease(req.lease);
    this.writePut(tw, req.key, value, lease);
    return req.prevKv ? prev : undefined;
  }

  private writePut(tw: WriteTxn, key: Uint8Array, value: Uint8Array, lease: bigint): void {
    const rev = tw.nextRevision();
    const keyStr = bytesToKey(key);
    const before = this.index.get(keyStr, rev.main);
    const prevKv = before === undefined ? undefined : this.readRecord(before.modified);
    const kv: KeyValue = {
      key: asBuffer(key),
      value: asBuffer(value),
      createRevision: before === undefined ? rev.main : before.created.main,
      modRevision: rev.main,
      version: (before?.version ?? 0) + 1,
      lease,
    };
    this.backend.putRecord(rev, false, encodeKeyValue(kv));
    this.index.put(keyStr, rev);
    tw.events.push(prevKv ? { type: EventType.PUT, kv, prevKv } : { type: EventType.PUT, kv });
  }

  private txnDeleteRange(tw: WriteTxn, req: DeleteRangeRequest): { deleted: number; prevKvs: KeyValue[] } {
    const readRev = tw.readRev();
    const targets = this.index.range(bytesToKey(req.key), toRangeEnd(req.rangeEnd), readRev);
    const prevKvs: KeyValue[] = [];
    for (const t of targets) {
      const prevKv = this.readRecord(t.rev);
      if (req.prevKv) prevKvs.push(prevKv);
      const rev = tw.nextRevision();
      // etcd's tombstone record holds only the key; the event adds the revision.
      this.backend.putRecord(rev, true, encodeKeyValue({ ...EMPTY_KV, key: prevKv.key }));
      assertInvariant(this.index.tombstone(t.key, rev), 'tombstone on a key that is not live');
      tw.events.push({
        type: EventType.DELETE,
        kv: { ...EMPTY_KV, key: prevKv.key, modRevision: rev.main },
        prevKv,
      });
    }
    return { deleted: targets.length, prevKvs };
  }

  private planTxn(req: TxnRequest): TxnPlan {
    const succeeded = (req.compare ?? []).every((c) =>
      evaluateCompare(c, this.rangeKeys(c.key, toRangeEnd(c.rangeEnd), 0, this.currentRev, 0, false).kvs),
    );
    const ops = (succeeded ? req.success : req.failure) ?? [];
    const nested = new Map<number, TxnPlan>();
    ops.forEach((op, i) => {
      const u = unpackOp(op);
      if (u?.kind === 'txn') nested.set(i, this.planTxn(u.req));
    });
    return { succeeded, ops, nested };
  }

  private forEachPlannedOp(plan: TxnPlan, visit: (op: ReturnType<typeof unpackOp>) => void): void {
    plan.ops.forEach((op, i) => {
      const child = plan.nested.get(i);
      if (child) this.forEachPlannedOp(child, visit);
      else visit(unpackOp(op));
    });
  }

  /** etcd checks the chosen puts against the pre-txn store before writing anything. */
  private checkPlanPuts(plan: TxnPlan): void {
    this.forEachPlannedOp(plan, (u) => {
      if (u?.kind !== 'put') return;
      if ((u.req.ignoreValue || u.req.ignoreLease) && this.getKey(u.req.key, this.currentRev) === undefined) {
        throw new MvccError('key-not-found');
      }
      const lease = toLease(u.req.lease);
      if (lease !== 0n && this.leaseExists && !this.leaseExists(lease))
        throw new MvccError('lease-not-found');
    });
  }

  private checkPlanRanges(plan: TxnPlan): void {
    this.forEachPlannedOp(plan, (u) => {
      if (u?.kind !== 'range') return;
      const rev = u.req.revision ?? 0;
      if (rev === 0) return;
      if (rev > this.currentRev) throw new MvccError('future-rev');
      if (rev < this.compactMainRev) throw new MvccError('compacted');
    });
  }

  /** Runs the planned ops in order; the response headers carry the revisions etcd reports. */
  private applyPlan(tw: WriteTxn, plan: TxnPlan): TxnResponse {
    const responses: ResponseOp[] = [];
    plan.ops.forEach((op, i) => {
      const u = unpackOp(op);
      if (u === undefined) return;
      switch (u.kind) {
        case 'range': {
          const r = this.rangeAt(u.req, tw.readRev());
          responses.push(
            rangeOp({ header: emptyHeader(r.revision), kvs: r.kvs, more: r.more, count: r.count }),
          );
          return;
        }
        case 'put': {
          const prevKv = this.txnPut(tw, u.req);
          responses.push(putOp({ header: emptyHeader(tw.beginRev + 1), ...(prevKv ? { prevKv } : {}) }));
          return;
        }
        case 'deleteRange': {
          const { deleted, prevKvs } = this.txnDeleteRange(tw, u.req);
          responses.push(deleteRangeOp({ header: emptyHeader(tw.readRev()), deleted, prevKvs }));
          return;
        }
        case 'txn': {
          const child = plan.nested.get(i);
          assertInvariant(child !== undefined, 'nested txn without a plan');
          // etcd leaves a nested txn's header revision at 0.
          responses.push(txnOp(this.applyPlan(tw, child)));
          return;
        }
      }
    });
    return { header: emptyHeader(0), succeeded: plan.succeeded, responses };
  }

  /** Queues the physical deletion behind any compaction still running. */
  private scheduleCompaction(rev: number): Promise<void> {
    // The schedule mark must reach the file before any record goes, so a crash resumes it.
    this.backend.commit();
    const keep = this.index.compact(rev);
    const job = this.compactionChain.then(() => this.deleteCompacted(rev, keep));
    this.compactionChain = job.catch((err: unknown) => {
      this.log('error', 'compaction failed', { revision: rev, error: String(err) });
    });
    return job;
  }

  private async deleteCompacted(rev: number, keep: Set<string>): Promise<void> {
    let after: Buffer | undefined;
    let removed = 0;
    for (;;) {
      const keys = this.backend.committedKeysUpTo(rev, after, this.compactionBatchLimit);
      const doomed = keys.filter((k) => {
        const r = decodeRevision(k);
        return !keep.has(revisionId(r.main, r.sub));
      });
      const finished = keys.length < this.compactionBatchLimit;
      this.backend.deleteCommitted(doomed, finished ? [['finishedCompactRev', rev]] : []);
      removed += doomed.length;
      if (finished) break;
      after = keys[keys.length - 1];
      // Let reads and applies run between chunks.
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
    await this.backend.flush();
    this.log('info', 'finished scheduled compaction', { revision: rev, removed });
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

const EMPTY_KV: KeyValue = {
  key: EMPTY_BYTES,
  createRevision: 0,
  modRevision: 0,
  version: 0,
  value: EMPTY_BYTES,
  lease: 0n,
};
