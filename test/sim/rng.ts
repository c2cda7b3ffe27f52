// The simulator's only source of randomness: xoshiro128** seeded through splitmix32.
// Everything random in a run (network faults, workload, each node's election jitter)
// draws from an Rng forked from the seed, so a seed replays bit for bit.

function splitmix32(state: { s: number }): number {
  state.s = (state.s + 0x9e3779b9) | 0;
  let z = state.s;
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
  return (z ^ (z >>> 16)) >>> 0;
}

function rotl(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k));
}

export class Rng {
  private a: number;
  private b: number;
  private c: number;
  private d: number;

  constructor(seed: number) {
    if (!Number.isSafeInteger(seed) || seed < 0) throw new Error(`rng: bad seed ${seed}`);
    // Mix both halves of a 53-bit seed so nearby seeds give unrelated streams.
    const st = { s: (seed >>> 0) ^ Math.imul(Math.floor(seed / 0x100000000), 0x27d4eb2d) };
    this.a = splitmix32(st);
    this.b = splitmix32(st);
    this.c = splitmix32(st);
    this.d = splitmix32(st);
    if ((this.a | this.b | this.c | this.d) === 0) this.a = 1; // xoshiro must not start all-zero
  }

  /** A uniform uint32. */
  nextU32(): number {
    const result = Math.imul(rotl(Math.imul(this.b, 5), 7), 9) >>> 0;
    const t = this.b << 9;
    this.c ^= this.a;
    this.d ^= this.b;
    this.b ^= this.c;
    this.a ^= this.d;
    this.c ^= t;
    this.d = rotl(this.d, 11);
    return result;
  }

  /** A uniform float in [0, 1). */
  next(): number {
    return this.nextU32() / 0x100000000;
  }

  /** A uniform integer in [0, n). */
  int(n: number): number {
    if (!(n > 0) || !Number.isInteger(n)) throw new Error(`rng.int: bad bound ${n}`);
    return Math.floor(this.next() * n);
  }

  /** A uniform integer in [lo, hi] (both inclusive). */
  range(lo: number, hi: number): number {
    if (hi < lo) throw new Error(`rng.range: empty [${lo}, ${hi}]`);
    return lo + this.int(hi - lo + 1);
  }

  chance(p: number): boolean {
    return this.next() < p;
  }

  pick<T>(items: readonly T[]): T {
    if (items.length === 0) throw new Error('rng.pick: empty');
    return items[this.int(items.length)]!;
  }

  /** An independent stream, so consumers do not perturb each other's draws. */
  fork(): Rng {
    return new Rng(this.nextU32() * 0x200000 + (this.nextU32() >>> 11));
  }
}
