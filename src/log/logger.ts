// A small zap-like logger: level check first (a disabled call costs one
// comparison and allocates nothing beyond the caller's own arguments), then the
// record is encoded once and written to every sink.

import { callerOf } from './caller.js';
import { type Encoder, encodeCapnslog, encodeJson } from './encode.js';
import { isLevelName, severity } from './levels.js';
import { openSinks, type Sink } from './sinks.js';
import type { Level, LogFields, Logger } from './types.js';

export type LogFormat = 'json' | 'capnslog';

export interface LoggerOptions {
  /** 'json' is zap's format (--logger=zap); 'capnslog' the 3.4 default text format. */
  format: LogFormat;
  level: Level;
  /** "stderr", "stdout", "default" (= stderr) or file paths. Ignored when `sinks` is given. */
  outputs?: readonly string[];
  sinks?: Sink[];
  /** Milliseconds since the epoch (fraction = sub-millisecond); injectable for tests. */
  clock?: () => number;
  /** Record the calling file:line (default true). */
  caller?: boolean;
}

interface Core {
  minSeverity: number;
  encode: Encoder;
  sinks: Sink[];
  clock: () => number;
  caller: boolean;
}

const wallClock = (): number => performance.timeOrigin + performance.now();
const NO_FIELDS: readonly LogFields[] = [];

/** Frames between the user's call and callerOf(): log() and the level method. */
const LOGGER_FRAMES = 2;

class CoreLogger implements Logger {
  constructor(
    private readonly core: Core,
    private readonly bound: readonly LogFields[],
  ) {}

  debug(msg: string, fields?: LogFields): void {
    if (this.core.minSeverity <= -1) this.log('debug', msg, fields);
  }
  info(msg: string, fields?: LogFields): void {
    if (this.core.minSeverity <= 0) this.log('info', msg, fields);
  }
  warn(msg: string, fields?: LogFields): void {
    if (this.core.minSeverity <= 1) this.log('warn', msg, fields);
  }
  error(msg: string, fields?: LogFields): void {
    if (this.core.minSeverity <= 2) this.log('error', msg, fields);
  }
  fatal(msg: string, fields?: LogFields): void {
    this.log('fatal', msg, fields);
  }

  enabled(level: Level): boolean {
    return severity(level) >= this.core.minSeverity;
  }

  with(fields: LogFields): Logger {
    return new CoreLogger(this.core, [...this.bound, fields]);
  }

  flush(): void {
    // Sinks write synchronously; nothing is buffered.
  }

  close(): void {
    for (const s of this.core.sinks) s.close();
  }

  private log(level: Level, msg: string, fields: LogFields | undefined): void {
    const line = this.core.encode({
      level,
      timeMs: this.core.clock(),
      caller: this.core.caller ? callerOf(LOGGER_FRAMES) : 'etcd',
      msg,
      fields:
        fields === undefined ? (this.bound.length === 0 ? NO_FIELDS : this.bound) : [...this.bound, fields],
    });
    for (const s of this.core.sinks) s.write(line);
  }
}

export function createLogger(opts: LoggerOptions): Logger & { close(): void } {
  if (!isLevelName(opts.level)) throw new Error(`unknown level "${opts.level}"`);
  const sinks = opts.sinks ?? openSinks(opts.outputs ?? ['stderr']);
  const core: Core = {
    minSeverity: severity(opts.level),
    encode: opts.format === 'json' ? encodeJson : encodeCapnslog,
    sinks,
    clock: opts.clock ?? wallClock,
    caller: opts.caller ?? true,
  };
  return new CoreLogger(core, []);
}

/** A logger that drops everything (tests, library use without logging). */
export function nopLogger(): Logger {
  return createLogger({ format: 'json', level: 'fatal', sinks: [], caller: false });
}
