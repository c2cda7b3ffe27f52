// The file system as the WAL and the snapshotter see it: exactly the calls they make, so that a
// deterministic in-memory disk (sim-fs.ts) can stand in for node:fs (real-fs.ts) under the
// simulator. Paths are plain strings; errors carry node's `code` ('ENOENT', 'EEXIST', 'EIO', ...).

/**
 * How a file is opened (node's flag strings): 'r' read only; 'r+' read/write, must exist;
 * 'w' write, created or truncated; 'wx+' read/write, created, must not exist.
 */
export type OpenFlags = 'r' | 'r+' | 'w' | 'wx+';

export interface OpenOptions {
  /** O_DSYNC: every write returns only once its bytes are on stable storage. */
  dsync?: boolean;
}

export interface FsStat {
  size: number;
  isDirectory: boolean;
}

/** An open file. Positions are byte offsets; writes past the end leave zeros in between. */
export interface FsFile {
  readonly path: string;
  /** Reads up to buf.length bytes at `position` into buf; returns how many (0 at the end). */
  read(buf: Buffer, position: number): Promise<number>;
  /** Writes `data` at `position`; returns the bytes written (a short write is possible). */
  write(data: Buffer, position: number): Promise<number>;
  /** Writes the buffers back to back at `position` (one writev); returns the bytes written. */
  writev(bufs: readonly Buffer[], position: number): Promise<number>;
  /** writev on the calling thread, blocking it. Only when FileSystem.blockingWrites is true. */
  writevSync(bufs: readonly Buffer[], position: number): number;
  /** Appends all of `data` at the end of the file. */
  append(data: Buffer): Promise<void>;
  /** fdatasync: the data written so far (and the size needed to read it) is durable. */
  datasync(): Promise<void>;
  /** fdatasync on the calling thread. Only when FileSystem.blockingWrites is true. */
  datasyncSync(): void;
  /** fsync: data and all metadata of this file (not its directory entry: see fsyncDir). */
  sync(): Promise<void>;
  size(): Promise<number>;
  close(): Promise<void>;
}

export interface FileSystem {
  /**
   * True when writevSync/datasyncSync may be used (the WAL's inline path, which blocks the
   * event loop for one O_DSYNC write). A simulated disk says false unless asked otherwise,
   * so every write goes through the asynchronous calls, where latency and stalls are injected.
   */
  readonly blockingWrites: boolean;
  open(path: string, flags: OpenFlags, opts?: OpenOptions): Promise<FsFile>;
  readFile(path: string): Promise<Buffer>;
  /** Names in `dir` (no order promised). */
  readdir(dir: string): Promise<string[]>;
  readdirSync(dir: string): string[];
  stat(path: string): Promise<FsStat>;
  exists(path: string): Promise<boolean>;
  mkdir(path: string, opts?: { recursive?: boolean }): Promise<void>;
  /** rename(2): atomic; replaces a file, or an empty directory with a directory. */
  rename(from: string, to: string): Promise<void>;
  unlink(path: string): Promise<void>;
  rm(path: string, opts?: { recursive?: boolean; force?: boolean }): Promise<void>;
  truncate(path: string, length: number): Promise<void>;
  /**
   * fsync of a directory: entries created, renamed or removed in it so far become durable.
   * Without it a crash may undo them, however well the files themselves were synced.
   */
  fsyncDir(dir: string): Promise<void>;
}

/** node's error codes that file system callers test for. */
export type FsErrorCode =
  | 'ENOENT'
  | 'EEXIST'
  | 'ENOTDIR'
  | 'EISDIR'
  | 'ENOTEMPTY'
  | 'EINVAL'
  | 'EIO'
  | 'ENOSPC'
  | 'EBADF'
  /** node's code for rm() of a directory without `recursive`. */
  | 'ERR_FS_EISDIR';

/** A file system error shaped like node's (`code`, `syscall`, `path`). */
export class FsError extends Error {
  constructor(
    readonly code: FsErrorCode,
    readonly syscall: string,
    readonly path: string,
    detail = '',
  ) {
    super(`${code}: ${syscall} '${path}'${detail ? ` (${detail})` : ''}`);
    this.name = 'FsError';
  }
}

/** True for an error carrying node's ENOENT (real or simulated). */
export function isNotFound(err: unknown): boolean {
  return (err as { code?: unknown } | null)?.code === 'ENOENT';
}
