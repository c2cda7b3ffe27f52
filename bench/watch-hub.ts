// Micro-benchmark of the pure watch hub: node --expose-gc dist/bench/watch-hub.js [idle=100000] [fanout=10000]
// Prints memory per idle watcher and notify fan-out throughput; no server, no network.

import type { Event, KeyValue } from '../src/mvcc/types.js';
import { type WatchHistory, WatchHub } from '../src/watch/index.js';

const [idle = 100_000, fanout = 10_000] = process.argv.slice(2).map(Number);

/** Append-only in-memory history; enough for notify and catch-up. */
class BenchHistory implements WatchHistory {
  rev = 1;
  readonly log: Event[] = [];
  currentRevision(): number {
    return this.rev;
  }
  compactedRevision(): number {
    return -1;
  }
  readEvents(fromRev: number, toRev: number, limit: number): Event[] {
    const out: Event[] = [];
    for (const ev of this.log) {
      if (ev.kv.modRevision < fromRev) continue;
      if (ev.kv.modRevision > toRev) break;
      out.push(ev);
      if (limit > 0 && out.length >= limit) break;
    }
    return out;
  }
  keyAt(): KeyValue | undefined {
    return undefined;
  }
  put(key: Buffer, value: Buffer): { rev: number; events: Event[] } {
    this.rev++;
    const kv: KeyValue = { key, createRevision: 2, modRevision: this.rev, version: 1, value, lease: 0n };
    const ev: Event = { type: 0, kv };
    this.log.push(ev);
    return { rev: this.rev, events: [ev] };
  }
}

const gc = (globalThis as { gc?: () => void }).gc;
function heapUsed(): number {
  if (gc) {
    gc();
    gc();
  }
  return process.memoryUsage().heapUsed;
}

function report(name: string, value: string): void {
  process.stdout.write(`${name.padEnd(52)} ${value}\n`);
}

function idleMemory(label: string, keyOf: (i: number) => Buffer, rangeEnd?: (i: number) => Buffer): void {
  const history = new BenchHistory();
  const hub = new WatchHub(history);
  const keys = Array.from({ length: idle }, (_, i) => keyOf(i));
  const ends = rangeEnd ? Array.from({ length: idle }, (_, i) => rangeEnd(i)) : undefined;
  const before = heapUsed();
  const streams = Array.from({ length: 100 }, () => hub.openStream());
  for (let i = 0; i < idle; i++) {
    const s = streams[i % streams.length]!;
    s.create({ key: keys[i]!, rangeEnd: ends?.[i] });
    s.take();
  }
  const after = heapUsed();
  report(
    `idle watchers (${label})`,
    `${idle} watchers, ${((after - before) / idle).toFixed(0)} bytes/watcher`,
  );
  // Keep everything alive until measured (the request keys too: otherwise their freeing
  // during the loop would be subtracted from the watchers' cost).
  if (hub.stats().watchers !== idle || keys.length + (ends?.length ?? 0) < idle) {
    throw new Error('bench: watcher count');
  }
}

function fanOut(): void {
  const history = new BenchHistory();
  const hub = new WatchHub(history, { maxQueuedEvents: 1_000_000 });
  const streams = Array.from({ length: 100 }, () => hub.openStream());
  const key = Buffer.from('/bench/hot');
  for (let i = 0; i < fanout; i++) streams[i % streams.length]!.create({ key });
  for (let i = 0; i < 1000; i++)
    streams[i % streams.length]!.create({ key: Buffer.from(`/bench/cold/${i}`) });
  for (const s of streams) s.take();
  const value = Buffer.alloc(64, 0x61);
  const revisions = 200;
  let delivered = 0;
  let notifyMs = 0;
  const t0 = performance.now();
  for (let r = 0; r < revisions; r++) {
    const { rev, events } = history.put(key, value);
    const n0 = performance.now();
    hub.notify(rev, events);
    notifyMs += performance.now() - n0;
    for (const s of streams) delivered += s.take().length;
  }
  const totalMs = performance.now() - t0;
  if (delivered !== revisions * fanout) throw new Error(`bench: delivered ${delivered}`);
  report(
    `notify fan-out to ${fanout} watchers on one key`,
    `${Math.round((delivered / notifyMs) * 1000)} events/s notify only, ${Math.round((delivered / totalMs) * 1000)} events/s with take()`,
  );

  // The same store, catch-up: all watchers fall behind by 200 revisions, then one pass.
  const lag = Array.from({ length: 100 }, () =>
    hub.openStream({ maxQueuedEvents: 1_000_000, maxQueuedBytes: 1 << 30 }),
  );
  for (let i = 0; i < fanout; i++) lag[i % lag.length]!.create({ key, startRevision: 2 });
  for (const s of lag) s.take();
  const reads0 = performance.now();
  const res = hub.syncUnsynced(1000);
  const catchMs = performance.now() - reads0;
  let got = 0;
  for (const s of lag) for (const r of s.take()) got += r.events.length;
  if (res.unsynced !== 0 || got !== fanout * revisions) {
    throw new Error(`bench: catch-up incomplete ${JSON.stringify(res)} ${got}`);
  }
  report(
    `catch-up of ${fanout} watchers x ${revisions} revisions`,
    `${catchMs.toFixed(1)} ms, ${Math.round((got / catchMs) * 1000)} events/s`,
  );

  // A write nobody watches costs nothing extra with many idle watchers around.
  const quietKey = Buffer.from('/bench/unwatched');
  const q0 = performance.now();
  const quiet = 100_000;
  for (let i = 0; i < quiet; i++) {
    const { rev, events } = history.put(quietKey, value);
    hub.notify(rev, events);
  }
  const qMs = performance.now() - q0;
  report(
    `notify of an unwatched key (${hub.stats().watchers} watchers)`,
    `${Math.round((quiet / qMs) * 1000)} notify/s`,
  );
}

if (!gc) process.stdout.write('(run with node --expose-gc for exact memory numbers)\n');
idleMemory('distinct keys', (i) => Buffer.from(`/bench/key/${String(i).padStart(8, '0')}`));
idleMemory('one key', () => Buffer.from('/bench/one'));
idleMemory(
  'prefix ranges',
  (i) => Buffer.from(`/bench/p/${String(i).padStart(8, '0')}/`),
  (i) => Buffer.from(`/bench/p/${String(i).padStart(8, '0')}0`),
);
fanOut();
