// The write-ahead log: segmented files of checksummed records, appended by one
// serial flusher so that saves issued back to back share a write and an fdatasync.
import { dirname, join } from 'node:path';
import type { FileSystem, FsFile } from '../fs/file-system.js';
import { realFs } from '../fs/real-fs.js';
import type { Entry, HardState } from '../raft/types.js';
import { type Clock, realClock } from '../runtime/clock.js';
import { silentLogger, type WalLogger } from './errors.js';
import { addEntry, addHardState, addSnapshot, type WalSnapshotRef } from './payloads.js';
import { BatchEncoder } from './record.js';
import { emptyHardState, replaySegments, type WalReplay } from './replay.js';
import { allocateSegmentFile, initSegment, writeZeros } from './segment-file.js';
import {
  hasSegmentsSync,
  listSegments,
  type SegmentFile,
  segmentName,
  writeAllAt,
  writeAllAtSync,
} from './segments.js';

export interface WalOptions {
  /** Cut to a new segment once the current one reaches this many bytes. */
  segmentBytes?: number;
  /** Fill each segment with zeros when it is created (default true; see docs/decisions/0003-wal-fsync.md). */
  preallocate?: boolean;
  /**
   * A synced group of at most this many bytes is written and synced on the calling thread
   * (blocking it for one O_DSYNC write) instead of in libuv's thread pool; 0 = never.
   * Default DEFAULT_INLINE_SYNC_BYTES. See docs/decisions/0005-put-path-performance.md.
   */
  inlineSyncBytes?: number;
  /** The disk (default node's). The simulator passes a SimFs. */
  fs?: FileSystem;
  /** Time for the inline back-off and the turn yielded between groups (default the real clock). */
  clock?: WalClock;
}

/** The part of the member's Clock the WAL uses. */
export type WalClock = Pick<Clock, 'monotonic' | 'soon'>;

/** Groups up to this size are synced inline by default (every group a benchmark produced). */
export const DEFAULT_INLINE_SYNC_BYTES = 1024 * 1024;
/**
 * An inline write slower than this means the disk is slow right now: blocking the event loop
 * for it would stall every client and timer, so writes go to the thread pool for a while.
 */
const SLOW_INLINE_WRITE_MS = 5;
/**
 * Short, because one slow write is usually a lone blip of the (virtual) disk: a 2 s back-off made
 * a single-client put stream ~16% slower after every blip. A disk that stays slow still costs the
 * event loop at most one slow write per back-off period.
 */
const INLINE_BACKOFF_MS = 200;

interface Settings {
  inlineSyncBytes: number;
  segmentBytes: number;
  preallocate: boolean;
  fs: FileSystem;
  clock: WalClock;
}

/** The next segment is allocated in the background under this name, so a cut is a small write and a rename. */
const NEXT_SEGMENT_TMP = 'next.wal.tmp';

export const DEFAULT_SEGMENT_BYTES = 64 * 1024 * 1024;
/** Bound on saves queued behind the flusher; beyond it the caller is not batching and must slow down. */
export const MAX_PENDING_SAVES = 4096;
/** At most this many queued saves share one writev (libuv's iovec limit). */
const MAX_GROUP = 1024;

interface WriteJob {
  kind: 'write';
  buf: Buffer;
  sync: boolean;
  lastIndex: number | undefined;
  hardState: HardState | undefined;
  snapshot: WalSnapshotRef | undefined;
  resolve: () => void;
  reject: (err: Error) => void;
}

interface ReleaseJob {
  kind: 'release';
  index: number;
  resolve: () => void;
  reject: (err: Error) => void;
}

type Job = WriteJob | ReleaseJob;

/** What is on disk (not merely accepted): the state a newly cut segment must begin with. */
interface WrittenState {
  lastIndex: number;
  hardState: HardState;
  snapshot: WalSnapshotRef;
}

export class Wal {
  private readonly queue: Job[] = [];
  private flushing = false;
  private idle: Promise<void> = Promise.resolve();
  private failed: Error | undefined;
  private closed = false;
  private acceptedLastIndex: number;
  private tailDirty = false;
  private readonly counters = { writes: 0, syncs: 0, saves: 0 };
  /** The successor segment being allocated in the background (undefined until the tail is half full). */
  private nextSegment: Promise<FsFile | undefined> | undefined;
  /**
   * A second handle on the tail opened with O_DSYNC: a synced group is then ONE writev that
   * returns once its bytes are stable, instead of a writev and an fdatasync -- two trips through
   * libuv's thread pool, each costing a thread wake-up and an event-loop turn (see
   * docs/decisions/0005-put-path-performance.md). Undefined until the first synced group.
   */
  private dsyncFh: FsFile | undefined;
  private readonly fs: FileSystem;
  /** clock.monotonic() before which no group is written inline (set after a slow inline write). */
  private inlineOffUntil = 0;
  /** Cleared by setInlineSync(false): every write goes to the thread pool. */
  private inlineAllowed = true;
  /** Called with each synced group's write+sync time in seconds (the member's metrics); optional. */
  syncObserver: ((seconds: number) => void) | undefined;

  private constructor(
    private readonly dir: string,
    private readonly metadata: Buffer,
    private readonly segments: SegmentFile[],
    private fh: FsFile,
    private tailOffset: number,
    private readonly written: WrittenState,
    private readonly settings: Settings,
    private readonly log: WalLogger,
  ) {
    this.acceptedLastIndex = written.lastIndex;
    this.fs = settings.fs;
  }

  /** True if dir holds at least one WAL segment. */
  static exists(dir: string, fs: FileSystem = realFs): boolean {
    return hasSegmentsSync(fs, dir);
  }

  static async create(
    dir: string,
    metadata: Uint8Array,
    log: WalLogger = silentLogger,
    opts: WalOptions = {},
  ): Promise<Wal> {
    const settings = resolveOptions(opts);
    const fs = settings.fs;
    if (await isNonEmptyDir(fs, dir)) throw new Error(`wal: cannot create in non-empty directory ${dir}`);
    const tmp = `${dir.replace(/\/+$/, '')}.tmp`;
    await fs.rm(tmp, { recursive: true, force: true });
    await fs.mkdir(tmp, { recursive: true });
    const name = segmentName(0, 0);
    const meta = Buffer.from(metadata);
    const snapshot = { index: 0, term: 0 };
    const fh = await allocateSegmentFile(fs, join(tmp, name), settings.segmentBytes, settings.preallocate);
    let end: number;
    try {
      end = await initSegment(fh, 0, 0, meta, snapshot, undefined);
      await fs.fsyncDir(tmp);
      // rename(2) replaces an empty target directory atomically; a crash leaves either nothing or a whole WAL.
      await fs.rename(tmp, dir);
      await fs.fsyncDir(dirname(dir));
    } catch (err) {
      await fh.close();
      throw err;
    }
    log('info', 'wal: created', { dir });
    const written: WrittenState = { lastIndex: 0, hardState: emptyHardState(), snapshot };
    const segs = [{ name, seq: 0, firstIndex: 0 }];
    return new Wal(dir, meta, segs, fh, end, written, settings, log);
  }

  static async open(
    dir: string,
    from: WalSnapshotRef,
    log: WalLogger = silentLogger,
    opts: WalOptions = {},
  ): Promise<{ wal: Wal; replay: WalReplay }> {
    const settings = resolveOptions(opts);
    const fs = settings.fs;
    await removeLeftoverTemps(fs, dir, log);
    const segs = await listSegments(fs, dir);
    if (segs.length === 0) throw new Error(`wal: no segment files in ${dir}`);
    const r = await replaySegments(fs, dir, segs, from);
    const last = join(dir, segs[segs.length - 1]!.name);
    if (r.torn) {
      log('warn', 'wal: truncating torn tail', {
        file: r.torn.file,
        offset: r.torn.offset,
        droppedBytes: r.torn.garbageEnd - r.torn.offset,
        reason: r.torn.reason,
      });
      await fs.truncate(r.torn.file, r.torn.offset);
    }
    const fh = await fs.open(last, 'r+');
    try {
      const size = await fh.size();
      if (settings.preallocate && size < settings.segmentBytes)
        await writeZeros(fh, size, settings.segmentBytes);
      await fh.datasync();
    } catch (err) {
      await fh.close();
      throw err;
    }
    const written: WrittenState = {
      lastIndex: r.lastIndex,
      hardState: r.replay.hardState,
      snapshot: r.latestSnapshot,
    };
    if (from.index !== 0 && r.replay.snapshot.index !== from.index) {
      log('warn', 'wal: no snapshot record at the requested index', {
        requested: from.index,
        found: r.replay.snapshot.index,
      });
    }
    const meta = Buffer.from(r.replay.metadata);
    const wal = new Wal(dir, meta, segs, fh, r.tailOffset, written, settings, log);
    log('info', 'wal: opened', {
      dir,
      from: from.index,
      entries: r.replay.entries.length,
      segments: segs.length,
    });
    return { wal, replay: r.replay };
  }

  /** Counts of tail writes and fdatasyncs (cuts excluded), to verify batching in tests and benchmarks. */
  stats(): { writes: number; syncs: number; saves: number; tailOffset: number } {
    return { ...this.counters, tailOffset: this.tailOffset };
  }

  /** See WalLog.setInlineSync: false sends every write to the thread pool. */
  setInlineSync(allowed: boolean): void {
    this.inlineAllowed = allowed;
  }

  /** Index of the last entry passed to save() (or covered by a snapshot record). */
  lastIndex(): number {
    return this.acceptedLastIndex;
  }

  async save(hardState: HardState | undefined, entries: Entry[], sync: boolean): Promise<void> {
    this.checkUsable();
    if (!hardState && entries.length === 0) return;
    this.checkContiguous(entries);
    const enc = new BatchEncoder();
    for (const e of entries) addEntry(enc, e);
    if (hardState) addHardState(enc, hardState);
    const lastIndex = entries.length > 0 ? entries[entries.length - 1]!.index : undefined;
    const done = this.enqueueWrite(enc.finish(), sync, lastIndex, hardState, undefined);
    if (lastIndex !== undefined) this.acceptedLastIndex = lastIndex;
    return done;
  }

  async saveSnapshot(ref: WalSnapshotRef): Promise<void> {
    this.checkUsable();
    const enc = new BatchEncoder();
    addSnapshot(enc, ref);
    const done = this.enqueueWrite(enc.finish(), true, undefined, undefined, ref);
    this.acceptedLastIndex = Math.max(this.acceptedLastIndex, ref.index);
    return done;
  }

  /** Deletes the segments that only hold entries below index-1; the tail segment is never deleted. */
  async releaseTo(index: number): Promise<void> {
    this.checkUsable();
    return new Promise<void>((resolve, reject) => {
      this.enqueue({ kind: 'release', index, resolve, reject });
    });
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    while (this.flushing) await this.idle;
    await this.closeDsyncHandle();
    await this.fh.close();
    const next = await this.nextSegment;
    if (next) {
      await next.close();
      await this.fs.unlink(join(this.dir, NEXT_SEGMENT_TMP));
    }
    this.log('info', 'wal: closed', { dir: this.dir });
  }

  private checkUsable(): void {
    if (this.closed) throw new Error('wal: closed');
    if (this.queue.length >= MAX_PENDING_SAVES) {
      throw new Error(`wal: more than ${MAX_PENDING_SAVES} saves in flight; batch entries per save`);
    }
    if (this.failed) throw new Error(`wal: unusable after an earlier I/O failure: ${this.failed.message}`);
  }

  private checkContiguous(entries: Entry[]): void {
    if (entries.length === 0) return;
    const first = entries[0]!.index;
    if (!Number.isSafeInteger(first) || first < 1) throw new RangeError(`wal: bad entry index ${first}`);
    if (first > this.acceptedLastIndex + 1) {
      throw new RangeError(`wal: entry ${first} would leave a gap after ${this.acceptedLastIndex}`);
    }
    for (let i = 1; i < entries.length; i++) {
      if (entries[i]!.index !== first + i)
        throw new RangeError('wal: entries in one save must be contiguous');
    }
  }

  private enqueueWrite(
    buf: Buffer,
    sync: boolean,
    lastIndex: number | undefined,
    hardState: HardState | undefined,
    snapshot: WalSnapshotRef | undefined,
  ): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.enqueue({ kind: 'write', buf, sync, lastIndex, hardState, snapshot, resolve, reject });
    });
  }

  private enqueue(job: Job): void {
    this.queue.push(job);
    if (!this.flushing) {
      this.flushing = true;
      this.idle = this.drain();
    }
  }

  /**
   * The only code that touches the tail file, so writes land in call order. Two ways to write
   * a group (docs/decisions/0005-put-path-performance.md):
   * - inline: a small synced group is written with O_DSYNC on this thread. Its callers are
   *   acknowledged at once; before the next group one event-loop turn lets their responses
   *   leave and lets requests that arrived meanwhile join that group.
   * - thread pool: the write runs in libuv's pool, and a group is acknowledged only after the
   *   NEXT group's write has been handed to the pool, so acknowledged callers run on this
   *   thread while the disk works instead of delaying the next write.
   */
  private async drain(): Promise<void> {
    let toAck: WriteJob[] = [];
    try {
      // Group commit: saves issued back to back in the same synchronous run join the first
      // group. Only a microtask is yielded, not an event-loop turn: the raft ready loop queues
      // its saves while a write is in flight, so a turn here would be pure latency.
      await Promise.resolve();
      while (this.queue.length > 0) {
        if (this.failed) {
          const err = new Error(`wal: unusable after an earlier I/O failure: ${this.failed.message}`);
          for (const job of this.queue.splice(0)) job.reject(err);
          return;
        }
        if (this.queue[0]!.kind === 'release') {
          toAck = acknowledge(toAck);
          await this.runRelease(this.queue.shift() as ReleaseJob);
          continue;
        }
        const group = this.takeWriteGroup();
        if (this.canWriteInline(group)) {
          toAck = acknowledge(toAck);
          if (!this.writeGroupInline(group)) continue;
          acknowledge(group);
          await this.afterGroup();
          if (this.queue.length > 0) await new Promise<void>((r) => this.settings.clock.soon(r));
          continue;
        }
        const writing = this.writeGroup(group);
        toAck = acknowledge(toAck);
        if (!(await writing)) continue;
        toAck = group;
        if (this.tailOffset >= this.settings.segmentBytes) toAck = acknowledge(toAck);
        await this.afterGroup();
      }
    } finally {
      acknowledge(toAck);
      this.flushing = false;
    }
  }

  /** Segment housekeeping after a group was written. */
  private async afterGroup(): Promise<void> {
    // Allocating the successor only once the tail is half full spares short-lived WALs (tests) the cost.
    if (!this.nextSegment && this.tailOffset >= this.settings.segmentBytes / 2) this.prepareNextSegment();
    if (this.tailOffset >= this.settings.segmentBytes) await this.cutOrFail();
  }

  private canWriteInline(group: WriteJob[]): boolean {
    if (this.dsyncFh === undefined || !this.fs.blockingWrites) return false;
    let bytes = 0;
    let sync = false;
    for (const j of group) {
      bytes += j.buf.length;
      sync ||= j.sync;
    }
    return (
      sync &&
      this.inlineAllowed &&
      bytes <= this.settings.inlineSyncBytes &&
      this.settings.clock.monotonic() >= this.inlineOffUntil
    );
  }

  /** Writes and syncs one group on this thread; false if that failed. */
  private writeGroupInline(group: WriteJob[]): boolean {
    const bufs = group.map((j) => j.buf);
    const started = this.settings.clock.monotonic();
    try {
      if (this.tailDirty) {
        this.tailOffset += writeAllAtSync(this.fh, bufs, this.tailOffset);
        this.fh.datasyncSync();
        this.tailDirty = false;
      } else {
        // O_DSYNC covers exactly the bytes of this write; nothing unsynced lies before them.
        this.tailOffset += writeAllAtSync(this.dsyncFh!, bufs, this.tailOffset);
      }
    } catch (err) {
      return this.groupFailed(group, err);
    }
    const took = this.settings.clock.monotonic() - started;
    this.syncObserver?.(took / 1000);
    if (took > SLOW_INLINE_WRITE_MS) {
      this.inlineOffUntil = started + took + INLINE_BACKOFF_MS;
      this.log('warn', 'wal: slow synced write; using the thread pool for a while', {
        tookMs: Math.round(took),
      });
    }
    this.counters.writes++;
    this.counters.syncs++;
    this.counters.saves += group.length;
    for (const j of group) this.noteWritten(j);
    return true;
  }

  private groupFailed(group: WriteJob[], err: unknown): false {
    // After a failed write or fsync the file's state is unknown (the page cache may have dropped it): stop for good.
    this.failed = err as Error;
    this.log('error', 'wal: write failed; WAL is now unusable', { error: (err as Error).message });
    for (const j of group) j.reject(err as Error);
    return false;
  }

  private takeWriteGroup(): WriteJob[] {
    const group: WriteJob[] = [];
    while (group.length < MAX_GROUP && this.queue[0]?.kind === 'write')
      group.push(this.queue.shift() as WriteJob);
    return group;
  }

  /**
   * Writes (and syncs, if any job asked) one group; false if that failed. The write is handed
   * to the thread pool before this returns its promise (no await comes first when the
   * O_DSYNC handle is open), so the caller may do other work while it runs.
   */
  private async writeGroup(group: WriteJob[]): Promise<boolean> {
    try {
      const started = this.settings.clock.monotonic();
      const bufs = group.map((j) => j.buf);
      const sync = group.some((j) => j.sync);
      if (sync && !this.tailDirty) {
        // O_DSYNC covers exactly the bytes of this write; nothing unsynced lies before them.
        const fh = this.dsyncFh ?? (await this.openDsyncHandle());
        this.tailOffset += await writeAllAt(fh, bufs, this.tailOffset);
      } else {
        this.tailOffset += await writeAllAt(this.fh, bufs, this.tailOffset);
        this.tailDirty = true;
        if (sync) await this.syncTail();
      }
      this.counters.writes++;
      this.counters.saves += group.length;
      if (sync) this.counters.syncs++;
      if (sync) this.syncObserver?.((this.settings.clock.monotonic() - started) / 1000);
    } catch (err) {
      return this.groupFailed(group, err);
    }
    for (const j of group) this.noteWritten(j);
    return true;
  }

  private noteWritten(j: WriteJob): void {
    if (j.lastIndex !== undefined) this.written.lastIndex = j.lastIndex;
    if (j.hardState) this.written.hardState = j.hardState;
    if (j.snapshot) {
      if (j.snapshot.index >= this.written.snapshot.index) this.written.snapshot = j.snapshot;
      this.written.lastIndex = Math.max(this.written.lastIndex, j.snapshot.index);
    }
  }

  private async openDsyncHandle(): Promise<FsFile> {
    const tail = join(this.dir, this.segments[this.segments.length - 1]!.name);
    this.dsyncFh = await this.fs.open(tail, 'r+', { dsync: true });
    return this.dsyncFh;
  }

  private async closeDsyncHandle(): Promise<void> {
    const fh = this.dsyncFh;
    this.dsyncFh = undefined;
    if (fh !== undefined) await fh.close();
  }

  private async syncTail(): Promise<void> {
    await this.fh.datasync();
    this.tailDirty = false;
  }

  private async cutOrFail(): Promise<void> {
    try {
      await this.cut();
    } catch (err) {
      this.failed = err as Error;
      this.log('error', 'wal: segment cut failed; WAL is now unusable', { error: (err as Error).message });
    }
  }

  /** Starts allocating the next segment file now, off the write path. A failure only costs the cut its head start. */
  private prepareNextSegment(): void {
    const path = join(this.dir, NEXT_SEGMENT_TMP);
    this.nextSegment = allocateSegmentFile(
      this.fs,
      path,
      this.settings.segmentBytes,
      this.settings.preallocate,
    ).catch((err: Error) => {
      this.log('warn', 'wal: could not prepare the next segment ahead of time', { error: err.message });
      return undefined;
    });
  }

  private async takeNextSegment(): Promise<FsFile> {
    const prepared = await this.nextSegment;
    this.nextSegment = undefined;
    if (prepared) return prepared;
    const path = join(this.dir, NEXT_SEGMENT_TMP);
    await this.fs.rm(path, { force: true });
    return allocateSegmentFile(this.fs, path, this.settings.segmentBytes, this.settings.preallocate);
  }

  /**
   * Seals the tail and starts the next segment. The old tail is synced first because open()
   * trusts every non-last segment in full; the new one gets its header under a temp name and
   * is renamed in, so it is complete whenever it is visible.
   */
  private async cut(): Promise<void> {
    if (this.tailDirty) await this.syncTail();
    const prev = this.segments[this.segments.length - 1]!;
    const seq = prev.seq + 1;
    const firstIndex = this.written.lastIndex + 1;
    const name = segmentName(seq, firstIndex);
    const fh = await this.takeNextSegment();
    const { snapshot, hardState } = this.written;
    const end = await initSegment(fh, seq, firstIndex, this.metadata, snapshot, hardState);
    await this.fs.rename(join(this.dir, NEXT_SEGMENT_TMP), join(this.dir, name));
    await this.fs.fsyncDir(this.dir);
    await this.closeDsyncHandle();
    await this.fh.close();
    this.fh = fh;
    this.tailOffset = end;
    this.segments.push({ name, seq, firstIndex });
    this.log('info', 'wal: cut new segment', { file: name, sealed: prev.name });
  }

  private async runRelease(job: ReleaseJob): Promise<void> {
    try {
      const removed = await this.release(job.index);
      if (removed.length > 0) this.log('info', 'wal: released segments', { upTo: job.index, removed });
      job.resolve();
    } catch (err) {
      job.reject(err as Error);
    }
  }

  private async release(index: number): Promise<string[]> {
    // Keep the segment that holds index-1 (the last one starting at or below it) and all later ones.
    let keep = -1;
    for (let i = this.segments.length - 1; i >= 0; i--) {
      if (this.segments[i]!.firstIndex <= index - 1) {
        keep = i;
        break;
      }
    }
    keep = Math.min(keep, this.segments.length - 1);
    if (keep <= 0) return [];
    const doomed = this.segments.splice(0, keep);
    for (const s of doomed) await this.fs.unlink(join(this.dir, s.name));
    await this.fs.fsyncDir(this.dir);
    return doomed.map((s) => s.name);
  }
}

/** Resolves every job of a written group; returns the empty list that replaces it. */
function acknowledge(jobs: WriteJob[]): WriteJob[] {
  for (const j of jobs) j.resolve();
  return [];
}

function resolveOptions(opts: WalOptions): Settings {
  const segmentBytes = opts.segmentBytes ?? DEFAULT_SEGMENT_BYTES;
  if (!Number.isSafeInteger(segmentBytes) || segmentBytes < 1)
    throw new RangeError(`wal: bad segment size ${segmentBytes}`);
  const inlineSyncBytes = opts.inlineSyncBytes ?? DEFAULT_INLINE_SYNC_BYTES;
  if (!Number.isSafeInteger(inlineSyncBytes) || inlineSyncBytes < 0)
    throw new RangeError(`wal: bad inlineSyncBytes ${inlineSyncBytes}`);
  return {
    segmentBytes,
    preallocate: opts.preallocate ?? true,
    inlineSyncBytes,
    fs: opts.fs ?? realFs,
    clock: opts.clock ?? realClock,
  };
}

async function isNonEmptyDir(fs: FileSystem, dir: string): Promise<boolean> {
  try {
    return (await fs.readdir(dir)).length > 0;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw err;
  }
}

/** A crash can leave `next.wal.tmp`; it was never renamed in, so it holds nothing acknowledged. */
async function removeLeftoverTemps(fs: FileSystem, dir: string, log: WalLogger): Promise<void> {
  for (const name of await fs.readdir(dir)) {
    if (name.endsWith('.wal.tmp')) {
      log('warn', 'wal: removing leftover temp segment', { file: join(dir, name) });
      await fs.unlink(join(dir, name));
    }
  }
}
