// How the simulator steers a simulated disk: when each operation completes (DiskScheduler) and
// which ones fail (DiskFaults). Both are consulted once per operation, in the order the
// operations are issued, so a seeded simulator replays the same disk exactly.
import type { FsErrorCode } from './file-system.js';

export type DiskOpKind =
  | 'open'
  | 'close'
  | 'read'
  | 'readFile'
  | 'readdir'
  | 'stat'
  | 'write'
  | 'datasync'
  | 'fsync'
  | 'fsyncDir'
  | 'mkdir'
  | 'rename'
  | 'unlink'
  | 'rm'
  | 'truncate';

export interface DiskOp {
  kind: DiskOpKind;
  path: string;
  /** Bytes written or read, when the operation moves data. */
  bytes?: number;
}

export interface DiskScheduler {
  /**
   * Resolves when `op` completes: immediately for a fast disk, after some virtual time for a
   * slow one, never (or much later) for a stalled one. A mutation is visible to reads as soon
   * as it is issued; it is durable only once its fsync (or O_DSYNC write) has completed.
   */
  delay(op: DiskOp): Promise<void>;
}

/** Every operation completes at once (one microtask later). */
export const immediateDisk: DiskScheduler = { delay: () => Promise.resolve() };

export interface DiskFaults {
  /** An error code for `op` to fail with, or undefined to let it succeed. */
  fail(op: DiskOp): FsErrorCode | undefined;
}

export const noFaults: DiskFaults = { fail: () => undefined };

export interface FaultRule {
  /** Kinds of operation the rule applies to. */
  ops: DiskOpKind[];
  /** Only paths equal to this string or matching this pattern. */
  path?: string | RegExp;
  /** Default EIO. */
  code?: FsErrorCode;
  /** Let this many matching operations pass first (default 0). */
  skip?: number;
  /** Fail this many matching operations, then retire (default 1; Infinity = every one). */
  times?: number;
}

/** Faults planned up front: "fail the next fdatasync of a .wal file with EIO". */
export class ScriptedFaults implements DiskFaults {
  private readonly rules: { rule: FaultRule; skip: number; left: number }[] = [];

  add(rule: FaultRule): void {
    this.rules.push({ rule, skip: rule.skip ?? 0, left: rule.times ?? 1 });
  }

  fail(op: DiskOp): FsErrorCode | undefined {
    for (const r of this.rules) {
      if (r.left <= 0 || !matches(r.rule, op)) continue;
      if (r.skip > 0) {
        r.skip--;
        continue;
      }
      r.left--;
      return r.rule.code ?? 'EIO';
    }
    return undefined;
  }
}

function matches(rule: FaultRule, op: DiskOp): boolean {
  if (!rule.ops.includes(op.kind)) return false;
  if (rule.path === undefined) return true;
  return typeof rule.path === 'string' ? rule.path === op.path : rule.path.test(op.path);
}
