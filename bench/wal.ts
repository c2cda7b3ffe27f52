// WAL append+fsync benchmark: `node dist/bench/wal.js [dir] [secondsPerCase]`.
// Prints the disk's raw fdatasync rate beside WAL throughput and latency.
import { type FileHandle, mkdtemp, open, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import type { Entry } from '../src/raft/types.js';
import { Wal } from '../src/wal/index.js';

const ENTRY_BYTES = 256;
const RAW_BLOCK = 4096;

interface Result {
  name: string;
  ops: number;
  seconds: number;
  entries: number;
  payloadBytes: number;
  latenciesMs: number[];
  savesPerSync?: number;
}

function pct(sorted: number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

function report(r: Result): void {
  const lat = [...r.latenciesMs].sort((a, b) => a - b);
  const cols = [
    r.name.padEnd(38),
    `${(r.ops / r.seconds).toFixed(0).padStart(7)} ops/s`,
    `${(r.entries / r.seconds).toFixed(0).padStart(8)} entries/s`,
    `${(r.payloadBytes / r.seconds / 1e6).toFixed(2).padStart(7)} MB/s`,
    `p50 ${pct(lat, 50).toFixed(3)} ms`,
    `p99 ${pct(lat, 99).toFixed(3)} ms`,
    r.savesPerSync !== undefined ? `${r.savesPerSync.toFixed(1)} saves/fdatasync` : '',
  ];
  console.log(cols.join('  '));
}

type RawMode = 'append' | 'overwrite-zeroed';

/**
 * 4 KiB write + fdatasync in a loop, on a growing file (`append`: every sync also commits the new
 * size) and on a file whose blocks were written with zeros beforehand (`overwrite-zeroed`: what a
 * preallocated segment would give). The two alternate in short rounds so both see the same
 * background load: on a shared machine, back-to-back runs differ more than the modes do.
 */
async function rawSync(dir: string, seconds: number): Promise<Result[]> {
  const block = Buffer.alloc(RAW_BLOCK, 0xab);
  const maxBlocks = 16384; // 64 MiB per file
  const files = new Map<RawMode, { fh: FileHandle; ops: number; ms: number; lat: number[] }>();
  for (const mode of ['append', 'overwrite-zeroed'] as const) {
    const fh = await open(join(dir, `raw-${mode}`), 'w+');
    if (mode === 'overwrite-zeroed') {
      const zeros = Buffer.alloc(1 << 20);
      for (let i = 0; i < (maxBlocks * RAW_BLOCK) / zeros.length; i++)
        await fh.write(zeros, 0, zeros.length, null);
      await fh.sync();
    }
    files.set(mode, { fh, ops: 0, ms: 0, lat: [] });
  }
  const deadline = performance.now() + seconds * 2000;
  const ROUND = 100;
  while (performance.now() < deadline) {
    for (const f of files.values()) {
      const t0 = performance.now();
      for (let i = 0; i < ROUND && f.ops < maxBlocks; i++) {
        const s = performance.now();
        await f.fh.write(block, 0, RAW_BLOCK, f.ops * RAW_BLOCK);
        await f.fh.datasync();
        f.lat.push(performance.now() - s);
        f.ops++;
      }
      f.ms += performance.now() - t0;
    }
    if ([...files.values()].some((f) => f.ops >= maxBlocks)) break;
  }
  const out: Result[] = [];
  for (const [mode, f] of files) {
    await f.fh.close();
    await rm(join(dir, `raw-${mode}`));
    out.push({
      name: `raw 4KiB write+fdatasync (${mode})`,
      ops: f.ops,
      seconds: f.ms / 1000,
      entries: 0,
      payloadBytes: f.ops * RAW_BLOCK,
      latenciesMs: f.lat,
    });
  }
  return out;
}

function makeEntries(from: number, n: number, data: Uint8Array): Entry[] {
  const out: Entry[] = [];
  for (let i = 0; i < n; i++) out.push({ term: 1, index: from + i, type: 0, data });
  return out;
}

/** One caller: save(batch, sync) and await it, again and again. */
async function walSerial(dir: string, seconds: number, batch: number, preallocate: boolean): Promise<Result> {
  const wal = await Wal.create(
    join(dir, `wal-serial-${batch}-${preallocate}`),
    new Uint8Array(8),
    undefined,
    {
      preallocate,
    },
  );
  const data = new Uint8Array(ENTRY_BYTES).fill(7);
  const latenciesMs: number[] = [];
  let next = 1;
  let ops = 0;
  const t0 = performance.now();
  while (performance.now() - t0 < seconds * 1000) {
    const ents = makeEntries(next, batch, data);
    const s = performance.now();
    await wal.save({ term: 1, vote: 1n, commit: next }, ents, true);
    latenciesMs.push(performance.now() - s);
    next += batch;
    ops++;
  }
  const elapsed = (performance.now() - t0) / 1000;
  await wal.close();
  const entries = next - 1;
  return {
    name: `wal save batch=${batch}${preallocate ? '' : ' no-prealloc'}`,
    ops,
    seconds: elapsed,
    entries,
    payloadBytes: entries * ENTRY_BYTES,
    latenciesMs,
  };
}

/**
 * `inFlight` callers each issue save(1 entry, sync) and await it. Saves that queue while a
 * write+fdatasync is running share the next one (group commit inside the WAL).
 */
async function walPipelined(dir: string, seconds: number, inFlight: number): Promise<Result> {
  const wal = await Wal.create(join(dir, `wal-pipe-${inFlight}`), new Uint8Array(8));
  const data = new Uint8Array(ENTRY_BYTES).fill(9);
  const latenciesMs: number[] = [];
  let next = 1;
  let ops = 0;
  const deadline = performance.now() + seconds * 1000;
  const t0 = performance.now();
  const caller = async () => {
    while (performance.now() < deadline) {
      // Index assignment is synchronous, so calls reach the WAL in index order.
      const ents = makeEntries(next, 1, data);
      next += 1;
      const s = performance.now();
      await wal.save(undefined, ents, true);
      latenciesMs.push(performance.now() - s);
      ops++;
    }
  };
  await Promise.all(Array.from({ length: inFlight }, caller));
  const elapsed = (performance.now() - t0) / 1000;
  const { saves, syncs } = wal.stats();
  await wal.close();
  const entries = next - 1;
  return {
    savesPerSync: saves / syncs,
    name: `wal save batch=1, ${inFlight} in flight`,
    ops,
    seconds: elapsed,
    entries,
    payloadBytes: entries * ENTRY_BYTES,
    latenciesMs,
  };
}

async function main(): Promise<void> {
  const base = process.argv[2] ?? tmpdir();
  const seconds = Number(process.argv[3] ?? 3);
  const dir = await mkdtemp(join(base, 'etcdts-walbench-'));
  console.log(`dir ${dir}, ${seconds}s per case, entries of ${ENTRY_BYTES} bytes`);
  try {
    for (const r of await rawSync(dir, seconds)) report(r);
    for (const batch of [1, 16, 256]) {
      report(await walSerial(dir, seconds, batch, true));
      report(await walSerial(dir, seconds, batch, false));
    }
    for (const inFlight of [4, 16, 64]) report(await walPipelined(dir, seconds, inFlight));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

await main();
