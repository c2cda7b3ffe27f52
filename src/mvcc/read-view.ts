// A consistent, read-only view of everything a Backend has committed, held open in one LMDB read
// transaction: what the export to etcd's bbolt file reads (it must see one point in time while
// the store goes on applying, and may read it twice). Values are copied out, so they stay valid
// after the view moves on.

import type { Database, RootDatabase, Transaction } from 'lmdb';
import { assertInvariant } from './errors.js';
import type { MetaName } from './store-backend.js';

export interface RawEntry {
  key: Buffer;
  value: Buffer;
}

/** A consistent, read-only view of everything a backend had committed when it was opened. */
export interface BackendReadView {
  /** Every record of bucket "key": the revision key (17 bytes, 18 for a tombstone) and the KeyValue. */
  records(): Generator<RawEntry>;
  /** A meta value (consistent_index, scheduledCompactRev, finishedCompactRev) or undefined. */
  metaValue(name: MetaName): number | undefined;
  /** Names of the side buckets that exist in this view (lease, alarm, ...). */
  auxBuckets(): string[];
  /** Every entry of a side bucket in key order (nothing when the bucket does not exist). */
  aux(bucket: string): Generator<RawEntry>;
  /** Ends the view (LMDB cannot reuse pages freed after it started until then). */
  close(): void;
}

export class LmdbReadView implements BackendReadView {
  private readonly txn: Transaction;
  private closed = false;

  /** @internal made by Backend.readView(), after committing the batch. */
  constructor(
    root: RootDatabase,
    private readonly keys: Database<Buffer, Buffer>,
    private readonly metaDb: Database<Buffer, Buffer>,
    /** Side buckets by name, opened before the transaction starts (a handle opened later is invalid in it). */
    private readonly auxDbs: ReadonlyMap<string, Database<Buffer, Buffer>>,
  ) {
    this.txn = root.useReadTransaction();
  }

  /** Names of the side buckets in a backend (lmdb-js lists named databases, NUL-terminated, in the root). */
  static auxBucketNames(root: RootDatabase): string[] {
    const names: string[] = [];
    for (const k of root.getKeys({})) {
      const name = Buffer.from(k as Uint8Array)
        .toString('latin1')
        .replace(/\0$/, '');
      if (name.startsWith('aux_')) names.push(name.slice(4));
    }
    return names.sort();
  }

  /** Every record of bucket "key": the revision key (17 bytes, 18 for a tombstone) and the KeyValue. */
  *records(): Generator<RawEntry> {
    yield* this.entries(this.keys);
  }

  /** A meta value (consistent_index, scheduledCompactRev, finishedCompactRev) or undefined. */
  metaValue(name: MetaName): number | undefined {
    this.assertOpen();
    const v = this.metaDb.getEntry(Buffer.from(name), { transaction: this.txn })?.value;
    if (v === undefined) return undefined;
    assertInvariant(v.length === 8, `meta ${name} must be 8 bytes`);
    return Number(Buffer.from(v).readBigUInt64BE(0));
  }

  /** Names of the side buckets that exist in this view (lease, alarm, ...). */
  auxBuckets(): string[] {
    return [...this.auxDbs.keys()];
  }

  /** Every entry of a side bucket in key order (nothing when the bucket does not exist). */
  *aux(bucket: string): Generator<RawEntry> {
    const db = this.auxDbs.get(bucket);
    if (db !== undefined) yield* this.entries(db);
  }

  /** Ends the read transaction (LMDB cannot reuse pages freed after it started until then). */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.txn.done();
  }

  private *entries(db: Database<Buffer, Buffer>): Generator<RawEntry> {
    this.assertOpen();
    for (const { key, value } of db.getRange({ transaction: this.txn })) {
      this.assertOpen();
      yield { key: Buffer.from(key), value: Buffer.from(value) };
    }
  }

  private assertOpen(): void {
    assertInvariant(!this.closed, 'backend read view used after close');
  }
}
