// Virtual time for whole members under the simulator: every timer of every
// member is an event in one queue ordered by (time, arrival). The driver pops
// the next event, moves the clock to it, runs it, and lets the promise chains
// it started settle before the next one; nothing else runs, so a seed replays
// exactly.
import type { Clock, Timer, TimerOptions } from '../../../src/runtime/clock.js';

interface Event {
  at: number;
  seq: number;
  fn: () => void;
  cancelled: boolean;
}

/** A binary heap of events by (at, seq). */
class EventQueue {
  private readonly heap: Event[] = [];

  get size(): number {
    return this.heap.length;
  }

  push(e: Event): void {
    const h = this.heap;
    h.push(e);
    let i = h.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!before(h[i]!, h[p]!)) break;
      [h[i], h[p]] = [h[p]!, h[i]!];
      i = p;
    }
  }

  peek(): Event | undefined {
    return this.heap[0];
  }

  pop(): Event | undefined {
    const h = this.heap;
    const top = h[0];
    const last = h.pop();
    if (top === undefined || last === undefined || h.length === 0) return top;
    h[0] = last;
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < h.length && before(h[l]!, h[m]!)) m = l;
      if (r < h.length && before(h[r]!, h[m]!)) m = r;
      if (m === i) break;
      [h[i], h[m]] = [h[m]!, h[i]!];
      i = m;
    }
    return top;
  }
}

function before(a: Event, b: Event): boolean {
  return a.at < b.at || (a.at === b.at && a.seq < b.seq);
}

/**
 * Lets every promise chain already started run to its next wait on the virtual
 * clock. Called from a microtask, a nextTick callback runs only once the
 * microtask queue is empty (Node drains it before the tick queue), which is
 * what "settled" means here: nothing in a simulated member waits on real I/O.
 * An event-loop turn (setImmediate) costs ~20x more, so it is taken only every
 * few steps (`turn`): enough for the code that yields with a real setImmediate
 * (mvcc compaction, the bbolt writer) to make progress, at points fixed by the
 * step count, so a seed still replays exactly.
 */
export function settle(turn = false): Promise<void> {
  return new Promise((resolve) => (turn ? setImmediate(resolve) : process.nextTick(resolve)));
}

/** One real event-loop turn every this many steps (see settle). */
const STEPS_PER_TURN = 8;

/** The epoch the virtual wall clock starts at (a fixed date: ids derived from time replay too). */
const EPOCH_MS = Date.UTC(2026, 0, 1);

export class VirtualClock implements Clock {
  private t = 0;
  private seq = 0;
  private readonly queue = new EventQueue();
  /** Events run so far (a cost figure for the sweep). */
  steps = 0;
  /** Per-member skew of the wall clock (clock jumps and skew between members). */
  wallSkewMs = 0;

  /** Virtual milliseconds since the simulation started. */
  get elapsed(): number {
    return this.t;
  }

  now(): number {
    return EPOCH_MS + this.t + this.wallSkewMs;
  }

  monotonic(): number {
    return this.t;
  }

  after(ms: number, fn: () => void, _opts?: TimerOptions): Timer {
    const e: Event = { at: this.t + Math.max(0, ms), seq: this.seq++, fn, cancelled: false };
    this.queue.push(e);
    return {
      cancel: () => {
        e.cancelled = true;
      },
    };
  }

  every(ms: number, fn: () => void, opts?: TimerOptions): Timer {
    let current: Timer | undefined;
    let cancelled = false;
    const arm = () => {
      current = this.after(
        Math.max(1, ms),
        () => {
          if (cancelled) return;
          arm();
          fn();
        },
        opts,
      );
    };
    arm();
    return {
      cancel: () => {
        cancelled = true;
        current?.cancel();
      },
    };
  }

  soon(fn: () => void): void {
    this.after(0, fn);
  }

  /** Runs the next event (if any is due by `until`); false when there is none. */
  async step(until: number): Promise<boolean> {
    for (;;) {
      const e = this.queue.peek();
      if (e === undefined || e.at > until) return false;
      this.queue.pop();
      if (e.cancelled) continue;
      this.t = Math.max(this.t, e.at);
      this.steps++;
      e.fn();
      await settle(this.steps % STEPS_PER_TURN === 0);
      return true;
    }
  }

  /** Runs events until virtual time `until` (or until nothing is left), then moves the clock there. */
  async runUntil(until: number, onStep?: () => void): Promise<void> {
    while (await this.step(until)) onStep?.();
    this.t = Math.max(this.t, until);
    await settle(true);
  }

  /** Runs until `cond()` holds or `limitMs` of virtual time passed; returns whether it held. */
  async runUntilTrue(cond: () => boolean, limitMs: number): Promise<boolean> {
    const until = this.t + limitMs;
    while (!cond()) {
      if (!(await this.step(until))) {
        if (this.t >= until) return cond();
        this.t = until;
        await settle(true);
        return cond();
      }
    }
    return true;
  }
}

/**
 * One member incarnation's view of the shared virtual clock: same timeline,
 * its own wall-clock skew, and a kill switch: a crashed member's timers never
 * fire again (its promise chains may still settle, but every way out of it —
 * network, disk — belongs to the dead incarnation and is cut too).
 */
export class MemberClock implements Clock {
  /** Wall-clock offset from the shared timeline (skew; a jump changes it). */
  skewMs = 0;
  private readonly live = new Set<Timer>();
  private halted = false;
  /** Where this clock's monotonic time started, on the shared timeline. */
  private readonly origin: number;

  constructor(
    private readonly base: VirtualClock,
    /** How fast this member's clock runs (1.01: 1% fast, its timers fire early and its durations look long). */
    private readonly rate = 1,
  ) {
    this.origin = base.monotonic();
  }

  now(): number {
    // Whole milliseconds, as Date.now() gives (ids are derived from it).
    return Math.floor(
      this.base.now() + this.skewMs + (this.base.monotonic() - this.origin) * (this.rate - 1),
    );
  }

  monotonic(): number {
    return this.origin + (this.base.monotonic() - this.origin) * this.rate;
  }

  /** Member milliseconds → shared-timeline milliseconds. */
  private scaled(ms: number): number {
    return this.rate === 1 ? ms : Math.round(ms / this.rate);
  }

  after(ms: number, fn: () => void, opts?: TimerOptions): Timer {
    if (this.halted) return { cancel: () => undefined };
    const t: Timer = this.base.after(
      this.scaled(ms),
      () => {
        this.live.delete(t);
        if (!this.halted) fn();
      },
      opts,
    );
    this.live.add(t);
    return {
      cancel: () => {
        this.live.delete(t);
        t.cancel();
      },
    };
  }

  every(ms: number, fn: () => void, opts?: TimerOptions): Timer {
    if (this.halted) return { cancel: () => undefined };
    const t = this.base.every(
      this.scaled(ms),
      () => {
        if (!this.halted) fn();
      },
      opts,
    );
    this.live.add(t);
    return {
      cancel: () => {
        this.live.delete(t);
        t.cancel();
      },
    };
  }

  soon(fn: () => void): void {
    this.after(0, fn);
  }

  /** The member crashed: none of its timers fires again. */
  halt(): void {
    this.halted = true;
    for (const t of this.live) t.cancel();
    this.live.clear();
  }
}
