// Physical compaction: once the store has moved its compaction revision (history at or below it
// is unreadable at once), the records a compaction does not keep are deleted from the backend
// in the background, in chunks, one compaction after the other. HashKV lives here too because it
// must skip exactly the records a compaction would delete.

import { crc32c } from '../util/crc32c.js';
import { assertInvariant } from './errors.js';
import { decodeRevision, encodeRevision, revisionId } from './revision.js';
import type { StoreBackend } from './store-backend.js';
import type { TreeIndex } from './tree-index.js';
import type { LogFn } from './types.js';

/** Timings of one compaction as etcd 3.4 reports them (metrics); all optional. */
export interface CompactionObserver {
  /** The key index compaction (in memory, before any record is deleted). */
  indexCompacted?(ms: number): void;
  /** One chunk of deletions that was not the last (etcd commits and pauses after it). */
  chunkDeleted?(ms: number): void;
  /** The whole physical compaction, and the records it deleted. */
  finished?(ms: number, keysDeleted: number): void;
}

export class Compactor {
  private chain: Promise<void> = Promise.resolve();
  observer: CompactionObserver | undefined;

  /** `batchLimit`: records deleted per backend transaction. */
  constructor(
    private readonly batchLimit: number,
    private readonly log: LogFn,
  ) {
    assertInvariant(batchLimit >= 1, 'compactionBatchLimit must be >= 1');
  }

  /**
   * Compacts `index` at `rev` and queues the physical deletion behind any compaction still
   * running. The schedule mark (scheduledCompactRev) must already be in the batch or on disk.
   * Holding on to `backend` is safe: defragment and close, the only things that swap or close
   * it, wait for idle() first.
   */
  schedule(backend: StoreBackend, index: TreeIndex, rev: number): Promise<void> {
    // The schedule mark must reach the file before any record goes, so a crash resumes it.
    backend.commit();
    const indexStart = performance.now();
    const keep = index.compact(rev);
    this.observer?.indexCompacted?.(performance.now() - indexStart);
    const job = this.chain.then(() => this.deleteCompacted(backend, rev, keep));
    this.chain = job.catch((err: unknown) => {
      this.log('error', 'compaction failed', { revision: rev, error: String(err) });
    });
    return job;
  }

  /** Settles once every compaction queued so far has ended (failures are logged, not thrown). */
  idle(): Promise<void> {
    return this.chain;
  }

  private async deleteCompacted(backend: StoreBackend, rev: number, keep: Set<string>): Promise<void> {
    let after: Buffer | undefined;
    let removed = 0;
    const started = performance.now();
    for (;;) {
      const chunkStart = performance.now();
      const keys = backend.committedKeysUpTo(rev, after, this.batchLimit);
      const doomed = keys.filter((k) => {
        const r = decodeRevision(k);
        return !keep.has(revisionId(r.main, r.sub));
      });
      const finished = keys.length < this.batchLimit;
      backend.deleteCommitted(doomed, finished ? [['finishedCompactRev', rev]] : []);
      removed += doomed.length;
      if (finished) break;
      this.observer?.chunkDeleted?.(performance.now() - chunkStart);
      after = keys[keys.length - 1];
      // Let reads and applies run between chunks.
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
    await backend.flush();
    this.observer?.finished?.(performance.now() - started, removed);
    this.log('info', 'finished scheduled compaction', { revision: rev, removed });
  }
}

/**
 * CRC-32C over the records up to `atRev`, skipping records at or below `compactRev` that are not
 * in `keep` (what a compaction at `atRev` keeps), so members agree whatever their physical
 * compaction progress. Like etcd, an empty `keep` skips nothing.
 */
export function hashKeptRecords(
  backend: StoreBackend,
  keep: Set<string>,
  compactRev: number,
  atRev: number,
): number {
  let hash = crc32c(Buffer.from('key'));
  backend.scan(0, atRev + 1, (rec) => {
    if (rec.rev.main <= compactRev && keep.size > 0 && !keep.has(revisionId(rec.rev.main, rec.rev.sub))) {
      return true;
    }
    hash = crc32c(encodeRevision(rec.rev, rec.tombstone), hash);
    hash = crc32c(Buffer.from(rec.value.buffer, rec.value.byteOffset, rec.value.length), hash);
    return true;
  });
  return hash >>> 0;
}
