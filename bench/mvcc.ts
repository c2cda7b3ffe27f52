// Micro-benchmark of the mvcc store: node dist/bench/mvcc.js [puts=200000] [keys=10000] [valueBytes=256]
// Prints one line per measurement with ops/s.

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { MvccStore } from '../src/mvcc/index.js';

const [puts = 200_000, keys = 10_000, valueBytes = 256] = process.argv.slice(2).map(Number);
const enc = (s: string) => Buffer.from(s);

function report(name: string, ops: number, ms: number): void {
  const perSec = Math.round((ops / ms) * 1000);
  process.stdout.write(
    `${name.padEnd(44)} ${String(perSec).padStart(10)} ops/s  (${ops} in ${ms.toFixed(0)} ms)\n`,
  );
}

function timed(fn: () => void): number {
  const t0 = performance.now();
  fn();
  return performance.now() - t0;
}

async function main(): Promise<void> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mvcc-bench-'));
  const dbPath = path.join(dir, 'db');
  const store = MvccStore.open(dbPath);
  const value = Buffer.alloc(valueBytes, 0x61);
  const keyBufs = Array.from({ length: keys }, (_, i) => enc(`/bench/key/${String(i).padStart(8, '0')}`));
  let index = 0;

  let ms = timed(() => {
    for (let i = 0; i < puts; i++) store.put(++index, { key: keyBufs[i % keys]!, value });
  });
  const t0 = performance.now();
  await store.flush();
  const flushMs = performance.now() - t0;
  report(`put() ${valueBytes}B values over ${keys} keys`, puts, ms);
  report('put() including final flush', puts, ms + flushMs);

  const txns = Math.floor(puts / 4);
  ms = timed(() => {
    for (let i = 0; i < txns; i++) {
      const k = keyBufs[i % keys]!;
      store.txn(++index, {
        compare: [{ key: k, target: 2, result: 1, modRevision: 0 }],
        success: [{ requestPut: { key: k, value } }],
        failure: [{ requestRange: { key: k } }],
      });
    }
  });
  report('txn(compare mod > 0, put)', txns, ms);

  const reads = 500_000;
  ms = timed(() => {
    for (let i = 0; i < reads; i++) store.range({ key: keyBufs[(i * 7919) % keys]! });
  });
  report('range() of 1 key', reads, ms);

  const scans = 5_000;
  ms = timed(() => {
    for (let i = 0; i < scans; i++) {
      store.range({ key: keyBufs[(i * 31) % (keys - 200)]!, rangeEnd: enc('/bench/key0'), limit: 100 });
    }
  });
  report('range() limit 100 (count over the rest)', scans, ms);

  ms = timed(() => {
    for (let i = 0; i < 20_000; i++)
      store.range({ key: keyBufs[i % keys]!, revision: store.currentRevision() - 5000 });
  });
  report('range() of 1 key at an old revision', 20_000, ms);

  const t1 = performance.now();
  await store.compact(++index, store.currentRevision() - 1000).done;
  report('compact (history -> 1 record per key), records', puts + txns, performance.now() - t1);

  const h0 = performance.now();
  store.hashKV(0);
  report('hashKV over remaining records', keys + 1000, performance.now() - h0);
  const size = store.sizeBytes();
  await store.close();

  const r0 = performance.now();
  const reopened = MvccStore.open(dbPath);
  report(`reopen + index rebuild (${keys} keys)`, 1, performance.now() - r0);
  process.stdout.write(
    `db file ${(size / 1024 / 1024).toFixed(1)} MiB, revision ${reopened.currentRevision()}\n`,
  );
  await reopened.close();
  fs.rmSync(dir, { recursive: true, force: true });
}

main().catch((err: unknown) => {
  process.stderr.write(`${String(err)}\n`);
  process.exit(1);
});
