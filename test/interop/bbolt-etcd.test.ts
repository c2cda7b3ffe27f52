// etcd 3.4's backend file, both ways, against the real etcd 3.4, etcdctl and bbolt (Go):
// - files written by a real etcd (its member/snap/db and `etcdctl snapshot save`) read by our
//   reader and importer give what etcdctl showed;
// - files we write are accepted by bbolt's tx.Check() (test/interop/go/bbolt-check, built in
//   GOPATH mode against Debian's go.etcd.io/bbolt), by `etcdctl snapshot status` (same figures
//   as ours) and `snapshot restore`, and a real etcd started on the restored dir serves our data;
// - etcd's file → our store → file again keeps etcdctl's snapshot hash.
// Skips (with the reason) when etcd/etcdctl or Go are missing.

import assert from 'node:assert/strict';
import { type ChildProcess, execFile, spawn, spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { BoltDb, checkDb } from '../../src/bbolt/index.js';
import { dumpDb } from '../../src/bbolt/testkit.js';
import { exportEtcdDb, importEtcdDb, snapshotStatus } from '../../src/etcd-db/index.js';
import { buildSampleStore, LEASE_ID } from '../../src/etcd-db/testkit.js';
import { type KeyValue, MvccStore } from '../../src/mvcc/index.js';
import { freePort, removeDir, sleep, tempDir } from '../integration/harness.js';
import { REAL_CTL, REAL_ETCD, runCommand } from './twins.js';

const GOPATH = '/usr/share/gocode';
const BBOLT_SRC = `${GOPATH}/src/go.etcd.io/bbolt`;

const missingEtcd =
  existsSync(REAL_ETCD) && existsSync(REAL_CTL) ? undefined : `needs ${REAL_ETCD} and ${REAL_CTL}`;
const missingGo =
  spawnSync('go', ['version']).status === 0 && existsSync(BBOLT_SRC)
    ? undefined
    : `needs the go tool and ${BBOLT_SRC} (apt-get install golang-go golang-github-coreos-bbolt-dev)`;

function goSource(): string {
  // The compiled test runs from <outDir>/test/interop; the source tree is a few levels up.
  const here = fileURLToPath(new URL('.', import.meta.url));
  const candidates = [join(here, 'go', 'bbolt-check')];
  for (let up = 3; up <= 5; up++) {
    candidates.push(join(here, ...Array<string>(up).fill('..'), 'test', 'interop', 'go', 'bbolt-check'));
  }
  const found = candidates.find((p) => existsSync(join(p, 'main.go')));
  if (found === undefined) throw new Error(`go/bbolt-check/main.go not found in ${candidates.join(', ')}`);
  return found;
}

function buildChecker(output: string): Promise<void> {
  return new Promise((resolve, reject) => {
    execFile(
      'go',
      ['build', '-o', output, '.'],
      {
        cwd: goSource(),
        timeout: 300_000,
        env: {
          ...process.env,
          GO111MODULE: 'off',
          GOFLAGS: '',
          GOPATH,
          GOCACHE: process.env.GOCACHE ?? join(tmpdir(), 'etcd-ts-interop-gocache'),
        },
      },
      (err, _stdout, stderr) =>
        err === null ? resolve() : reject(new Error(`go build failed: ${err.message}\n${stderr}`)),
    );
  });
}

/** A real etcd on loopback ports, stopped by its own process handle only. */
class RealEtcd {
  private proc: ChildProcess | undefined;
  private output = '';
  readonly endpoint: string;

  constructor(
    readonly dataDir: string,
    clientPort: number,
    readonly peerPort: number,
  ) {
    this.endpoint = `127.0.0.1:${clientPort}`;
  }

  static async create(dataDir: string): Promise<RealEtcd> {
    return new RealEtcd(dataDir, await freePort(), await freePort());
  }

  get clusterFlags(): string[] {
    const peer = `http://127.0.0.1:${this.peerPort}`;
    return ['--name=e1', `--initial-advertise-peer-urls=${peer}`, `--initial-cluster=e1=${peer}`];
  }

  async start(): Promise<void> {
    const client = `http://${this.endpoint}`;
    this.proc = spawn(
      REAL_ETCD,
      [
        `--data-dir=${this.dataDir}`,
        `--listen-client-urls=${client}`,
        `--advertise-client-urls=${client}`,
        `--listen-peer-urls=http://127.0.0.1:${this.peerPort}`,
        ...this.clusterFlags,
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    const keep = (b: Buffer): void => {
      this.output = (this.output + b.toString()).slice(-20_000);
    };
    this.proc.stdout?.on('data', keep);
    this.proc.stderr?.on('data', keep);
    const until = Date.now() + 15_000;
    for (;;) {
      const r = await this.ctl(['endpoint', 'health', '--command-timeout=1s']);
      if (r.code === 0) return;
      if (Date.now() > until || this.proc.exitCode !== null) {
        throw new Error(`real etcd did not become healthy: ${r.stderr}\n${this.output}`);
      }
      await sleep(100);
    }
  }

  ctl(args: string[], input = ''): ReturnType<typeof runCommand> {
    return runCommand(REAL_CTL, [`--endpoints=${this.endpoint}`, '--dial-timeout=2s', ...args], input);
  }

  async ok(args: string[], input = ''): Promise<string> {
    const r = await this.ctl(args, input);
    assert.equal(r.code, 0, `etcdctl ${args.join(' ')}: ${r.stderr}`);
    return r.stdout;
  }

  async stop(): Promise<void> {
    const p = this.proc;
    this.proc = undefined;
    if (p === undefined || p.exitCode !== null || p.signalCode !== null) return;
    const gone = new Promise<void>((resolve) => p.once('exit', () => resolve()));
    p.kill('SIGTERM');
    const timer = setTimeout(() => p.kill('SIGKILL'), 10_000);
    await gone;
    clearTimeout(timer);
  }
}

/** JSON.parse that keeps integers of 16+ digits (ids, leases) exact, as strings. */
function parseJson<T>(text: string): T {
  return JSON.parse(text.replace(/([:[,]\s*)(\d{16,})/g, '$1"$2"')) as T;
}

interface CtlKv {
  key: string;
  value?: string;
  create_revision: number;
  mod_revision: number;
  version: number;
  lease?: number | string;
}
interface CtlGet {
  header: { revision: number };
  kvs?: CtlKv[];
}

interface Kv {
  key: string;
  value: string;
  create: number;
  mod: number;
  version: number;
  lease: string;
}

const fromCtl = (kv: CtlKv): Kv => ({
  key: Buffer.from(kv.key, 'base64').toString('latin1'),
  value: Buffer.from(kv.value ?? '', 'base64').toString('latin1'),
  create: kv.create_revision,
  mod: kv.mod_revision,
  version: kv.version,
  lease: String(kv.lease ?? 0),
});

const fromOurs = (kv: KeyValue): Kv => ({
  key: kv.key.toString('latin1'),
  value: kv.value.toString('latin1'),
  create: kv.createRevision,
  mod: kv.modRevision,
  version: kv.version,
  lease: kv.lease.toString(),
});

function allKeys(store: MvccStore, revision = 0): Kv[] {
  return store.range({ key: Buffer.from([0]), rangeEnd: Buffer.from([0]), revision }).kvs.map(fromOurs);
}

async function ctlStatus(
  file: string,
): Promise<{ hash: number; revision: number; totalKey: number; totalSize: number }> {
  const r = await runCommand(REAL_CTL, ['snapshot', 'status', '-w', 'json', file]);
  assert.equal(r.code, 0, `snapshot status: ${r.stderr}`);
  return JSON.parse(r.stdout);
}

/** `etcdctl snapshot restore` of `file` for `etcd`'s flags. */
async function restore(file: string, etcd: RealEtcd): Promise<void> {
  const r = await runCommand(REAL_CTL, [
    'snapshot',
    'restore',
    file,
    `--data-dir=${etcd.dataDir}`,
    ...etcd.clusterFlags,
  ]);
  assert.equal(r.code, 0, `snapshot restore: ${r.stderr}`);
}

describe('etcd 3.4 backend files with the real etcd, etcdctl and bbolt', { timeout: 240_000 }, () => {
  let dir = '';
  let checker = '';
  const running: RealEtcd[] = [];

  before(async () => {
    dir = tempDir('bbolt-interop');
    if (missingGo === undefined) {
      checker = join(dir, 'bbolt-check');
      await buildChecker(checker);
    }
  });

  after(async () => {
    await Promise.all(running.map((e) => e.stop()));
    if (dir) removeDir(dir);
  });

  async function startEtcd(dataDir: string, restoreFrom?: string): Promise<RealEtcd> {
    const etcd = await RealEtcd.create(dataDir);
    running.push(etcd);
    if (restoreFrom !== undefined) await restore(restoreFrom, etcd);
    await etcd.start();
    return etcd;
  }

  /** bbolt's own view of a file: tx.Check() must pass; returns its dump lines. */
  function bboltCheck(file: string, args: string[] = ['-dump']): string[] {
    const r = spawnSync(checker, [...args, file], { encoding: 'utf8', maxBuffer: 64 << 20 });
    const lines = r.stdout.split('\n').filter((l) => l !== '');
    assert.equal(
      r.status,
      0,
      `bbolt-check ${file}:\n${lines.filter((l) => l.startsWith('error')).join('\n')}${r.stderr}`,
    );
    assert.match(lines.pop() ?? '', /^ok pages=\d+$/);
    return lines;
  }

  test('a db written by real etcd reads as etcdctl showed it, and survives a round trip through our store', {
    skip: missingEtcd,
  }, async () => {
    const etcd = await startEtcd(join(dir, 'real'));
    await etcd.ok(['put', 'foo', 'bar']);
    await etcd.ok(['put', 'foo', 'bar2']);
    await etcd.ok(['put', 'baz', 'q']);
    await etcd.ok(['del', 'baz']);
    await etcd.ok(['txn'], '\nput a 1\nput b 2\n\n\n');
    const leaseHex = /lease ([0-9a-f]+) granted/.exec(await etcd.ok(['lease', 'grant', '600']))![1]!;
    await etcd.ok(['put', '--lease', leaseHex, 'lk', 'lv']);
    await etcd.ok(['user', 'add', 'root:pw', '--interactive=false']);
    await etcd.ok(['role', 'add', 'r1']);
    await etcd.ok(['role', 'grant-permission', 'r1', 'read', 'k1']);
    await etcd.ok(['user', 'grant-role', 'root', 'r1']);
    await etcd.ok(['compact', '3']);
    await etcd.ok(['put', 'z', '']);
    const now = parseJson<CtlGet>(await etcd.ok(['get', '', '--prefix', '-w', 'json']));
    const atRev5 = parseJson<CtlGet>(await etcd.ok(['get', '', '--prefix', '--rev=5', '-w', 'json']));
    const snap = join(dir, 'real.snap');
    await runCommand(REAL_CTL, [`--endpoints=${etcd.endpoint}`, 'snapshot', 'save', snap]);
    await etcd.stop();
    const liveDb = join(etcd.dataDir, 'member', 'snap', 'db');

    for (const file of [liveDb, snap]) {
      const db = BoltDb.openFile(file);
      assert.deepEqual(checkDb(db), [], file);
      if (checker) assert.deepEqual(dumpDb(db), bboltCheck(file), `our reader and bbolt disagree on ${file}`);
      db.close();
      assert.deepEqual(snapshotStatus(file), await ctlStatus(file), file);
    }

    const imported = join(dir, 'imported');
    const info = await importEtcdDb(liveDb, imported);
    assert.equal(info.revision, now.header.revision);
    assert.equal(info.compactRevision, 3);
    assert.equal(info.clusterVersion, '3.4.0');
    assert.equal(info.members.length, 1);
    assert.equal(info.members[0]!.name, 'e1');
    assert.deepEqual(info.members[0]!.peerUrls, [`http://127.0.0.1:${etcd.peerPort}`]);
    // The `snapshot save` file holds the same state.
    const fromSnap = await importEtcdDb(snap, join(dir, 'imported-snap'));
    assert.deepEqual(fromSnap, info);
    const store = MvccStore.open(imported);
    try {
      assert.equal(store.currentRevision(), now.header.revision);
      assert.equal(store.consistentIndex(), info.consistentIndex);
      assert.deepEqual(allKeys(store), (now.kvs ?? []).map(fromCtl));
      assert.deepEqual(allKeys(store, 5), (atRev5.kvs ?? []).map(fromCtl));
      // The delete of baz (revision 5) is a tombstone record.
      const events = store.readEvents(5, 5);
      assert.deepEqual(
        events.map((e) => [e.type, e.kv.key.toString()]),
        [[1, 'baz']],
      );
      assert.deepEqual(
        store.scanAux('lease').map(([k]) => Buffer.from(k).toString('hex')),
        [leaseHex.padStart(16, '0')],
      );
      assert.deepEqual(
        store.scanAux('authUsers').map(([k]) => Buffer.from(k).toString()),
        ['root'],
      );
      assert.equal(store.keysWithLeases()[0]!.lease, BigInt(`0x${leaseHex}`));

      // Back to a file: etcdctl computes the same hash as for etcd's own file.
      const again = join(dir, 'again.snap');
      const { consistentIndex, members, removed, clusterVersion } = info;
      await exportEtcdDb(store, { consistentIndex, members, removed, clusterVersion }, again, {
        sha256Trailer: true,
      });
      const original = await ctlStatus(liveDb);
      const ours = await ctlStatus(again);
      assert.deepEqual({ ...ours, totalSize: 0 }, { ...original, totalSize: 0 });
      if (checker) bboltCheck(again);

      // ...and a real etcd restored from it serves the same data at the same revision.
      const restored = await startEtcd(join(dir, 'restored-real'), again);
      const served = parseJson<CtlGet>(await restored.ok(['get', '', '--prefix', '-w', 'json']));
      assert.equal(served.header.revision, now.header.revision);
      assert.deepEqual(served.kvs, now.kvs);
      assert.match(await restored.ok(['lease', 'list']), new RegExp(leaseHex));
      await restored.stop();
    } finally {
      await store.close();
    }
  });

  test('a snapshot we write passes bbolt tx.Check, etcdctl status and restore, and etcd serves it', {
    skip: missingEtcd,
  }, async (t) => {
    const { store, extra } = await buildSampleStore(join(dir, 'ours'), 3000);
    try {
      const file = join(dir, 'ours.snap');
      const r = await exportEtcdDb(store, extra, file, { sha256Trailer: true });
      assert.ok(r.pages > 50, 'big enough for branch pages');

      if (checker) {
        const db = BoltDb.openFile(file);
        assert.deepEqual(bboltCheck(file), dumpDb(db));
        db.close();
        // bbolt itself can write to the file (on a copy: this commits a transaction).
        const copy = join(dir, 'ours-rw.db');
        copyFileSync(file, copy);
        bboltCheck(copy, ['-rw']);
      } else {
        t.diagnostic(`bbolt tx.Check not run: ${missingGo}`);
      }

      const ours = snapshotStatus(file);
      assert.deepEqual(await ctlStatus(file), ours);
      assert.equal(ours.revision, store.currentRevision());

      const etcd = await startEtcd(join(dir, 'restored-ours'), file);
      const served = parseJson<CtlGet>(await etcd.ok(['get', '', '--prefix', '-w', 'json']));
      assert.equal(served.header.revision, store.currentRevision());
      assert.deepEqual((served.kvs ?? []).map(fromCtl), allKeys(store));
      // History survives: an old revision above the compaction reads the same; below it, compacted.
      const old = parseJson<CtlGet>(await etcd.ok(['get', '', '--prefix', '--rev=6', '-w', 'json']));
      assert.deepEqual((old.kvs ?? []).map(fromCtl), allKeys(store, 6));
      const compacted = await etcd.ctl(['get', 'foo', '--rev=3']);
      assert.match(compacted.stderr, /required revision has been compacted/);
      assert.match(await etcd.ok(['lease', 'list']), new RegExp(LEASE_ID.toString(16)));
      const alarms = await etcd.ok(['alarm', 'list']);
      assert.match(alarms, /memberID:10276657743932975437 alarm:NOSPACE/);
      assert.match(alarms, /memberID:7 alarm:NOSPACE/);
      assert.match(await etcd.ok(['user', 'list']), /^root$/m);
      await etcd.stop();
      assert.ok(readFileSync(join(etcd.dataDir, 'member', 'snap', 'db')).length > 0);
    } finally {
      await store.close();
    }
  });

  test('bbolt tx.Check accepts our files of every shape', { skip: missingGo }, async () => {
    const { writeBolt } = await import('../../src/bbolt/index.js');
    const { producerOf, randomBucket } = await import('../../src/bbolt/testkit.js');
    const b = (s: string): Buffer => Buffer.from(s);
    const top = producerOf([
      [b('big'), randomBucket(21, 20_000)],
      [b('empty'), { entries: [] }],
      [b('nested'), { entries: [[b('in'), randomBucket(5, 3000)]] }],
    ]);
    for (const opts of [{}, { freelist: 'page' as const }, { pageSize: 16384 }]) {
      const file = join(dir, `shape-${JSON.stringify(opts).replace(/\W/g, '')}.db`);
      await writeBolt(top, file, opts);
      const db = BoltDb.openFile(file);
      assert.deepEqual(bboltCheck(file), dumpDb(db), JSON.stringify(opts));
      db.close();
    }
  });
});
