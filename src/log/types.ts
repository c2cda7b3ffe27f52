// The logger every etcd-ts module receives. Shaped after zap's sugared-free API:
// a message plus structured fields, one JSON object per line on the wire.

export type LogFieldValue =
  | string
  | number
  | boolean
  | bigint
  | null
  | undefined
  | readonly string[]
  | object;
export type LogFields = Record<string, LogFieldValue>;

export type Level = 'debug' | 'info' | 'warn' | 'error' | 'dpanic' | 'panic' | 'fatal';

export interface Logger {
  debug(msg: string, fields?: LogFields): void;
  info(msg: string, fields?: LogFields): void;
  warn(msg: string, fields?: LogFields): void;
  error(msg: string, fields?: LogFields): void;
  /** Logs at "panic"/"fatal" level; the caller decides what to do next (no throw, no exit). */
  fatal(msg: string, fields?: LogFields): void;
  /** Cheap guard for callers that would build expensive fields. */
  enabled(level: Level): boolean;
  /** A logger that adds `fields` to every record (zap's With). */
  with(fields: LogFields): Logger;
  /** Flush buffered file output (synchronous writes make this a no-op for stderr/stdout). */
  flush(): void;
}
