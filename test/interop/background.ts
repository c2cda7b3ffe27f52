// A long-running client process (etcdctl watch/lock/elect, the Go clientv3
// program) started by a test: its output as it arrives, waiting for a line
// with a deadline, writing to its stdin, and stopping exactly this process.
import { type ChildProcess, spawn } from 'node:child_process';

export interface Ended {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export class Background {
  private readonly proc: ChildProcess;
  private readonly ended: Promise<Ended>;
  private readonly listeners = new Set<() => void>();
  private result: Ended | undefined;
  stdout = '';
  stderr = '';

  /** `encoding` latin1 keeps every byte as one character (binary output such as `-w protobuf`). */
  constructor(
    readonly file: string,
    readonly args: string[],
    env: Record<string, string> = {},
    encoding: 'utf8' | 'latin1' = 'utf8',
  ) {
    this.proc = spawn(file, args, {
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', ETCDCTL_API: '3', ...env },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    this.proc.stdout?.setEncoding(encoding);
    this.proc.stderr?.setEncoding(encoding);
    this.proc.stdout?.on('data', (s: string) => {
      this.stdout += s;
      this.notify();
    });
    this.proc.stderr?.on('data', (s: string) => {
      this.stderr += s;
      this.notify();
    });
    // A process that exits before reading its stdin must not crash the test with EPIPE.
    this.proc.stdin?.on('error', () => undefined);
    this.ended = new Promise((resolve) => {
      this.proc.once('close', (code, signal) => {
        this.result = { code, signal };
        this.notify();
        resolve(this.result);
      });
      this.proc.once('error', (err) => {
        this.stderr += `\nspawn error: ${err.message}`;
        this.result = { code: -1, signal: null };
        this.notify();
        resolve(this.result);
      });
    });
  }

  get pid(): number | undefined {
    return this.proc.pid;
  }

  get exited(): boolean {
    return this.result !== undefined;
  }

  private notify(): void {
    for (const l of [...this.listeners]) l();
  }

  /** What this process printed so far, for failure messages. */
  describe(): string {
    return `${this.file} ${this.args.join(' ')}\n--- stdout ---\n${this.stdout}\n--- stderr ---\n${this.stderr}`;
  }

  /**
   * Resolves with the match once `pattern` matches stdout (or stderr with
   * `stream`); rejects when the deadline passes or the process exits first.
   */
  waitFor(
    pattern: RegExp,
    timeoutMs: number,
    stream: 'stdout' | 'stderr' = 'stdout',
  ): Promise<RegExpExecArray> {
    return new Promise((resolve, reject) => {
      let timer: NodeJS.Timeout | undefined;
      const done = (): void => {
        this.listeners.delete(check);
        if (timer !== undefined) clearTimeout(timer);
      };
      const check = (): void => {
        const m = new RegExp(pattern.source, pattern.flags.replace('g', '')).exec(this[stream]);
        if (m !== null) {
          done();
          resolve(m);
        } else if (this.result !== undefined) {
          done();
          reject(
            new Error(
              `exited (${JSON.stringify(this.result)}) before ${stream} matched ${pattern}\n${this.describe()}`,
            ),
          );
        }
      };
      timer = setTimeout(() => {
        done();
        reject(new Error(`no match for ${pattern} on ${stream} within ${timeoutMs} ms\n${this.describe()}`));
      }, timeoutMs);
      this.listeners.add(check);
      check();
    });
  }

  /** Like waitFor, but answers whether it matched in time instead of rejecting. */
  async sees(pattern: RegExp, timeoutMs: number): Promise<boolean> {
    try {
      await this.waitFor(pattern, timeoutMs);
      return true;
    } catch {
      return false;
    }
  }

  write(text: string): void {
    this.proc.stdin?.write(text);
  }

  closeStdin(): void {
    this.proc.stdin?.end();
  }

  /** Waits for the process to exit on its own; rejects after the deadline (leaving it running). */
  async waitExit(timeoutMs: number): Promise<Ended> {
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new Error(`still running after ${timeoutMs} ms\n${this.describe()}`)),
        timeoutMs,
      );
    });
    try {
      return await Promise.race([this.ended, deadline]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** Sends `signal` (if still running) and waits for the exit; SIGKILL after `graceMs`. */
  async stop(signal: NodeJS.Signals = 'SIGTERM', graceMs = 10_000): Promise<Ended> {
    if (this.result !== undefined) return this.result;
    this.proc.kill(signal);
    const timer = setTimeout(() => this.proc.kill('SIGKILL'), graceMs);
    try {
      return await this.ended;
    } finally {
      clearTimeout(timer);
    }
  }
}

/** Stops every process in the list that is still running (for `after` hooks and failures). */
export async function stopAll(procs: Iterable<Background>): Promise<void> {
  await Promise.all([...procs].map((p) => p.stop('SIGKILL')));
}
