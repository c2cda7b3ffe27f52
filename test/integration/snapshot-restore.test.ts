// Backups in etcd's file format, both ways, end to end with real processes:
// - `snapshot save` from etcd-ts (our etcdctl and the real one) → `snapshot status` agrees with
//   the real etcdctl → restore with our etcdctl, our etcdutl and the real etcdctl → etcd-ts
//   starts on each result (the real etcdctl's data dir is converted at start-up) and serves the
//   same keys, revision, member and cluster ids; the real etcd starts on it too;
// - a snapshot saved from the real etcd restores into etcd-ts with the same data;
// - the save does not hold writes back; damaged or truncated files are refused.
// The parts that need /usr/bin/etcd and /usr/bin/etcdctl are skipped when they are missing.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { EtcdWalEncoder, EtcdWalType, encodeWalSnapshot, readEtcdWal } from '../../src/migrate/index.js';
import type { RangeResponse } from '../../src/pb/etcdserverpb/rpc.js';
import { encodeEntry, encodeHardState } from '../../src/peer/wire/raftpb.js';
import { EntryType } from '../../src/raft/types.js';
import { eventually, MemberProcess, memberSpec, removeDir, tempDir } from './harness.js';
import { KvClient } from './kv-client.js';

const REAL_ETCD = '/usr/bin/etcd';
const REAL_CTL = '/usr/bin/etcdctl';
const missingReal = existsSync(REAL_ETCD) && existsSync(REAL_CTL) ? undefined : 'needs real etcd 3.4';
const here = fileURLToPath(new URL('.', import.meta.url));
const OUR_CTL = join(here, '..', '..', 'src', 'cmd', 'etcdctl', 'main.js');
const OUR_UTL = join(here, '..', '..', 'src', 'cmd', 'etcdutl', 'main.js');

interface Result {
  code: number;
  stdout: string;
  stderr: string;
}

function run(file: string, args: string[], cwd: string): Promise<Result> {
  return new Promise((resolve) => {
    execFile(
      file,
      args,
      { cwd, env: { PATH: process.env.PATH ?? '/usr/bin:/bin', ETCDCTL_API: '3' }, timeout: 30_000 },
      (err, stdout, stderr) => {
        const code = err === null ? 0 : typeof err.code === 'number' ? err.code : -1;
        resolve({ code, stdout, stderr });
      },
    );
  });
}
const ours = (args: string[], cwd: string) => run(process.execPath, [OUR_CTL, ...args], cwd);
const utl = (args: string[], cwd: string) => run(process.execPath, [OUR_UTL, ...args], cwd);
const real = (args: string[], cwd: string) => run(REAL_CTL, args, cwd);

class RealEtcdProcess extends MemberProcess {
  override command(): [string, string[]] {
    return [REAL_ETCD, this.args()];
  }
}

/** What a client sees of a member: ids, revision and every key with its history fields. */
interface View {
  clusterId: bigint;
  memberId: bigint;
  revision: number;
  kvs: string[];
}

function viewOf(r: RangeResponse): View {
  return {
    clusterId: r.header!.clusterId,
    memberId: r.header!.memberId,
    revision: r.header!.revision,
    kvs: r.kvs.map(
      (kv) =>
        `${Buffer.from(kv.key)}=${Buffer.from(kv.value).toString('hex').slice(0, 16)} c${kv.createRevision} m${kv.modRevision} v${kv.version} l${kv.lease}`,
    ),
  };
}

/**
 * Starts `member` (ours or real) on its data dir and returns what it serves; checks on the way
 * that it takes a write at the next revision (a restored member must be writable).
 */
async function serve(member: MemberProcess): Promise<View> {
  member.start();
  const kv = new KvClient(member.endpoint);
  try {
    const r = await eventually(() => kv.all(), 20_000, 100).catch((err: Error) => {
      throw new Error(`${err.message}\n${member.output}`);
    });
    const put = await kv.put('written/after/restore', 'y');
    assert.equal(put.header!.revision, r.header!.revision + 1);
    return viewOf(r);
  } finally {
    kv.close();
    await member.stop();
  }
}

function restoreFlags(spec: { name: string; peerPort: number }, dataDir: string): string[] {
  const peer = `http://127.0.0.1:${spec.peerPort}`;
  return [
    '--name',
    spec.name,
    '--data-dir',
    dataDir,
    '--initial-cluster',
    `${spec.name}=${peer}`,
    '--initial-advertise-peer-urls',
    peer,
  ];
}

describe('snapshot save/status/restore in etcd format, with etcd-ts and etcd 3.4', {
  timeout: 180_000,
}, () => {
  const dir = tempDir('snapshot-restore');
  const snapFile = join(dir, 'ours.db');
  let original: View;
  let spec: Awaited<ReturnType<typeof memberSpec>>;

  before(async () => {
    spec = await memberSpec('s1', join(dir, 'source'));
    const member = new MemberProcess(spec);
    member.start();
    const kv = new KvClient(member.endpoint);
    try {
      await eventually(() => kv.put('a', '1'), 15_000);
      await kv.put('a', '2');
      await kv.put('b', 'x'.repeat(5000));
      await kv.del('a');
      for (let i = 0; i < 60; i++) await kv.put(`k/${i % 20}`, `v${i}`);
      // Writes go on while the snapshot is taken and streamed: none of them waits for it.
      const writes = (async () => {
        const t0 = Date.now();
        let slowest = 0;
        for (let i = 0; i < 50; i++) {
          const s = Date.now();
          await kv.put(`during/${i}`, 'w');
          slowest = Math.max(slowest, Date.now() - s);
        }
        return { slowest, total: Date.now() - t0 };
      })();
      const saved = await ours(['--endpoints', member.endpoint, 'snapshot', 'save', snapFile], dir);
      const w = await writes;
      assert.equal(saved.code, 0, saved.stderr);
      assert.equal(saved.stdout, `Snapshot saved at ${snapFile}\n`);
      assert.ok(!existsSync(`${snapFile}.part`));
      assert.ok(w.slowest < 2000, `a put took ${w.slowest} ms during the snapshot`);
      // The reference view: what the member serves after the saved point is irrelevant, so the
      // view is taken from a restore of the file itself below; here only the pre-save keys.
      original = viewOf(await kv.all());
    } finally {
      kv.close();
      await member.stop();
    }
  });
  after(() => removeDir(dir));

  /** The restored member must serve exactly the snapshot's state (a prefix of `original`). */
  function assertSameAsSnapshot(v: View, what: string): void {
    assert.equal(v.clusterId, original.clusterId, `${what}: cluster id`);
    assert.equal(v.memberId, original.memberId, `${what}: member id`);
    const during = (kvs: string[]) => kvs.filter((k) => !k.startsWith('during/'));
    assert.deepEqual(during(v.kvs), during(original.kvs), `${what}: keys`);
    assert.ok(v.revision >= 65 && v.revision <= original.revision, `${what}: revision ${v.revision}`);
  }

  let restoredByOurs: View;

  test('restored with our etcdctl and our etcdutl, etcd-ts serves the snapshot', async () => {
    const d1 = join(dir, 'r-ours');
    const r1 = await ours(['snapshot', 'restore', snapFile, ...restoreFlags(spec, d1)], dir);
    assert.equal(r1.code, 0, r1.stderr);
    assert.equal(r1.stdout, '');
    assert.match(r1.stderr, /"msg":"restored snapshot"/);
    restoredByOurs = await serve(new MemberProcess({ ...spec, dataDir: d1 }));
    assertSameAsSnapshot(restoredByOurs, 'etcdctl restore');

    const d2 = join(dir, 'r-utl');
    const r2 = await utl(['snapshot', 'restore', snapFile, ...restoreFlags(spec, d2)], dir);
    assert.equal(r2.code, 0, r2.stderr);
    assert.deepEqual(await serve(new MemberProcess({ ...spec, dataDir: d2 })), restoredByOurs);
  });

  test('the real etcdctl reads our file: status and restore; etcd-ts and etcd 3.4 start on it', {
    skip: missingReal,
  }, async () => {
    const d3 = join(dir, 'r-real');
    const d4 = join(dir, 'r-real-etcd');
    const d6 = join(dir, 'r-ours-for-etcd');
    const [table, json, r, r4, mineTable, mineJson, r6] = await Promise.all([
      real(['snapshot', 'status', snapFile, '-w', 'table'], dir),
      real(['snapshot', 'status', snapFile, '-w', 'json'], dir),
      real(['snapshot', 'restore', snapFile, ...restoreFlags(spec, d3)], dir),
      real(['snapshot', 'restore', snapFile, ...restoreFlags(spec, d4)], dir),
      ours(['snapshot', 'status', snapFile, '-w', 'table'], dir),
      ours(['snapshot', 'status', snapFile, '-w', 'json'], dir),
      ours(['snapshot', 'restore', snapFile, ...restoreFlags(spec, d6)], dir),
    ]);
    assert.equal(table.code, 0, table.stderr);
    assert.deepEqual(mineTable, table);
    assert.deepEqual(mineJson, json);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r4.code, 0, r4.stderr);
    assert.equal(r6.code, 0, r6.stderr);
    // Our restore writes what the real one writes: same files, same WAL and .snap bytes.
    const files = (d: string) => (readdirSync(d, { recursive: true }) as string[]).sort();
    assert.deepEqual(files(d6), files(d3));
    for (const f of ['member/wal/0000000000000000-0000000000000000.wal']) {
      assert.deepEqual(readFileSync(join(d6, f)), readFileSync(join(d3, f)), f);
    }
    // The real etcd starts on the data dir our etcdctl restored.
    assert.deepEqual(await serve(new RealEtcdProcess({ ...spec, dataDir: d6 })), restoredByOurs);
    // Our codec reads etcd's WAL and writes the very same bytes back.
    const walFile = join(d3, 'member', 'wal', '0000000000000000-0000000000000000.wal');
    const wal = await readEtcdWal(join(d3, 'member', 'wal'), { index: 0, term: 0 });
    assert.deepEqual(wal.hardState, { term: 1, vote: restoredByOurs.memberId, commit: 1 });
    assert.deepEqual(
      wal.entries.map((e) => [e.index, e.term, e.type]),
      [[1, 1, EntryType.ConfChange]],
    );
    const enc = new EtcdWalEncoder();
    const again = Buffer.concat([
      enc.frame(EtcdWalType.crc),
      enc.frame(EtcdWalType.metadata, wal.metadata),
      enc.frame(EtcdWalType.snapshot, encodeWalSnapshot({ index: 0, term: 0 })),
      enc.frame(EtcdWalType.entry, encodeEntry(wal.entries[0]!)),
      enc.frame(EtcdWalType.state, encodeHardState(wal.hardState)),
      enc.frame(EtcdWalType.snapshot, encodeWalSnapshot({ index: 1, term: 1 })),
    ]);
    const written = readFileSync(walFile);
    assert.deepEqual(written.subarray(0, again.length), again);
    assert.ok(written.subarray(again.length).every((x) => x === 0));

    // etcd-ts converts the etcd 3.4 data dir on its first start, keeping the originals.
    const converted = await serve(new MemberProcess({ ...spec, dataDir: join(dir, 'r-real') }));
    assert.deepEqual(converted, restoredByOurs);
    assert.deepEqual(readdirSync(join(d3, 'member')).sort(), [
      'snap',
      'snap.etcd-3.4',
      'wal',
      'wal.etcd-3.4',
    ]);

    assert.deepEqual(await serve(new RealEtcdProcess({ ...spec, dataDir: d4 })), restoredByOurs);
  });

  test('a snapshot saved from etcd 3.4 (with the real etcdctl) restores into etcd-ts', {
    skip: missingReal,
  }, async () => {
    const realSpec = await memberSpec('e1', join(dir, 'etcd-source'));
    const etcd = new RealEtcdProcess(realSpec);
    etcd.start();
    const kv = new KvClient(etcd.endpoint);
    const file = join(dir, 'theirs.db');
    let reference: View;
    try {
      await eventually(() => kv.put('x', '1'), 15_000);
      await kv.put('x', '2');
      await kv.put('y', '3');
      await kv.del('x');
      await kv.put('z', 'z'.repeat(3000));
      reference = viewOf(await kv.all());
      const saved = await real(['--endpoints', etcd.endpoint, 'snapshot', 'save', file], dir);
      assert.equal(saved.code, 0, saved.stderr);
    } finally {
      kv.close();
      await etcd.stop();
    }
    const d5 = join(dir, 'from-real');
    const [mineStatus, theirStatus, r] = await Promise.all([
      ours(['snapshot', 'status', file, '-w', 'json'], dir),
      real(['snapshot', 'status', file, '-w', 'json'], dir),
      ours(['snapshot', 'restore', file, ...restoreFlags(realSpec, d5)], dir),
    ]);
    assert.deepEqual(mineStatus, theirStatus);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(await serve(new MemberProcess({ ...realSpec, dataDir: d5 })), reference);
  });

  test('damaged and truncated files are refused with the real etcdctl texts; nothing is left', async () => {
    const bytes = readFileSync(snapFile);
    const flipped = Buffer.from(bytes);
    flipped[9000] = flipped[9000]! ^ 0x10;
    const cases: [string, Buffer, string[]][] = [
      ['flipped.db', flipped, []],
      ['truncated.db', bytes.subarray(0, bytes.length - 4096), []],
      ['nohash.db', bytes.subarray(0, bytes.length - 32), []],
      ['truncated-skip.db', bytes.subarray(0, 3 * 4096), ['--skip-hash-check']],
    ];
    await Promise.all(
      cases.map(async ([name, content, extra]) => {
        const file = join(dir, name);
        writeFileSync(file, content);
        const target = join(dir, `bad-${name}`);
        const compare = missingReal === undefined && extra.length === 0;
        const [mine, theirs] = await Promise.all([
          ours(['snapshot', 'restore', file, ...restoreFlags(spec, target), ...extra], dir),
          compare
            ? real(['snapshot', 'restore', file, ...restoreFlags(spec, `${target}-real`)], dir)
            : undefined,
        ]);
        assert.equal(mine.code, 1, `${name}: ${mine.stderr}`);
        assert.ok(!existsSync(target), `${name}: left ${target} behind`);
        const lastLine = (x: Result) => x.stderr.trimEnd().split('\n').at(-1);
        if (theirs !== undefined) assert.equal(lastLine(mine), lastLine(theirs), name);
        else assert.match(lastLine(mine)!, /^Error: snapshot .* is not a valid etcd database: /, name);
      }),
    );
    const missing = await ours(['snapshot', 'status', join(dir, 'nope.db')], dir);
    assert.deepEqual(
      [missing.code, missing.stderr],
      [1, `Error: stat ${join(dir, 'nope.db')}: no such file or directory\n`],
    );
  });
});
