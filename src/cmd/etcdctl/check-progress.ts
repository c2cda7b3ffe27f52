// The progress line `etcdctl check` draws, as etcdctl 3.4's progress bar library (cheggaaa/pb v1
// with the "Bom !" format) draws it: every 200 ms a carriage return and
// ` done / total Booooom      !  12.34% 00m04s`, padded to the terminal's width. Without a
// terminal the width is 0: no bar and no padding, only counters, percentage and time left,
// which is what etcdctl prints into a pipe too.

const REFRESH_MS = 200;
const BAR = { start: 'B', fill: 'o', head: 'm', empty: ' ', end: '!' } as const;

export interface ProgressSink {
  write(s: string): void;
  /** Columns of the terminal, 0 when there is none. */
  readonly width: number;
}

export class CheckProgress {
  private current = 0;
  private previous = 0;
  private readonly started = Date.now();
  private changedAt = this.started;
  private timer: NodeJS.Timeout | undefined;
  private finished = false;

  constructor(
    private readonly total: number,
    private readonly sink: ProgressSink,
  ) {}

  start(): this {
    this.refresh();
    this.timer = setInterval(() => this.refresh(), REFRESH_MS);
    return this;
  }

  add(n = 1): void {
    this.current += n;
  }

  /** Draws the final line (elapsed time instead of time left) and ends it with a newline. */
  finish(): void {
    if (this.finished) return;
    this.finished = true;
    clearInterval(this.timer);
    this.sink.write(`\r${progressLine(this.lineState(Date.now()), this.sink.width)}\n`);
  }

  private refresh(): void {
    if (this.current !== this.previous) {
      this.changedAt = Date.now();
      this.previous = this.current;
    }
    this.sink.write(`\r${progressLine(this.lineState(Date.now()), this.sink.width)}`);
  }

  private lineState(now: number): LineState {
    return {
      total: this.total,
      current: this.current,
      elapsedMs: now - this.started,
      sinceChangeMs: now - this.changedAt,
      changedAfterMs: this.changedAt - this.started,
      finished: this.finished,
    };
  }
}

export interface LineState {
  total: number;
  current: number;
  elapsedMs: number;
  /** Time from the start to the last time the count was seen to change. */
  changedAfterMs: number;
  sinceChangeMs: number;
  finished: boolean;
}

/** One progress line (without the carriage return), `width` columns wide when width > 0. */
export function progressLine(s: LineState, width: number): string {
  const percent = ` ${((s.current / s.total) * 100).toFixed(2).padStart(6)}%`;
  const counters = ` ${s.current} / ${s.total} `;
  const time = s.finished ? ` ${goSeconds(Math.floor(s.elapsedMs / 1000))}` : timeLeft(s);
  let bar = '';
  const size = width - (counters.length + BAR.start.length + BAR.end.length + percent.length + time.length);
  if (size > 0) {
    const filled = Math.min(size, Math.ceil((s.current / s.total) * size));
    const empty = Math.max(0, size - filled);
    bar = BAR.start;
    if (empty <= 0) bar += BAR.fill.repeat(filled);
    else if (filled > 0) bar += BAR.fill.repeat(filled - 1) + BAR.head;
    bar += BAR.empty.repeat(empty) + BAR.end;
  }
  const line = counters + bar + percent + time;
  return line.length < width ? line.padEnd(width) : line;
}

/** The estimate pb prints: time per item so far times the items left, whole seconds, e.g. " 00m41s". */
function timeLeft(s: LineState): string {
  if (s.current <= 0) return '';
  const perItem = s.changedAfterMs / s.current;
  const leftMs = (s.total - s.current) * perItem - s.sinceChangeMs;
  const seconds = Math.floor(leftMs / 1000);
  if (seconds <= 0) return '';
  const hours = Math.floor(seconds / 3600);
  const minutes = Math.floor((seconds % 3600) / 60);
  const secs = seconds % 60;
  const pad = (n: number) => String(n).padStart(2, '0');
  return ` ${hours > 0 ? `${hours}h` : ''}${pad(minutes)}m${pad(secs)}s`;
}

/** Go's time.Duration String() for whole seconds: "3s", "1m0s", "1h2m3s". */
function goSeconds(total: number): string {
  if (total === 0) return '0s';
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const sec = total % 60;
  if (h > 0) return `${h}h${m}m${sec}s`;
  if (m > 0) return `${m}m${sec}s`;
  return `${sec}s`;
}
