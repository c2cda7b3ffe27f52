// Time as the member sees it: wall time, monotonic time, timers and "soon".
// The real clock is Node's; the simulator (issue 8) drives a virtual one, so
// a whole member runs deterministically from a seed. Nothing in src/server
// reads the time or arms a timer except through a Clock.

export interface Timer {
  cancel(): void;
}

export interface TimerOptions {
  /** The timer alone does not keep the process alive (Node's unref). */
  unref?: boolean;
}

export interface Clock {
  /** Wall-clock milliseconds since the epoch (ids, log fields). */
  now(): number;
  /** Monotonic milliseconds (durations, lease expiry). */
  monotonic(): number;
  /** Calls `fn` once after `ms`. */
  after(ms: number, fn: () => void, opts?: TimerOptions): Timer;
  /** Calls `fn` every `ms`. */
  every(ms: number, fn: () => void, opts?: TimerOptions): Timer;
  /** Calls `fn` after the I/O already pending (Node's setImmediate). */
  soon(fn: () => void): void;
}

export function sleep(clock: Clock, ms: number): Promise<void> {
  return new Promise((resolve) => {
    clock.after(ms, resolve);
  });
}

/** Rejects with `makeErr()` unless `p` settles within `ms`. */
export function withTimeout<T>(clock: Clock, p: Promise<T>, ms: number, makeErr: () => Error): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = clock.after(ms, () => reject(makeErr()));
    p.then(
      (v) => {
        timer.cancel();
        resolve(v);
      },
      (e: unknown) => {
        timer.cancel();
        reject(e);
      },
    );
  });
}

function nodeTimer(
  handle: NodeJS.Timeout,
  opts: TimerOptions | undefined,
  clear: (h: NodeJS.Timeout) => void,
): Timer {
  if (opts?.unref === true) handle.unref();
  return { cancel: () => clear(handle) };
}

export const realClock: Clock = {
  now: () => Date.now(),
  monotonic: () => performance.now(),
  after: (ms, fn, opts) => nodeTimer(setTimeout(fn, ms), opts, clearTimeout),
  every: (ms, fn, opts) => nodeTimer(setInterval(fn, ms), opts, clearInterval),
  soon: (fn) => {
    setImmediate(fn);
  },
};
