// Child process of the defragmentation crash test (does nothing when imported or run without
// its arguments): runs the deterministic commits of defrag-testkit.ts on an LMDB backend, a
// defragmentation in the middle with commits going on, and kills itself (SIGKILL, as a crash)
// at the named step of the defragmentation.

import { Backend } from './backend.js';
import { type DefragStep, defragHooks } from './defrag-lmdb.js';
import { FILL, writeStep } from './defrag-testkit.js';

const yieldTurn = () => new Promise<void>((resolve) => setImmediate(resolve));

async function main(dbPath: string, killAt: DefragStep | 'never'): Promise<void> {
  defragHooks.at = (step) => {
    if (step === killAt) process.kill(process.pid, 'SIGKILL');
  };
  const b = Backend.open(dbPath, { batchLimit: 10_000, batchIntervalMs: 100_000 });
  let i = 0;
  for (; i <= FILL; i++) writeStep(b, i);
  let prepared = false;
  const preparing = b.prepareDefragment().then(() => {
    prepared = true;
  });
  while (!prepared) {
    writeStep(b, i++);
    await yieldTurn();
  }
  await preparing;
  for (let n = 0; n < 10; n++) writeStep(b, i++);
  await b.defragmented();
  writeStep(b, i++);
  await b.close();
  process.stdout.write(`${JSON.stringify({ steps: i })}\n`);
}

if (process.argv[2] === 'defrag-crash-child') {
  await main(process.argv[3] ?? '', (process.argv[4] ?? 'never') as DefragStep | 'never');
}
