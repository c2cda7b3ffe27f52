import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { BoltDb, checkDb } from '../bbolt/index.js';
import { exportEtcdDb } from '../etcd-db/export.js';
import { snapshotStatus } from '../etcd-db/snapshot-file.js';
import { buildSampleStore, tempDir } from '../etcd-db/testkit.js';
import { nopLogger } from '../log/index.js';
import { MvccStore } from '../mvcc/index.js';
import { decodeConfChange } from '../raft/confchange-codec.js';
import { ConfChangeType, EntryType } from '../raft/types.js';
import { Membership } from '../server/membership.js';
import { decodeWalMetadata } from '../server/wal-metadata.js';
import { type ConversionLayout, convertEtcd34DataDir } from './convert.js';
import { readEtcd34Member } from './etcd-data-dir.js';
import { readEtcdWal } from './etcd-wal-reader.js';
import { type RestoreConfig, type RestoreEvent, restoreSnapshot } from './restore.js';

function layoutOf(dataDir: string): ConversionLayout {
  const memberDir = join(dataDir, 'member');
  return {
    memberDir,
    walDir: join(memberDir, 'wal'),
    snapDir: join(memberDir, 'snap'),
    dbPath: join(memberDir, 'snap', 'db'),
  };
}

// Ids real etcd 3.4 gives these flags (etcdctl snapshot restore, token "etcd-cluster", observed).
const CLUSTER = 'n1=http://127.0.0.1:3380,n2=http://127.0.0.1:3381';
const N1 = 0xd07d5325fff892c1n;
const N2 = 0x0ff743d58b72275dn;
const CLUSTER_ID = 0x33cb5c66b54dfabdn;

let dir = '';
let snapFile = '';
let revision = 0;

before(async () => {
  dir = tempDir();
  const { store, extra } = await buildSampleStore(join(dir, 'source'), 50);
  revision = store.currentRevision();
  snapFile = join(dir, 'snapshot.db');
  await exportEtcdDb(store, extra, snapFile, { sha256Trailer: true });
  await store.close();
});
after(() => rmSync(dir, { recursive: true, force: true }));

function config(dataDir: string, extra: Partial<RestoreConfig> = {}): RestoreConfig {
  return {
    snapshotPath: snapFile,
    name: 'n1',
    dataDir,
    walDir: '',
    peerUrls: ['http://127.0.0.1:3380'],
    initialCluster: CLUSTER,
    initialClusterToken: 'etcd-cluster',
    skipHashCheck: false,
    ...extra,
  };
}

describe('snapshot restore', () => {
  test("the member, its raft state and its backend are etcd's restore's", async () => {
    const dataDir = join(dir, 'restored');
    const events: RestoreEvent[] = [];
    const r = await restoreSnapshot(config(dataDir), (e) => events.push(e));
    assert.equal(r.memberId, N1);
    assert.equal(r.clusterId, CLUSTER_ID);
    assert.deepEqual(
      r.members.map((m) => m.id),
      [N2, N1],
    );
    assert.deepEqual(
      events.map((e) => e.kind),
      ['restoring', 'added-member', 'added-member', 'restored'],
    );

    // etcd 3.4's formats, as the real etcdctl writes them.
    const etcd = await readEtcd34Member(layoutOf(dataDir));
    const snap = etcd.snapshot;
    assert.ok(snap !== undefined);
    assert.equal(
      etcd.snapshotFile,
      join(dataDir, 'member', 'snap', '0000000000000001-0000000000000002.snap'),
    );
    assert.deepEqual(snap.metadata, { index: 2, term: 1, confState: { voters: [N2, N1], learners: [] } });
    const membership = Membership.decode(snap.data);
    assert.deepEqual(
      membership.list().map((m) => [m.id, m.name, m.peerUrls]),
      [
        [N2, '', ['http://127.0.0.1:3381']],
        [N1, '', ['http://127.0.0.1:3380']],
      ],
    );
    assert.deepEqual(decodeWalMetadata(etcd.metadata), { memberId: N1, clusterId: CLUSTER_ID });
    assert.deepEqual(etcd.hardState, { term: 1, vote: N2, commit: 2 });
    assert.equal(etcd.entries.length, 0); // all at or below the snapshot
    const wal = await readEtcdWal(join(dataDir, 'member', 'wal'), { index: 0, term: 0 });
    const ccs = wal.entries.map((e) => {
      assert.equal(e.type, EntryType.ConfChange);
      assert.equal(e.term, 1);
      return decodeConfChange(e.data);
    });
    assert.deepEqual(
      ccs.map((c) => [c.type, c.nodeId, Buffer.from(c.context).toString()]),
      [
        [ConfChangeType.AddNode, N2, `{"id":${N2},"peerURLs":["http://127.0.0.1:3381"],"name":"n2"}`],
        [ConfChangeType.AddNode, N1, `{"id":${N1},"peerURLs":["http://127.0.0.1:3380"],"name":"n1"}`],
      ],
    );
    assert.equal(
      statSync(join(dataDir, 'member', 'wal', '0000000000000000-0000000000000000.wal')).size,
      64_000_000,
    );

    // The db: the snapshot's buckets, consistent_index = 2, no stale members.
    const db = BoltDb.openFile(join(dataDir, 'member', 'snap', 'db'));
    try {
      assert.deepEqual(checkDb(db), []);
      assert.equal(db.bucket('meta')!.get('consistent_index')!.readBigUInt64BE(0), 2n);
      assert.equal([...db.bucket('members')!.entries()].length, 0);
      assert.equal([...db.bucket('members_removed')!.entries()].length, 0);
      assert.ok([...db.bucket('lease')!.entries()].length > 0);
    } finally {
      db.close();
    }
    assert.equal(snapshotStatus(join(dataDir, 'member', 'snap', 'db')).revision, r.revision);

    // etcd-ts converts it at start-up; the store then has the snapshot's data at index 2.
    await convertEtcd34DataDir(layoutOf(dataDir), nopLogger());
    const store = MvccStore.open(join(dataDir, 'member', 'snap', 'db'));
    try {
      assert.equal(store.consistentIndex(), 2);
      assert.equal(store.currentRevision(), revision);
      const got = store.range({ key: Buffer.from('foo'), rangeEnd: new Uint8Array(), limit: 0, revision: 0 });
      assert.equal(Buffer.from(got.kvs[0]!.value).toString(), 'bar2');
    } finally {
      await store.close();
    }
    assert.deepEqual(
      readdirSync(dir).filter((n) => n.includes('restore.tmp')),
      [],
    );
  });

  test('--wal-dir puts the WAL elsewhere; an existing data dir or WAL dir is refused', async () => {
    const dataDir = join(dir, 'withwal');
    const walDir = join(dir, 'elsewhere', 'wal');
    await restoreSnapshot(config(dataDir, { walDir }));
    assert.ok(existsSync(join(walDir, '0000000000000000-0000000000000000.wal')));
    assert.ok(!existsSync(join(dataDir, 'member', 'wal')));
    await assert.rejects(restoreSnapshot(config(dataDir)), { message: `data-dir "${dataDir}" exists` });
    await assert.rejects(restoreSnapshot(config(join(dir, 'other'), { walDir })), {
      message: `wal-dir "${walDir}" exists`,
    });
  });

  test("bad flags are refused with etcd's texts before anything is written", async () => {
    const dataDir = join(dir, 'never');
    await assert.rejects(restoreSnapshot(config(dataDir, { name: 'x' })), {
      message: 'couldn\'t find local name "x" in the initial cluster configuration',
    });
    await assert.rejects(restoreSnapshot(config(dataDir, { peerUrls: ['ftp://x:1'] })), {
      message: 'URL scheme must be http, https, unix, or unixs: ftp://x:1',
    });
    await assert.rejects(
      restoreSnapshot(
        config(dataDir, { initialCluster: 'n1=http://127.0.0.1:3380,n2=http://127.0.0.1:3380' }),
      ),
      { message: 'initial cluster n1=http://127.0.0.1:3380,n2=http://127.0.0.1:3380 has duplicate url' },
    );
    assert.ok(!existsSync(dataDir));
  });

  test('damaged, truncated and missing files are refused and leave nothing behind', async () => {
    const bytes = readFileSync(snapFile);
    const cases: [string, Buffer | undefined, Partial<RestoreConfig>, RegExp][] = [
      ['missing.db', undefined, {}, /^open .*missing\.db: no such file or directory$/],
      ['nohash.db', bytes.subarray(0, -32), {}, /^snapshot missing hash but --skip-hash-check=false$/],
      ['flipped.db', flip(bytes, 6000), {}, /^expected sha256 \[[\d ]+\], got \[[\d ]+\]$/],
      ['truncated.db', bytes.subarray(0, 8192 + 32), {}, /^expected sha256/],
      [
        'truncated-skip.db',
        bytes.subarray(0, 3 * 4096),
        { skipHashCheck: true },
        /not a valid etcd database/,
      ],
      ['garbage.db', Buffer.alloc(5 * 4096, 7), { skipHashCheck: true }, /not a valid etcd database/],
    ];
    for (const [name, content, extra, message] of cases) {
      const file = join(dir, name);
      if (content !== undefined) writeFileSync(file, content);
      const dataDir = join(dir, `out-${name}`);
      await assert.rejects(
        restoreSnapshot(config(dataDir, { snapshotPath: file, ...extra })),
        { message },
        name,
      );
      assert.ok(!existsSync(dataDir), `${name}: data dir left behind`);
      assert.ok(!existsSync(`${dataDir}.etcd-ts-restore.tmp`), `${name}: staging left behind`);
    }
  });

  test('--skip-hash-check restores a plain db (copied from a data dir)', async () => {
    const plain = join(dir, 'plain.db');
    writeFileSync(plain, readFileSync(snapFile).subarray(0, -32));
    const r = await restoreSnapshot(
      config(join(dir, 'fromplain'), { snapshotPath: plain, skipHashCheck: true }),
    );
    assert.equal(r.revision, revision);
  });
});

function flip(b: Buffer, at: number): Buffer {
  const c = Buffer.from(b);
  c[at] = c[at]! ^ 0xff;
  return c;
}
