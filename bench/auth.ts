// Authentication cost, measured (not a test): how many Authenticate calls per
// second one member answers at the default bcrypt cost, and the longest
// event-loop stall while 100 run at once.
//
//   npm run bench:auth            (node dist/bench/auth.js)
//   node .build/<dir>/bench/auth.js [--cost=10] [--concurrency=100] [--rounds=3]
//                                   [--steady-workers=16] [--steady-seconds=5]
//
// Three parts:
// 1. the hashing library alone (@node-rs/bcrypt: libuv's thread pool);
// 2. a member in this process, so that a 1 ms timer sees the server's own loop
//    (the client's share of the loop is small next to bcrypt's, and counts
//    against us, not for us), with puts running beside the storms;
// 3. etcd-ts as its own process (`etcd` as users start it) and, when installed,
//    the real etcd 3.4 with the same flags: a burst of 100 concurrent
//    Authenticate calls and a steady closed-loop run. etcd-ts's stall is the
//    server's own figure, nodejs_eventloop_lag_max_seconds on /metrics (its
//    histogram is reset by each scrape, so one scrape before and one after
//    bound the window).
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay, PerformanceObserver, performance } from 'node:perf_hooks';
import { bcryptHasher } from '../src/auth/index.js';
import { EtcdClient } from '../src/client/index.js';
import { parseEtcdCommandLine } from '../src/config/parse.js';
import { startEtcd } from '../src/embed/etcd.js';
import { nopLogger } from '../src/log/index.js';
import { etcdTsMain } from './lib/etcdbench.js';
import { type RunningMember, startMember, stopMember } from './lib/single-member.js';

function arg(name: string, def: number): number {
  const a = process.argv.find((x) => x.startsWith(`--${name}=`));
  return a === undefined ? def : Number(a.slice(name.length + 3));
}

const COST = arg('cost', 10);
const CONCURRENCY = arg('concurrency', 100);
const ROUNDS = arg('rounds', 3);
const STEADY_WORKERS = arg('steady-workers', 16);
const STEADY_SECONDS = arg('steady-seconds', 5);
const REAL_ETCD = '/usr/bin/etcd';

/**
 * The longest gap between ticks of a 1 ms timer, and the histogram's max, while `fn` runs; and the
 * longest garbage-collection pause meanwhile (a stall that is GC is not bcrypt's).
 */
async function withStallMeter<T>(
  fn: () => Promise<T>,
): Promise<{ result: T; maxStallMs: number; p99DelayMs: number; maxGcMs: number }> {
  const h = monitorEventLoopDelay({ resolution: 1 });
  h.enable();
  let maxGcMs = 0;
  const gc = new PerformanceObserver((list) => {
    for (const e of list.getEntries()) maxGcMs = Math.max(maxGcMs, e.duration);
  });
  gc.observe({ entryTypes: ['gc'] });
  let last = performance.now();
  let maxGap = 0;
  const timer = setInterval(() => {
    const now = performance.now();
    maxGap = Math.max(maxGap, now - last);
    last = now;
  }, 1);
  try {
    const result = await fn();
    return {
      result,
      maxStallMs: Math.max(maxGap, h.max / 1e6),
      p99DelayMs: h.percentile(99) / 1e6,
      maxGcMs,
    };
  } finally {
    clearInterval(timer);
    gc.disconnect();
    h.disable();
  }
}

async function hashingAlone(): Promise<void> {
  const hasher = bcryptHasher(COST);
  const stored = await hasher.hash('secret');
  const t0 = performance.now();
  const { maxStallMs } = await withStallMeter(() =>
    Promise.all(Array.from({ length: CONCURRENCY }, () => hasher.verify('secret', stored))),
  );
  const s = (performance.now() - t0) / 1000;
  console.log(
    `bcrypt verify alone (cost ${COST}, ${CONCURRENCY} at once): ${(CONCURRENCY / s).toFixed(1)}/s, longest stall ${maxStallMs.toFixed(1)} ms`,
  );
}

async function inProcess(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'etcd-ts-bench-auth-'));
  const outcome = parseEtcdCommandLine(
    [
      `--data-dir=${join(dir, 'data')}`,
      '--listen-client-urls=http://127.0.0.1:0',
      '--advertise-client-urls=http://127.0.0.1:2379',
      '--listen-peer-urls=http://127.0.0.1:0',
      `--bcrypt-cost=${COST}`,
    ],
    {},
  );
  if (outcome.kind !== 'run') throw new Error('bad flags');
  const etcd = await startEtcd(outcome.config, nopLogger());
  const endpoint = `127.0.0.1:${etcd.clientPorts[0]}`;
  const admin = new EtcdClient({ endpoints: [endpoint] });
  try {
    await setUpAuth(endpoint);
    const writer = new EtcdClient({ endpoints: [endpoint], username: 'root', password: 'rootpw' });
    await writer.put({ key: Buffer.from('warm'), value: Buffer.from('up') });
    /** Puts one after another until `stop` resolves: how many, and the slowest. */
    const writeUntil = async (stop: Promise<unknown>) => {
      let done = false;
      void stop.then(() => {
        done = true;
      });
      let puts = 0;
      let maxMs = 0;
      while (!done) {
        const t = performance.now();
        await writer.put({ key: Buffer.from('k'), value: Buffer.from(String(puts++)) });
        maxMs = Math.max(maxMs, performance.now() - t);
      }
      return { puts, maxMs };
    };
    const storm = () =>
      Promise.all(
        Array.from({ length: CONCURRENCY }, () => admin.auth.authenticate({ name: 'u', password: 'secret' })),
      );
    const base = await withStallMeter(() => writeUntil(new Promise((r) => setTimeout(r, 3000))));
    console.log(
      `baseline, puts alone for 3 s: ${base.result.puts} puts, slowest ${base.result.maxMs.toFixed(0)} ms, ` +
        `longest event-loop stall ${base.maxStallMs.toFixed(1)} ms, longest GC pause ${base.maxGcMs.toFixed(1)} ms`,
    );
    for (let round = 1; round <= ROUNDS; round++) {
      const t0 = performance.now();
      const { result, maxStallMs, p99DelayMs, maxGcMs } = await withStallMeter(storm);
      const s = (performance.now() - t0) / 1000;
      if (result.some((r) => r.token === '')) throw new Error('an authentication returned no token');
      console.log(
        `round ${round}: ${CONCURRENCY} concurrent Authenticate at cost ${COST}: ${(CONCURRENCY / s).toFixed(1)}/s ` +
          `(${(s * 1000).toFixed(0)} ms), longest event-loop stall ${maxStallMs.toFixed(1)} ms, ` +
          `p99 loop delay ${p99DelayMs.toFixed(1)} ms, longest GC pause ${maxGcMs.toFixed(1)} ms`,
      );
    }
    // The same storm with writes going on: do bcrypt jobs hold up the WAL's fsyncs?
    const during = storm();
    const w = await writeUntil(during);
    console.log(`puts during a storm: ${w.puts} puts, slowest ${w.maxMs.toFixed(0)} ms`);
    writer.close();
  } finally {
    admin.close();
    await etcd.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** root (with the root role) and u/secret, then auth on: the users every part authenticates as. */
async function setUpAuth(endpoint: string): Promise<void> {
  const admin = new EtcdClient({ endpoints: [endpoint] });
  try {
    await admin.auth.userAdd({ name: 'root', password: 'rootpw' });
    await admin.auth.userGrantRole({ user: 'root', role: 'root' });
    await admin.auth.userAdd({ name: 'u', password: 'secret' });
    await admin.auth.authEnable({});
  } finally {
    admin.close();
  }
}

/** etcd-ts's own figure: the longest event-loop delay since the previous scrape, in ms. */
async function scrapeLoopLagMax(endpoint: string): Promise<number> {
  const text = await (await fetch(`http://${endpoint}/metrics`)).text();
  const m = /^nodejs_eventloop_lag_max_seconds (\S+)$/m.exec(text);
  return m === null ? Number.NaN : Number(m[1]) * 1000;
}

/** The burst and the steady run against a member in its own process. */
async function separateProcess(label: string, member: RunningMember, isOurs: boolean): Promise<void> {
  const endpoint = member.endpoint;
  await setUpAuth(endpoint);
  const client = new EtcdClient({ endpoints: [endpoint] });
  const lag = async () => (isOurs ? scrapeLoopLagMax(endpoint) : Number.NaN);
  const stall = (ms: number) =>
    Number.isNaN(ms) ? '' : `, server's longest event-loop stall ${ms.toFixed(1)} ms`;
  try {
    await client.auth.authenticate({ name: 'u', password: 'secret' });
    if (isOurs) {
      // The same figure over 3 s of nothing: what the machine alone costs the loop.
      await lag();
      await new Promise((r) => setTimeout(r, 3000));
      console.log(`${label}: idle for 3 s${stall(await lag())}`);
    }
    for (let round = 1; round <= ROUNDS; round++) {
      await lag();
      const t0 = performance.now();
      let slowest = 0;
      await Promise.all(
        Array.from({ length: CONCURRENCY }, async () => {
          const t = performance.now();
          const r = await client.auth.authenticate({ name: 'u', password: 'secret' });
          if (r.token === '') throw new Error('an authentication returned no token');
          slowest = Math.max(slowest, performance.now() - t);
        }),
      );
      const s = (performance.now() - t0) / 1000;
      console.log(
        `${label}: ${CONCURRENCY} concurrent Authenticate at cost ${COST}: ${(CONCURRENCY / s).toFixed(1)}/s ` +
          `(${(s * 1000).toFixed(0)} ms, slowest call ${slowest.toFixed(0)} ms)${stall(await lag())}`,
      );
    }
    await lag();
    let calls = 0;
    const until = performance.now() + STEADY_SECONDS * 1000;
    const t0 = performance.now();
    await Promise.all(
      Array.from({ length: STEADY_WORKERS }, async () => {
        while (performance.now() < until) {
          await client.auth.authenticate({ name: 'u', password: 'secret' });
          calls++;
        }
      }),
    );
    const s = (performance.now() - t0) / 1000;
    console.log(
      `${label}: steady, ${STEADY_WORKERS} callers for ${STEADY_SECONDS} s: ${(calls / s).toFixed(1)} Authenticate/s` +
        stall(await lag()),
    );
  } finally {
    client.close();
  }
}

console.log(
  `node ${process.version}, UV_THREADPOOL_SIZE=${process.env.UV_THREADPOOL_SIZE ?? '4 (default)'}, ` +
    `bcrypt cost ${COST}`,
);
await hashingAlone();
await inProcess();
const members: Array<[string, string[], boolean]> = [
  ['etcd-ts (own process)', [process.execPath, etcdTsMain], true],
];
if (existsSync(REAL_ETCD)) members.push(['etcd 3.4', [REAL_ETCD], false]);
else console.log(`${REAL_ETCD} not installed: no etcd 3.4 figures`);
for (const [label, bin, isOurs] of members) {
  const m = await startMember(bin, isOurs ? 'auth-ts' : 'auth-etcd', [`--bcrypt-cost=${COST}`]);
  try {
    await separateProcess(label, m, isOurs);
  } finally {
    stopMember(m);
  }
}
