// A deterministic in-memory disk for the simulator. The crash model (docs/decisions/0015):
// - file data: a write is visible at once and durable once an fdatasync/fsync of the file (or
//   the O_DSYNC write itself) has completed; a crash keeps the durable data, and, as the crash
//   options say, some unsynced writes and one torn write per file;
// - directory entries (create, mkdir, rename, unlink, rm): durable once an fsync of a directory
//   they touch has completed; pending ones commit in issue order, as a journal does;
// - a failed fsync forgets the file's unsynced writes (Linux marks the pages clean): they stay
//   readable, but no later fsync makes them durable;
// - after crash() this instance is dead: its pending and later asynchronous calls never settle
//   (a dead process sees no completions) and its blocking calls throw EIO.
import { posix } from 'node:path';
import {
  type DiskFaults,
  type DiskOp,
  type DiskOpKind,
  type DiskScheduler,
  type FaultRule,
  immediateDisk,
  noFaults,
  ScriptedFaults,
} from './disk-control.js';
import {
  type FileSystem,
  FsError,
  type FsErrorCode,
  type FsFile,
  type FsStat,
  type OpenFlags,
  type OpenOptions,
} from './file-system.js';
import { allZero } from './paged-bytes.js';
import { type CrashOptions, type CrashReport, crashImage } from './sim-crash.js';
import { commitDirOps, DirNode, FileNode, type SimDirOp, type SimNode } from './sim-nodes.js';

export interface SimFsOptions {
  /** When operations complete (default: at once). */
  scheduler?: DiskScheduler;
  /** Which operations fail (default: none). Rules added with injectFault() apply as well. */
  faults?: DiskFaults;
  /** Allow the blocking calls (the WAL's inline write path); default false. */
  blockingWrites?: boolean;
  /** A disk that acknowledges flushes without flushing (a volatile cache that ignores FUA): sabotage. */
  ignoreSyncs?: boolean;
}

const hang = (): Promise<never> => new Promise<never>(() => {});

export class SimFs implements FileSystem {
  scheduler: DiskScheduler;
  faults: DiskFaults;
  readonly blockingWrites: boolean;
  private readonly scripted = new ScriptedFaults();
  private readonly ignoreSyncs: boolean;
  private root = new DirNode();
  private dirOps: SimDirOp[] = [];
  private seq = 0;
  private dead = false;
  private report: CrashReport | undefined;

  /** An empty disk (only the root directory, durable). */
  constructor(opts: SimFsOptions = {}) {
    this.scheduler = opts.scheduler ?? immediateDisk;
    this.faults = opts.faults ?? noFaults;
    this.blockingWrites = opts.blockingWrites ?? false;
    this.ignoreSyncs = opts.ignoreSyncs ?? false;
  }

  /** What the crash that produced this disk did (undefined for a new disk). */
  get crashReport(): CrashReport | undefined {
    return this.report;
  }

  /** Fails matching operations from now on (see FaultRule). */
  injectFault(rule: FaultRule): void {
    this.scripted.add(rule);
  }

  /**
   * Power loss: returns the disk a restarted machine finds (same scheduler, faults and options;
   * rules added with injectFault() are not carried over). This instance is dead afterwards.
   */
  crash(random: () => number, opts: CrashOptions = {}): SimFs {
    this.dead = true;
    const { root, report } = crashImage(this.root, this.dirOps, random, opts);
    const next = new SimFs({
      scheduler: this.scheduler,
      faults: this.faults,
      blockingWrites: this.blockingWrites,
      ignoreSyncs: this.ignoreSyncs,
    });
    next.root = root;
    next.report = report;
    return next;
  }

  /** Count of changes not yet durable: unsynced file changes and directory operations. */
  unsynced(): { fileChanges: number; dirOps: number } {
    let fileChanges = 0;
    const seen = new Set<SimNode>();
    const walk = (d: DirNode): void => {
      for (const n of d.entries.values()) {
        if (seen.has(n)) continue;
        seen.add(n);
        if (n.kind === 'dir') walk(n);
        else fileChanges += n.pending.length;
      }
    };
    walk(this.root);
    return { fileChanges, dirOps: this.dirOps.length };
  }

  // ------------------------------------------------------------------ files

  async open(path: string, flags: OpenFlags, opts: OpenOptions = {}): Promise<FsFile> {
    if (this.dead) return hang();
    const op = { kind: 'open', path } as const;
    const fault = this.fault(op);
    let node: FileNode | undefined;
    let error: FsError | undefined;
    if (!fault) {
      try {
        node = this.openNode(path, flags);
      } catch (err) {
        error = err as FsError;
      }
    }
    await this.complete(op, fault);
    if (error) throw error;
    return new SimFile(this, node!, normalize(path), flags !== 'r', opts.dsync ?? false);
  }

  private openNode(path: string, flags: OpenFlags): FileNode {
    const existing = this.lookup(path, 'open');
    if (existing?.kind === 'dir') throw new FsError('EISDIR', 'open', path);
    if (flags === 'wx+' && existing) throw new FsError('EEXIST', 'open', path);
    if (existing) {
      if (flags === 'w') this.truncateNode(existing, 0);
      return existing;
    }
    if (flags === 'r' || flags === 'r+') throw new FsError('ENOENT', 'open', path);
    const { dir, name } = this.parentOf(path, 'open');
    const file = new FileNode();
    this.link(dir, name, file);
    return file;
  }

  async readFile(path: string): Promise<Buffer> {
    if (this.dead) return hang();
    const op = { kind: 'readFile', path } as const;
    await this.complete(op, this.fault(op));
    const node = this.lookup(path, 'open');
    if (node === undefined) throw new FsError('ENOENT', 'open', path);
    if (node.kind === 'dir') throw new FsError('EISDIR', 'read', path);
    return node.data.toBuffer();
  }

  async truncate(path: string, length: number): Promise<void> {
    if (this.dead) return hang();
    const op = { kind: 'truncate', path } as const;
    const fault = this.fault(op);
    let error: FsError | undefined;
    if (!fault) {
      const node = this.lookup(path, 'open');
      if (node === undefined) error = new FsError('ENOENT', 'open', path);
      else if (node.kind === 'dir') error = new FsError('EISDIR', 'open', path);
      else this.truncateNode(node, length);
    }
    await this.complete(op, fault);
    if (error) throw error;
  }

  // ------------------------------------------------------------ directories

  async readdir(dir: string): Promise<string[]> {
    if (this.dead) return hang();
    const op = { kind: 'readdir', path: dir } as const;
    await this.complete(op, this.fault(op));
    return this.list(dir);
  }

  readdirSync(dir: string): string[] {
    this.checkBlocking({ kind: 'readdir', path: dir });
    return this.list(dir);
  }

  private list(dir: string): string[] {
    const node = this.lookup(dir, 'scandir');
    if (node === undefined) throw new FsError('ENOENT', 'scandir', dir);
    if (node.kind !== 'dir') throw new FsError('ENOTDIR', 'scandir', dir);
    return [...node.entries.keys()].sort();
  }

  async stat(path: string): Promise<FsStat> {
    if (this.dead) return hang();
    const op = { kind: 'stat', path } as const;
    await this.complete(op, this.fault(op));
    const node = this.lookup(path, 'stat');
    if (node === undefined) throw new FsError('ENOENT', 'stat', path);
    return node.kind === 'dir'
      ? { size: 4096, isDirectory: true }
      : { size: node.data.size, isDirectory: false };
  }

  async exists(path: string): Promise<boolean> {
    try {
      await this.stat(path);
      return true;
    } catch {
      return false;
    }
  }

  async mkdir(path: string, opts: { recursive?: boolean } = {}): Promise<void> {
    if (this.dead) return hang();
    const op = { kind: 'mkdir', path } as const;
    const fault = this.fault(op);
    let error: FsError | undefined;
    if (!fault) {
      try {
        this.makeDir(path, opts.recursive ?? false);
      } catch (err) {
        error = err as FsError;
      }
    }
    await this.complete(op, fault);
    if (error) throw error;
  }

  private makeDir(path: string, recursive: boolean): void {
    const parts = split(path);
    let dir = this.root;
    for (let i = 0; i < parts.length; i++) {
      const name = parts[i]!;
      const last = i === parts.length - 1;
      const child = dir.entries.get(name);
      if (child?.kind === 'file') throw new FsError(last ? 'EEXIST' : 'ENOTDIR', 'mkdir', path);
      if (child?.kind === 'dir') {
        if (last && !recursive) throw new FsError('EEXIST', 'mkdir', path);
        dir = child;
        continue;
      }
      if (!last && !recursive) throw new FsError('ENOENT', 'mkdir', path);
      const made = new DirNode();
      this.link(dir, name, made);
      dir = made;
    }
  }

  async rename(from: string, to: string): Promise<void> {
    if (this.dead) return hang();
    const op = { kind: 'rename', path: from } as const;
    const fault = this.fault(op);
    let error: FsError | undefined;
    if (!fault) {
      try {
        this.move(from, to);
      } catch (err) {
        error = err as FsError;
      }
    }
    await this.complete(op, fault);
    if (error) throw error;
  }

  private move(from: string, to: string): void {
    const src = this.parentOf(from, 'rename');
    const node = src.dir.entries.get(src.name);
    if (node === undefined) throw new FsError('ENOENT', 'rename', from);
    const dst = this.parentOf(to, 'rename');
    const target = dst.dir.entries.get(dst.name);
    if (target === node) return;
    if (node.kind === 'dir' && isInside(node, dst.dir)) {
      throw new FsError('EINVAL', 'rename', from, 'a directory cannot move into itself');
    }
    if (target?.kind === 'dir' && node.kind === 'file') throw new FsError('EISDIR', 'rename', to);
    if (target?.kind === 'file' && node.kind === 'dir') throw new FsError('ENOTDIR', 'rename', to);
    if (target?.kind === 'dir' && target.entries.size > 0) throw new FsError('ENOTEMPTY', 'rename', to);
    src.dir.entries.delete(src.name);
    dst.dir.entries.set(dst.name, node);
    this.dirOp([src.dir, dst.dir], () => {
      if (src.dir.durable.get(src.name) === node) src.dir.durable.delete(src.name);
      dst.dir.durable.set(dst.name, node);
    });
  }

  async unlink(path: string): Promise<void> {
    if (this.dead) return hang();
    const op = { kind: 'unlink', path } as const;
    const fault = this.fault(op);
    let error: FsError | undefined;
    if (!fault) {
      const { dir, name } = this.parentOf(path, 'unlink');
      const node = dir.entries.get(name);
      if (node === undefined) error = new FsError('ENOENT', 'unlink', path);
      else if (node.kind === 'dir') error = new FsError('EISDIR', 'unlink', path);
      else this.unlinkEntry(dir, name, node);
    }
    await this.complete(op, fault);
    if (error) throw error;
  }

  async rm(path: string, opts: { recursive?: boolean; force?: boolean } = {}): Promise<void> {
    if (this.dead) return hang();
    const op = { kind: 'rm', path } as const;
    const fault = this.fault(op);
    let error: FsError | undefined;
    if (!fault) {
      const node = this.lookup(path, 'rm');
      if (node === undefined) {
        if (!opts.force) error = new FsError('ENOENT', 'rm', path);
      } else if (node === this.root) {
        error = new FsError('EINVAL', 'rm', path, 'the root cannot be removed');
      } else if (node.kind === 'dir' && !opts.recursive) {
        error = new FsError('ERR_FS_EISDIR', 'rm', path);
      } else {
        const { dir, name } = this.parentOf(path, 'rm');
        // One directory operation for the whole subtree: once it is durable, nothing below is reachable.
        this.unlinkEntry(dir, name, node);
      }
    }
    await this.complete(op, fault);
    if (error) throw error;
  }

  async fsyncDir(dir: string): Promise<void> {
    if (this.dead) return hang();
    const op = { kind: 'fsyncDir', path: dir } as const;
    const fault = this.fault(op);
    const node = this.lookup(dir, 'open');
    const seq = this.seq;
    await this.complete(op, fault);
    if (node === undefined) throw new FsError('ENOENT', 'open', dir);
    if (node.kind !== 'dir') throw new FsError('ENOTDIR', 'fsync', dir);
    if (!this.ignoreSyncs) this.dirOps = commitDirOps(this.dirOps, node, seq);
  }

  // ------------------------------------------------------- used by SimFile

  /** Issues a write: visible at once, pending until synced. Returns its sequence number. */
  issueWrite(node: FileNode, offset: number, data: Buffer): number {
    node.data.write(offset, data);
    const seq = ++this.seq;
    // Copy: callers reuse their buffers. All-zero writes (preallocation) stay sparse.
    const kept = allZero(data) ? undefined : Buffer.from(data);
    node.pending.push({ seq, kind: 'write', offset, data: kept, length: data.length });
    return seq;
  }

  /** An fsync of `node` covering changes up to `seq` completed (or failed). */
  synced(node: FileNode, seq: number, failed: boolean): void {
    if (failed) node.forget(seq);
    else if (!this.ignoreSyncs) node.flush(seq);
  }

  currentSeq(): number {
    return this.seq;
  }

  isDead(): boolean {
    return this.dead;
  }

  /** The fault planned for `op` (scripted rules first, then the injected DiskFaults). */
  fault(op: DiskOp): FsErrorCode | undefined {
    return this.scripted.fail(op) ?? this.faults.fail(op);
  }

  /** Waits for `op` to complete; throws its fault. A dead disk never completes. */
  async complete(op: DiskOp, fault: FsErrorCode | undefined): Promise<void> {
    await this.scheduler.delay(op);
    if (this.dead) await hang();
    if (fault) throw new FsError(fault, op.kind, op.path, 'injected fault');
  }

  /** Checks a blocking call: allowed, disk alive, no fault planned. */
  checkBlocking(op: DiskOp): void {
    if (this.dead) throw new FsError('EIO', op.kind, op.path, 'the disk crashed');
    const fault = this.fault(op);
    if (fault) throw new FsError(fault, op.kind, op.path, 'injected fault');
  }

  // --------------------------------------------------------------- internals

  private truncateNode(node: FileNode, length: number): void {
    node.data.truncate(length);
    node.pending.push({ seq: ++this.seq, kind: 'truncate', length });
  }

  private link(dir: DirNode, name: string, node: SimNode): void {
    dir.entries.set(name, node);
    this.dirOp([dir], () => dir.durable.set(name, node));
  }

  private unlinkEntry(dir: DirNode, name: string, node: SimNode): void {
    dir.entries.delete(name);
    this.dirOp([dir], () => {
      if (dir.durable.get(name) === node) dir.durable.delete(name);
    });
  }

  private dirOp(dirs: DirNode[], commit: () => void): void {
    this.dirOps.push({ seq: ++this.seq, dirs: [...new Set(dirs)], commit });
  }

  private lookup(path: string, syscall: string): SimNode | undefined {
    let node: SimNode = this.root;
    for (const name of split(path)) {
      if (node.kind !== 'dir') throw new FsError('ENOTDIR', syscall, path);
      const next = node.entries.get(name);
      if (next === undefined) return undefined;
      node = next;
    }
    return node;
  }

  private parentOf(path: string, syscall: string): { dir: DirNode; name: string } {
    const parts = split(path);
    const name = parts.pop();
    if (name === undefined) throw new FsError('EISDIR', syscall, path, 'the root has no parent');
    const dir = this.lookup(`/${parts.join('/')}`, syscall);
    if (dir === undefined) throw new FsError('ENOENT', syscall, path);
    if (dir.kind !== 'dir') throw new FsError('ENOTDIR', syscall, path);
    return { dir, name };
  }
}

class SimFile implements FsFile {
  private closed = false;

  constructor(
    private readonly fs: SimFs,
    private readonly node: FileNode,
    readonly path: string,
    private readonly writable: boolean,
    private readonly dsync: boolean,
  ) {}

  async read(buf: Buffer, position: number): Promise<number> {
    const op = this.start('read', buf.length);
    if (op === undefined) return hang();
    await this.fs.complete(op, this.fs.fault(op));
    return this.node.data.read(buf, position);
  }

  write(data: Buffer, position: number): Promise<number> {
    return this.writev([data], position);
  }

  async writev(bufs: readonly Buffer[], position: number): Promise<number> {
    const data = bufs.length === 1 ? bufs[0]! : Buffer.concat(bufs);
    const op = this.start('write', data.length);
    if (op === undefined) return hang();
    const fault = this.fs.fault(op);
    const seq = fault ? 0 : this.fs.issueWrite(this.node, position, data);
    await this.fs.complete(op, fault);
    // O_DSYNC: the write returns once it is durable (modelled as write + fdatasync).
    if (this.dsync) this.fs.synced(this.node, seq, false);
    return data.length;
  }

  writevSync(bufs: readonly Buffer[], position: number): number {
    if (!this.fs.blockingWrites)
      throw new Error(`sim-fs: blocking writes are off (writevSync on ${this.path})`);
    const data = bufs.length === 1 ? bufs[0]! : Buffer.concat(bufs);
    this.checkHandle('write');
    this.fs.checkBlocking({ kind: 'write', path: this.path, bytes: data.length });
    const seq = this.fs.issueWrite(this.node, position, data);
    if (this.dsync) this.fs.synced(this.node, seq, false);
    return data.length;
  }

  async append(data: Buffer): Promise<void> {
    await this.writev([data], this.node.data.size);
  }

  datasync(): Promise<void> {
    return this.flush('datasync');
  }

  sync(): Promise<void> {
    return this.flush('fsync');
  }

  datasyncSync(): void {
    if (!this.fs.blockingWrites)
      throw new Error(`sim-fs: blocking writes are off (datasyncSync on ${this.path})`);
    this.checkHandle('datasync');
    const seq = this.fs.currentSeq();
    try {
      this.fs.checkBlocking({ kind: 'datasync', path: this.path });
    } catch (err) {
      if (!this.fs.isDead()) this.fs.synced(this.node, seq, true);
      throw err;
    }
    this.fs.synced(this.node, seq, false);
  }

  async size(): Promise<number> {
    const op = this.start('stat', 0);
    if (op === undefined) return hang();
    await this.fs.complete(op, this.fs.fault(op));
    return this.node.data.size;
  }

  async close(): Promise<void> {
    const op = this.start('close', 0);
    if (op === undefined) return hang();
    this.closed = true;
    await this.fs.complete(op, undefined);
  }

  private async flush(kind: 'datasync' | 'fsync'): Promise<void> {
    const op = this.start(kind, 0);
    if (op === undefined) return hang();
    const fault = this.fs.fault(op);
    const seq = this.fs.currentSeq();
    try {
      await this.fs.complete(op, fault);
    } catch (err) {
      this.fs.synced(this.node, seq, true);
      throw err;
    }
    this.fs.synced(this.node, seq, false);
  }

  /** The DiskOp for a call on this handle, or undefined when the disk is dead (the call never settles). */
  private start(kind: DiskOpKind, bytes: number): DiskOp | undefined {
    if (this.fs.isDead()) return undefined;
    this.checkHandle(kind);
    return { kind, path: this.path, bytes };
  }

  private checkHandle(kind: DiskOpKind): void {
    if (this.closed) throw new FsError('EBADF', kind, this.path, 'file is closed');
    if (kind === 'write' && !this.writable) throw new FsError('EBADF', kind, this.path, 'opened read-only');
  }
}

function normalize(path: string): string {
  return posix.resolve('/', path);
}

function split(path: string): string[] {
  return normalize(path)
    .split('/')
    .filter((p) => p.length > 0);
}

/** True if `dir` is `node` or lies below it. */
function isInside(node: DirNode, dir: DirNode): boolean {
  if (dir === node) return true;
  for (const child of node.entries.values()) if (child.kind === 'dir' && isInside(child, dir)) return true;
  return false;
}
