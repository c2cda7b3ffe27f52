// CLI for the whole-server simulation (npm run sim -- --server ...):
//   --seeds N [--start S]       run N seeds; the first failure prints its seed and how to replay it
//   --seed S [--trace]          replay one seed exactly (--trace prints every member's log line)
//   --members 1|3|5             cluster size (default: 3, or by seed when sweeping: 1, 3 or 5)
//   --duration MS               virtual milliseconds of faults and load (default 8000)
//   --sabotage lyingFsync|staleReads|duplicateWatchEvent   a deliberate bug the checkers must catch
import { runServerSeed, type ServerSabotage, type ServerSimOptions, type ServerSimResult } from './run.js';

interface Args {
  seeds: number;
  start: number;
  seed?: number;
  trace: boolean;
  members?: 1 | 3 | 5;
  durationMs: number;
  sabotage?: ServerSabotage;
}

export function parseServerSimArgs(argv: readonly string[]): Args {
  const a: Args = { seeds: 0, start: 1, trace: false, durationMs: 8000 };
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
    else if (f === '--duration') a.durationMs = num();
    else if (f === '--members') {
      const m = num();
      if (m !== 1 && m !== 3 && m !== 5) throw new Error('--members takes 1, 3 or 5');
      a.members = m;
    } else if (f === '--sabotage') {
      const s = argv[++i];
      if (s !== 'lyingFsync' && s !== 'staleReads' && s !== 'duplicateWatchEvent')
        throw new Error('--sabotage takes lyingFsync, staleReads or duplicateWatchEvent');
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
    ...(a.sabotage === undefined ? {} : { sabotage: a.sabotage }),
  };
}

export function describeResult(r: ServerSimResult): string {
  return (
    `seed ${r.seed}: ${r.problems.length === 0 ? 'ok' : 'FAILED'} sim=${r.simMs}ms writes=${r.writesAcked}/${r.writesTried} ` +
    `reads=${r.readsOk} watchEvents=${r.watchEvents} crashes=${r.crashes} partitions=${r.partitions} msgs=${r.delivered} dropped=${r.dropped}`
  );
}

function replayCommand(seed: number, a: Args): string {
  const extra = `${a.members === undefined ? '' : ` --members ${a.members}`}${a.durationMs === 8000 ? '' : ` --duration ${a.durationMs}`}${a.sabotage === undefined ? '' : ` --sabotage ${a.sabotage}`}`;
  return `npm run sim -- --server --seed ${seed}${extra} --trace`;
}

export async function serverSimMain(argv: readonly string[]): Promise<number> {
  const a = parseServerSimArgs(argv);
  if (a.seed !== undefined) {
    const trace = a.trace ? (line: string) => console.log(line) : undefined;
    const r = await runServerSeed({ ...serverOptionsForSeed(a.seed, a), ...(trace ? { trace } : {}) });
    console.log(describeResult(r));
    for (const p of r.problems) console.log(`  problem: ${p}`);
    return r.problems.length === 0 ? 0 : 1;
  }
  const started = Date.now();
  let simMs = 0;
  let writes = 0;
  for (let s = a.start; s < a.start + a.seeds; s++) {
    const r = await runServerSeed(serverOptionsForSeed(s, a));
    simMs += r.simMs;
    writes += r.writesAcked;
    if (r.problems.length > 0) {
      console.log(describeResult(r));
      for (const p of r.problems.slice(0, 10)) console.log(`  problem: ${p}`);
      console.log(`  last log lines:\n    ${r.log.slice(-15).join('\n    ')}`);
      console.log(`replay: ${replayCommand(s, a)}`);
      return 1;
    }
  }
  console.log(
    `${a.seeds} seeds ok: ${(simMs / 3_600_000).toFixed(2)} simulated hours, ${writes} acknowledged writes checked, ${((Date.now() - started) / 1000).toFixed(1)} s`,
  );
  return 0;
}
