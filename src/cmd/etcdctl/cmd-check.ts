// `etcdctl check perf` and `check datascale`, as etcdctl 3.4 runs them: a fixed workload of
// puts under a prefix that must be empty, a progress line, the prefix deleted afterwards
// (optionally compacted and defragmented), then PASS/FAIL lines on standard output and exit
// status 1 on FAIL.
import type { EtcdClient } from '../../client/index.js';
import {
  BoundedQueue,
  DATASCALE_LOADS,
  type DatascaleLoad,
  LOAD_ALIASES,
  PERF_LOADS,
  type PerfLoad,
  type Put,
  RateLimiter,
  randomKey,
  runWorkers,
} from './check-load.js';
import { residentMemoryBytes } from './check-metrics.js';
import { CheckProgress, type ProgressSink } from './check-progress.js';
import { CheckReport, type CheckStats, goFixed6 } from './check-report.js';
import type { Command, CommandContext } from './command.js';
import type { FlagSpec } from './flags.js';
import { clientConfigFromCmd, newClient, rpc } from './global.js';
import { Exit, ExitError, fail } from './io.js';
import { bytes, prefixRangeEnd } from './keys.js';
import { goQuote } from './printer/go-quote.js';

/**
 * Test-only shortening of the workloads (not flags, so not in the help): perf's duration in
 * seconds and datascale's number of puts.
 */
const SHORT_PERF_ENV = 'ETCDTS_CHECK_PERF_SECONDS';
const SHORT_DATASCALE_ENV = 'ETCDTS_CHECK_DATASCALE_PUTS';

const CLEANUP_TIMEOUT_MS = 30_000;

function checkFlags(what: 'performance' | 'datascale', prefix: string): FlagSpec[] {
  return [
    {
      name: 'load',
      kind: 'string',
      def: 's',
      usage: `The ${what} check's workload model. Accepted workloads: s(small), m(medium), l(large), xl(xLarge)`,
    },
    {
      name: 'prefix',
      kind: 'string',
      def: prefix,
      usage: `The prefix for writing the ${what} check's keys.`,
    },
    {
      name: 'auto-compact',
      kind: 'bool',
      def: 'false',
      usage: 'Compact storage with last revision after test is finished.',
    },
    { name: 'auto-defrag', kind: 'bool', def: 'false', usage: 'Defragment storage after test is finished.' },
  ];
}

function pickLoad<T>(ctx: CommandContext, table: Readonly<Record<string, T>>): T {
  const name = ctx.flags.string('load');
  const model = Object.hasOwn(LOAD_ALIASES, name) ? LOAD_ALIASES[name] : undefined;
  const load = model === undefined ? undefined : table[model];
  if (load === undefined) return fail(Exit.badFeature, `unknown load option ${name}`);
  return load;
}

function envNumber(ctx: CommandContext, name: string): number | undefined {
  const v = Number(ctx.io.env[name]);
  return Number.isFinite(v) && v > 0 ? v : undefined;
}

function progressSink(ctx: CommandContext): ProgressSink {
  const width = process.stdout.isTTY ? process.stdout.columns : 0;
  return { write: (s) => ctx.io.out(s), width };
}

interface Clients {
  all: EtcdClient[];
  first: EtcdClient;
  endpoints: string[];
}

function openClients(ctx: CommandContext, n: number): Clients {
  const cfg = clientConfigFromCmd(ctx);
  const all = Array.from({ length: n }, () => newClient(cfg.endpoints, cfg.options, ctx.io));
  return { all, first: all[0] as EtcdClient, endpoints: cfg.endpoints };
}

async function requireEmptyPrefix(client: EtcdClient, prefix: string, deadline?: number): Promise<void> {
  const key = bytes(prefix);
  const resp = await rpc(client.range({ key, rangeEnd: prefixRangeEnd(key), limit: 1 }, { deadline }));
  if (resp.kvs.length > 0) {
    fail(
      Exit.invalidInput,
      `prefix ${goQuote(prefix)} has keys. Delete with etcdctl del --prefix ${prefix} first`,
    );
  }
}

/** Deletes the check's keys, then compacts and defragments when asked, printing as etcdctl. */
async function cleanUp(ctx: CommandContext, c: Clients, prefix: string): Promise<void> {
  const key = bytes(prefix);
  const deadline = () => Date.now() + CLEANUP_TIMEOUT_MS;
  const resp = await rpc(
    c.first.deleteRange({ key, rangeEnd: prefixRangeEnd(key) }, { deadline: deadline() }),
  );
  if (ctx.flags.bool('auto-compact')) {
    const rev = resp.header?.revision ?? 0;
    ctx.io.out(`Compacting with revision ${rev}\n`);
    await rpc(c.first.compact({ revision: rev, physical: true }, { deadline: deadline() }));
    ctx.io.out(`Compacted with revision ${rev}\n`);
  }
  if (ctx.flags.bool('auto-defrag')) {
    for (const [i, ep] of c.endpoints.entries()) {
      ctx.io.out(`Defragmenting ${goQuote(ep)}\n`);
      await rpc(c.first.maintenance.defragment({}, { endpoint: i, deadline: deadline() }));
      ctx.io.out(`Defragmented ${goQuote(ep)}\n`);
    }
  }
}

/** "FAIL: too many errors" and one line per error text; true when there were errors. */
function printErrors(ctx: CommandContext, stats: CheckStats): boolean {
  if (stats.errors.size === 0) return false;
  ctx.io.out('FAIL: too many errors\n');
  for (const [text, n] of stats.errors) ctx.io.out(`FAIL: ERROR(${text}) -> ${n}\n`);
  return true;
}

async function runPerf(ctx: CommandContext): Promise<void> {
  const base = pickLoad<PerfLoad>(ctx, PERF_LOADS);
  const load = { ...base, seconds: envNumber(ctx, SHORT_PERF_ENV) ?? base.seconds };
  const prefix = ctx.flags.string('prefix');
  const c = openClients(ctx, load.clients);
  try {
    await requireEmptyPrefix(c.first, prefix, Date.now() + load.seconds * 1000);
    const stats = await perfWorkload(ctx, c, load, bytes(prefix));
    await cleanUp(ctx, c, prefix);
    if (!perfVerdict(ctx, stats, load)) throw new ExitError(Exit.error, undefined);
  } finally {
    for (const client of c.all) client.close();
  }
}

/** Offers `limit` puts a second for `seconds`, with a progress line that counts the seconds. */
async function perfWorkload(ctx: CommandContext, c: Clients, load: PerfLoad, prefix: Buffer) {
  const value = Buffer.alloc(1024);
  const bar = new CheckProgress(load.seconds, progressSink(ctx)).start();
  const barDone = new Promise<void>((resolve) => {
    let ticks = 0;
    const timer = setInterval(() => {
      bar.add(1);
      if (++ticks >= load.seconds) {
        clearInterval(timer);
        bar.finish();
        resolve();
      }
    }, 1000);
  });
  const report = new CheckReport();
  const queue = new BoundedQueue<Put>(load.clients);
  const workers = runWorkers(c.all, queue, report);
  const limiter = new RateLimiter(load.limit);
  const deadline = performance.now() + load.seconds * 1000;
  while (await limiter.wait(deadline)) await queue.put({ key: randomKey(prefix, 256), value });
  queue.close();
  await workers;
  const stats = report.stats();
  await barDone;
  return stats;
}

/** Prints the PASS/FAIL lines of a perf check; true when it passed. */
function perfVerdict(ctx: CommandContext, s: CheckStats, load: PerfLoad): boolean {
  const out = (line: string) => ctx.io.out(`${line}\n`);
  let ok = !printErrors(ctx, s);
  const writes = Math.trunc(s.rps) + 1;
  if (s.rps / load.limit <= 0.9) {
    out(`FAIL: Throughput too low: ${writes} writes/s`);
    ok = false;
  } else out(`PASS: Throughput is ${writes} writes/s`);
  // A request slower than 500 ms, or a deviation above 100 ms, fails the check.
  if (s.slowest > 0.5) {
    out(`Slowest request took too long: ${goFixed6(s.slowest)}s`);
    ok = false;
  } else out(`PASS: Slowest request took ${goFixed6(s.slowest)}s`);
  if (s.stddev > 0.1) {
    out(`Stddev too high: ${goFixed6(s.stddev)}s`);
    ok = false;
  } else out(`PASS: Stddev is ${goFixed6(s.stddev)}s`);
  out(ok ? 'PASS' : 'FAIL');
  return ok;
}

async function runDatascale(ctx: CommandContext): Promise<void> {
  const base = pickLoad<DatascaleLoad>(ctx, DATASCALE_LOADS);
  const load = { ...base, limit: envNumber(ctx, SHORT_DATASCALE_ENV) ?? base.limit };
  const prefix = ctx.flags.string('prefix');
  const c = openClients(ctx, load.clients);
  const out = (line: string) => ctx.io.out(`${line}\n`);
  const memory = () =>
    residentMemoryBytes(
      c.endpoints[0] as string,
      {
        cert: ctx.flags.string('cert'),
        key: ctx.flags.string('key'),
        insecureSkipVerify: ctx.flags.bool('insecure-skip-tls-verify'),
      },
      out,
    );
  try {
    await requireEmptyPrefix(c.first, prefix);
    const before = await memory();
    if (before === 0) {
      out('FAIL: Could not read process_resident_memory_bytes before the put operations.');
      throw new ExitError(Exit.error, undefined);
    }
    out(
      `Start data scale check for work load [${load.limit} key-value pairs, ${load.kvSize} bytes per key-value, ${load.clients} concurrent clients].`,
    );
    const stats = await datascaleWorkload(ctx, c, load, bytes(prefix));
    const after = await memory();
    if (after === 0) {
      out('FAIL: Could not read process_resident_memory_bytes after the put operations.');
      throw new ExitError(Exit.error, undefined);
    }
    await cleanUp(ctx, c, prefix);
    if (printErrors(ctx, stats)) throw new ExitError(Exit.error, undefined);
    out(`PASS: Approximate system memory used : ${((after - before) / (1024 * 1024)).toFixed(2)} MB.`);
  } finally {
    for (const client of c.all) client.close();
  }
}

/** Writes `limit` pairs of a 512-byte key and a 512-byte value as fast as the clients go. */
async function datascaleWorkload(ctx: CommandContext, c: Clients, load: DatascaleLoad, prefix: Buffer) {
  const value = Buffer.alloc(512);
  const bar = new CheckProgress(load.limit, progressSink(ctx)).start();
  const report = new CheckReport();
  const queue = new BoundedQueue<Put>(load.clients);
  const workers = runWorkers(c.all, queue, report, () => bar.add(1));
  for (let i = 0; i < load.limit; i++) await queue.put({ key: randomKey(prefix, 512), value });
  queue.close();
  await workers;
  bar.finish();
  return report.stats();
}

export const checkCommand: Command = {
  name: 'check',
  use: 'check <subcommand>',
  short: 'commands for checking properties of the etcd cluster',
  subcommands: [
    {
      name: 'perf',
      use: 'perf [options]',
      short: 'Check the performance of the etcd cluster',
      flags: checkFlags('performance', '/etcdctl-check-perf/'),
      run: runPerf,
    },
    {
      name: 'datascale',
      use: 'datascale [options]',
      short: 'Check the memory usage of holding data for different workloads on a given server endpoint.',
      flags: checkFlags('datascale', '/etcdctl-check-datascale/'),
      run: runDatascale,
    },
  ],
};
