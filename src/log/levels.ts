// zap's levels in order of severity. "dpanic" and "panic" exist because etcd's
// --log-level accepts them; etcd-ts never panics on a log call.

import type { Level } from './types.js';

export type AnyLevel = Level;

const SEVERITY: Readonly<Record<AnyLevel, number>> = {
  debug: -1,
  info: 0,
  warn: 1,
  error: 2,
  dpanic: 3,
  panic: 4,
  fatal: 5,
};

export function severity(level: AnyLevel): number {
  return SEVERITY[level];
}

export function isLevelName(s: string): s is AnyLevel {
  return Object.hasOwn(SEVERITY, s);
}

/** capnslog's one-letter level tags (N = notice has no zap equivalent). */
export const CAPNSLOG_TAG: Readonly<Record<AnyLevel, string>> = {
  debug: 'D',
  info: 'I',
  warn: 'W',
  error: 'E',
  dpanic: 'C',
  panic: 'C',
  fatal: 'C',
};
