// Child process for the crash tests (store-durability.test.ts), killed with SIGKILL mid-flight.
// argv: <db path> stream            apply generated entries forever, committing every few ms
//       <db path> partial <n> <m>   apply n entries, flush, apply m more uncommitted, print "ready", wait

import { applyGeneratedEntry } from './fixtures.js';
import { MvccStore } from './store.js';

async function main(): Promise<void> {
  const [dbPath, mode, nArg, mArg] = process.argv.slice(2);
  if (dbPath === undefined) throw new Error('usage: crash-writer <db> stream|partial <n> <m>');
  if (mode === 'stream') {
    const store = MvccStore.open(dbPath, { batchIntervalMs: 2, batchLimit: 500, compactionBatchLimit: 10 });
    let i = store.consistentIndex() + 1;
    process.stdout.write(`start ${i}\n`);
    for (;;) {
      for (let k = 0; k < 50; k++) applyGeneratedEntry(store, i++);
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
  }
  const n = Number(nArg);
  const m = Number(mArg);
  const store = MvccStore.open(dbPath, { batchIntervalMs: 3_600_000, batchLimit: 1_000_000 });
  for (let i = 1; i <= n; i++) applyGeneratedEntry(store, i);
  await store.flush();
  for (let i = n + 1; i <= n + m; i++) applyGeneratedEntry(store, i);
  process.stdout.write('ready\n');
  setInterval(() => {}, 1000);
}

main().catch((err: unknown) => {
  process.stderr.write(`${String(err)}\n`);
  process.exit(1);
});
