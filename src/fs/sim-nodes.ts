// The simulated disk's inodes. Each file holds what a reader sees now (`data`: the page cache)
// and what survives a power loss (`durable`), plus the writes in between, in issue order
// (`pending`). Each directory holds its entries now and its durable entries; directory
// operations wait in one ordered list (SimDirOp) until an fsync of a directory they touch.
import { PagedBytes } from './paged-bytes.js';

export type PendingChange =
  /** `data` undefined = `length` zeros (kept sparse). */
  | { seq: number; kind: 'write'; offset: number; data: Buffer | undefined; length: number }
  | { seq: number; kind: 'truncate'; length: number };

export class FileNode {
  readonly kind = 'file';
  readonly data: PagedBytes;
  readonly durable: PagedBytes;
  pending: PendingChange[] = [];

  constructor(durable = new PagedBytes()) {
    this.durable = durable;
    this.data = durable.clone();
  }

  /** Makes the changes issued up to `seq` durable, in order. */
  flush(seq: number): void {
    let i = 0;
    while (i < this.pending.length && this.pending[i]!.seq <= seq)
      applyChange(this.durable, this.pending[i++]!);
    if (i > 0) this.pending = this.pending.slice(i);
  }

  /**
   * A failed fsync: Linux marks the dirty pages clean (or drops them), so these changes are
   * never written and a later fsync reports success without them. Readers still see them.
   */
  forget(seq: number): void {
    this.pending = this.pending.filter((c) => c.seq > seq);
  }
}

export function applyChange(target: PagedBytes, c: PendingChange): void {
  if (c.kind === 'truncate') target.truncate(c.length);
  else target.write(c.offset, c.data, c.length);
}

export class DirNode {
  readonly kind = 'dir';
  readonly entries: Map<string, SimNode>;
  readonly durable: Map<string, SimNode>;

  constructor(durable = new Map<string, SimNode>()) {
    this.durable = durable;
    this.entries = new Map(durable);
  }
}

export type SimNode = FileNode | DirNode;

/** A directory operation not yet durable: `commit` replays it on the durable entries. */
export interface SimDirOp {
  seq: number;
  dirs: DirNode[];
  commit: () => void;
}

/**
 * Commits the pending directory operations an fsync of `dir` (issued at `seq`) makes durable:
 * those touching `dir`, and, because a journal commits in order, every earlier one touching a
 * directory that a committed one touches (a rename is one atomic journal entry over two
 * directories). Returns the operations left pending.
 */
export function commitDirOps(pending: SimDirOp[], dir: DirNode, seq: number): SimDirOp[] {
  const touched = new Set<DirNode>([dir]);
  const chosen = new Set<SimDirOp>();
  for (let i = pending.length - 1; i >= 0; i--) {
    const op = pending[i]!;
    if (op.seq > seq || !op.dirs.some((d) => touched.has(d))) continue;
    chosen.add(op);
    for (const d of op.dirs) touched.add(d);
  }
  if (chosen.size === 0) return pending;
  for (const op of pending) if (chosen.has(op)) op.commit();
  return pending.filter((op) => !chosen.has(op));
}
