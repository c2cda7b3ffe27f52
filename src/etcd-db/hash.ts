// Maintenance.Hash as etcd 3.4 computes it (mvcc/backend's Hash): CRC-32C, in bucket-name order,
// over each bucket's name and then every key and value of that bucket, skipping meta's
// consistent_index (etcd's DefaultIgnores: it moves with entries that change no data).
//
// Our backend is LMDB, so the hash is taken over the etcd-format view of it that snapshots are
// written from (export.ts): the same buckets and records etcd's bbolt file would hold. A member of
// etcd-ts and one of etcd 3.4 holding the same data therefore answer the same hash. The key bucket
// is streamed from one LMDB read transaction; the event loop gets a turn every MiB hashed.
//
// Where the hashes legitimately differ: after `etcdctl snapshot restore` (3.4) of a snapshot taken
// from a cluster whose member ids differ from the restored one's, etcd 3.4 keeps the OLD members'
// records in its members bucket (its restore "deletes" them with a DeleteRange on the key space,
// which never touches that bucket; 3.4 reads membership from the v2 store, so they are dead data).
// Our members bucket is the live membership, without those stale records, so Hash differs by them
// (HashKV and every other bucket stay equal). Restoring into the same member ids (same peer URLs
// and cluster token as the saved cluster, the tutorials' case) gives equal hashes.

import { setImmediate as yieldToLoop } from 'node:timers/promises';
import { compareBytes } from '../bbolt/index.js';
import type { MvccStore } from '../mvcc/index.js';
import { crc32c } from '../util/crc32c.js';
import { BUCKET, META_CONSISTENT_INDEX } from './codecs.js';
import { type EtcdDbExtra, etcdBuckets } from './export.js';

/** A (bucket, key) pair left out of the hash. */
export interface HashIgnore {
  bucket: string;
  key: string;
}

/** What etcd 3.4's store.Hash() leaves out (mvcc.DefaultIgnores). */
export const ETCD_HASH_IGNORES: readonly HashIgnore[] = [{ bucket: BUCKET.meta, key: META_CONSISTENT_INDEX }];

export interface HashOptions {
  /** Entries left out; etcd's DefaultIgnores unless given (`[]` hashes everything, as snapshot status). */
  ignore?: readonly HashIgnore[];
  /** Bytes hashed between turns of the event loop. */
  yieldEveryBytes?: number;
}

const YIELD_EVERY_BYTES = 1 << 20;

/**
 * The hash of `store` in etcd's backend layout, at the point in time of the call (the view is
 * opened before the first await). `extra` supplies what lives outside our store (membership,
 * consistent index) exactly as for a snapshot.
 */
export async function hashEtcdDb(
  store: MvccStore,
  extra: EtcdDbExtra,
  opts: HashOptions = {},
): Promise<number> {
  const ignored = new Set((opts.ignore ?? ETCD_HASH_IGNORES).map((i) => ignoreId(i.bucket, i.key)));
  const yieldEvery = opts.yieldEveryBytes ?? YIELD_EVERY_BYTES;
  const view = store.exportView();
  try {
    const buckets = etcdBuckets(view, extra);
    // bbolt's root cursor walks bucket names in byte order.
    const names = [...buckets.keys()].sort((x, y) => compareBytes(Buffer.from(x), Buffer.from(y)));
    let hash = 0;
    let sinceYield = 0;
    for (const name of names) {
      const nameBytes = Buffer.from(name, 'latin1');
      hash = crc32c(nameBytes, hash);
      for (const e of buckets.get(name)!()) {
        if (ignored.size > 0 && ignored.has(ignoreId(name, e.key.toString('latin1')))) continue;
        hash = crc32c(e.key, hash);
        hash = crc32c(e.value, hash);
        sinceYield += e.key.length + e.value.length;
        if (sinceYield >= yieldEvery) {
          sinceYield = 0;
          await yieldToLoop();
        }
      }
    }
    return hash >>> 0;
  } finally {
    view.close();
  }
}

function ignoreId(bucket: string, key: string): string {
  return `${bucket}\u0000${key}`;
}
