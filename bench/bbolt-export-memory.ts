// Memory of exportEtcdDb as the db grows (not timed): node <outDir>/bench/bbolt-export-memory.js [MB...]
// For each size, builds a store of about that many MB of records (1000-byte values over 10 000
// keys, so the in-memory key index stays the same size), exports it, and prints the anonymous
// RSS (RssAnon: heap, buffers, not the LMDB map or page cache) before and at its peak during
// the export, and the longest event-loop stall. A streaming export's peak must not grow with
// the db.

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { exportEtcdDb } from '../src/etcd-db/index.js';
import { MvccStore } from '../src/mvcc/index.js';

const sizesMb = process.argv.length > 2 ? process.argv.slice(2).map(Number) : [50, 200];
const VALUE_BYTES = 1000;
const KEYS = 10_000;

function rssAnonMb(): number {
  const m = /RssAnon:\s+(\d+) kB/.exec(fs.readFileSync('/proc/self/status', 'utf8'));
  return m ? Number(m[1]) / 1024 : process.memoryUsage().rss / 2 ** 20;
}

async function measure(sizeMb: number): Promise<void> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bbolt-mem-'));
  try {
    const store = MvccStore.open(path.join(dir, 'store'));
    const puts = Math.round((sizeMb * 2 ** 20) / (VALUE_BYTES + 60));
    const value = Buffer.alloc(VALUE_BYTES, 0x61);
    for (let i = 1; i <= puts; i++) {
      store.put(i, { key: Buffer.from(`/k/${String(i % KEYS).padStart(6, '0')}`), value });
      if (i % 20_000 === 0) await new Promise((r) => setImmediate(r));
    }
    await store.flush();
    (globalThis as { gc?: () => void }).gc?.();
    const before = rssAnonMb();
    let peak = before;
    let samples = 0;
    const sampler = setInterval(() => {
      samples++;
      peak = Math.max(peak, rssAnonMb());
    }, 5);
    const loopDelay = monitorEventLoopDelay({ resolution: 5 });
    loopDelay.enable();
    const t0 = performance.now();
    const r = await exportEtcdDb(
      store,
      { consistentIndex: puts, members: [], removed: [], clusterVersion: '3.4.0' },
      path.join(dir, 'export.db'),
    );
    const ms = performance.now() - t0;
    clearInterval(sampler);
    loopDelay.disable();
    peak = Math.max(peak, rssAnonMb());
    process.stdout.write(
      `db ${(r.size / 2 ** 20).toFixed(0).padStart(5)} MB (${puts} records): RssAnon before ${before.toFixed(0)} MB, ` +
        `peak during export ${peak.toFixed(0)} MB (+${(peak - before).toFixed(0)} MB), export took ${(ms / 1000).toFixed(1)} s, ${samples} samples, ` +
        `longest event-loop stall ${(loopDelay.max / 1e6).toFixed(0)} ms\n`,
    );
    // Control: the metric does see buffers, e.g. the exported file read whole into memory.
    const whole = fs.readFileSync(path.join(dir, 'export.db'));
    process.stdout.write(
      `   control: reading the export into one Buffer: RssAnon ${rssAnonMb().toFixed(0)} MB (${whole.length >> 20} MB buffer)\n`,
    );
    await store.close();
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

for (const mb of sizesMb) await measure(mb);
