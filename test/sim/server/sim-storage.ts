// A simulated member's disk: the WAL and snapshot files on a SimFs, the
// backend in a MemoryBackend, both surviving restarts and losing, on a
// crash, what a power loss would lose.
import { SimFs } from '../../../src/fs/index.js';
import { MvccStore } from '../../../src/mvcc/index.js';
import { MemoryBackend } from '../../../src/mvcc/memory-backend.js';
import type { Clock } from '../../../src/runtime/clock.js';
import type { StorageIo } from '../../../src/server/bootstrap.js';

export interface SimDiskOptions {
  /** Sabotage: the disk acknowledges fsyncs it never did. */
  lyingFsync?: boolean;
}

export class SimDisk {
  fs: SimFs;
  private readonly backends = new Map<string, MemoryBackend>();
  crashes = 0;

  constructor(
    private readonly random: () => number,
    opts: SimDiskOptions,
    /** The shared virtual clock: backend batch timers must not die with one incarnation's clock. */
    private readonly clock: Pick<Clock, 'after'>,
  ) {
    this.fs = new SimFs({ ignoreSyncs: opts.lyingFsync === true });
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

export function simStorageIo(disk: SimDisk, clock: Clock, random: () => number): StorageIo {
  return {
    fs: disk.fs,
    clock,
    random,
    openStore: async (path) => MvccStore.openOn(disk.backendFor(path)),
    storeExists: async (path) => disk.hasBackend(path),
  };
}
