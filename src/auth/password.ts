// Password hashing: bcrypt, as etcd stores it ("$2a$<cost>$..."), computed by
// @node-rs/bcrypt on libuv's thread pool so that hashing and checking never
// block the event loop (docs/decisions/0013-auth.md has the measurements).
// That pool also runs the server's file I/O (WAL writes and fsyncs), and it
// serves jobs in order: a burst of 100 Authenticate calls would queue every
// fsync behind seconds of bcrypt and time writes out. So only a few bcrypt
// jobs are handed to the pool at a time; the rest wait here, in JavaScript.
// Go's bcrypt writes version "2a"; the Rust library writes "2b", which for
// passwords of at most 72 bytes (both truncate there) is the same hash, so the
// prefix is rewritten to keep the stored bytes what etcd itself would store.
import { availableParallelism } from 'node:os';
import { hash, hashSync, verify } from '@node-rs/bcrypt';

/** golang.org/x/crypto/bcrypt's limits and default. */
export const BCRYPT_MIN_COST = 4;
export const BCRYPT_MAX_COST = 31;
export const BCRYPT_DEFAULT_COST = 10;

/** At most `limit` tasks run at once; the others wait their turn, first come first served. */
export class Semaphore {
  private running = 0;
  private readonly waiting: Array<() => void> = [];

  constructor(private readonly limit: number) {}

  async run<T>(task: () => Promise<T>): Promise<T> {
    if (this.running >= this.limit) await new Promise<void>((resolve) => this.waiting.push(resolve));
    else this.running++;
    try {
      return await task();
    } finally {
      const next = this.waiting.shift();
      if (next !== undefined) next();
      else this.running--;
    }
  }
}

/**
 * bcrypt jobs in the pool at once: half of libuv's pool (4 threads unless UV_THREADPOOL_SIZE says
 * otherwise), and never so many that they take every core: each job keeps a core busy for its
 * whole run, and with all cores hashing the event loop waits for the scheduler (measured on 2
 * cores: 2 jobs at once stalled the loop up to 630 ms, 1 job at a time 20-125 ms, at the same
 * Authenticate/s; docs/decisions/0013-auth.md).
 */
export function bcryptConcurrency(
  env: Readonly<Record<string, string | undefined>> = process.env,
  cores: number = availableParallelism(),
): number {
  const pool = Number(env.UV_THREADPOOL_SIZE ?? '4');
  const halfPool = Number.isInteger(pool) && pool > 1 ? Math.floor(pool / 2) : 1;
  return Math.max(1, Math.min(halfPool, cores - 1));
}

export interface PasswordHasher {
  /** The bcrypt hash of `password` (as bytes of its "$2a$..." text). */
  hash(password: string): Promise<Uint8Array>;
  /** The same, blocking: only for entries written by etcd 3.4 members, which carry no hash. */
  hashBlocking(password: string): Uint8Array;
  /** Whether `password` matches a stored hash (false for anything that is not a bcrypt hash). */
  verify(password: string, stored: Uint8Array): Promise<boolean>;
}

/** etcd replaces a cost out of bcrypt's range by the default (and warns). */
export function effectiveBcryptCost(cost: number): number {
  return Number.isInteger(cost) && cost >= BCRYPT_MIN_COST && cost <= BCRYPT_MAX_COST
    ? cost
    : BCRYPT_DEFAULT_COST;
}

function asGoVersion(h: string): Uint8Array {
  return Buffer.from(h.startsWith('$2b$') ? `$2a$${h.slice(4)}` : h);
}

export function bcryptHasher(cost: number, concurrency = bcryptConcurrency()): PasswordHasher {
  const c = effectiveBcryptCost(cost);
  const pool = new Semaphore(concurrency);
  return {
    hash: (password) => pool.run(async () => asGoVersion(await hash(password, c))),
    hashBlocking: (password) => asGoVersion(hashSync(password, c)),
    verify: (password, stored) =>
      pool.run(async () => {
        if (stored.length === 0) return false;
        try {
          return await verify(password, Buffer.from(stored));
        } catch {
          return false;
        }
      }),
  };
}
