import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';
import { crc32c } from '@node-rs/crc32';
import { BoltDb } from '../bbolt/index.js';
import { exportEtcdDb } from './export.js';
import { copySnapshotDb, hasSha256Trailer, snapshotStatus, verifySnapshotFile } from './snapshot-file.js';
import { buildSampleStore, tempDir } from './testkit.js';

describe('etcd snapshot file', () => {
  test('trailer, restore checks and status', async () => {
    const dir = tempDir();
    const { store, extra } = await buildSampleStore(path.join(dir, 'a'));
    try {
      const snap = path.join(dir, 'snap.db');
      let announced = -1;
      const r = await exportEtcdDb(store, extra, snap, {
        sha256Trailer: true,
        onLayout: (l) => {
          announced = l.size;
        },
      });
      const bytes = fs.readFileSync(snap);
      assert.equal(announced, r.size);
      assert.equal(bytes.length, r.size + 32);
      assert.ok(hasSha256Trailer(bytes.length));
      assert.deepEqual(bytes.subarray(-32), createHash('sha256').update(bytes.subarray(0, -32)).digest());
      assert.deepEqual(await verifySnapshotFile(snap), { hasHash: true, dbSize: r.size });

      // A damaged db: etcd's message, unless the check is skipped.
      const bad = path.join(dir, 'bad.db');
      const damaged = Buffer.from(bytes);
      damaged[5000] = damaged[5000]! ^ 1;
      fs.writeFileSync(bad, damaged);
      await assert.rejects(
        verifySnapshotFile(bad),
        /^Error: expected sha256 \[\d+( \d+){31}\], got \[\d+( \d+){31}\]$/,
      );
      await verifySnapshotFile(bad, { skipHashCheck: true });

      // No trailer: refused unless skipped.
      const plain = path.join(dir, 'plain.db');
      fs.writeFileSync(plain, bytes.subarray(0, -32));
      await assert.rejects(verifySnapshotFile(plain), /snapshot missing hash but --skip-hash-check=false/);
      assert.deepEqual(await verifySnapshotFile(plain, { skipHashCheck: true }), {
        hasHash: false,
        dbSize: r.size,
      });

      const copied = path.join(dir, 'member-db');
      await copySnapshotDb(snap, copied);
      assert.deepEqual(fs.readFileSync(copied), bytes.subarray(0, -32));

      // Status, recomputed here from the reader: CRC-32C over names, keys and values in order.
      const db = BoltDb.openFile(snap);
      let hash = 0;
      let total = 0;
      let lastKey: Buffer = Buffer.alloc(0);
      for (const top of db.root().entries()) {
        hash = crc32c(top.key, hash);
        for (const e of db.root().open(top).entries()) {
          hash = crc32c(e.value, crc32c(e.key, hash));
          total++;
          if (top.key.toString() === 'key') lastKey = e.key;
        }
      }
      db.close();
      const status = snapshotStatus(snap);
      assert.deepEqual(status, {
        hash: hash >>> 0,
        revision: Number(lastKey.readBigUInt64BE(0)),
        totalKey: total,
        totalSize: r.size,
      });
      assert.equal(status.revision, store.currentRevision());
      // The trailer does not matter to status; damage that breaks the structure does.
      assert.deepEqual(snapshotStatus(plain), status);
      const broken = Buffer.from(bytes);
      broken.writeBigUInt64LE(999n, 2 * 4096); // page 2's id
      fs.writeFileSync(bad, broken);
      assert.throws(() => snapshotStatus(bad), /bbolt|integrity/);
    } finally {
      await store.close();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
