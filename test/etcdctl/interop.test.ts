import assert from 'node:assert/strict';
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { EtcdClient } from '../../src/client/index.js';

/**
 * Runs the same commands through the real etcdctl 3.4 and ours against a
 * real etcd 3.4 and requires identical stdout and exit status.
 */
const REAL_ETCD = '/usr/bin/etcd';
const REAL_CTL = '/usr/bin/etcdctl';
const OUR_CTL = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'src', 'cmd', 'etcdctl', 'main.js');

interface Result {
  code: number;
  stdout: string;
  stderr: string;
}

function run(file: string, args: string[], input = '', env: Record<string, string> = {}): Promise<Result> {
  return new Promise((resolve) => {
    const child = execFile(
      file,
      args,
      { env: { PATH: process.env.PATH ?? '/usr/bin:/bin', ETCDCTL_API: '3', ...env }, timeout: 20_000 },
      (err, stdout, stderr) => {
        const code = err === null ? 0 : typeof err.code === 'number' ? err.code : -1;
        resolve({ code, stdout, stderr });
      },
    );
    // A command that exits without reading its input makes the write fail with EPIPE: harmless.
    child.stdin?.on('error', () => {});
    child.stdin?.end(input);
  });
}

const ours = (args: string[], input?: string, env?: Record<string, string>) =>
  run(process.execPath, [OUR_CTL, ...args], input, env);
const real = (args: string[], input?: string, env?: Record<string, string>) =>
  run(REAL_CTL, args, input, env);

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr !== null ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

describe('etcdctl interop with the real etcdctl 3.4', { timeout: 60_000 }, () => {
  let etcd: ChildProcess | undefined;
  let dataDir = '';
  let endpoint = '';
  const ep = () => [`--endpoints=${endpoint}`];

  before(async () => {
    const [client, peer] = [await freePort(), await freePort()];
    dataDir = mkdtempSync(join(tmpdir(), 'ctl-interop-'));
    endpoint = `127.0.0.1:${client}`;
    etcd = spawn(
      REAL_ETCD,
      [
        '--data-dir',
        join(dataDir, 'd'),
        '--listen-client-urls',
        `http://${endpoint}`,
        '--advertise-client-urls',
        `http://${endpoint}`,
        '--listen-peer-urls',
        `http://127.0.0.1:${peer}`,
        '--initial-advertise-peer-urls',
        `http://127.0.0.1:${peer}`,
        '--initial-cluster',
        `default=http://127.0.0.1:${peer}`,
      ],
      { stdio: 'ignore' },
    );
    const c = new EtcdClient({ endpoints: [endpoint] });
    try {
      await c.put({ key: Buffer.from('/ready'), value: Buffer.from('1') }, { deadline: Date.now() + 15_000 });
    } finally {
      c.close();
    }
    for (const [k, v] of [
      ['/k1', 'v1'],
      ['/k2', 'v2'],
      ['/k1', 'v1.1'],
      ['/dir/a', 'x y'],
      ['bin', '\u00e9\u0001'],
    ]) {
      assert.equal((await real([...ep(), 'put', k as string, v as string])).code, 0);
    }
  });

  after(() => {
    etcd?.kill('SIGTERM');
    if (dataDir !== '') rmSync(dataDir, { recursive: true, force: true });
  });

  const same = async (args: string[], input?: string, env?: Record<string, string>) => {
    const [a, b] = await Promise.all([
      ours([...ep(), ...args], input, env),
      real([...ep(), ...args], input, env),
    ]);
    assert.equal(a.stdout, b.stdout, `stdout of ${args.join(' ')}`);
    assert.equal(a.code, b.code, `exit status of ${args.join(' ')}: ${a.stderr}`);
    return { ours: a, real: b };
  };

  test('reads in every output format', async () => {
    const reads = [
      ['get', '/k1'],
      ['get', '--prefix', '/'],
      ['get', '/', '--prefix', '--keys-only'],
      ['get', '', '--prefix', '-w', 'json'],
      ['get', '/k', '--prefix', '-wjson', '--rev=3'],
      ['get', '/k1', '-w', 'fields'],
      ['get', 'bin', '-w', 'fields'],
      ['get', 'bin', '--hex'],
      ['get', '/k1', '-w', 'protobuf'],
      ['get', '/k1', '--print-value-only'],
      ['get', '/a', '/z', '--limit=1', '-w', 'json'],
      ['get', '', '--from-key', '--sort-by=VALUE', '--order=DESCEND'],
      ['get', '/k1', '--consistency=s', '-w', 'table'],
      ['get', 'nothing-here'],
      ['member', 'list'],
      ['member', 'list', '-w', 'table'],
      ['member', 'list', '-w', 'json'],
      ['member', 'list', '-w', 'fields'],
      ['endpoint', 'status', '-w', 'table'],
      ['endpoint', 'status', '-w', 'json'],
      ['endpoint', 'hashkv'],
      ['alarm', 'list', '-w', 'json'],
    ];
    for (const args of reads) await same(args);
  });

  test('errors: messages and exit statuses', async () => {
    for (const args of [
      ['get', '/k1', '--rev=999'],
      ['get'],
      ['get', 'k', '-w', 'xml'],
      ['del', 'a', 'b', 'c'],
    ]) {
      const r = await same(args);
      const lastOurs = r.ours.stderr.trim().split('\n').pop();
      const lastReal = r.real.stderr.trim().split('\n').pop();
      assert.equal(lastOurs, lastReal, `last stderr line of ${args.join(' ')}`);
    }
  });

  test('writes whose output does not depend on order', async () => {
    await same(['put', '/w', 'v']);
    await same(['put', '/w'], 'from stdin\n');
    await same(['del', '/never-there']);
    await same(['txn'], 'value("/k2") = "v2"\n\nget /k2\nput /w2 z\n\nget /k1\n\n');
    await same(['txn', '-w', 'json'], 'value("/k2") = "v9"\n\nget /k2\n\n\n');
  });

  test('history replay with watch --rev, and endpoint health on stderr', async () => {
    const args = [...ep(), 'watch', '--prefix', '/k', '--rev=1'];
    const [a, b] = await Promise.all([
      runFor(process.execPath, [OUR_CTL, ...args], 2000),
      runFor(REAL_CTL, args, 2000),
    ]);
    assert.equal(a, b);
    assert.match(a, /^PUT\n\/k1\nv1\n/);
    const health = await ours([...ep(), 'endpoint', 'health']);
    assert.equal(health.code, 0);
    assert.equal(health.stdout, '');
    assert.match(
      health.stderr,
      new RegExp(`^${endpoint} is healthy: successfully committed proposal: took = [0-9.]+[µm]?s\\n$`),
    );
  });
});

/** Runs a long-lived command for a while, then stops it; returns its stdout. */
function runFor(file: string, args: string[], ms: number): Promise<string> {
  return new Promise((resolve) => {
    const child = spawn(file, args, { env: { PATH: process.env.PATH ?? '/usr/bin:/bin', ETCDCTL_API: '3' } });
    let out = '';
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
    });
    const timer = setTimeout(() => child.kill('SIGTERM'), ms);
    child.on('exit', () => {
      clearTimeout(timer);
      resolve(out);
    });
  });
}
