// `etcdctl snapshot save` throughput: the same ~100 MB of data (10,000 keys × 10 KB) written to
// a single real etcd 3.4 and to a single etcd-ts member, then saved with the real etcdctl three
// times each, timed end to end. Prints the db size and MB/s per run.
//   node <outDir>/bench/snapshot-save.js [keys] [valueBytes]
// ETCD_TS_MAIN names etcd-ts's compiled main.js (default: next to this file).
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { eventually, MemberProcess, memberSpec, removeDir, tempDir } from '../test/integration/harness.js';
import { KvClient } from '../test/integration/kv-client.js';

const KEYS = Number(process.argv[2] ?? 10_000);
const VALUE_BYTES = Number(process.argv[3] ?? 10_000);
const RUNS = 3;
const CONCURRENCY = 32;

class RealEtcd extends MemberProcess {
  override command(): [string, string[]] {
    return ['/usr/bin/etcd', [...this.args(), '--quota-backend-bytes=8589934592']];
  }
}

async function fill(kv: KvClient): Promise<void> {
  let next = 0;
  const value = randomBytes(VALUE_BYTES).toString('base64').slice(0, VALUE_BYTES);
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next < KEYS) {
        const i = next++;
        await kv.put(`bench/${String(i).padStart(8, '0')}`, value, {}, 30_000);
      }
    }),
  );
}

async function measure(label: string, member: MemberProcess, dir: string): Promise<void> {
  member.start();
  const kv = new KvClient(member.endpoint);
  try {
    await eventually(() => kv.put('ready', 'y'), 20_000);
    const t0 = performance.now();
    await fill(kv);
    console.log(
      `${label}: wrote ${KEYS} × ${VALUE_BYTES} B in ${((performance.now() - t0) / 1000).toFixed(1)} s`,
    );
    for (let run = 0; run < RUNS; run++) {
      const file = join(dir, `${label}-${run}.db`);
      const s = performance.now();
      execFileSync('/usr/bin/etcdctl', ['--endpoints', member.endpoint, 'snapshot', 'save', file], {
        stdio: 'ignore',
        env: { ETCDCTL_API: '3' },
      });
      const seconds = (performance.now() - s) / 1000;
      const mb = statSync(file).size / 1e6;
      console.log(
        `${label}: save ${run + 1}: ${mb.toFixed(1)} MB in ${seconds.toFixed(2)} s = ${(mb / seconds).toFixed(1)} MB/s`,
      );
    }
  } finally {
    kv.close();
    await member.stop();
  }
}

const dir = tempDir('bench-snapshot-save');
try {
  process.env.ETCD_TS_MAIN ??= fileURLToPath(new URL('../src/cmd/etcd/main.js', import.meta.url));
  await measure('etcd-3.4', new RealEtcd(await memberSpec('e', join(dir, 'etcd'))), dir);
  await measure('etcd-ts', new MemberProcess(await memberSpec('t', join(dir, 'ts'))), dir);
} finally {
  removeDir(dir);
}
