// Raft snapshot files: one file per snapshot, written atomically (temp, fsync, rename, fsync dir).
import { join } from 'node:path';
import { type FileSystem, isNotFound } from '../fs/file-system.js';
import { realFs } from '../fs/real-fs.js';
import type { Snapshot } from '../raft/types.js';
import { silentLogger, type WalLogger } from '../wal/errors.js';
import { decodeSnapshotFile, encodeSnapshotFile, isSnapName, snapName } from './format.js';

export class NoSnapshotError extends Error {
  constructor(file: string) {
    super(`snap: no snapshot file ${file}`);
    this.name = 'NoSnapshotError';
  }
}

export interface SnapshotterOptions {
  /** The disk (default node's). The simulator passes a SimFs. */
  fs?: FileSystem;
}

export class Snapshotter {
  private readonly fs: FileSystem;

  constructor(
    readonly dir: string,
    private readonly log: WalLogger = silentLogger,
    opts: SnapshotterOptions = {},
  ) {
    this.fs = opts.fs ?? realFs;
  }

  async save(s: Snapshot): Promise<void> {
    await this.fs.mkdir(this.dir, { recursive: true });
    const name = snapName(s.metadata.term, s.metadata.index);
    const tmp = join(this.dir, `${name}.tmp`);
    const fh = await this.fs.open(tmp, 'w');
    try {
      await fh.append(encodeSnapshotFile(s));
      await fh.sync();
    } finally {
      await fh.close();
    }
    await this.fs.rename(tmp, join(this.dir, name));
    await this.fs.fsyncDir(this.dir);
    this.log('info', 'snap: saved', { file: name, index: s.metadata.index, term: s.metadata.term });
  }

  /** Newest intact snapshot; damaged ones are set aside as *.broken so they are not tried again. */
  async loadNewest(): Promise<Snapshot | undefined> {
    for (const name of await this.namesNewestFirst()) {
      const file = join(this.dir, name);
      try {
        return decodeSnapshotFile(await this.fs.readFile(file));
      } catch (err) {
        this.log('error', 'snap: unreadable snapshot file, renaming to .broken', {
          file,
          error: (err as Error).message,
        });
        await this.fs.rename(file, `${file}.broken`);
      }
    }
    return undefined;
  }

  async load(ref: { index: number; term: number }): Promise<Snapshot> {
    const file = join(this.dir, snapName(ref.term, ref.index));
    let buf: Buffer;
    try {
      buf = await this.fs.readFile(file);
    } catch (err) {
      if (isNotFound(err)) throw new NoSnapshotError(file);
      throw err;
    }
    let s: Snapshot;
    try {
      s = decodeSnapshotFile(buf);
    } catch (err) {
      throw new Error(`${(err as Error).message} in ${file}`);
    }
    if (s.metadata.index !== ref.index || s.metadata.term !== ref.term) {
      throw new Error(`snap: ${file} holds index ${s.metadata.index} term ${s.metadata.term}`);
    }
    return s;
  }

  /** Keeps the newest `keep` snapshot files and deletes the rest (and stale temp files). */
  async purge(keep: number): Promise<void> {
    if (!Number.isSafeInteger(keep) || keep < 0) throw new RangeError(`snap: bad keep count ${keep}`);
    const doomed = (await this.namesNewestFirst()).slice(keep);
    for (const name of await this.listDir()) if (name.endsWith('.snap.tmp')) doomed.push(name);
    for (const name of doomed) await this.fs.unlink(join(this.dir, name));
    if (doomed.length > 0) {
      await this.fs.fsyncDir(this.dir);
      this.log('info', 'snap: purged', { removed: doomed });
    }
  }

  private async namesNewestFirst(): Promise<string[]> {
    return (await this.listDir()).filter(isSnapName).sort().reverse();
  }

  private async listDir(): Promise<string[]> {
    try {
      return await this.fs.readdir(this.dir);
    } catch (err) {
      if (isNotFound(err)) return [];
      throw err;
    }
  }
}
