// `etcdctl check perf` and `check datascale` against an etcd-ts member: argument errors and
// exit statuses as etcdctl 3.4's, the output of short runs (the workloads shortened through a
// test-only variable: the real perf check takes 60 s) line by line, the check's prefix empty
// afterwards, the progress line as etcdctl draws it on a terminal, and the memory report when
// /metrics cannot tell.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { RateLimiter } from '../../src/cmd/etcdctl/check-load.js';
import { residentMemoryBytes } from '../../src/cmd/etcdctl/check-metrics.js';
import { progressLine } from '../../src/cmd/etcdctl/check-progress.js';
import { freePort } from './harness.js';
import { type RunningMember, runningMember } from './kv-client.js';

const here = fileURLToPath(new URL('.', import.meta.url));
const OUR_CTL = join(here, '..', '..', 'src', 'cmd', 'etcdctl', 'main.js');

interface Result {
  code: number;
  stdout: string;
  stderr: string;
}

function ctl(args: string[], env: Record<string, string> = {}): Promise<Result> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [OUR_CTL, ...args],
      { timeout: 30_000, env: { PATH: process.env.PATH ?? '/usr/bin:/bin', ...env } },
      (err, stdout, stderr) => {
        resolve({ code: err === null ? 0 : typeof err.code === 'number' ? err.code : -1, stdout, stderr });
      },
    );
  });
}

/** The output with the progress redraws (carriage returns) turned into lines. */
function lines(stdout: string): string[] {
  return stdout.split(/[\r\n]/).filter((l) => l !== '');
}

describe('etcdctl check', () => {
  let m: RunningMember;
  let ep: string;

  before(async () => {
    m = await runningMember('check');
    ep = `--endpoints=${m.member.endpoint}`;
  });
  after(async () => {
    await m?.stop();
  });

  test('an unknown --load exits 4', async () => {
    for (const cmd of ['perf', 'datascale']) {
      const r = await ctl([ep, 'check', cmd, '--load=huge']);
      assert.equal(r.code, 4);
      assert.equal(r.stderr, 'Error: unknown load option huge\n');
      assert.equal(r.stdout, '');
    }
  });

  test('a prefix that has keys exits 3 and writes nothing', async () => {
    await m.kv.put('/busy/x', '1');
    const rev = (await m.kv.status()).header?.revision;
    for (const cmd of ['perf', 'datascale']) {
      const r = await ctl([ep, 'check', cmd, '--load=small', '--prefix=/busy/']);
      assert.equal(r.code, 3);
      assert.equal(
        r.stderr,
        'Error: prefix "/busy/" has keys. Delete with etcdctl del --prefix /busy/ first\n',
      );
    }
    assert.equal((await m.kv.status()).header?.revision, rev);
  });

  test('perf: progress by the second, clean-up, compaction, defrag, verdict lines', async () => {
    const start = Number((await m.kv.status()).header?.revision);
    const r = await ctl([ep, 'check', 'perf', '--auto-compact', '--auto-defrag'], {
      ETCDTS_CHECK_PERF_SECONDS: '2',
    });
    const out = lines(r.stdout);
    assert.equal(r.stderr, '');
    const progress = out.filter((l) => l.startsWith(' '));
    assert.equal(progress[0], ' 0 / 2    0.00%', 'no terminal: counters and percentage only');
    assert.ok(progress.some((l) => l.startsWith(' 1 / 2   50.00%')));
    assert.equal(progress[progress.length - 1], ' 2 / 2  100.00% 2s');
    assert.ok(r.stdout.includes(' 2 / 2  100.00% 2s\n'), 'the last progress line ends with a newline');
    const rest = out.slice(progress.length);
    const compacted = /^Compacting with revision (\d+)$/.exec(rest[0] ?? '');
    assert.ok(compacted, rest.join('\n'));
    const rev = Number(compacted[1]);
    // About 150 puts a second for 2 s, then the delete.
    assert.ok(rev > start + 200, `revision ${rev} after ${start}`);
    assert.deepEqual(rest.slice(1, 4), [
      `Compacted with revision ${rev}`,
      `Defragmenting "${m.member.endpoint}"`,
      `Defragmented "${m.member.endpoint}"`,
    ]);
    const verdict = rest.slice(4);
    assert.equal(verdict.length, 4, verdict.join('\n'));
    assert.match(verdict[0] as string, /^(PASS: Throughput is|FAIL: Throughput too low:) \d+ writes\/s$/);
    assert.match(
      verdict[1] as string,
      /^(PASS: Slowest request took|Slowest request took too long:) \d+\.\d{6}s$/,
    );
    assert.match(verdict[2] as string, /^(PASS: Stddev is|Stddev too high:) \d+\.\d{6}s$/);
    const passed = verdict.slice(0, 3).every((l) => l.startsWith('PASS'));
    assert.equal(verdict[3], passed ? 'PASS' : 'FAIL');
    assert.equal(r.code, passed ? 0 : 1);
    const left = await m.kv.range('/etcdctl-check-perf/', { rangeEnd: Buffer.from('/etcdctl-check-perf0') });
    assert.equal(left.kvs.length, 0, 'the check deletes its keys');
  });

  test('datascale: start line, progress by put, memory used; prefix deleted', async () => {
    const r = await ctl([ep, 'check', 'datascale', '--prefix=/ds/'], { ETCDTS_CHECK_DATASCALE_PUTS: '300' });
    const out = lines(r.stdout);
    assert.equal(r.stderr, '');
    assert.equal(
      out[0],
      'Start data scale check for work load [300 key-value pairs, 1024 bytes per key-value, 50 concurrent clients].',
    );
    assert.equal(out[1], ' 0 / 300    0.00%');
    assert.match(out[out.length - 2] as string, /^ 300 \/ 300 {2}100\.00% \d+s$/);
    assert.match(out[out.length - 1] as string, /^PASS: Approximate system memory used : -?\d+\.\d\d MB\.$/);
    assert.equal(r.code, 0);
    const left = await m.kv.range('/ds/', { rangeEnd: Buffer.from('/ds0') });
    assert.equal(left.kvs.length, 0);
  });
});

describe('check helpers', () => {
  test('the progress line is the one etcdctl 3.4 draws on an 80-column terminal', () => {
    // Lines captured from the real `etcdctl check datascale` on an 80-column terminal.
    const state = { total: 10000, elapsedMs: 0, changedAfterMs: 200, sinceChangeMs: 0, finished: false };
    assert.equal(progressLine({ ...state, current: 0 }, 80), ` 0 / 10000 B${' '.repeat(59)}!   0.00%`);
    assert.equal(
      progressLine({ ...state, current: 403 }, 80),
      ` 403 / 10000 Boom${' '.repeat(47)}!   4.03% 00m04s`,
    );
    assert.equal(
      progressLine({ ...state, current: 10000, elapsedMs: 3400, finished: true }, 80),
      ` 10000 / 10000 B${'o'.repeat(52)}! 100.00% 3s`,
    );
    assert.equal(
      progressLine({ ...state, current: 60, total: 60, elapsedMs: 60_100, finished: true }, 0),
      ' 60 / 60  100.00% 1m0s',
    );
  });

  test('memory: a missing metric or an unreachable server is printed and reads as 0', async () => {
    const server = http.createServer((_req, res) => res.end('# HELP x\nprocess_virtual_memory_bytes 1\n'));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as AddressInfo).port;
    const printed: string[] = [];
    const tls = { cert: '', key: '', insecureSkipVerify: false };
    try {
      assert.equal(await residentMemoryBytes(`127.0.0.1:${port}`, tls, (l) => printed.push(l)), 0);
      assert.deepEqual(printed, ['could not find: process_resident_memory_bytes']);
    } finally {
      server.close();
    }
    const closed = await freePort();
    printed.length = 0;
    assert.equal(await residentMemoryBytes(`http://127.0.0.1:${closed}`, tls, (l) => printed.push(l)), 0);
    assert.deepEqual(printed, [
      `fetch error: Get "http://127.0.0.1:${closed}/metrics": dial tcp 127.0.0.1:${closed}: connect: connection refused`,
    ]);
  });

  test('the rate limiter holds the rate, ends at the deadline and does not burst', async () => {
    // A fake clock: sleeps advance it exactly, or late (a loaded machine's timers).
    const run = async (lateMs: number) => {
      let now = 1000;
      const clock = {
        now: () => now,
        sleep: async (ms: number) => {
          now += ms + lateMs;
        },
        yieldTurn: async () => undefined,
      };
      const limiter = new RateLimiter(500, clock);
      const started = now;
      const at: number[] = [];
      while (await limiter.wait(started + 400)) at.push(now);
      return { at, ended: now - started };
    };
    const exact = await run(0);
    assert.equal(exact.at.length, 201, 'slots 0, 2, ..., 400 ms');
    assert.ok(exact.ended <= 400);
    for (let i = 1; i < exact.at.length; i++) assert.equal(exact.at[i]! - exact.at[i - 1]!, 2, 'no burst');
    // Timers 3 ms late: the limiter takes slots late, but never more than the rate allows and
    // never one ahead of its time.
    const late = await run(3);
    assert.ok(late.at.length <= 201, `${late.at.length} slots at 500/s in 400 ms`);
    assert.ok(late.at.length >= 100, `only ${late.at.length} slots: late timers lost the rate`);
  });

  test('memory: the value of process_resident_memory_bytes', async () => {
    const body = '# HELP process_resident_memory_bytes x\nprocess_resident_memory_bytes 3.3554432e+07\n';
    const server = http.createServer((_req, res) => res.end(body));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as AddressInfo).port;
    try {
      const tls = { cert: '', key: '', insecureSkipVerify: false };
      assert.equal(await residentMemoryBytes(`127.0.0.1:${port}`, tls, () => undefined), 33554432);
    } finally {
      server.close();
    }
  });
});
