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
import * as grpc from '@grpc/grpc-js';
import { WatchRequest, WatchResponse } from '../src/pb/etcdserverpb/rpc.js';
import {
  type BenchResult,
  buildEtcdbench,
  etcdTsMain,
  failureText,
  putArgs,
  runBench,
} from './lib/etcdbench.js';
import { settledRss, sleep } from './lib/proc.js';
import { type RunningMember, startMember, stopMember } from './lib/single-member.js';
import { cells, fmt, notes, outcome } from './lib/stats.js';

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
async function idleWatcherCost(server: RunningMember, n: number, streams: number): Promise<number> {
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
    args: putArgs(clients, conns, n(total), false),
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

/** A server that could not be started: every workload on it fails with this reason. */
interface Server {
  label: 'etcd' | 'etcd-ts';
  running: RunningMember | undefined;
  startFailure: string;
}

async function start(bin: string[], label: 'etcd' | 'etcd-ts'): Promise<Server> {
  try {
    return { label, running: await startMember(bin, label), startFailure: '' };
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
      stopMember(s.running);
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
  const ours = [process.execPath, etcdTsMain];
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
    for (const s of [etcd, ts]) if (s.running !== undefined) stopMember(s.running);
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
