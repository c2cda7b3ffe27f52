// Log lines in the shape of zap's production JSON logger, which etcdctl's snapshot code uses
// (stderr; "ts" in epoch seconds, or ISO 8601 as etcd 3.5's tools configure it).

export type ZapFields = Record<string, string | number | string[]>;

export function zapLine(
  io: { err(s: string): void },
  level: 'info' | 'warn' | 'error',
  caller: string,
  msg: string,
  fields: ZapFields = {},
  isoTime = false,
): void {
  const ts = isoTime ? new Date().toISOString() : Date.now() / 1000;
  io.err(`${JSON.stringify({ level, ts, caller, msg, ...fields })}\n`);
}
