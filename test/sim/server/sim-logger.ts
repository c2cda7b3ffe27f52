// A Logger for simulated members: records lines with the virtual time (for
// --trace and for a failing seed's report), never writes to the terminal
// unless tracing.
import type { Level, LogFields, Logger } from '../../../src/log/types.js';

export class SimLog {
  readonly lines: string[] = [];
  constructor(
    private readonly now: () => number,
    readonly trace: ((line: string) => void) | undefined,
    private readonly keep = 400,
  ) {}

  add(who: string, level: string, msg: string, fields?: LogFields): void {
    const f =
      fields === undefined
        ? ''
        : ` ${JSON.stringify(fields, (_k, v) => (typeof v === 'bigint' ? v.toString(16) : v))}`;
    const line = `${String(this.now()).padStart(7)}ms ${who} ${level} ${msg}${f}`;
    this.trace?.(line);
    this.lines.push(line);
    if (this.lines.length > this.keep) this.lines.shift();
  }

  logger(who: string, base: LogFields = {}): Logger {
    const log = (level: Level) => (msg: string, fields?: LogFields) => {
      if (level === 'debug' && this.trace === undefined) return;
      this.add(who, level, msg, { ...base, ...fields });
    };
    return {
      debug: log('debug'),
      info: log('info'),
      warn: log('warn'),
      error: log('error'),
      fatal: log('fatal'),
      enabled: (level) => level !== 'debug' || this.trace !== undefined,
      with: (fields) => this.logger(who, { ...base, ...fields }),
      flush: () => undefined,
    };
  }
}
