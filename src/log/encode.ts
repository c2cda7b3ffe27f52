// The two line formats etcd 3.4 writes:
//  - zap JSON (--logger=zap): {"level":"info","ts":"...","caller":"...","msg":"...",<fields>}
//    with keys in that order, one object per line;
//  - capnslog text (--logger=capnslog, etcd 3.4's default):
//    "2026-11-23 06:21:32.981619 I | etcdserver: message", fields appended as key=value.

import { CAPNSLOG_TAG } from './levels.js';
import type { Level, LogFields, LogFieldValue } from './types.js';

export interface LogRecord {
  level: Level;
  /** Milliseconds since the epoch, with a fractional part for microseconds. */
  timeMs: number;
  caller: string;
  msg: string;
  /** Bound fields (from with()) first, then the call's own fields. */
  fields: readonly LogFields[];
}

export type Encoder = (r: LogRecord) => string;

/** JSON value for a field: bigint as an exact integer, Error as its message, the rest as JSON. */
export function encodeValue(v: LogFieldValue): string {
  switch (typeof v) {
    case 'string':
      return JSON.stringify(v);
    case 'number':
      return Number.isFinite(v) ? String(v) : JSON.stringify(String(v));
    case 'boolean':
      return v ? 'true' : 'false';
    case 'bigint':
      return v.toString();
    case 'undefined':
      return 'null';
    default:
      if (v === null) return 'null';
      if (v instanceof Error) return JSON.stringify(v.message);
      return JSON.stringify(v, (_k, x: unknown) => (typeof x === 'bigint' ? x.toString() : x)) ?? 'null';
  }
}

export const encodeJson: Encoder = (r) => {
  let line = `{"level":"${r.level}","ts":"${isoMillis(r.timeMs)}","caller":${JSON.stringify(r.caller)},"msg":${JSON.stringify(r.msg)}`;
  for (const group of r.fields) {
    for (const key in group) {
      line += `,${JSON.stringify(key)}:${encodeValue(group[key])}`;
    }
  }
  return `${line}}\n`;
};

export const encodeCapnslog: Encoder = (r) => {
  let line = `${capnslogTime(r.timeMs)} ${CAPNSLOG_TAG[r.level]} | ${packageOf(r.caller)}: ${r.msg}`;
  for (const group of r.fields) {
    for (const key in group) {
      const v = group[key];
      line += ` ${key}=${typeof v === 'string' && /^[^\s"=]+$/.test(v) ? v : encodeValue(v)}`;
    }
  }
  return `${line}\n`;
};

/** zap's ISO8601 encoder in UTC: 2026-11-23T06:21:46.628Z. */
function isoMillis(timeMs: number): string {
  return new Date(Math.floor(timeMs)).toISOString();
}

/** capnslog's "2006-01-02 15:04:05.000000" (UTC here). */
function capnslogTime(timeMs: number): string {
  const whole = Math.floor(timeMs);
  const iso = new Date(whole).toISOString();
  const micros = Math.floor((timeMs - whole) * 1000)
    .toString()
    .padStart(3, '0');
  return `${iso.slice(0, 10)} ${iso.slice(11, 23)}${micros}`;
}

/** capnslog names a package; ours is the caller's directory ("server/etcd.js:12" → "server"). */
function packageOf(caller: string): string {
  const slash = caller.indexOf('/');
  return slash > 0 ? caller.slice(0, slash) : caller.replace(/\.js:\d+$/, '');
}
