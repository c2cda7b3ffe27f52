// Side-by-side benchmark: etcd-ts and the real etcd 3.4, driven by the same
// independent load generator (shared/tools/etcdbench, Go, on etcd's own
// client) in one run, so the ratio is meaningful on this machine today.
//
//   node dist/bench/compare.js [--quick] [--repeat N] [--only put,range-l,range-s] [--etcd /usr/bin/etcd]
//
// Prints one row per workload: ops/s, p50 and p99 for both servers and the
// ratio etcd-ts/etcd (ops/s; above 1 means etcd-ts is faster). Each workload
// runs --repeat times (default 3), alternating the servers, and the row shows
// the medians: one run of a single-client workload swings by 15% on this VM.
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const benchSource = resolve(repoRoot, '..', 'shared', 'tools', 'etcdbench');
const benchBinary = join(repoRoot, 'bench', 'out', 'etcdbench');

interface BenchResult {
  ops_per_s: number;
  p50_ms: number;
  p99_ms: number;
  errors: number;
}

interface Workload {
  name: string;
  args: string[];
}

interface Options {
  quick: boolean;
  repeat: number;
  only: string[] | undefined;
  etcd: string;
}

function parseArgs(argv: string[]): Options {
  const opts: Options = { quick: false, repeat: 3, only: undefined, etcd: '/usr/bin/etcd' };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--quick') opts.quick = true;
    else if (a === '--repeat') opts.repeat = Math.max(1, Number(argv[++i] ?? '3'));
    else if (a === '--only') opts.only = (argv[++i] ?? '').split(',');
    else if (a === '--etcd') opts.etcd = argv[++i] ?? opts.etcd;
    else throw new Error(`unknown argument ${a}`);
  }
  return opts;
}

function buildEtcdbench(): void {
  if (existsSync(benchBinary)) return;
  console.log(`building etcdbench from ${benchSource} ...`);
  execFileSync('go', ['build', '-o', benchBinary, '.'], {
    cwd: benchSource,
    stdio: 'inherit',
    env: { ...process.env, GO111MODULE: 'off', GOFLAGS: '', GOPATH: '/usr/share/gocode' },
  });
}

function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolvePort(port));
    });
  });
}

interface Running {
  proc: ChildProcess;
  endpoint: string;
  dataDir: string;
}

async function startServer(bin: string[], label: string): Promise<Running> {
  const clientPort = await freePort();
  const peerPort = await freePort();
  const dataDir = mkdtempSync(join(tmpdir(), `bench-${label}-`));
  const client = `http://127.0.0.1:${clientPort}`;
  const peer = `http://127.0.0.1:${peerPort}`;
  const args = [
    ...bin.slice(1),
    '--name',
    'bench',
    '--data-dir',
    join(dataDir, 'data'),
    '--listen-client-urls',
    client,
    '--advertise-client-urls',
    client,
    '--listen-peer-urls',
    peer,
    '--initial-advertise-peer-urls',
    peer,
    '--initial-cluster',
    `bench=${peer}`,
  ];
  const proc = spawn(bin[0]!, args, { stdio: ['ignore', 'ignore', 'ignore'], detached: true });
  const endpoint = `127.0.0.1:${clientPort}`;
  await waitHealthy(client);
  return { proc, endpoint, dataDir };
}

async function waitHealthy(url: string): Promise<void> {
  const deadline = Date.now() + 20_000;
  while (Date.now() < deadline) {
    try {
      const res = await fetch(`${url}/health`);
      if (res.ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`server at ${url} did not become healthy`);
}

function stopServer(r: Running): void {
  try {
    if (r.proc.pid) process.kill(-r.proc.pid, 'SIGKILL');
  } catch {
    // already gone
  }
  rmSync(r.dataDir, { recursive: true, force: true });
}

function runBench(endpoint: string, w: Workload): BenchResult {
  const out = execFileSync(benchBinary, [`--endpoints=${endpoint}`, ...w.args], {
    encoding: 'utf8',
    maxBuffer: 16 << 20,
  });
  const last = out.trim().split('\n').pop() ?? '{}';
  return JSON.parse(last) as BenchResult;
}

function workloads(quick: boolean): Workload[] {
  const scale = quick ? 0.2 : 1;
  const n = (x: number) => String(Math.max(200, Math.round(x * scale)));
  const put = (clients: number, conns: number, total: number): Workload => ({
    name: `put c=${clients}`,
    args: [
      `--conns=${conns}`,
      `--clients=${clients}`,
      'put',
      '--key-size=8',
      '--val-size=256',
      '--key-space-size=100000',
      '--sequential-keys',
      `--total=${n(total)}`,
    ],
  });
  const range = (consistency: 'l' | 's', clients: number, conns: number, total: number): Workload => ({
    name: `range-${consistency} c=${clients}`,
    args: [
      `--conns=${conns}`,
      `--clients=${clients}`,
      'range',
      `--consistency=${consistency}`,
      '--seed-val-size=256',
      `--total=${n(total)}`,
      'foo',
    ],
  });
  return [
    put(1, 1, 3000),
    put(16, 1, 20000),
    put(256, 16, 60000),
    range('l', 1, 1, 5000),
    range('l', 16, 1, 30000),
    range('l', 256, 16, 80000),
    range('s', 1, 1, 5000),
    range('s', 16, 1, 30000),
    range('s', 256, 16, 80000),
  ];
}

function median(xs: number[]): number {
  const sorted = [...xs].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

function medianResult(rs: BenchResult[]): BenchResult {
  return {
    ops_per_s: median(rs.map((r) => r.ops_per_s)),
    p50_ms: median(rs.map((r) => r.p50_ms)),
    p99_ms: median(rs.map((r) => r.p99_ms)),
    errors: rs.reduce((n, r) => n + r.errors, 0),
  };
}

function fmt(x: number, digits = 0): string {
  return x.toFixed(digits).padStart(9);
}

async function main(): Promise<void> {
  const opts = parseArgs(process.argv.slice(2));
  buildEtcdbench();
  const ours = [process.execPath, join(repoRoot, 'dist', 'src', 'cmd', 'etcd', 'main.js')];
  let list = workloads(opts.quick);
  if (opts.only)
    list = list.filter((w) => opts.only!.some((o) => w.name === o || w.name.startsWith(`${o} `)));
  const etcd = await startServer([opts.etcd], 'etcd');
  const ts = await startServer(ours, 'etcd-ts');
  console.log(`medians of ${opts.repeat} alternating run(s) per workload`);
  console.log('workload            etcd ops/s   p50 ms   p99 ms | etcd-ts ops/s   p50 ms   p99 ms | ratio');
  try {
    for (const w of list) {
      const runsA: BenchResult[] = [];
      const runsB: BenchResult[] = [];
      for (let r = 0; r < opts.repeat; r++) {
        runsA.push(runBench(etcd.endpoint, w));
        runsB.push(runBench(ts.endpoint, w));
      }
      const a = medianResult(runsA);
      const b = medianResult(runsB);
      const ratio = b.ops_per_s / a.ops_per_s;
      console.log(
        `${w.name.padEnd(18)} ${fmt(a.ops_per_s)}  ${fmt(a.p50_ms, 2)} ${fmt(a.p99_ms, 2)} | ${fmt(b.ops_per_s)}     ${fmt(b.p50_ms, 2)} ${fmt(b.p99_ms, 2)} | ${ratio.toFixed(2)}` +
          (a.errors || b.errors ? `  (errors: etcd ${a.errors}, etcd-ts ${b.errors})` : ''),
      );
    }
  } finally {
    stopServer(etcd);
    stopServer(ts);
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
