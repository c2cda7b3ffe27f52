// Side-by-side benchmark of a 3-member etcd-ts cluster and a 3-member real
// etcd 3.4 cluster, driven by the same Go load generator (shared/tools/etcdbench,
// etcd's own clientv3) with the same command line, in one run.
//
//   node dist/bench/cluster-compare.js [--quick] [--repeat N] [--only put,range-l,range-s] [--no-warmup]
//                                      [--etcd /usr/bin/etcd] [--etcd-ts path/to/main.js]
//                                      [--ts-node-args "--cpu-prof --cpu-prof-dir=/tmp/p"] [--run-timeout S]
//
// Both clusters run for the whole run (plain http on 127.0.0.1, default heartbeat and
// election timeouts, data dirs under one temp dir each, removed at the end); each
// workload runs --repeat times (default 3), alternating the clusters and which goes
// first, and a row shows the medians: ops/s, p50 and p99 for both, then the ratios
// etcd-ts/etcd of ops/s (above 1 = etcd-ts faster) and of p99 (above 1 = etcd-ts slower).
// Clients get all three members as endpoints (clientv3 round-robins over them, so
// about two thirds of the requests land on followers, which forward writes to the
// leader); "leader" rows add etcdbench --target-leader, which keeps only the member
// that reports itself leader. A leader change during a workload is noted under it.
// Resident memory (VmRSS summed over the 3 members) is printed at start and after the puts.
// Before the first workload both clusters get the same warm-up load (puts at 16 and at 1
// client, not measured): etcd-ts's first few thousand requests run in V8's unoptimized tiers
// (one client on a cold cluster: 322 puts/s over its first 1,500 puts, 761 after 4,500), and a
// server's steady state is what its users live with. --no-warmup measures cold clusters.
// A cluster that does not start, or a workload that fails, gets FAILED and its error;
// the run goes on. `npm run bench:cluster` runs dist/; BENCH_OUT=.build/NAME runs another build.
// With --ts-node-args "--cpu-prof ..." each etcd-ts member writes its profile when stopped.
import { execFileSync } from 'node:child_process';
import { cpus } from 'node:os';
import {
  type Cluster,
  type LeaderInfo,
  memberRss,
  startCluster,
  stopCluster,
  waitLeader,
} from './lib/cluster.js';
import {
  type BenchResult,
  buildEtcdbench,
  etcdTsMain,
  failureText,
  putArgs,
  runBench,
} from './lib/etcdbench.js';
import { cells, notes, type Outcome, outcome } from './lib/stats.js';

type Label = 'etcd' | 'etcd-ts';

interface Options {
  quick: boolean;
  repeat: number;
  only: string[] | undefined;
  etcd: string;
  etcdTs: string;
  /** Extra node flags for the etcd-ts members (e.g. --cpu-prof), split on spaces. */
  tsNodeArgs: string[];
  /** Seconds before one etcdbench run is killed and counted as failed. */
  runTimeoutS: number;
  warmup: boolean;
}

function parseArgs(argv: string[]): Options {
  const opts: Options = {
    quick: false,
    repeat: 3,
    only: undefined,
    etcd: '/usr/bin/etcd',
    etcdTs: etcdTsMain,
    tsNodeArgs: [],
    runTimeoutS: 180,
    warmup: true,
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--quick') opts.quick = true;
    else if (a === '--no-warmup') opts.warmup = false;
    else if (a === '--repeat') opts.repeat = Math.max(1, Number(argv[++i] ?? '3'));
    else if (a === '--only') opts.only = (argv[++i] ?? '').split(',');
    else if (a === '--etcd') opts.etcd = argv[++i] ?? opts.etcd;
    else if (a === '--etcd-ts') opts.etcdTs = argv[++i] ?? opts.etcdTs;
    else if (a === '--ts-node-args') opts.tsNodeArgs = (argv[++i] ?? '').split(' ').filter((x) => x !== '');
    else if (a === '--run-timeout') opts.runTimeoutS = Math.max(10, Number(argv[++i] ?? '180'));
    else throw new Error(`unknown argument ${a}`);
  }
  return opts;
}

interface Workload {
  name: string;
  args: string[];
  /** Puts come first; memory is sampled after the last of them. */
  isPut: boolean;
}

function scaled(quick: boolean): (x: number) => string {
  return (x) => String(Math.max(200, Math.round(x * (quick ? 0.1 : 1))));
}

/** Unmeasured puts on all endpoints, then at one client, the same on both clusters. */
function warmupRuns(quick: boolean): { args: string[]; puts: number }[] {
  const n = scaled(quick);
  return [
    { args: putArgs(16, 16, n(20000), false), puts: Number(n(20000)) },
    { args: putArgs(1, 1, n(1000), false), puts: Number(n(1000)) },
  ];
}

function workloads(quick: boolean): Workload[] {
  const n = scaled(quick);
  const put = (clients: number, conns: number, total: number, leaderOnly: boolean): Workload => ({
    name: `put c=${clients}${leaderOnly ? ' leader' : ''}`,
    isPut: true,
    args: putArgs(clients, conns, n(total), leaderOnly),
  });
  const range = (consistency: 'l' | 's', clients: number, conns: number, total: number): Workload => ({
    name: `range-${consistency} c=${clients}`,
    isPut: false,
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
    put(1, 1, 3000, false),
    put(1, 1, 3000, true),
    put(256, 16, 40000, false),
    put(256, 16, 40000, true),
    range('l', 256, 16, 60000),
    range('s', 256, 16, 80000),
  ];
}

/** A cluster that could not be started: every workload on it fails with this reason. */
interface Side {
  label: Label;
  cluster: Cluster | undefined;
  startFailure: string;
  leader: LeaderInfo | undefined;
}

async function bringUp(label: Label, command: string[]): Promise<Side> {
  let cluster: Cluster | undefined;
  try {
    cluster = await startCluster(label, command);
    const leader = await waitLeader(cluster);
    return { label, cluster, startFailure: '', leader };
  } catch (err) {
    if (cluster !== undefined) await stopCluster(cluster);
    return {
      label,
      cluster: undefined,
      startFailure: `did not start: ${failureText(err)}`,
      leader: undefined,
    };
  }
}

function benchOn(side: Side, args: string[], timeoutS: number): BenchResult | Error {
  if (side.cluster === undefined) return new Error(side.startFailure);
  try {
    return runBench(side.cluster.members.map((m) => m.endpoint).join(','), args, timeoutS * 1000);
  } catch (err) {
    return new Error(failureText(err));
  }
}

/** Notes a leader change since the last look (elections under load are a finding in themselves). */
async function leaderNote(side: Side): Promise<string | undefined> {
  if (side.cluster === undefined || side.leader === undefined) return undefined;
  const before = side.leader;
  try {
    side.leader = await waitLeader(side.cluster, 15_000);
  } catch (err) {
    return failureText(err); // names the cluster already
  }
  if (side.leader.term === before.term) return undefined;
  return `${side.label}: leader changed during the workload (term ${before.term} -> ${side.leader.term}, now ${side.leader.leader.name})`;
}

const MiB = 1024 * 1024;

function memoryLine(side: Side): string {
  if (side.cluster === undefined) return `${side.label.padEnd(8)} FAILED: ${side.startFailure}`;
  const rss = memberRss(side.cluster);
  const total = rss.reduce((a, b) => a + b, 0);
  const each = side.cluster.members
    .map((m, i) => `${m.name}${m === side.leader?.leader ? '*' : ''} ${(rss[i]! / MiB).toFixed(1)}`)
    .join(', ');
  return `${side.label.padEnd(8)} ${(total / MiB).toFixed(1).padStart(7)} MiB  (${each})`;
}

function memoryRatio(a: Side, b: Side): string {
  if (a.cluster === undefined || b.cluster === undefined) return '';
  const sum = (c: Cluster) => memberRss(c).reduce((x, y) => x + y, 0);
  return `ratio etcd-ts/etcd ${(sum(b.cluster) / sum(a.cluster)).toFixed(2)}`;
}

function printMemory(title: string, sides: [Side, Side]): void {
  console.log(`memory ${title}: VmRSS of the 3 members (MiB; * = leader), ${memoryRatio(...sides)}`);
  for (const s of sides) console.log(`    ${memoryLine(s)}`);
}

function ratio(a: Outcome, b: Outcome, pick: (r: BenchResult) => number): string {
  return 'ok' in a && 'ok' in b ? (pick(b.ok) / pick(a.ok)).toFixed(2).padStart(5) : '    -';
}

function etcdVersion(bin: string): string {
  try {
    return /etcd Version: (\S+)/.exec(execFileSync(bin, ['--version'], { encoding: 'utf8' }))?.[1] ?? '?';
  } catch {
    return '?';
  }
}

async function main(): Promise<void> {
  const opts = parseArgs(process.argv.slice(2));
  buildEtcdbench();
  let list = workloads(opts.quick);
  if (opts.only)
    list = list.filter((w) => opts.only!.some((o) => w.name === o || w.name.startsWith(`${o} `)));
  const ours = [process.execPath, ...opts.tsNodeArgs, opts.etcdTs];
  const etcd = await bringUp('etcd', [opts.etcd]);
  const ts = await bringUp('etcd-ts', ours);
  const sides: [Side, Side] = [etcd, ts];
  console.log(
    `3-member clusters on 127.0.0.1 (http, default heartbeat/election): etcd ${etcdVersion(opts.etcd)} vs etcd-ts (node ${process.version})`,
  );
  console.log(
    `machine: ${cpus().length} cores shared by 6 server processes (both clusters stay up) and the load generator`,
  );
  console.log(
    `medians of ${opts.repeat} alternating run(s) per workload${opts.quick ? ' (--quick: 1/10 of the requests)' : ''}; endpoints = all 3 members, "leader" = --target-leader`,
  );
  for (const s of sides) {
    if (s.leader !== undefined)
      console.log(`${s.label}: leader ${s.leader.leader.name}, term ${s.leader.term}`);
    else console.log(`${s.label} FAILED: ${s.startFailure}`);
  }
  printMemory('at start', sides);
  if (opts.warmup) {
    const runs = warmupRuns(opts.quick);
    for (const s of sides) {
      for (const { args } of runs) {
        const r = benchOn(s, args, opts.runTimeoutS);
        if (r instanceof Error) console.log(`${s.label}: warm-up run failed: ${r.message}`);
      }
    }
    const total = runs.reduce((sum, r) => sum + r.puts, 0);
    console.log(`warm-up: ${total} unmeasured puts on each cluster (16 clients, then 1)`);
  } else {
    console.log('no warm-up (--no-warmup): cold clusters');
  }
  console.log(
    'workload               etcd ops/s   p50 ms   p99 ms | etcd-ts ops/s   p50 ms   p99 ms | ops x | p99 x',
  );
  const lastPut = list.findLastIndex((w) => w.isPut);
  try {
    for (const [i, w] of list.entries()) {
      const runs: Record<Label, (BenchResult | Error)[]> = { etcd: [], 'etcd-ts': [] };
      const leaderNotes: string[] = [];
      for (let r = 0; r < opts.repeat; r++) {
        // Alternate which cluster goes first, so neither always runs on the other's leftovers.
        for (const s of r % 2 === 0 ? [etcd, ts] : [ts, etcd]) {
          runs[s.label].push(benchOn(s, w.args, opts.runTimeoutS));
          const note = await leaderNote(s);
          if (note !== undefined) leaderNotes.push(note);
        }
      }
      const a = outcome(runs.etcd);
      const b = outcome(runs['etcd-ts']);
      const ops = ratio(a, b, (x) => x.ops_per_s);
      const p99 = ratio(a, b, (x) => x.p99_ms);
      console.log(`${w.name.padEnd(21)} ${cells(a, 9)} | ${cells(b, 12)} | ${ops} | ${p99}`);
      const extra = [...notes('etcd', a), ...notes('etcd-ts', b), ...leaderNotes];
      if (extra.length > 0) console.log(`    ${extra.join('; ')}`);
      if (i === lastPut) printMemory('after the puts', sides);
    }
  } finally {
    await Promise.all(sides.map((s) => (s.cluster === undefined ? undefined : stopCluster(s.cluster))));
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
