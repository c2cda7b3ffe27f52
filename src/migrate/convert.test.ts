import assert from 'node:assert/strict';
import {
  cpSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { exportEtcdDb } from '../etcd-db/export.js';
import { tempDir } from '../etcd-db/testkit.js';
import { nopLogger } from '../log/index.js';
import { MvccStore } from '../mvcc/index.js';
import { encodeEntry, encodeHardState } from '../peer/wire/raftpb.js';
import { encodeEtcdSnapFile } from '../peer/wire/snap-file.js';
import { EntryType, type Snapshot } from '../raft/types.js';
import { Membership } from '../server/membership.js';
import { encodeV2StoreSnapshot } from '../server/v2/store-snapshot.js';
import { encodeWalMetadata } from '../server/wal-metadata.js';
import { Snapshotter } from '../snap/index.js';
import { Wal } from '../wal/index.js';
import { type ConversionLayout, convertEtcd34DataDir, MigrationError } from './convert.js';
import { EtcdWalEncoder, EtcdWalType, encodeWalSnapshot } from './etcd-wal-codec.js';
import { etcdWalName } from './etcd-wal-reader.js';

const MEMBER = 0x8e9e05c52164694dn;
const CLUSTER = 0xcdf818194e3a8c32n;
const log = nopLogger();

let root = '';
let template = '';
before(async () => {
  root = tempDir();
  template = join(root, 'template');
  await writeEtcdDataDir(template);
});
after(() => rmSync(root, { recursive: true, force: true }));

function layoutOf(dataDir: string): ConversionLayout {
  const memberDir = join(dataDir, 'member');
  return {
    memberDir,
    walDir: join(memberDir, 'wal'),
    snapDir: join(memberDir, 'snap'),
    dbPath: join(memberDir, 'snap', 'db'),
  };
}

function fresh(name: string): string {
  const d = join(root, name);
  cpSync(template, d, { recursive: true });
  return d;
}

/**
 * An etcd 3.4 member's data dir as etcd writes it: a .snap at {index 2, term 1}, a WAL whose
 * log goes on to index 4 (commit 4), and a bbolt backend that applied up to index 3.
 */
async function writeEtcdDataDir(dataDir: string): Promise<void> {
  const snapDir = join(dataDir, 'member', 'snap');
  const walDir = join(dataDir, 'member', 'wal');
  mkdirSync(snapDir, { recursive: true });
  mkdirSync(walDir, { recursive: true });
  const store = MvccStore.open(join(root, 'source-store'));
  store.put(1, { key: Buffer.from('a'), value: Buffer.from('1') });
  store.put(2, { key: Buffer.from('b'), value: Buffer.from('2') });
  store.put(3, { key: Buffer.from('a'), value: Buffer.from('3') });
  const member = {
    id: MEMBER,
    name: 'm1',
    peerUrls: ['http://127.0.0.1:2380'],
    clientUrls: [],
    isLearner: false,
  };
  await exportEtcdDb(
    store,
    { consistentIndex: 3, members: [member], removed: [], clusterVersion: '3.4.0' },
    join(snapDir, 'db'),
  );
  await store.close();
  const snapshot: Snapshot = {
    data: encodeV2StoreSnapshot({ members: [member], removed: [], clusterVersion: '3.4.0' }),
    metadata: { index: 2, term: 1, confState: { voters: [MEMBER], learners: [] } },
  };
  writeFileSync(join(snapDir, '0000000000000001-0000000000000002.snap'), encodeEtcdSnapFile(snapshot));
  const enc = new EtcdWalEncoder();
  const entry = (index: number) =>
    enc.frame(
      EtcdWalType.entry,
      encodeEntry({ index, term: 1, type: EntryType.Normal, data: Buffer.from(`entry ${index}`) }),
    );
  const seg = Buffer.concat([
    enc.frame(EtcdWalType.crc),
    enc.frame(EtcdWalType.metadata, encodeWalMetadata({ memberId: MEMBER, clusterId: CLUSTER })),
    enc.frame(EtcdWalType.snapshot, encodeWalSnapshot({ index: 0, term: 0 })),
    entry(1),
    entry(2),
    enc.frame(EtcdWalType.state, encodeHardState({ term: 1, vote: MEMBER, commit: 2 })),
    enc.frame(EtcdWalType.snapshot, encodeWalSnapshot({ index: 2, term: 1 })),
    entry(3),
    entry(4),
    enc.frame(EtcdWalType.state, encodeHardState({ term: 1, vote: MEMBER, commit: 4 })),
    Buffer.alloc(8192),
  ]);
  writeFileSync(join(walDir, etcdWalName(0n, 0n)), seg);
}

/** Every file under `dir` with its bytes, for before/after comparisons. */
function snapshotTree(dir: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const name of readdirSync(dir, { recursive: true }) as string[]) {
    const p = join(dir, name);
    try {
      out.set(name, readFileSync(p).toString('base64'));
    } catch {
      out.set(name, '<dir>');
    }
  }
  return out;
}

async function assertConverted(dataDir: string): Promise<void> {
  const l = layoutOf(dataDir);
  const snap = await new Snapshotter(l.snapDir).loadNewest();
  assert.ok(snap !== undefined);
  assert.deepEqual(snap.metadata, { index: 2, term: 1, confState: { voters: [MEMBER], learners: [] } });
  assert.equal(Membership.decode(snap.data).clusterVersion(), '3.4.0');
  const { wal, replay } = await Wal.open(l.walDir, { index: 2, term: 1 });
  await wal.close();
  assert.deepEqual(
    replay.entries.map((e) => [e.index, Buffer.from(e.data).toString()]),
    [
      [3, 'entry 3'],
      [4, 'entry 4'],
    ],
  );
  assert.deepEqual(replay.hardState, { term: 1, vote: MEMBER, commit: 4 });
  const store = MvccStore.open(l.dbPath);
  try {
    assert.equal(store.consistentIndex(), 3);
    assert.equal(store.currentRevision(), 4);
  } finally {
    await store.close();
  }
}

describe('converting an etcd 3.4 data dir', () => {
  test('WAL, snapshot and backend become ours; the originals are kept aside', async () => {
    const dataDir = fresh('plain');
    const before = snapshotTree(join(dataDir, 'member'));
    const report = await convertEtcd34DataDir(layoutOf(dataDir), log);
    assert.ok(report !== undefined);
    assert.equal(report.memberId, MEMBER);
    assert.equal(report.clusterId, CLUSTER);
    assert.equal(report.snapshotIndex, 2);
    assert.equal(report.entries, 2);
    assert.equal(report.consistentIndex, 3);
    assert.equal(report.revision, 4);
    await assertConverted(dataDir);
    // The originals, byte for byte, under the backup names.
    const member = join(dataDir, 'member');
    const kept = new Map<string, string>([
      ['wal', '<dir>'],
      ['snap', '<dir>'],
    ]);
    for (const [n, b] of snapshotTree(join(member, 'wal.etcd-3.4'))) kept.set(`wal/${n}`, b);
    for (const [n, b] of snapshotTree(join(member, 'snap.etcd-3.4'))) kept.set(`snap/${n}`, b);
    assert.deepEqual(kept, before);
    assert.deepEqual(readdirSync(member).sort(), ['snap', 'snap.etcd-3.4', 'wal', 'wal.etcd-3.4']);
    // Converted once: the next start has nothing to do.
    assert.equal(await convertEtcd34DataDir(layoutOf(dataDir), log), undefined);
  });

  test('a crash between the renames is finished by the next start', async () => {
    const dataDir = fresh('crashed');
    const l = layoutOf(dataDir);
    await convertEtcd34DataDir(l, log);
    // Back to the moment after the WAL renames, before the snap dir renames, journal on disk.
    renameSync(l.snapDir, `${l.snapDir}.etcd-ts-new`);
    renameSync(`${l.snapDir}.etcd-3.4`, l.snapDir);
    writeFileSync(
      join(l.memberDir, 'etcd-ts-migration.json'),
      JSON.stringify({
        renames: [
          [l.walDir, `${l.walDir}.etcd-3.4`],
          [`${l.walDir}.etcd-ts-new`, l.walDir],
          [l.snapDir, `${l.snapDir}.etcd-3.4`],
          [`${l.snapDir}.etcd-ts-new`, l.snapDir],
        ],
      }),
    );
    assert.equal(await convertEtcd34DataDir(l, log), undefined);
    assert.ok(!existsSync(join(l.memberDir, 'etcd-ts-migration.json')));
    await assertConverted(dataDir);
  });

  test('a backend that cannot be read stops the conversion and leaves the dir as it was', async () => {
    const dataDir = fresh('damaged');
    const db = join(dataDir, 'member', 'snap', 'db');
    const bytes = readFileSync(db);
    bytes.fill(0xee, 2 * 4096); // pages after the metas: garbage
    writeFileSync(db, bytes);
    const before = snapshotTree(dataDir);
    await assert.rejects(convertEtcd34DataDir(layoutOf(dataDir), log), MigrationError);
    assert.deepEqual(snapshotTree(dataDir), before);
  });

  test('a data dir in our own format, or an empty one, is left alone', async () => {
    const empty = join(root, 'empty');
    assert.equal(await convertEtcd34DataDir(layoutOf(empty), log), undefined);
    const ours = fresh('ours');
    await convertEtcd34DataDir(layoutOf(ours), log);
    assert.equal(await convertEtcd34DataDir(layoutOf(ours), log), undefined);
    // Garbage in a .wal file is not taken for etcd's format (start-up reports it as it is).
    const garbage = join(root, 'garbage');
    mkdirSync(join(garbage, 'member', 'wal'), { recursive: true });
    writeFileSync(join(garbage, 'member', 'wal', etcdWalName(0n, 0n)), Buffer.alloc(4096, 0x5a));
    assert.equal(await convertEtcd34DataDir(layoutOf(garbage), log), undefined);
  });
});
