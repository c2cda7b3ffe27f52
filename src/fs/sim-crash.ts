// What a power loss leaves of a simulated disk: the durable state, plus (as the options allow)
// some of what had not been synced yet, with at most one write per file torn part-way.
import type { PagedBytes } from './paged-bytes.js';
import {
  applyChange,
  DirNode,
  FileNode,
  type PendingChange,
  type SimDirOp,
  type SimNode,
} from './sim-nodes.js';

export interface CrashOptions {
  /**
   * Which unsynced changes of a file reach the disk: 'none'; a random 'prefix' in issue order
   * (default: a disk that writes back in order); or 'any' subset (write-back in any order).
   */
  writes?: 'none' | 'prefix' | 'any';
  /** Chance that the first unsynced write not kept is torn: only part of it reaches the disk (default 0.5). */
  tear?: number;
  /** A write tears into units of this many bytes at aligned file offsets (default 512: a sector is written whole or not at all; 1 tears at any byte). */
  tearUnit?: number;
  /** Which units of a torn write reach the disk: a 'prefix' (default) or any 'subset'. */
  tearShape?: 'prefix' | 'subset';
  /**
   * Directory operations not yet fsynced: 'none' survive, or a random 'prefix' in issue order
   * (default: the file system committed its journal on its own now and then).
   */
  dirOps?: 'none' | 'prefix';
}

/** What one crash did (for tests and simulator traces). */
export interface CrashReport {
  keptWrites: number;
  droppedWrites: number;
  torn: { path: string; offset: number; length: number; keptBytes: number }[];
  keptDirOps: number;
  droppedDirOps: number;
}

interface Settings {
  writes: 'none' | 'prefix' | 'any';
  tear: number;
  tearUnit: number;
  tearShape: 'prefix' | 'subset';
  dirOps: 'none' | 'prefix';
}

function settingsOf(o: CrashOptions): Settings {
  const s: Settings = {
    writes: o.writes ?? 'prefix',
    tear: o.tear ?? 0.5,
    tearUnit: o.tearUnit ?? 512,
    tearShape: o.tearShape ?? 'prefix',
    dirOps: o.dirOps ?? 'prefix',
  };
  if (!(s.tear >= 0 && s.tear <= 1)) throw new RangeError(`sim-fs: bad tear probability ${s.tear}`);
  if (!Number.isSafeInteger(s.tearUnit) || s.tearUnit < 1)
    throw new RangeError(`sim-fs: bad tear unit ${s.tearUnit}`);
  return s;
}

/**
 * The disk after a power loss, as a new tree of inodes (the old one is left alone but for its
 * durable directory entries, which absorb the directory operations that survive). Random draws
 * happen in a fixed order (directory operations, then files depth-first by name), so one seed
 * gives one disk.
 */
export function crashImage(
  root: DirNode,
  pendingDirOps: SimDirOp[],
  random: () => number,
  options: CrashOptions,
): { root: DirNode; report: CrashReport } {
  const s = settingsOf(options);
  const report: CrashReport = { keptWrites: 0, droppedWrites: 0, torn: [], keptDirOps: 0, droppedDirOps: 0 };
  const keepOps = s.dirOps === 'prefix' ? Math.floor(random() * (pendingDirOps.length + 1)) : 0;
  for (let i = 0; i < keepOps; i++) pendingDirOps[i]!.commit();
  report.keptDirOps = keepOps;
  report.droppedDirOps = pendingDirOps.length - keepOps;

  const copies = new Map<SimNode, SimNode>();
  const copy = (node: SimNode, path: string): SimNode => {
    const done = copies.get(node);
    if (done !== undefined) return done;
    let out: SimNode;
    if (node.kind === 'dir') {
      const entries = new Map<string, SimNode>();
      for (const name of [...node.durable.keys()].sort()) {
        entries.set(name, copy(node.durable.get(name)!, `${path === '/' ? '' : path}/${name}`));
      }
      out = new DirNode(entries);
    } else {
      out = new FileNode(survivingContent(node, path, random, s, report));
    }
    copies.set(node, out);
    return out;
  };
  return { root: copy(root, '/') as DirNode, report };
}

function survivingContent(
  file: FileNode,
  path: string,
  random: () => number,
  s: Settings,
  report: CrashReport,
): PagedBytes {
  const content = file.durable.clone();
  const changes = file.pending;
  if (changes.length === 0) return content;
  const kept = chooseKept(changes.length, random, s.writes);
  const firstDropped = kept.indexOf(false);
  const tearAt = firstDropped >= 0 && s.tear > 0 && random() < s.tear ? firstDropped : -1;
  changes.forEach((c, i) => {
    if (kept[i]) {
      applyChange(content, c);
      report.keptWrites++;
      return;
    }
    report.droppedWrites++;
    if (i === tearAt && c.kind === 'write') {
      const keptBytes = tearWrite(content, c, random, s);
      report.torn.push({ path, offset: c.offset, length: c.length, keptBytes });
    }
  });
  return content;
}

function chooseKept(n: number, random: () => number, mode: Settings['writes']): boolean[] {
  if (mode === 'none') return new Array<boolean>(n).fill(false);
  if (mode === 'any') return Array.from({ length: n }, () => random() < 0.5);
  const k = Math.floor(random() * (n + 1));
  return Array.from({ length: n }, (_, i) => i < k);
}

/** Writes part of `w`: whole units at aligned offsets, a prefix of them or any subset. Returns the bytes kept. */
function tearWrite(
  target: PagedBytes,
  w: Extract<PendingChange, { kind: 'write' }>,
  random: () => number,
  s: Settings,
): number {
  const start = w.offset;
  const end = w.offset + w.length;
  const cuts: number[] = [];
  for (let b = (Math.floor(start / s.tearUnit) + 1) * s.tearUnit; b < end; b += s.tearUnit) cuts.push(b);
  // A write inside one unit cannot tear: it is all there or not at all (here: not).
  if (cuts.length === 0) return 0;
  const put = (from: number, to: number): void => {
    target.write(from, w.data?.subarray(from - start, to - start), to - from);
  };
  if (s.tearShape === 'prefix') {
    const cut = cuts[Math.floor(random() * cuts.length)]!;
    put(start, cut);
    return cut - start;
  }
  const bounds = [start, ...cuts, end];
  let keptBytes = 0;
  for (let i = 0; i + 1 < bounds.length; i++) {
    if (random() < 0.5) {
      put(bounds[i]!, bounds[i + 1]!);
      keptBytes += bounds[i + 1]! - bounds[i]!;
    }
  }
  return keptBytes;
}
