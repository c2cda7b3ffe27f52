// A simulated member's disk: the WAL and snapshot files on a SimFs, the
// backend in a MemoryBackend, both surviving restarts and losing, on a
// crash, what a power loss would lose.

import { BoltDb } from '../../../src/bbolt/index.js';
import { importEtcdDbInto } from '../../../src/etcd-db/index.js';
import type { DiskScheduler } from '../../../src/fs/disk-control.js';
import type { FileSystem, FsFile } from '../../../src/fs/file-system.js';
import { SimFs } from '../../../src/fs/index.js';
import { MvccStore } from '../../../src/mvcc/index.js';
import { MemoryBackend } from '../../../src/mvcc/memory-backend.js';
import type { Clock } from '../../../src/runtime/clock.js';
import type { StorageIo } from '../../../src/server/bootstrap.js';
import type { SnapshotDbImporter } from '../../../src/server/member-snapshots.js';

export interface SimDiskOptions {
  /** Sabotage: the disk acknowledges fsyncs it never did. */
  lyingFsync?: boolean;
  /** Sabotage: the member treats a failed fsync as done (PostgreSQL's "fsyncgate"), and acknowledges. */
  ignoreFsyncErrors?: boolean;
}

/** How the disk behaves now: at once, slowly, or stalled until a virtual time. */
export type DiskMode =
  | { kind: 'fast' }
  | { kind: 'slow'; maxMs: number }
  | { kind: 'stalled'; untilMs: number };

export class SimDisk {
  fs: SimFs;
  readonly ignoreFsyncErrors: boolean;
  /** The shared virtual clock (not one incarnation's). */
  readonly sharedClock: Pick<Clock, 'after' | 'monotonic'>;
  mode: DiskMode = { kind: 'fast' };
  private readonly backends = new Map<string, MemoryBackend>();
  crashes = 0;

  constructor(
    private readonly random: () => number,
    opts: SimDiskOptions,
    /** The shared virtual clock: backend batch timers must not die with one incarnation's clock. */
    private readonly clock: Pick<Clock, 'after' | 'monotonic'>,
  ) {
    this.sharedClock = clock;
    // The scheduler runs on the shared clock: the disk outlives a member incarnation.
    const scheduler: DiskScheduler = { delay: () => this.delay() };
    this.fs = new SimFs({ ignoreSyncs: opts.lyingFsync === true, scheduler });
    this.ignoreFsyncErrors = opts.ignoreFsyncErrors === true;
  }

  private delay(): Promise<void> {
    const m = this.mode;
    let ms = 0;
    if (m.kind === 'slow') ms = Math.floor(this.random() * m.maxMs);
    else if (m.kind === 'stalled') ms = Math.max(0, m.untilMs - this.clock.monotonic());
    if (ms === 0) return Promise.resolve();
    return new Promise((resolve) => this.clock.after(ms, resolve));
  }

  /**
   * The next flush of a WAL file fails (EIO): an fdatasync, or a write on the WAL's O_DSYNC
   * handle (which is its flush). The member must stop without acknowledging.
   */
  failNextWalSync(): void {
    this.fs.injectFault({ ops: ['datasync', 'fsync', 'write'], path: /\.wal$/, code: 'EIO' });
  }

  backendFor(path: string): MemoryBackend {
    let b = this.backends.get(path);
    if (b?.isClosed === true) {
      b = b.reopen();
      this.backends.set(path, b);
    }
    if (b === undefined) {
      b = new MemoryBackend({ name: path, clock: this.clock });
      this.backends.set(path, b);
    }
    return b;
  }

  hasBackend(path: string): boolean {
    return this.backends.has(path);
  }

  /** Power loss: the files keep what was synced (a torn tail maybe), the backend what was flushed and a random prefix of later commits. */
  crash(): void {
    this.crashes++;
    this.fs = this.fs.crash(this.random);
    for (const [path, b] of this.backends) this.backends.set(path, b.crash({ random: this.random }));
  }
}

/** WAL segment size under simulation (the real default, 64 MiB, is read whole at every restart). */
export const SIM_WAL_SEGMENT_BYTES = 128 * 1024;

/** A received raft snapshot database (a bbolt file on the simulated disk) → a MemoryBackend to switch to. */
export function memorySnapshotImporter(clock: Pick<Clock, 'after'>): SnapshotDbImporter {
  return async (dbFile, _workDir, fs) => {
    const target = new MemoryBackend({ name: `${dbFile}.import`, clock });
    const imported = await importEtcdDbInto(BoltDb.fromBuffer(await fs.readFile(dbFile)), target);
    return { consistentIndex: imported.consistentIndex, source: target };
  };
}

export function simStorageIo(disk: SimDisk, clock: Clock, random: () => number): StorageIo {
  return {
    // The backend outlives the incarnation: its timers run on the shared clock, as the disk's do.
    importSnapshotDb: memorySnapshotImporter(disk.sharedClock),
    fs: disk.ignoreFsyncErrors ? swallowSyncErrors(disk.fs) : disk.fs,
    clock,
    random,
    openStore: async (path) => MvccStore.openOn(disk.backendFor(path)),
    storeExists: async (path) => disk.hasBackend(path),
    // Small segments: a restart reads every segment whole, and cuts get exercised under crashes.
    walSegmentBytes: SIM_WAL_SEGMENT_BYTES,
  };
}

/**
 * The disk as a member that ignores flush errors sees it (sabotage): a failed fsync, or a failed
 * write (the WAL's O_DSYNC write is its flush), looks like a good one.
 */
function swallowSyncErrors(fs: FileSystem): FileSystem {
  const ignore = (p: Promise<void>) => p.catch(() => undefined);
  const bytes = (bufs: readonly Buffer[]) => bufs.reduce((n, b) => n + b.length, 0);
  return new Proxy(fs, {
    get(target, prop, receiver) {
      if (prop === 'open') {
        return async (...args: Parameters<FileSystem['open']>): Promise<FsFile> => {
          const f = await target.open(...args);
          return new Proxy(f, {
            get(file, p) {
              if (p === 'datasync') return () => ignore(file.datasync());
              if (p === 'sync') return () => ignore(file.sync());
              if (p === 'write')
                return (data: Buffer, pos: number) => file.write(data, pos).catch(() => data.length);
              if (p === 'writev')
                return (bufs: readonly Buffer[], pos: number) =>
                  file.writev(bufs, pos).catch(() => bytes(bufs));
              const v = Reflect.get(file, p, file);
              return typeof v === 'function' ? v.bind(file) : v;
            },
          });
        };
      }
      const v = Reflect.get(target, prop, receiver);
      return typeof v === 'function' ? v.bind(target) : v;
    },
  });
}
