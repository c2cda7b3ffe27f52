// etcd 3.4's backend file → a fresh etcd-ts store: every revision (tombstones included), the
// compaction marks, the consistent index, leases, alarms and the auth buckets. Membership is
// returned, not stored: etcd-ts keeps it elsewhere, and after `snapshot restore` etcd 3.4's
// members buckets are stale anyway (fact sheet §12, §14). The db is read page by page and loaded
// in chunks, so neither side is ever held in memory.

import fs from 'node:fs';
import { setImmediate as yieldToLoop } from 'node:timers/promises';
import { type BoltBucket, BoltDb } from '../bbolt/index.js';
import { decodeLeaseRecord } from '../lease/index.js';
import { Backend } from '../mvcc/backend.js';
import { decodeKeyValue } from '../mvcc/kv-codec.js';
import type { StoreBackend, StoredRecord } from '../mvcc/store-backend.js';
import {
  AUTH_BUCKETS,
  BUCKET,
  CLUSTER_VERSION_KEY,
  decodeCompactRev,
  decodeMember,
  decodeRevisionKey,
  decodeSafeU64BE,
  EtcdDbError,
  type EtcdMember,
  fromEtcdAlarmKey,
  META_CONSISTENT_INDEX,
  META_FINISHED_COMPACT,
  META_SCHEDULED_COMPACT,
  memberIdFromKey,
  ourAlarmKey,
} from './codecs.js';

export interface ImportedEtcdDb {
  consistentIndex: number;
  members: EtcdMember[];
  removed: bigint[];
  clusterVersion: string;
  /** The store's revision once opened (as etcd computes it on restore). */
  revision: number;
  /** The compaction revision once opened; -1 when never compacted. */
  compactRevision: number;
  /** Records (revisions, tombstones included) copied. */
  records: number;
}

const CHUNK_RECORDS = 10_000;

/**
 * Reads the etcd db (or snapshot file; the sha256 trailer is not checked here, see
 * verifySnapshotFile) at `path` into a new store file at `into`, which must not exist.
 */
export async function importEtcdDb(path: string, into: string): Promise<ImportedEtcdDb> {
  if (fs.existsSync(into)) throw new EtcdDbError(`import target ${into} already exists`);
  const db = BoltDb.openFile(path);
  let backend: Backend | undefined;
  try {
    requireBucket(db, BUCKET.key);
    backend = Backend.open(into);
    const imported = await importEtcdDbInto(db, backend);
    await backend.close();
    backend = undefined;
    return imported;
  } catch (err) {
    if (backend !== undefined) {
      await backend.close().catch(() => {});
      fs.rmSync(into, { force: true });
      fs.rmSync(`${into}-lock`, { force: true });
    }
    throw err;
  } finally {
    db.close();
  }
}

/**
 * Loads an opened etcd db into an empty backend of any kind (the LMDB file above, or the
 * simulator's MemoryBackend for a raft snapshot received under simulation) and commits it.
 */
export async function importEtcdDbInto(db: BoltDb, backend: StoreBackend): Promise<ImportedEtcdDb> {
  const keyBucket = requireBucket(db, BUCKET.key);
  const metaBucket = requireBucket(db, BUCKET.meta);
  const { records, lastMain } = await loadRecords(keyBucket, backend);

  const consistentRaw = metaBucket.get(META_CONSISTENT_INDEX);
  const consistentIndex = consistentRaw ? decodeSafeU64BE(consistentRaw, META_CONSISTENT_INDEX) : 0;
  backend.setMeta('consistent_index', consistentIndex);
  const compactMark = (name: 'scheduledCompactRev' | 'finishedCompactRev'): number => {
    const raw = metaBucket.get(name);
    if (raw === undefined) return -1;
    const rev = decodeCompactRev(raw, name);
    backend.setMeta(name, rev);
    return rev;
  };
  const scheduled = compactMark(META_SCHEDULED_COMPACT);
  const finished = compactMark(META_FINISHED_COMPACT);

  for (const e of plainEntries(db, BUCKET.lease)) {
    decodeLeaseRecord(e.value); // refuse garbage now rather than when the lessor loads it
    backend.setAux(BUCKET.lease, e.key, e.value);
  }
  for (const e of plainEntries(db, BUCKET.alarm)) {
    backend.setAux(BUCKET.alarm, ourAlarmKey(fromEtcdAlarmKey(e.key)), new Uint8Array());
  }
  for (const name of AUTH_BUCKETS) {
    for (const e of plainEntries(db, name)) backend.setAux(name, e.key, e.value);
  }
  const members = [...plainEntries(db, BUCKET.members)].map((e) => decodeMember(e.key, e.value));
  const removed = [...plainEntries(db, BUCKET.membersRemoved)].map((e) => memberIdFromKey(e.key));
  const version = db.bucket(BUCKET.cluster)?.get(CLUSTER_VERSION_KEY);
  backend.commit();
  return {
    consistentIndex,
    members,
    removed,
    clusterVersion: version ? version.toString('utf8') : '',
    // MvccStore.restore: the last record, raised to a compaction mark that removed the newest ones.
    revision: Math.max(1, lastMain, finished, scheduled),
    // A scheduled but unfinished compaction is resumed on open and counts as done.
    compactRevision: Math.max(finished, scheduled),
    records,
  };
}

function requireBucket(db: BoltDb, name: string): BoltBucket {
  const b = db.bucket(name);
  if (b === undefined) throw new EtcdDbError(`no "${name}" bucket: not an etcd 3.4 backend`);
  return b;
}

/** The key/value entries of a top-level bucket (none when it is absent); nested buckets are refused. */
function* plainEntries(db: BoltDb, name: string): Generator<{ key: Buffer; value: Buffer }> {
  const b = db.bucket(name);
  if (b === undefined) return;
  for (const e of b.entries()) {
    if (e.isBucket) throw new EtcdDbError(`unexpected nested bucket in "${name}"`);
    yield e;
  }
}

async function loadRecords(
  bucket: BoltBucket,
  backend: StoreBackend,
): Promise<{ records: number; lastMain: number }> {
  let chunk: StoredRecord[] = [];
  let records = 0;
  let lastMain = 0;
  for (const e of bucket.entries()) {
    if (e.isBucket) throw new EtcdDbError('unexpected nested bucket in "key"');
    const rev = decodeRevisionKey(e.key);
    try {
      decodeKeyValue(e.value);
    } catch (err) {
      throw new EtcdDbError(`record ${e.key.toString('hex')} is not a KeyValue: ${String(err)}`);
    }
    chunk.push({ rev: { main: rev.main, sub: rev.sub }, tombstone: rev.tombstone, value: e.value });
    lastMain = rev.main;
    records++;
    if (chunk.length >= CHUNK_RECORDS) {
      backend.loadRecords(chunk);
      chunk = [];
      await yieldToLoop();
    }
  }
  if (chunk.length > 0) backend.loadRecords(chunk);
  return { records, lastMain };
}
