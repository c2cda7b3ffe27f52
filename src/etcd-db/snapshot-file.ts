// The file `etcdctl snapshot save` writes: the db followed by sha256(db) (fact sheet §11), its
// checks on restore (§12, --skip-hash-check), and `etcdctl snapshot status` computed as etcd
// computes it (§13).

import { createHash } from 'node:crypto';
import fs from 'node:fs';
import { BoltDb, checkDb } from '../bbolt/index.js';
import { crc32c } from '../util/crc32c.js';
import { decodeRevisionKey, EtcdDbError } from './codecs.js';

const SHA256_SIZE = 32;

/** etcd's hasChecksum: a file carries a trailer iff its size % 512 == 32. */
export function hasSha256Trailer(size: number): boolean {
  return size % 512 === SHA256_SIZE;
}

export interface SnapshotCheck {
  /** Whether the file ends with a sha256 trailer. */
  hasHash: boolean;
  /** Bytes of the db proper (the file without its trailer). */
  dbSize: number;
}

/** Go's %v of a []byte: "[1 2 3]". */
function goBytes(b: Uint8Array): string {
  return `[${[...b].join(' ')}]`;
}

/**
 * The checks `snapshot restore` makes before using a file, with etcd's messages: a missing
 * trailer is refused unless skipHashCheck; a wrong one is refused unless skipHashCheck.
 */
export async function verifySnapshotFile(
  path: string,
  opts: { skipHashCheck?: boolean } = {},
): Promise<SnapshotCheck> {
  const size = fs.statSync(path).size;
  const hasHash = hasSha256Trailer(size);
  const dbSize = hasHash ? size - SHA256_SIZE : size;
  if (!hasHash && !opts.skipHashCheck)
    throw new EtcdDbError('snapshot missing hash but --skip-hash-check=false');
  if (hasHash && !opts.skipHashCheck) {
    const h = createHash('sha256');
    const stream = fs.createReadStream(path, { start: 0, end: dbSize - 1, highWaterMark: 1 << 20 });
    for await (const chunk of stream) h.update(chunk as Buffer);
    const expected = Buffer.alloc(SHA256_SIZE);
    const fd = fs.openSync(path, 'r');
    try {
      fs.readSync(fd, expected, 0, SHA256_SIZE, dbSize);
    } finally {
      fs.closeSync(fd);
    }
    const got = h.digest();
    if (!got.equals(expected)) {
      // Error text as etcd prints it, so scripts matching etcdctl's output keep working.
      throw new Error(`expected sha256 ${goBytes(expected)}, got ${goBytes(got)}`);
    }
  }
  return { hasHash, dbSize };
}

/**
 * restore's saveDB step: checks the file (as verifySnapshotFile), then copies the db without its
 * trailer to `dest` (a new file).
 */
export async function copySnapshotDb(
  path: string,
  dest: string,
  opts: { skipHashCheck?: boolean } = {},
): Promise<SnapshotCheck> {
  const check = await verifySnapshotFile(path, opts);
  await new Promise<void>((resolve, reject) => {
    const src = fs.createReadStream(path, { start: 0, end: check.dbSize - 1 });
    const out = fs.createWriteStream(dest, { flags: 'wx', mode: 0o600 });
    src.on('error', reject);
    out.on('error', reject);
    out.on('finish', () => resolve());
    src.pipe(out);
  });
  return check;
}

export interface SnapshotStatus {
  /** CRC-32C over every bucket name and every key and value, in order. */
  hash: number;
  /** Main revision of the last key in bucket "key" (0 when empty). */
  revision: number;
  /** Entries in all buckets. */
  totalKey: number;
  /** meta.pgid × pageSize. */
  totalSize: number;
}

/** `etcdctl snapshot status`: refuses files that fail the integrity check, ignores the trailer. */
export function snapshotStatus(path: string): SnapshotStatus {
  const db = BoltDb.openFile(path);
  try {
    const errors = checkDb(db);
    if (errors.length > 0) {
      throw new EtcdDbError(
        `snapshot file integrity check failed. ${errors.length} errors found.\n${errors.join('\n')}`,
      );
    }
    let hash = 0;
    let revision = 0;
    let totalKey = 0;
    const root = db.root();
    for (const top of root.entries()) {
      if (!top.isBucket) throw new EtcdDbError(`cannot get hash of bucket ${top.key.toString('latin1')}`);
      hash = crc32c(top.key, hash);
      const isKey = top.key.toString('latin1') === 'key';
      for (const e of root.open(top).entries()) {
        hash = crc32c(e.key, hash);
        // bbolt's ForEach gives a nil value for a sub-bucket: nothing is hashed for it.
        if (!e.isBucket) hash = crc32c(e.value, hash);
        if (isKey) revision = decodeRevisionKey(e.key).main;
        totalKey++;
      }
    }
    return { hash: hash >>> 0, revision, totalKey, totalSize: db.size };
  } finally {
    db.close();
  }
}
