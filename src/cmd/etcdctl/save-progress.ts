// The progress line `snapshot save` draws on a terminal (never when stderr is a file or a pipe,
// so scripted output stays exactly etcdctl's): bytes so far of the total, a bar, the rate.
import { humanBytes } from './printer/humanize.js';

const BAR_WIDTH = 30;
const REDRAW_MS = 100;

export class SaveProgress {
  private readonly started = performance.now();
  private lastDraw = -Infinity;
  private drawn = false;

  constructor(private readonly write: (s: string) => void) {}

  update(done: number, total: number): void {
    const now = performance.now();
    if (now - this.lastDraw < REDRAW_MS && done < total) return;
    this.lastDraw = now;
    this.drawn = true;
    this.write(`\r${progressLine(done, total, (now - this.started) / 1000)}\x1b[K`);
  }

  /** Clears the line so the log lines and the result print as usual. */
  done(): void {
    if (this.drawn) this.write('\r\x1b[K');
    this.drawn = false;
  }
}

export function progressLine(done: number, total: number, seconds: number): string {
  const fraction = total > 0 ? Math.min(1, done / total) : 1;
  const filled = Math.round(fraction * BAR_WIDTH);
  const bar = `${'='.repeat(Math.max(0, filled - 1))}${filled > 0 ? (fraction < 1 ? '>' : '=') : ''}`;
  const rate = seconds > 0 ? `${humanBytes(Math.round(done / seconds))}/s` : '';
  return `${humanBytes(done)} / ${humanBytes(total)} [${bar.padEnd(BAR_WIDTH)}] ${Math.floor(fraction * 100)}% ${rate}`.trimEnd();
}
