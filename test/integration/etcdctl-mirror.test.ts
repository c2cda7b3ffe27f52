// `etcdctl make-mirror` end to end: our etcdctl mirrors one single-member cluster into another
// while keys under the prefix are put, deleted and changed in transactions, and the destination
// ends up equal to the source (renamed by --dest-prefix or --no-dest-prefix); the running count
// is printed as etcdctl prints it; argument errors exit as etcdctl's. The last test mirrors a
// real etcd 3.4 into etcd-ts (skipped when /usr/bin/etcd is missing).
import assert from 'node:assert/strict';
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { Compare_CompareResult, Compare_CompareTarget, TxnRequest } from '../../src/pb/etcdserverpb/rpc.js';
import { eventually, MemberProcess, memberSpec, removeDir, tempDir } from './harness.js';
import { KvClient, type RunningMember, runningMember } from './kv-client.js';

const REAL_ETCD = '/usr/bin/etcd';
const here = fileURLToPath(new URL('.', import.meta.url));
const OUR_CTL = join(here, '..', '..', 'src', 'cmd', 'etcdctl', 'main.js');
const b = (s: string) => Buffer.from(s);

class RealEtcdProcess extends MemberProcess {
  override command(): [string, string[]] {
    return [REAL_ETCD, this.args()];
  }
}

/** A running `etcdctl make-mirror` with its output so far. */
class MirrorProcess {
  stdout = '';
  stderr = '';
  private readonly proc: ChildProcess;
  private readonly exit: Promise<number | string>;

  constructor(args: string[]) {
    this.proc = spawn(process.execPath, [OUR_CTL, ...args], {
      env: { PATH: process.env.PATH, ETCDTS_MAKE_MIRROR_REPORT_MS: '200' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.proc.stdout?.on('data', (d: Buffer) => {
      this.stdout += d.toString();
    });
    this.proc.stderr?.on('data', (d: Buffer) => {
      this.stderr += d.toString();
    });
    this.exit = new Promise((resolve) => this.proc.once('exit', (code, sig) => resolve(code ?? sig ?? 0)));
  }

  /** The last running count printed. */
  lastCount(): number | undefined {
    const lines = this.stdout.trim().split('\n');
    const last = lines[lines.length - 1];
    return last === undefined || last === '' ? undefined : Number(last);
  }

  async stop(): Promise<number | string> {
    this.proc.kill('SIGTERM');
    return this.exit;
  }
}

function runCtl(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [OUR_CTL, ...args], { timeout: 10_000 }, (err, stdout, stderr) => {
      resolve({ code: err === null ? 0 : typeof err.code === 'number' ? err.code : -1, stdout, stderr });
    });
  });
}

/** Every key under `prefix` with its value, the prefix cut off. */
async function contents(kv: KvClient, prefix: string): Promise<Map<string, string>> {
  const end = Buffer.from(prefix);
  end[end.length - 1] = (end[end.length - 1] as number) + 1;
  const resp = await kv.range(prefix, { rangeEnd: end });
  return new Map(resp.kvs.map((x) => [x.key.toString().slice(prefix.length), x.value.toString()]));
}

describe('etcdctl make-mirror', () => {
  let source: RunningMember;
  let dest: RunningMember;

  before(async () => {
    [source, dest] = await Promise.all([runningMember('mirror-src'), runningMember('mirror-dst')]);
  });
  after(async () => {
    await Promise.all([source?.stop(), dest?.stop()]);
  });

  test('argument errors exit 128 with etcdctl texts', async () => {
    const none = await runCtl(['make-mirror']);
    assert.equal(none.code, 128);
    assert.equal(none.stderr, 'Error: make-mirror takes one destination argument\n');
    const both = await runCtl([
      `--endpoints=${source.member.endpoint}`,
      'make-mirror',
      '--dest-prefix=/x/',
      '--no-dest-prefix',
      dest.member.endpoint,
    ]);
    assert.equal(both.code, 128);
    assert.equal(
      both.stderr,
      'Error: `--dest-prefix` and `--no-dest-prefix` cannot be set at the same time, choose one\n',
    );
  });

  test('copies the prefix, then follows puts, deletes and transactions into --dest-prefix', async () => {
    for (let i = 0; i < 5; i++) await source.kv.put(`/p/base${i}`, `v${i}`);
    await source.kv.put('/other/key', 'not mirrored');
    const mirror = new MirrorProcess([
      `--endpoints=${source.member.endpoint}`,
      'make-mirror',
      '--prefix=/p/',
      '--dest-prefix=/m/',
      dest.member.endpoint,
    ]);
    try {
      await eventually(async () => assert.equal((await contents(dest.kv, '/m/')).size, 5), 10_000);
      await source.kv.put('/p/new', 'n');
      await source.kv.put('/p/base0', 'changed');
      await source.kv.del('/p/base1');
      const afterSingles = await contents(source.kv, '/p/');
      await eventually(async () => assert.deepEqual(await contents(dest.kv, '/m/'), afterSingles), 10_000);
      // One revision with three events: replayed as one transaction at the destination.
      const before = (await dest.kv.status()).header?.revision ?? 0;
      await source.kv.txn(
        TxnRequest.fromPartial({
          compare: [
            {
              key: b('/p/base2'),
              rangeEnd: Buffer.alloc(0),
              result: Compare_CompareResult.EQUAL,
              target: Compare_CompareTarget.VALUE,
              targetUnion: { $case: 'value', value: b('v2') },
            },
          ],
          success: [
            { request: { $case: 'requestPut', requestPut: { key: b('/p/t1'), value: b('a') } } },
            { request: { $case: 'requestPut', requestPut: { key: b('/p/t2'), value: b('b') } } },
            {
              request: {
                $case: 'requestDeleteRange',
                requestDeleteRange: { key: b('/p/base3'), rangeEnd: Buffer.alloc(0), prevKv: false },
              },
            },
          ],
          failure: [],
        }),
      );
      const want = await contents(source.kv, '/p/');
      await eventually(async () => assert.deepEqual(await contents(dest.kv, '/m/'), want), 10_000);
      const revisions = ((await dest.kv.status()).header?.revision ?? 0) - before;
      assert.equal(revisions, 1, 'one transaction for the source revision');
      assert.equal((await dest.kv.range('/other/key')).kvs.length, 0);
      assert.equal((await dest.kv.range('/p/new')).kvs.length, 0, 'keys are renamed, not copied');
      // 5 copied + 3 single events + 3 events of the transaction.
      await eventually(async () => assert.equal(mirror.lastCount(), 11), 5_000);
      assert.match(mirror.stdout, /^(\d+\n)+$/);
      assert.equal(mirror.stderr, '');
    } finally {
      await mirror.stop();
    }
  });

  test('without --dest-prefix the keys keep their names; --no-dest-prefix strips the prefix', async () => {
    await source.kv.put('/same/a', '1');
    const same = new MirrorProcess([
      `--endpoints=${source.member.endpoint}`,
      'make-mirror',
      '--prefix=/same/',
      dest.member.endpoint,
    ]);
    const stripped = new MirrorProcess([
      `--endpoints=${source.member.endpoint}`,
      'make-mirror',
      '--prefix=/same/',
      '--no-dest-prefix',
      dest.member.endpoint,
    ]);
    try {
      await source.kv.put('/same/b', '2');
      await source.kv.put('/same/a', '3');
      const want = new Map([
        ['a', '3'],
        ['b', '2'],
      ]);
      await eventually(async () => assert.deepEqual(await contents(dest.kv, '/same/'), want), 10_000);
      await eventually(async () => {
        assert.equal((await dest.kv.range('a')).kvs[0]?.value.toString(), '3');
        assert.equal((await dest.kv.range('b')).kvs[0]?.value.toString(), '2');
      }, 10_000);
    } finally {
      await Promise.all([same.stop(), stripped.stop()]);
    }
  });

  test('mirrors a real etcd 3.4 into etcd-ts', {
    skip: !existsSync(REAL_ETCD) && 'needs real etcd',
  }, async () => {
    const dir = tempDir('mirror-real');
    const real = new RealEtcdProcess(await memberSpec('real', join(dir, 'data')));
    real.start();
    const realKv = new KvClient(real.endpoint);
    try {
      await eventually(() => realKv.put('/r/first', '1'));
      const mirror = new MirrorProcess([
        `--endpoints=${real.endpoint}`,
        'make-mirror',
        '--prefix=/r/',
        '--dest-prefix=/from-real/',
        dest.member.endpoint,
      ]);
      try {
        await realKv.put('/r/second', '2');
        await realKv.del('/r/first');
        await realKv.put('/r/third', '3');
        const want = await contents(realKv, '/r/');
        await eventually(async () => assert.deepEqual(await contents(dest.kv, '/from-real/'), want), 10_000);
      } finally {
        await mirror.stop();
      }
    } finally {
      realKv.close();
      await real.stop();
      removeDir(dir);
    }
  });
});
