// Shared helpers for the WAL and snapshot tests (temp dirs, entry builders, a capturing logger).
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Entry } from '../raft/types.js';
import type { WalLogger } from './errors.js';

export async function withTempDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'etcdts-wal-test-'));
  try {
    await fn(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** Deterministic pseudo-random bytes (no Math.random: failures must replay). */
export function bytes(n: number, seed: number): Uint8Array {
  const out = new Uint8Array(n);
  let x = (seed * 2654435761) >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    out[i] = x & 0xff;
  }
  return out;
}

export function entries(from: number, to: number, term = 1, size = 40): Entry[] {
  const out: Entry[] = [];
  for (let i = from; i <= to; i++) out.push({ term, index: i, type: 0, data: bytes(size, i * 31 + term) });
  return out;
}

export interface LogLine {
  level: string;
  msg: string;
  fields?: Record<string, unknown>;
}

export function capturingLogger(): { log: WalLogger; lines: LogLine[] } {
  const lines: LogLine[] = [];
  const log: WalLogger = (level, msg, fields) => {
    lines.push(fields ? { level, msg, fields } : { level, msg });
  };
  return { log, lines };
}
