// CLI for the simulator.
//   node dist/test/sim/sweep.js --seeds N [--start S] [--ticks T]   run many seeds
//   node dist/test/sim/sweep.js --seed S [--trace] [--ticks T]       replay one seed
// A failure prints the seed and the exact command that replays it, and exits 1.
import type { Sabotage } from './node.js';
import { DEFAULT_LIMITS, describeOptions, optionsForSeed, type RunLimits } from './options.js';
import { runSeed, type SimResult } from './run.js';

interface Args {
  seeds: number;
  start: number;
  seed?: number;
  trace: boolean;
  ticks: number;
  sabotage?: Sabotage;
}

const SABOTAGES: readonly Sabotage[] = ['staleReads', 'forgetVote', 'sendBeforePersist', 'ackOnPropose'];

function parseArgs(argv: string[]): Args {
  const args: Args = { seeds: 0, start: 1, trace: false, ticks: DEFAULT_LIMITS.faultTicks };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const num = (): number => {
      const v = Number(argv[++i]);
      if (!Number.isSafeInteger(v) || v < 0) throw new Error(`${a} needs a non-negative integer`);
      return v;
    };
    if (a === '--seeds') args.seeds = num();
    else if (a === '--start') args.start = num();
    else if (a === '--seed') args.seed = num();
    else if (a === '--ticks') args.ticks = num();
    else if (a === '--trace') args.trace = true;
    else if (a === '--sabotage') {
      const v = argv[++i] as Sabotage;
      if (!SABOTAGES.includes(v)) throw new Error(`--sabotage takes one of ${SABOTAGES.join(', ')}`);
      args.sabotage = v;
    } else throw new Error(`unknown argument ${a}`);
  }
  return args;
}

function replayCommand(seed: number, limits: RunLimits): string {
  let extra = limits.faultTicks === DEFAULT_LIMITS.faultTicks ? '' : ` --ticks ${limits.faultTicks}`;
  if (limits.sabotage !== undefined) extra += ` --sabotage ${limits.sabotage}`;
  return `node dist/test/sim/sweep.js --seed ${seed}${extra} --trace   (or: npm run sim -- --seed ${seed}${extra} --trace)`;
}

function summary(r: SimResult): string {
  return (
    `seed ${r.seed}: ok steps=${r.steps} simTime=${r.simTime} nodes=${r.nodesEver} msgs=${r.messages} ` +
    `writes=${r.writesAcked}/${r.writesProposed} reads=${r.readsChecked} conf=${r.confChanges} crashes=${r.crashes}`
  );
}

function replayOne(seed: number, limits: RunLimits, trace: boolean): number {
  console.log(describeOptions(optionsForSeed(seed, limits)));
  try {
    const r = runSeed(seed, { limits, trace: trace ? (line) => console.log(line) : undefined });
    console.log(summary(r));
    return 0;
  } catch (e) {
    console.log(`FAIL seed ${seed}: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
    return 1;
  }
}

function sweep(args: Args, limits: RunLimits): number {
  const t0 = Date.now(); // wall clock for progress output only; the simulation never reads it
  let lastPrint = t0;
  let steps = 0;
  let acked = 0;
  let reads = 0;
  for (let s = args.start; s < args.start + args.seeds; s++) {
    try {
      const r = runSeed(s, { limits });
      steps += r.steps;
      acked += r.writesAcked;
      reads += r.readsChecked;
    } catch (e) {
      console.log(`FAIL seed ${s}: ${e instanceof Error ? e.message : String(e)}`);
      console.log(`  ${describeOptions(optionsForSeed(s, limits))}`);
      console.log(`  replay: ${replayCommand(s, limits)}`);
      return 1;
    }
    const now = Date.now();
    if (now - lastPrint > 2000) {
      lastPrint = now;
      console.log(`  ... ${s - args.start + 1}/${args.seeds} seeds ok (${((now - t0) / 1000).toFixed(1)}s)`);
    }
  }
  const secs = (Date.now() - t0) / 1000;
  console.log(
    `${args.seeds} seeds ok [${args.start}..${args.start + args.seeds - 1}] in ${secs.toFixed(1)}s: ` +
      `${steps} steps, ${acked} acknowledged writes, ${reads} linearizable reads checked`,
  );
  return 0;
}

const USAGE = `usage: sweep.js --seeds N [--start S] [--ticks T]   run seeds S..S+N-1 (fault phase of T ticks)
       sweep.js --server --seeds N | --seed S [--trace]   whole real members (see test/sim/server/sweep.ts)
       sweep.js --seed S [--trace] [--ticks T]        replay one seed, printing every event
       (--sabotage ${SABOTAGES.join('|')} plants an application bug, to see a failure reported)`;

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  if (argv.includes('--server')) {
    // The whole-server simulation (issue 8): real members on a simulated disk, clock and network.
    const { serverSimMain } = await import('./server/sweep.js');
    process.exitCode = await serverSimMain(argv);
    return;
  }
  // No arguments: print usage and succeed. (node --test also runs helper files under test/ this way.)
  if (argv.length === 0) {
    console.log(USAGE);
    return;
  }
  let args: Args;
  try {
    args = parseArgs(argv);
  } catch (e) {
    console.error(`${e instanceof Error ? e.message : String(e)}\n${USAGE}`);
    process.exitCode = 2;
    return;
  }
  const limits: RunLimits = { faultTicks: args.ticks, sabotage: args.sabotage };
  process.exitCode = args.seed !== undefined ? replayOne(args.seed, limits, args.trace) : sweep(args, limits);
}

await main();
