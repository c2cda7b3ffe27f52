// Side-by-side benchmark: etcd-ts and the real etcd 3.4, driven by the same
// independent load generator (shared/tools/etcdbench, Go, on etcd's own
// client) in one run, so the ratio is meaningful on this machine today.
//
//   node dist/bench/compare.js [--quick] [--repeat N] [--only put,range-l,range-s,watch,lease-keepalive]
//                              [--etcd /usr/bin/etcd] [--idle-watchers N]
//
// Prints one row per workload: ops/s, p50 and p99 for both servers and the
// ratio etcd-ts/etcd (ops/s; above 1 means etcd-ts is faster). Each workload
// runs --repeat times (default 3), alternating the servers, and the row shows
// the medians: one run of a single-client workload swings by 15% on this VM.
//
// Watch rows (etcdbench watch: 1,000 watchers on 100 streams, 1,000 puts/s)
// show EVENTS per second and the event latency (put sent -> event received);
// the puts are paced, so the ratio of interest there is the p99 one, printed
// after the row with the lost events. "watch idle" opens N idle watchers from
// this process on a fresh pair of servers and compares each server's resident
// memory (VmRSS of its process) before and after: bytes per watcher, ratio
// etcd-ts/etcd (above 1 means etcd-ts uses more; one run, not a median). lease-keepalive rows are keep-alives per second.
// A server that fails a workload (or does not start) gets a FAILED cell and
// its error; the run goes on.
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as grpc from '@grpc/grpc-js';
import { WatchRequest, WatchResponse } from '../src/pb/etcdserverpb/rpc.js';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const benchSource = resolve(repoRoot, '..', 'shared', 'tools', 'etcdbench');
const benchBinary = join(repoRoot, 'bench', 'out', 'etcdbench');

interface Figures {
  ops_per_s: number;
  p50_ms: number;
  p99_ms: number;
}

interface BenchResult extends Figures {
  errors: number;
  /** etcdbench watch: the puts' own figures. */
  put?: Figures;
  /** etcdbench watch: expected_events, lost_events, watch_setup_s. */
  extra?: { expected_events?: number; lost_events?: number; watch_setup_s?: number };
}

/** A run of etcdbench, or idle watchers opened from this process (memory per watcher). */
type Workload =
  | { kind: 'etcdbench'; name: string; args: string[] }
  | { kind: 'idle-watchers'; name: string; watchers: number; streams: number };

interface Options {
  quick: boolean;
  repeat: number;
  only: string[] | undefined;
  etcd: string;
  /** Idle watchers for the memory row (a small number under-reports a garbage-collected heap's growth). */
  idleWatchers: number | undefined;
}

function parseArgs(argv: string[]): Options {
  const opts: Options = {
    quick: false,
    repeat: 3,
    only: undefined,
    etcd: '/usr/bin/etcd',
    idleWatchers: undefined,
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--quick') opts.quick = true;
    else if (a === '--idle-watchers') opts.idleWatchers = Math.max(100, Number(argv[++i] ?? '10000'));
    else if (a === '--repeat') opts.repeat = Math.max(1, Number(argv[++i] ?? '3'));
    else if (a === '--only') opts.only = (argv[++i] ?? '').split(',');
    else if (a === '--etcd') opts.etcd = argv[++i] ?? opts.etcd;
    else throw new Error(`unknown argument ${a}`);
  }
  return opts;
}

function buildEtcdbench(): void {
  // Rebuild when the source is newer (an older binary may lack the watch and lease-keepalive commands).
  if (
    existsSync(benchBinary) &&
    statSync(benchBinary).mtimeMs >= statSync(join(benchSource, 'main.go')).mtimeMs
  )
    return;
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
  const running = { proc, endpoint, dataDir };
  try {
    await waitHealthy(client);
  } catch (err) {
    stopServer(running);
    throw err;
  }
  return running;
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

function runBench(endpoint: string, args: string[]): BenchResult {
  const out = execFileSync(benchBinary, [`--endpoints=${endpoint}`, ...args], {
    encoding: 'utf8',
    maxBuffer: 16 << 20,
    timeout: 600_000,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const last = out.trim().split('\n').pop() ?? '{}';
  const r = JSON.parse(last) as BenchResult;
  if (typeof r.ops_per_s !== 'number') throw new Error(`no figures in etcdbench output: ${last}`);
  return r;
}

/** The gist of a failure: etcdbench's own message (stderr) if there is one. */
function failureText(err: unknown): string {
  const e = err as { stderr?: unknown; message?: unknown };
  const stderr = typeof e.stderr === 'string' ? e.stderr.trim() : '';
  const text = stderr !== '' ? stderr.split('\n').slice(-2).join(' / ') : String(e.message ?? err);
  return text.length > 240 ? `${text.slice(0, 237)}...` : text;
}

/** VmRSS of a process, in bytes (Linux /proc). */
function rssBytes(pid: number): number {
  const m = /^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  if (m === null) throw new Error(`no VmRSS for pid ${pid}`);
  return Number(m[1]) * 1024;
}

/** The median of three RSS samples 300 ms apart (a GC can land on any one sample). */
async function settledRss(pid: number): Promise<number> {
  const xs: number[] = [];
  for (let i = 0; i < 3; i++) {
    if (i > 0) await sleep(300);
    xs.push(rssBytes(pid));
  }
  return median(xs);
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/**
 * Opens `n` watchers on distinct keys over `streams` Watch streams of one
 * connection and resolves once the server has confirmed every creation;
 * the returned function cancels them all.
 */
async function openIdleWatchers(endpoint: string, n: number, streams: number): Promise<() => void> {
  const client = new grpc.Client(endpoint, grpc.credentials.createInsecure());
  const calls: grpc.ClientDuplexStream<WatchRequest, WatchResponse>[] = [];
  const close = (): void => {
    for (const c of calls) c.cancel();
    client.close();
  };
  let created = 0;
  try {
    await new Promise<void>((resolveAll, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`${created} of ${n} watchers created after 60 s`)),
        60_000,
      );
      const fail = (err: Error): void => {
        clearTimeout(timer);
        reject(err);
      };
      for (let s = 0; s < streams; s++) {
        const call = client.makeBidiStreamRequest(
          '/etcdserverpb.Watch/Watch',
          (m: WatchRequest) => Buffer.from(WatchRequest.encode(m).finish()),
          (b: Buffer) => WatchResponse.decode(b),
          new grpc.Metadata(),
          {},
        );
        call.on('data', (r: WatchResponse) => {
          if (r.created && ++created === n) {
            clearTimeout(timer);
            resolveAll();
          } else if (r.canceled) fail(new Error(`watch canceled by the server: ${r.cancelReason}`));
        });
        call.on('error', (err: Error) => fail(err));
        calls.push(call);
      }
      for (let i = 0; i < n; i++) {
        const key = Buffer.from(`bench/idle/${String(i).padStart(8, '0')}`);
        calls[i % streams]!.write(
          WatchRequest.fromPartial({ requestUnion: { $case: 'createRequest', createRequest: { key } } }),
        );
      }
    });
  } catch (err) {
    close();
    throw err;
  }
  return close;
}

/** Resident bytes one idle watcher costs a server: RSS after opening n of them, minus before, over n. */
async function idleWatcherCost(server: Running, n: number, streams: number): Promise<number> {
  const pid = server.proc.pid;
  if (pid === undefined) throw new Error('server has no pid');
  const before = await settledRss(pid);
  const close = await openIdleWatchers(server.endpoint, n, streams);
  try {
    await sleep(2000);
    const after = await settledRss(pid);
    return (after - before) / n;
  } finally {
    close();
  }
}

function workloads(quick: boolean, idle: number | undefined): Workload[] {
  const scale = quick ? 0.2 : 1;
  const n = (x: number) => String(Math.max(200, Math.round(x * scale)));
  const put = (clients: number, conns: number, total: number): Workload => ({
    kind: 'etcdbench',
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
    kind: 'etcdbench',
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
  // 1,000 watchers on 100 streams (4 connections) under 1,000 puts/s from 16 goroutines; watcher i
  // watches key i mod K, so each put reaches 1000/K watchers: fan=1 is 1,000 events/s, fan=10 10,000.
  const watch = (fanOut: number, puts: number): Workload => ({
    kind: 'etcdbench',
    name: `watch fan=${fanOut}`,
    args: [
      '--conns=4',
      '--clients=16',
      'watch',
      '--watchers=1000',
      '--streams=100',
      '--put-rate=1000',
      `--key-space-size=${1000 / fanOut}`,
      '--val-size=32',
      `--total=${n(puts)}`,
    ],
  });
  const keepalive = (clients: number, total: number): Workload => ({
    kind: 'etcdbench',
    name: `lease-keepalive c=${clients}`,
    args: ['--conns=1', `--clients=${clients}`, 'lease-keepalive', `--total=${n(total)}`],
  });
  const idleWatchers = idle ?? (quick ? 5000 : 10000);
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
    watch(1, 10000),
    watch(10, 10000),
    { kind: 'idle-watchers', name: `watch idle n=${idleWatchers}`, watchers: idleWatchers, streams: 100 },
    // The scale points: many watchers on one stream, and many streams.
    { kind: 'idle-watchers', name: 'watch idle n=10000 streams=1', watchers: 10000, streams: 1 },
    { kind: 'idle-watchers', name: 'watch idle n=1000 streams=1000', watchers: 1000, streams: 1000 },
    keepalive(1, 5000),
    keepalive(16, 30000),
  ];
}

function median(xs: number[]): number {
  const sorted = [...xs].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

function medianResult(rs: BenchResult[]): BenchResult {
  const out: BenchResult = {
    ops_per_s: median(rs.map((r) => r.ops_per_s)),
    p50_ms: median(rs.map((r) => r.p50_ms)),
    p99_ms: median(rs.map((r) => r.p99_ms)),
    errors: rs.reduce((n, r) => n + r.errors, 0),
  };
  const puts = rs.flatMap((r) => (r.put === undefined ? [] : [r.put]));
  if (puts.length > 0) {
    out.put = {
      ops_per_s: median(puts.map((p) => p.ops_per_s)),
      p50_ms: median(puts.map((p) => p.p50_ms)),
      p99_ms: median(puts.map((p) => p.p99_ms)),
    };
  }
  if (rs.some((r) => r.extra?.lost_events !== undefined)) {
    out.extra = {
      lost_events: rs.reduce((n, r) => n + (r.extra?.lost_events ?? 0), 0),
      expected_events: rs.reduce((n, r) => n + (r.extra?.expected_events ?? 0), 0),
    };
  }
  return out;
}

function fmt(x: number, digits = 0): string {
  return x.toFixed(digits).padStart(9);
}

/** One server's outcome of a workload: the medians of its successful runs, or why it failed. */
type Outcome = { ok: BenchResult; failedRuns: number; failure?: string } | { failure: string };

function cells(o: Outcome, opsWidth: number): string {
  if ('ok' in o)
    return `${fmt(o.ok.ops_per_s).padStart(opsWidth)}  ${fmt(o.ok.p50_ms, 2)} ${fmt(o.ok.p99_ms, 2)}`;
  return 'FAILED'.padStart(opsWidth + 21);
}

function notes(label: string, o: Outcome): string[] {
  const out: string[] = [];
  if (!('ok' in o)) out.push(`${label} FAILED: ${o.failure}`);
  else {
    if (o.failedRuns > 0) out.push(`${label}: ${o.failedRuns} run(s) failed (${o.failure})`);
    if (o.ok.errors > 0) out.push(`${label} errors ${o.ok.errors}`);
    if (o.ok.extra?.lost_events !== undefined)
      out.push(`${label} lost ${o.ok.extra.lost_events}/${o.ok.extra.expected_events} events`);
    if (o.ok.put !== undefined) out.push(`${label} put p99 ${o.ok.put.p99_ms.toFixed(2)} ms`);
  }
  return out;
}

/** A server that could not be started: every workload on it fails with this reason. */
interface Server {
  label: 'etcd' | 'etcd-ts';
  running: Running | undefined;
  startFailure: string;
}

async function start(bin: string[], label: 'etcd' | 'etcd-ts'): Promise<Server> {
  try {
    return { label, running: await startServer(bin, label), startFailure: '' };
  } catch (err) {
    return { label, running: undefined, startFailure: `did not start: ${failureText(err)}` };
  }
}

function benchOn(server: Server, args: string[]): BenchResult | Error {
  if (server.running === undefined) return new Error(server.startFailure);
  try {
    return runBench(server.running.endpoint, args);
  } catch (err) {
    return new Error(failureText(err));
  }
}

function outcome(results: (BenchResult | Error)[]): Outcome {
  const ok = results.filter((r): r is BenchResult => !(r instanceof Error));
  const failed = results.filter((r): r is Error => r instanceof Error);
  const failure = failed[0]?.message;
  if (ok.length === 0) return { failure: failure ?? 'no runs' };
  return failure === undefined
    ? { ok: medianResult(ok), failedRuns: 0 }
    : { ok: medianResult(ok), failedRuns: failed.length, failure };
}

/**
 * Measured on a fresh pair of servers (started for this row only): a heap that earlier
 * workloads grew has room to spare, and would hide what the watchers cost.
 */
async function idleRow(
  w: Extract<Workload, { kind: 'idle-watchers' }>,
  bins: { label: 'etcd' | 'etcd-ts'; bin: string[] }[],
): Promise<void> {
  const costs: (number | string)[] = [];
  for (const { label, bin } of bins) {
    const s = await start(bin, label);
    if (s.running === undefined) {
      costs.push(s.startFailure);
      continue;
    }
    try {
      await sleep(1000);
      costs.push(await idleWatcherCost(s.running, w.watchers, w.streams));
    } catch (err) {
      costs.push(failureText(err));
    } finally {
      stopServer(s.running);
    }
  }
  const cell = (c: number | string): string =>
    typeof c === 'number' ? `${fmt(c)} B/watcher RSS` : 'FAILED'.padStart(24);
  const [a, b] = costs as [number | string, number | string];
  const ratio = typeof a === 'number' && typeof b === 'number' && a > 0 ? (b / a).toFixed(2) : '-';
  console.log(
    `${w.name.padEnd(18)} ${cell(a)}  | ${cell(b)}      | ${ratio} (memory: above 1 = etcd-ts uses more)`,
  );
  bins.forEach(({ label }, i) => {
    const c = costs[i];
    if (typeof c === 'string') console.log(`    ${label} FAILED: ${c}`);
  });
}

async function main(): Promise<void> {
  const opts = parseArgs(process.argv.slice(2));
  buildEtcdbench();
  const ours = [process.execPath, join(repoRoot, 'dist', 'src', 'cmd', 'etcd', 'main.js')];
  let list = workloads(opts.quick, opts.idleWatchers);
  if (opts.only)
    list = list.filter((w) => opts.only!.some((o) => w.name === o || w.name.startsWith(`${o} `)));
  const etcd = await start([opts.etcd], 'etcd');
  const ts = await start(ours, 'etcd-ts');
  console.log(`medians of ${opts.repeat} alternating run(s) per workload`);
  console.log('workload            etcd ops/s   p50 ms   p99 ms | etcd-ts ops/s   p50 ms   p99 ms | ratio');
  try {
    for (const w of list) {
      if (w.kind === 'idle-watchers') {
        await idleRow(w, [
          { label: 'etcd', bin: [opts.etcd] },
          { label: 'etcd-ts', bin: ours },
        ]);
        continue;
      }
      const runsA: (BenchResult | Error)[] = [];
      const runsB: (BenchResult | Error)[] = [];
      for (let r = 0; r < opts.repeat; r++) {
        runsA.push(benchOn(etcd, w.args));
        runsB.push(benchOn(ts, w.args));
      }
      const a = outcome(runsA);
      const b = outcome(runsB);
      const ratio = 'ok' in a && 'ok' in b ? (b.ok.ops_per_s / a.ok.ops_per_s).toFixed(2) : '-';
      const extra = [...notes('etcd', a), ...notes('etcd-ts', b)];
      if ('ok' in a && 'ok' in b && w.name.startsWith('watch ')) {
        extra.unshift(`event p99 etcd-ts/etcd ${(b.ok.p99_ms / a.ok.p99_ms).toFixed(2)}`);
      }
      console.log(`${w.name.padEnd(18)} ${cells(a, 9)} | ${cells(b, 12)} | ${ratio}`);
      if (extra.length > 0) console.log(`    ${extra.join('; ')}`);
    }
  } finally {
    for (const s of [etcd, ts]) if (s.running !== undefined) stopServer(s.running);
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
