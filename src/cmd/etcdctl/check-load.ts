// The workloads of `etcdctl check perf` and `check datascale` (etcdctl 3.4's numbers) and the
// machinery that drives them: a rate limiter, a bounded queue of puts and a pool of workers,
// each with its own client, as etcdctl runs one goroutine and one connection per client.
import { randomBytes } from 'node:crypto';
import type { EtcdClient } from '../../client/index.js';
import type { CheckReport } from './check-report.js';
import { errorText } from './errors.js';

export interface PerfLoad {
  /** Puts per second the check offers. */
  readonly limit: number;
  readonly clients: number;
  readonly seconds: number;
}

export interface DatascaleLoad {
  /** Puts in total. */
  readonly limit: number;
  /** Bytes per key-value pair as the start line reports it. */
  readonly kvSize: number;
  readonly clients: number;
}

export const PERF_LOADS: Readonly<Record<string, PerfLoad>> = {
  s: { limit: 150, clients: 50, seconds: 60 },
  m: { limit: 1000, clients: 200, seconds: 60 },
  l: { limit: 8000, clients: 500, seconds: 60 },
  xl: { limit: 15000, clients: 1000, seconds: 60 },
};

export const DATASCALE_LOADS: Readonly<Record<string, DatascaleLoad>> = {
  s: { limit: 10_000, kvSize: 1024, clients: 50 },
  m: { limit: 100_000, kvSize: 1024, clients: 200 },
  l: { limit: 1_000_000, kvSize: 1024, clients: 500 },
  // Three versions of a million keys: the upper bound etcd is sized for.
  xl: { limit: 3_000_000, kvSize: 1024, clients: 1000 },
};

/** The names --load accepts, short and long, to the model they pick. */
export const LOAD_ALIASES: Readonly<Record<string, string>> = {
  s: 's',
  small: 's',
  m: 'm',
  medium: 'm',
  l: 'l',
  large: 'l',
  xl: 'xl',
  xLarge: 'xl',
};

const MAX_INT63 = (1n << 63n) - 1n;

/**
 * A key of `size` bytes after the prefix: a random 63-bit number as a zig-zag varint (Go's
 * binary.PutVarint) followed by zero bytes.
 */
export function randomKey(prefix: Buffer, size: number): Buffer {
  const key = Buffer.alloc(prefix.length + size);
  prefix.copy(key);
  let n = (randomBytes(8).readBigUInt64BE() & MAX_INT63) % MAX_INT63;
  // Zig-zag of a non-negative number is a doubling.
  n <<= 1n;
  let at = prefix.length;
  while (n >= 0x80n) {
    key[at++] = Number(n & 0x7fn) | 0x80;
    n >>= 7n;
  }
  key[at] = Number(n);
  return key;
}

/** Spaces events evenly at `perSecond`, without bursts: a slot missed is not made up later. */
/** The time a RateLimiter reads and waits on (the real one by default; tests pass a fake). */
export interface LimiterClock {
  now(): number;
  sleep(ms: number): Promise<void>;
  /** Lets other work run between slots that need no sleep. */
  yieldTurn(): Promise<void>;
}

const REAL_LIMITER_CLOCK: LimiterClock = {
  now: () => performance.now(),
  sleep,
  yieldTurn: () => new Promise((r) => setImmediate(r)),
};

export class RateLimiter {
  private next: number;
  private readonly intervalMs: number;
  private sinceYield = 0;

  constructor(
    perSecond: number,
    private readonly clock: LimiterClock = REAL_LIMITER_CLOCK,
  ) {
    this.intervalMs = 1000 / perSecond;
    this.next = clock.now();
  }

  /** Waits for the next slot; false (without waiting) when that slot comes after `deadline`. */
  async wait(deadline: number): Promise<boolean> {
    const now = this.clock.now();
    // A timer that fired late may take its slot late without pushing every later slot back
    // (Go's timers are precise enough not to need this); anything later than one slot is lost.
    const at = Math.max(now - this.intervalMs, this.next);
    if (at > deadline) return false;
    this.next = at + this.intervalMs;
    // Timers are at best a millisecond apart: shorter waits run on and let the average rate hold.
    if (at - now >= 1) await this.clock.sleep(at - now);
    else if (++this.sinceYield >= 32) {
      this.sinceYield = 0;
      await this.clock.yieldTurn();
    }
    return true;
  }
}

/** A queue of at most `capacity` waiting items; put waits for room, take waits for an item. */
export class BoundedQueue<T> {
  private readonly items: T[] = [];
  private readonly takers: ((item: T | undefined) => void)[] = [];
  private readonly putters: (() => void)[] = [];
  private closed = false;

  constructor(private readonly capacity: number) {}

  async put(item: T): Promise<void> {
    const taker = this.takers.shift();
    if (taker !== undefined) return taker(item);
    while (this.items.length >= this.capacity) await new Promise<void>((r) => this.putters.push(r));
    this.items.push(item);
  }

  /** The next item; undefined once closed and drained. */
  take(): Promise<T | undefined> {
    const item = this.items.shift();
    if (item !== undefined) {
      this.putters.shift()?.();
      return Promise.resolve(item);
    }
    if (this.closed) return Promise.resolve(undefined);
    return new Promise((r) => this.takers.push(r));
  }

  close(): void {
    this.closed = true;
    for (const t of this.takers.splice(0)) t(undefined);
  }
}

export interface Put {
  key: Buffer;
  value: Buffer;
}

/**
 * Runs one worker per client until the queue is closed and drained: each put is timed and
 * recorded, then `onDone` is called. Resolves when every worker has stopped.
 */
export async function runWorkers(
  clients: readonly EtcdClient[],
  queue: BoundedQueue<Put>,
  report: CheckReport,
  onDone: () => void = () => undefined,
): Promise<void> {
  const worker = async (client: EtcdClient) => {
    for (;;) {
      const op = await queue.take();
      if (op === undefined) return;
      const started = performance.now();
      try {
        await client.put({ key: op.key, value: op.value });
        report.record({ seconds: (performance.now() - started) / 1000 });
      } catch (e) {
        report.record({ error: errorText(e) });
      }
      onDone();
    }
  };
  await Promise.all(clients.map(worker));
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
