import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';
import { crc32c } from '@node-rs/crc32';
import { BoltDb } from '../bbolt/index.js';
import { exportEtcdDb } from './export.js';
import { hashEtcdDb } from './hash.js';
import { snapshotStatus } from './snapshot-file.js';
import { buildSampleStore, tempDir } from './testkit.js';

/** etcd's backend Hash, recomputed independently from a written bbolt file. */
function hashOfFile(file: string, skipConsistentIndex: boolean): number {
  const db = BoltDb.openFile(file);
  try {
    let h = 0;
    const root = db.root();
    for (const top of root.entries()) {
      h = crc32c(top.key, h);
      for (const e of root.open(top).entries()) {
        if (skipConsistentIndex && top.key.toString() === 'meta' && e.key.toString() === 'consistent_index')
          continue;
        h = crc32c(e.key, h);
        h = crc32c(e.value, h);
      }
    }
    return h >>> 0;
  } finally {
    db.close();
  }
}

describe('hashEtcdDb (Maintenance.Hash)', () => {
  test('equals the hash of the etcd file we export, with and without consistent_index', async () => {
    const dir = tempDir();
    const { store, extra } = await buildSampleStore(path.join(dir, 'a'), 400);
    try {
      const file = path.join(dir, 'a.etcd.db');
      await exportEtcdDb(store, extra, file);
      // Tiny yield steps exercise the streaming path.
      const everything = await hashEtcdDb(store, extra, { ignore: [], yieldEveryBytes: 512 });
      assert.equal(everything, snapshotStatus(file).hash, 'no ignores = snapshot status hash');
      const etcdHash = await hashEtcdDb(store, extra);
      assert.equal(etcdHash, hashOfFile(file, true));
      assert.notEqual(etcdHash, everything);
    } finally {
      await store.close();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  test('ignores the consistent index, sees any data change', async () => {
    const dir = tempDir();
    const { store, extra } = await buildSampleStore(path.join(dir, 'a'), 10);
    try {
      const before = await hashEtcdDb(store, extra);
      assert.equal(await hashEtcdDb(store, { ...extra, consistentIndex: extra.consistentIndex + 5 }), before);
      assert.notEqual(await hashEtcdDb(store, { ...extra, clusterVersion: '3.5.0' }), before);
      store.put(store.consistentIndex() + 1, { key: Buffer.from('new'), value: Buffer.from('v') });
      assert.notEqual(await hashEtcdDb(store, extra), before);
    } finally {
      await store.close();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
