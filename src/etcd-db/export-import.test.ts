import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { describe, test } from 'node:test';
import { BoltDb, BoltFormatError, checkDb, writeBolt } from '../bbolt/index.js';
import { MvccStore } from '../mvcc/index.js';
import { EtcdDbError } from './codecs.js';
import { exportEtcdDb } from './export.js';
import { importEtcdDb } from './import.js';
import { buildSampleStore, LEASE_ID, tempDir } from './testkit.js';

const ETCD_BUCKETS = [
  'alarm',
  'auth',
  'authRoles',
  'authUsers',
  'cluster',
  'key',
  'lease',
  'members',
  'members_removed',
  'meta',
];

/** What etcd's auth store writes on first start, and so our export too when there is no auth data. */
const AUTH_REVISION_1 = ['617574685265766973696f6e=0000000000000001'];

/** Everything an imported store holds but the synthesized auth revision, which it must hold. */
function importedContents(store: MvccStore): Record<string, string[]> {
  const { auth, ...rest } = contents(store);
  assert.deepEqual(auth, AUTH_REVISION_1);
  return rest;
}

/** Everything a store holds, as comparable strings. */
function contents(store: MvccStore): Record<string, string[]> {
  const view = store.exportView();
  try {
    const out: Record<string, string[]> = {
      key: [...view.records()].map((e) => `${e.key.toString('hex')}=${e.value.toString('hex')}`),
      meta: ['scheduledCompactRev', 'finishedCompactRev'].map(
        (n) => `${n}=${view.metaValue(n as 'finishedCompactRev')}`,
      ),
    };
    for (const name of view.auxBuckets()) {
      out[name] = [...view.aux(name)].map((e) => `${e.key.toString('hex')}=${e.value.toString('hex')}`);
    }
    return out;
  } finally {
    view.close();
  }
}

describe('etcd db export and import', () => {
  test('our store → etcd file → our store is lossless, and the file is etcd-shaped', async () => {
    const dir = tempDir();
    const { store, extra } = await buildSampleStore(path.join(dir, 'a'));
    try {
      const file = path.join(dir, 'a.etcd.db');
      const r = await exportEtcdDb(store, extra, file);
      assert.equal(fs.statSync(file).size, r.size);

      const db = BoltDb.openFile(file);
      assert.deepEqual(checkDb(db), []);
      assert.deepEqual(
        [...db.root().entries()].map((e) => [e.key.toString(), e.isBucket]),
        ETCD_BUCKETS.map((n) => [n, true]),
      );
      const meta = db.bucket('meta')!;
      assert.equal(meta.get('consistent_index')!.readBigUInt64BE(0), BigInt(store.consistentIndex()));
      assert.equal(meta.get('finishedCompactRev')!.toString('hex'), '00000000000000045f0000000000000000');
      assert.equal(db.bucket('auth')!.get('authRevision')!.toString('hex'), '0000000000000001');
      assert.equal(db.bucket('cluster')!.get('clusterVersion')!.toString(), '3.4.0');
      assert.equal(db.bucket('members_removed')!.get('ffffffffffffffff')!.toString(), 'removed');
      const keys = [...db.bucket('key')!.entries()];
      assert.ok(keys.every((e) => e.key.length === 17 || (e.key.length === 18 && e.key[17] === 0x74)));
      assert.ok(
        keys.some((e) => e.key.length === 18),
        'tombstones are exported',
      );
      db.close();

      const imported = path.join(dir, 'b');
      const info = await importEtcdDb(file, imported);
      assert.equal(info.consistentIndex, store.consistentIndex());
      assert.equal(info.revision, store.currentRevision());
      assert.equal(info.compactRevision, 4);
      assert.deepEqual(info.members, extra.members);
      assert.deepEqual(info.removed, extra.removed);
      assert.equal(info.clusterVersion, '3.4.0');

      const back = MvccStore.open(imported);
      try {
        assert.equal(back.currentRevision(), store.currentRevision());
        assert.equal(back.compactedRevision(), store.compactedRevision());
        assert.equal(back.consistentIndex(), store.consistentIndex());
        assert.deepEqual(importedContents(back), contents(store));
        assert.deepEqual(back.hashKV(0), store.hashKV(0));
        assert.deepEqual(back.keysWithLeases(), [
          { key: new Uint8Array(Buffer.from('leased')), lease: LEASE_ID },
        ]);
        // The same store exported again gives the same bytes.
        const again = path.join(dir, 'b.etcd.db');
        await exportEtcdDb(back, { ...extra, consistentIndex: info.consistentIndex }, again);
        assert.deepEqual(fs.readFileSync(again), fs.readFileSync(file));
      } finally {
        await back.close();
      }
    } finally {
      await store.close();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  test('the export is the state when it was called, while the store goes on applying', async () => {
    const dir = tempDir();
    const { store, extra } = await buildSampleStore(path.join(dir, 'a'), 20_000);
    try {
      const revAtStart = store.currentRevision();
      const before = contents(store);
      // A slow reader: the export must wait for it (backpressure) and give the loop turns.
      const out = new PassThrough({ highWaterMark: 16 * 1024 });
      const chunks: Buffer[] = [];
      let ticks = 0;
      const timer = setInterval(() => ticks++, 1);
      out.on('readable', () => {
        setTimeout(() => {
          for (let c = out.read() as Buffer | null; c !== null; c = out.read() as Buffer | null)
            chunks.push(c);
        }, 1);
      });
      let revWhenDone = 0;
      const exporting = exportEtcdDb(store, extra, out).then(() => {
        revWhenDone = store.currentRevision();
      });
      let index = store.consistentIndex();
      for (let i = 0; i < 50; i++) {
        await new Promise((r) => setTimeout(r, 1));
        store.put(++index, { key: Buffer.from(`during/${i}`), value: Buffer.from('x') });
      }
      await exporting;
      clearInterval(timer);
      await new Promise((r) => setTimeout(r, 20));
      assert.ok(ticks > 5, `the event loop ran ${ticks} timer ticks during the export`);
      assert.ok(revWhenDone > revAtStart, 'writes were applied while the export ran');
      const imported = path.join(dir, 'b');
      fs.writeFileSync(path.join(dir, 'snap'), Buffer.concat(chunks));
      const info = await importEtcdDb(path.join(dir, 'snap'), imported);
      assert.equal(info.revision, revAtStart);
      const back = MvccStore.open(imported);
      try {
        assert.deepEqual(importedContents(back), before);
      } finally {
        await back.close();
      }
    } finally {
      await store.close();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  test('import refuses a damaged or foreign file and leaves no target behind', async () => {
    const dir = tempDir();
    const { store, extra } = await buildSampleStore(path.join(dir, 'a'));
    try {
      const file = path.join(dir, 'a.etcd.db');
      await exportEtcdDb(store, extra, file);
      const truncated = path.join(dir, 'short.db');
      fs.writeFileSync(truncated, fs.readFileSync(file).subarray(0, 3 * 4096));
      await assert.rejects(importEtcdDb(truncated, path.join(dir, 't1')), BoltFormatError);
      assert.equal(fs.existsSync(path.join(dir, 't1')), false);

      const foreign = path.join(dir, 'foreign.db');
      await writeBolt(async (w) => {
        await w.bucket('meta');
        await w.end();
      }, foreign);
      await assert.rejects(importEtcdDb(foreign, path.join(dir, 't2')), EtcdDbError);
      assert.equal(fs.existsSync(path.join(dir, 't2')), false);

      // A revision key that is not one.
      const badKey = path.join(dir, 'badkey.db');
      await writeBolt(async (w) => {
        await w.bucket('key');
        await w.put(Buffer.from('not-a-revision'), Buffer.from(''));
        await w.end();
        await w.bucket('meta');
        await w.end();
      }, badKey);
      await assert.rejects(importEtcdDb(badKey, path.join(dir, 't3')), /malformed revision key/);
      assert.equal(fs.existsSync(path.join(dir, 't3')), false);

      await assert.rejects(importEtcdDb(file, path.join(dir, 'a')), /already exists/);
    } finally {
      await store.close();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
