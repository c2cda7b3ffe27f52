// The write stall of a defragmentation: real etcd 3.4 beside etcd-ts, same flags, one run.
//
//   node dist/bench/defrag-stall.js [--size-mb 1024] [--live 0.25] [--only etcd,etcd-ts]
//                                   [--etcd /usr/bin/etcd] [--etcdctl /usr/bin/etcdctl]
//
// For each server: fill a fresh single member to --size-mb of database file with values of
// 1 KiB..100 KiB over a key space sized so that about --live of the written bytes stay live,
// compact to the newest revision (physical) so the rest is reclaimable, then run one client
// doing sequential small puts and, a second in, `etcdctl defrag`. Printed per server: the
// defrag's duration (etcdctl's wall time), the file size before and after, the longest gap
// between two acknowledged writes while the defrag ran, the p99 and max put latency during it,
// and the puts acknowledged during it.
import { spawn } from 'node:child_process';
import { CompactionRequest, CompactionResponse } from '../src/pb/etcdserverpb/rpc.js';
import { KvClient } from '../test/integration/kv-client.js';
import { etcdTsMain } from './lib/etcdbench.js';
import { sleep } from './lib/proc.js';
import { startMember, stopMember } from './lib/single-member.js';

const QUOTA = 8 * 1024 * 1024 * 1024;

interface Options {
  sizeMb: number;
  live: number;
  only: string[];
  etcd: string;
  etcdctl: string;
}

function parseArgs(argv: string[]): Options {
  const o: Options = {
    sizeMb: 1024,
    live: 0.25,
    only: ['etcd', 'etcd-ts'],
    etcd: '/usr/bin/etcd',
    etcdctl: '/usr/bin/etcdctl',
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const next = () => argv[++i] ?? '';
    if (a === '--size-mb') o.sizeMb = Number(next());
    else if (a === '--live') o.live = Number(next());
    else if (a === '--only') o.only = next().split(',');
    else if (a === '--etcd') o.etcd = next();
    else if (a === '--etcdctl') o.etcdctl = next();
    else throw new Error(`unknown argument ${a}`);
  }
  return o;
}

/** A deterministic pseudo-random generator (the two servers get the same values). */
function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

async function fill(kv: KvClient, o: Options): Promise<void> {
  const target = o.sizeMb * 1024 * 1024;
  const meanValue = 50.5 * 1024;
  const keys = Math.max(1, Math.round((target * o.live) / meanValue));
  const random = lcg(42);
  const chunk = 'x'.repeat(100 * 1024);
  let written = 0;
  let n = 0;
  const worker = async () => {
    while (written < target) {
      const size = 1024 + Math.floor(random() * 99 * 1024);
      const key = `fill/${n++ % keys}`;
      written += size;
      await kv.put(key, chunk.slice(0, size), {}, 60_000);
    }
  };
  await Promise.all(Array.from({ length: 8 }, worker));
  const rev = Number((await kv.range('fill/0')).header?.revision ?? 0);
  const req = CompactionRequest.fromPartial({ revision: rev, physical: true });
  await kv.raw.call('/etcdserverpb.KV/Compact', CompactionRequest, CompactionResponse, req, 600_000);
}

interface Figures {
  durationMs: number;
  sizeBefore: number;
  sizeAfter: number;
  longestGapMs: number;
  p99Ms: number;
  maxMs: number;
  putsDuring: number;
  failed: number;
}

function runEtcdctlDefrag(etcdctl: string, endpoint: string): Promise<{ ms: number; out: string }> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const p = spawn(etcdctl, ['--endpoints', endpoint, '--command-timeout=10m', 'defrag'], {
      env: { ...process.env, ETCDCTL_API: '3' },
    });
    let out = '';
    p.stdout.on('data', (d: Buffer) => {
      out += d.toString();
    });
    p.stderr.on('data', (d: Buffer) => {
      out += d.toString();
    });
    p.on('error', reject);
    p.on('exit', (code) =>
      code === 0
        ? resolve({ ms: performance.now() - started, out })
        : reject(new Error(`etcdctl defrag: ${out}`)),
    );
  });
}

function percentile(xs: number[], p: number): number {
  if (xs.length === 0) return Number.NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] ?? Number.NaN;
}

async function measure(bin: string[], label: string, o: Options): Promise<Figures> {
  const server = await startMember(bin, label, ['--quota-backend-bytes', String(QUOTA)]);
  const kv = new KvClient(server.endpoint);
  try {
    const t0 = performance.now();
    await fill(kv, o);
    await sleep(2000); // let the compaction's deletions and the batch settle
    const sizeBefore = Number((await kv.status()).dbSize);
    process.stderr.write(
      `${label}: filled and compacted in ${((performance.now() - t0) / 1000).toFixed(0)} s, db ${mb(sizeBefore)}\n`,
    );
    // The writer: one client, sequential puts; every acknowledgement's time and latency.
    // A put the server fails (etcd answers "request timed out" after 7 s of stall) is not an
    // acknowledgement: it counts as failed and the gap goes on.
    const acks: { at: number; latency: number }[] = [];
    let failed = 0;
    let stop = false;
    const writer = (async () => {
      for (let i = 0; !stop; i++) {
        const sent = performance.now();
        try {
          await kv.put(`writer/${i % 100}`, 'v'.repeat(256), {}, 600_000);
          const at = performance.now();
          acks.push({ at, latency: at - sent });
        } catch {
          failed++;
        }
      }
    })();
    await sleep(1000);
    const start = performance.now();
    const { ms } = await runEtcdctlDefrag(o.etcdctl, server.endpoint);
    const end = start + ms;
    await sleep(1000);
    stop = true;
    await writer;
    const sizeAfter = Number((await kv.status()).dbSize);
    // Gaps between consecutive acknowledgements that overlap the defrag (from the last ack
    // before it started to the first after it ended).
    let longestGapMs = 0;
    for (let i = 1; i < acks.length; i++) {
      const prev = acks[i - 1]?.at ?? 0;
      const cur = acks[i]?.at ?? 0;
      if (cur >= start && prev <= end) longestGapMs = Math.max(longestGapMs, cur - prev);
    }
    // Puts in flight during the defrag: acknowledged after it started, sent before it ended.
    const during = acks.filter((a) => a.at >= start && a.at - a.latency <= end).map((a) => a.latency);
    return {
      durationMs: ms,
      sizeBefore,
      sizeAfter,
      longestGapMs,
      p99Ms: percentile(during, 99),
      maxMs: Math.max(...during),
      putsDuring: during.length,
      failed,
    };
  } finally {
    kv.close();
    stopMember(server);
  }
}

function mb(bytes: number): string {
  return `${(bytes / 1024 / 1024).toFixed(0)} MiB`;
}

async function main(): Promise<void> {
  const o = parseArgs(process.argv.slice(2));
  const servers: [string, string[]][] = [
    ['etcd', [o.etcd]],
    ['etcd-ts', [process.execPath, etcdTsMain]],
  ];
  const rows: string[] = [];
  for (const [label, bin] of servers) {
    if (!o.only.includes(label)) continue;
    try {
      const f = await measure(bin, label, o);
      rows.push(
        `| ${label} | ${mb(f.sizeBefore)} → ${mb(f.sizeAfter)} | ${(f.durationMs / 1000).toFixed(2)} s | ` +
          `${f.longestGapMs.toFixed(0)} ms | ${f.p99Ms.toFixed(1)} ms | ${f.maxMs.toFixed(0)} ms | ${f.putsDuring} | ${f.failed} |`,
      );
    } catch (err) {
      rows.push(`| ${label} | FAILED: ${err instanceof Error ? err.message : String(err)} |||||||`);
    }
  }
  console.log(
    `defrag of a ~${o.sizeMb} MiB database (live ~${Math.round(o.live * 100)}%), one sequential writer`,
  );
  console.log(
    '| server | db size before → after | defrag duration | longest gap between acked writes | p99 put during defrag | max put | puts acked during | puts failed |',
  );
  console.log('|---|---|---|---|---|---|---|---|');
  for (const r of rows) console.log(r);
}

if (process.argv[1]?.endsWith('defrag-stall.js')) await main();
