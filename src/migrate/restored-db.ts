// The backend a restore leaves in member/snap/db: the snapshot's bbolt db written anew with our
// streaming bbolt writer (decision 0011), read straight from the snapshot file (the sha256
// trailer, if any, lies beyond the db's pages and is never read), with
//   meta/consistent_index = the new raft log's last index, so nothing is applied twice;
//   members, members_removed emptied: the cluster is the one the flags describe (etcd 3.5 trims
//   them too; 3.4 leaves them stale and never reads them).
// Every record of bucket "key" is decoded on the way, so a damaged db is refused here rather
// than by the member that would start on it.
import { type BoltBucket, type BoltBuilder, BoltDb, copyBucket, writeBolt } from '../bbolt/index.js';
import {
  BUCKET,
  decodeRevisionKey,
  EtcdDbError,
  encodeU64BE,
  META_CONSISTENT_INDEX,
} from '../etcd-db/codecs.js';
import { decodeKeyValue } from '../mvcc/kv-codec.js';

const TRIMMED: ReadonlySet<string> = new Set([BUCKET.members, BUCKET.membersRemoved]);
/** Buckets a 3.4 member needs (it creates the others itself). */
const REQUIRED = [BUCKET.key, BUCKET.meta] as const;

export interface RestoredDb {
  /** Main revision of the last record (etcd's snapshot status revision). */
  revision: number;
  records: number;
}

/** Writes the restored db from the one in `snapshotPath` to `dest` (a new file, fsynced). */
export async function writeRestoredDb(
  snapshotPath: string,
  dest: string,
  consistentIndex: number,
): Promise<RestoredDb> {
  const db = BoltDb.openFile(snapshotPath);
  try {
    for (const name of REQUIRED) {
      if (db.bucket(name) === undefined)
        throw new EtcdDbError(`no "${name}" bucket: not an etcd 3.4 backend`);
    }
    let stats: RestoredDb = { revision: 0, records: 0 };
    await writeBolt(async (b) => {
      stats = await copyDb(db, b, consistentIndex);
    }, dest);
    return stats;
  } finally {
    db.close();
  }
}

async function copyDb(db: BoltDb, b: BoltBuilder, consistentIndex: number): Promise<RestoredDb> {
  const stats: RestoredDb = { revision: 0, records: 0 };
  const root = db.root();
  let hasMeta = false;
  for (const top of root.entries()) {
    if (!top.isBucket) throw new EtcdDbError(`top-level key ${top.key.toString('latin1')} is not a bucket`);
    const name = top.key.toString('latin1');
    await b.bucket(top.key);
    if (name === BUCKET.meta) {
      hasMeta = true;
      await copyMeta(root.open(top), b, consistentIndex);
    } else if (name === BUCKET.key) {
      for (const e of root.open(top).entries()) {
        if (e.isBucket) throw new EtcdDbError('unexpected nested bucket in "key"');
        stats.revision = decodeRevisionKey(e.key).main;
        try {
          decodeKeyValue(e.value);
        } catch (err) {
          throw new EtcdDbError(`record ${e.key.toString('hex')} is not a KeyValue: ${String(err)}`);
        }
        stats.records++;
        await b.put(e.key, e.value);
      }
    } else if (!TRIMMED.has(name)) {
      await copyBucket(root.open(top), b);
    }
    await b.end();
  }
  if (!hasMeta) throw new EtcdDbError('no "meta" bucket');
  return stats;
}

async function copyMeta(meta: BoltBucket, b: BoltBuilder, consistentIndex: number): Promise<void> {
  const index = encodeU64BE(consistentIndex);
  const key = Buffer.from(META_CONSISTENT_INDEX);
  let written = false;
  for (const e of meta.entries()) {
    const cmp = Buffer.compare(e.key, key);
    if (!written && cmp >= 0) {
      await b.put(key, index);
      written = true;
      if (cmp === 0) continue;
    }
    if (e.isBucket) throw new EtcdDbError('unexpected nested bucket in "meta"');
    await b.put(e.key, e.value);
  }
  if (!written) await b.put(key, index);
}
