// CLI for the whole-server simulation (npm run sim -- --server ...):
//   --seeds N [--start S]       run N seeds; the first failure prints its seed and how to replay it
//   --keep-going --progress     sweep on past failures (all listed at the end); a progress line a minute
//   --sabotage-table [--seeds N] each sabotage: how many seeds (from --start) until a checker catches it
//   --seed S [--trace]          replay one seed exactly (--trace prints every member's log line)
//   --members 1|3|5             cluster size (default: 3, or by seed when sweeping: 1, 3 or 5)
//   --duration MS               virtual milliseconds of faults and load (default 8000)
//   --sabotage NAME             a deliberate bug the checkers must catch (SERVER_SABOTAGES in run.ts)
import {
  runServerSeed,
  SERVER_SABOTAGES,
  type ServerSabotage,
  type ServerSimOptions,
  type ServerSimResult,
} from './run.js';

interface Args {
  seeds: number;
  start: number;
  seed?: number;
  trace: boolean;
  members?: 1 | 3 | 5;
  durationMs: number;
  sabotage?: ServerSabotage;
  /** Sweep on after a failing seed (the summary lists every failing one). */
  keepGoing: boolean;
  /** A progress line every minute. */
  progress: boolean;
}

export function parseServerSimArgs(argv: readonly string[]): Args {
  const a: Args = { seeds: 0, start: 1, trace: false, durationMs: 8000, keepGoing: false, progress: false };
  for (let i = 0; i < argv.length; i++) {
    const f = argv[i]!;
    const num = (): number => {
      const v = Number(argv[++i]);
      if (!Number.isSafeInteger(v) || v < 0) throw new Error(`${f} needs a non-negative integer`);
      return v;
    };
    if (f === '--server') continue;
    if (f === '--seeds') a.seeds = num();
    else if (f === '--start') a.start = num();
    else if (f === '--seed') a.seed = num();
    else if (f === '--trace') a.trace = true;
    else if (f === '--keep-going') a.keepGoing = true;
    else if (f === '--progress') a.progress = true;
    else if (f === '--duration') a.durationMs = num();
    else if (f === '--members') {
      const m = num();
      if (m !== 1 && m !== 3 && m !== 5) throw new Error('--members takes 1, 3 or 5');
      a.members = m;
    } else if (f === '--sabotage') {
      const s = argv[++i] as ServerSabotage;
      if (!SERVER_SABOTAGES.includes(s))
        throw new Error(`--sabotage takes one of ${SERVER_SABOTAGES.join(', ')}`);
      a.sabotage = s;
    } else throw new Error(`unknown argument ${f}`);
  }
  return a;
}

/** The options one seed runs with: the cluster size follows the seed unless fixed. */
export function serverOptionsForSeed(seed: number, a: Args): ServerSimOptions {
  const sizes = [3, 1, 3, 5] as const;
  return {
    seed,
    members: a.members ?? sizes[seed % sizes.length]!,
    durationMs: a.durationMs,
    crashes: true,
    partitions: true,
    messageFaults: true,
    clockFaults: true,
    diskFaults: true,
    leaderMoves: true,
    membership: true,
    ...(a.sabotage === undefined ? {} : { sabotage: a.sabotage }),
  };
}

export function describeResult(r: ServerSimResult): string {
  return (
    `seed ${r.seed}: ${r.problems.length === 0 ? 'ok' : 'FAILED'} sim=${r.simMs}ms steps=${r.steps} writes=${r.writesAcked}/${r.writesTried} ` +
    `reads=${r.readsOk} watchEvents=${r.watchEvents} leases=${r.leasesGranted}/${r.leaseKeepAlives}ka/${r.leaseReadsChecked}chk ` +
    `crashes=${r.crashes} partitions=${r.partitions} clockJumps=${r.clockJumps} diskFaults=${r.diskFaults} moves=${r.leaderMoves} snapshots=${r.snapshots} memberChanges=${r.memberChanges} ` +
    `msgs=${r.delivered} dropped=${r.dropped}`
  );
}

function replayCommand(seed: number, a: Args): string {
  const extra = `${a.members === undefined ? '' : ` --members ${a.members}`}${a.durationMs === 8000 ? '' : ` --duration ${a.durationMs}`}${a.sabotage === undefined ? '' : ` --sabotage ${a.sabotage}`}`;
  return `npm run sim -- --server --seed ${seed}${extra} --trace`;
}

/** For each sabotage: the first seed (counting from `start`) whose run the checkers failed, within `limit` seeds. */
export async function sabotageTable(
  a: Args,
  limit: number,
): Promise<{ sabotage: ServerSabotage; caughtAfter: number | undefined; problem: string }[]> {
  const out: { sabotage: ServerSabotage; caughtAfter: number | undefined; problem: string }[] = [];
  for (const sabotage of SERVER_SABOTAGES) {
    let caughtAfter: number | undefined;
    let problem = '';
    for (let i = 0; i < limit && caughtAfter === undefined; i++) {
      const r = await runServerSeed(serverOptionsForSeed(a.start + i, { ...a, sabotage }));
      if (r.problems.length > 0) {
        caughtAfter = i + 1;
        problem = r.problems[0]!;
      }
    }
    out.push({ sabotage, caughtAfter, problem });
  }
  return out;
}

export async function serverSimMain(argv: readonly string[]): Promise<number> {
  const a = parseServerSimArgs(argv.filter((x) => x !== '--sabotage-table'));
  if (argv.includes('--sabotage-table')) {
    const table = await sabotageTable(a, a.seeds || 20);
    for (const t of table) {
      console.log(
        `${t.sabotage.padEnd(26)} ${t.caughtAfter === undefined ? 'NOT CAUGHT' : `caught after ${t.caughtAfter} seed(s)`}  ${t.problem.slice(0, 140)}`,
      );
    }
    return table.every((t) => t.caughtAfter !== undefined) ? 0 : 1;
  }
  if (a.seed !== undefined) {
    const trace = a.trace ? (line: string) => console.log(line) : undefined;
    const r = await runServerSeed({ ...serverOptionsForSeed(a.seed, a), ...(trace ? { trace } : {}) });
    console.log(describeResult(r));
    for (const p of r.problems) console.log(`  problem: ${p}`);
    return r.problems.length === 0 ? 0 : 1;
  }
  // Wall time for the figures only; the simulation never reads it.
  const started = Date.now();
  let lastPrint = started;
  const totals = {
    simMs: 0,
    ops: 0,
    writes: 0,
    watchEvents: 0,
    crashes: 0,
    snapshots: 0,
    memberChanges: 0,
    leases: 0,
  };
  const failed: number[] = [];
  for (let s = a.start; s < a.start + a.seeds; s++) {
    const r = await runServerSeed(serverOptionsForSeed(s, a));
    totals.simMs += r.simMs;
    totals.ops += r.opsChecked;
    totals.writes += r.writesAcked;
    totals.watchEvents += r.watchEvents;
    totals.crashes += r.crashes;
    totals.snapshots += r.snapshots;
    totals.memberChanges += r.memberChanges;
    totals.leases += r.leasesGranted;
    if (r.problems.length > 0) {
      failed.push(s);
      console.log(describeResult(r));
      for (const p of r.problems.slice(0, 10)) console.log(`  problem: ${p}`);
      console.log(`  last log lines:\n    ${r.log.slice(-15).join('\n    ')}`);
      console.log(`replay: ${replayCommand(s, a)}`);
      if (!a.keepGoing) return 1;
    }
    const now = Date.now();
    if (a.progress && now - lastPrint > 60_000) {
      lastPrint = now;
      console.log(
        `  ... ${s - a.start + 1}/${a.seeds} seeds, ${failed.length} failed, ${(totals.simMs / 3_600_000).toFixed(2)} simulated hours, ${totals.ops} operations checked (${((now - started) / 1000).toFixed(0)} s)`,
      );
    }
  }
  const wall = (Date.now() - started) / 1000;
  console.log(
    `${a.seeds} seeds [${a.start}..${a.start + a.seeds - 1}] ${failed.length === 0 ? 'ok' : `FAILED: ${failed.join(' ')}`}: ` +
      `${(totals.simMs / 3_600_000).toFixed(2)} simulated hours, ${totals.ops} operations checked ` +
      `(${totals.writes} acknowledged writes), ${totals.watchEvents} watch events, ${totals.leases} leases, ` +
      `${totals.crashes} crashes, ${totals.snapshots} raft snapshots sent, ${totals.memberChanges} membership changes; ` +
      `wall ${wall.toFixed(1)} s (${(wall / Math.max(1, a.seeds)).toFixed(3)} s/seed)`,
  );
  return failed.length === 0 ? 0 : 1;
}
