// The FileSystem on node:fs: the same calls the WAL and the snapshotter made before the disk was
// injectable (promise API in libuv's thread pool, the …Sync calls only for the WAL's inline
// path), so behaviour and speed are unchanged.
import { constants, fdatasyncSync, readdirSync, writevSync } from 'node:fs';
import {
  access,
  type FileHandle,
  mkdir,
  open,
  readdir,
  readFile,
  rename,
  rm,
  stat,
  truncate,
  unlink,
} from 'node:fs/promises';
import type { FileSystem, FsFile, FsStat, OpenFlags, OpenOptions } from './file-system.js';

/** Numeric open flags, needed only when O_DSYNC is added. */
const NUMERIC_FLAGS: Record<OpenFlags, number> = {
  r: constants.O_RDONLY,
  'r+': constants.O_RDWR,
  w: constants.O_WRONLY | constants.O_CREAT | constants.O_TRUNC,
  'wx+': constants.O_RDWR | constants.O_CREAT | constants.O_EXCL,
};

class RealFile implements FsFile {
  constructor(
    private readonly fh: FileHandle,
    readonly path: string,
  ) {}

  async read(buf: Buffer, position: number): Promise<number> {
    return (await this.fh.read(buf, 0, buf.length, position)).bytesRead;
  }

  async write(data: Buffer, position: number): Promise<number> {
    return (await this.fh.write(data, 0, data.length, position)).bytesWritten;
  }

  async writev(bufs: readonly Buffer[], position: number): Promise<number> {
    return (await this.fh.writev(bufs, position)).bytesWritten;
  }

  writevSync(bufs: readonly Buffer[], position: number): number {
    return writevSync(this.fh.fd, bufs, position);
  }

  async append(data: Buffer): Promise<void> {
    let pos = (await this.fh.stat()).size;
    for (let done = 0; done < data.length; ) {
      const n = (await this.fh.write(data, done, data.length - done, pos)).bytesWritten;
      if (n <= 0) throw new Error(`fs: append to ${this.path} wrote nothing`);
      done += n;
      pos += n;
    }
  }

  datasync(): Promise<void> {
    return this.fh.datasync();
  }

  datasyncSync(): void {
    fdatasyncSync(this.fh.fd);
  }

  sync(): Promise<void> {
    return this.fh.sync();
  }

  async size(): Promise<number> {
    return (await this.fh.stat()).size;
  }

  close(): Promise<void> {
    return this.fh.close();
  }
}

export const realFs: FileSystem = {
  blockingWrites: true,

  async open(path: string, flags: OpenFlags, opts: OpenOptions = {}): Promise<FsFile> {
    const fh = opts.dsync
      ? await open(path, NUMERIC_FLAGS[flags] | constants.O_DSYNC)
      : await open(path, flags);
    return new RealFile(fh, path);
  },

  readFile: (path) => readFile(path),
  readdir: (dir) => readdir(dir),
  readdirSync: (dir) => readdirSync(dir),

  async stat(path: string): Promise<FsStat> {
    const s = await stat(path);
    return { size: s.size, isDirectory: s.isDirectory() };
  },

  async exists(path: string): Promise<boolean> {
    try {
      await access(path);
      return true;
    } catch {
      return false;
    }
  },

  async mkdir(path, opts = {}) {
    await mkdir(path, { recursive: opts.recursive ?? false });
  },

  rename: (from, to) => rename(from, to),
  unlink: (path) => unlink(path),
  rm: (path, opts = {}) => rm(path, { recursive: opts.recursive ?? false, force: opts.force ?? false }),
  truncate: (path, length) => truncate(path, length),

  async fsyncDir(dir: string): Promise<void> {
    const fh = await open(dir, 'r');
    try {
      await fh.sync();
    } finally {
      await fh.close();
    }
  },
};
