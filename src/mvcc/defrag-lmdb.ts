// The compacted copy an online defragmentation of the LMDB backend builds next to the file.
// LMDB copies itself compacted (mdb_env_copy2 with MDB_CP_COMPACT) on a worker thread from one
// read transaction, so writers go on meanwhile; this class opens that copy and replays the
// journal of writes committed since (defrag-journal.ts) onto it, in bounded transactions that
// leave the event loop free between them.

import fs from 'node:fs';
import path from 'node:path';
import { type Database, open, type RootDatabase, type TransactionFlags } from 'lmdb';
import { chunks, type DefragJournal, type JournalOp } from './defrag-journal.js';

// Same commit mode as the backend: commit now, the OS writes it out; sync() makes it durable.
const COMMIT_WITHOUT_WAITING_FOR_FLUSH = 0x10002 as TransactionFlags;

/** Operations replayed per transaction on the copy while writers run. */
const REPLAY_CHUNK = 4000;
/** The journal is "small" (the swap may go ahead) below this many operations. */
export const SMALL_JOURNAL = 2000;
/** Catch-up rounds before giving up on a smaller journal (a writer faster than the replay). */
const MAX_ROUNDS = 20;

/** Steps a test can stop the process at, to check that a crash anywhere leaves a valid file. */
export type DefragStep = 'copied' | 'caught-up' | 'synced' | 'old-closed' | 'renamed';

export interface DefragHooks {
  /** Called at each step (a test may kill the process there). */
  at?(step: DefragStep): void;
}

/** Process-wide hooks for crash tests; empty in production. */
export const defragHooks: DefragHooks = {};

export function openLmdbRoot(file: string): RootDatabase {
  // noSubdir: one file at `file` (plus `file-lock`), like etcd's member/snap/db.
  return open({ path: file, noSubdir: true, keyEncoding: 'binary', encoding: 'binary', maxDbs: 32 });
}

export function openLmdbDb(root: RootDatabase, name: string): Database<Buffer, Buffer> {
  return root.openDB<Buffer, Buffer>({ name, keyEncoding: 'binary', encoding: 'binary' });
}

const yieldToEventLoop = () => new Promise<void>((resolve) => setImmediate(resolve));

export class LmdbDefragCopy {
  private readonly dbs = new Map<string, Database<Buffer, Buffer>>();

  private constructor(
    readonly file: string,
    private readonly root: RootDatabase,
  ) {}

  /** Copies `source` compacted to the new file `file` (from one read snapshot) and opens it. */
  static async create(source: RootDatabase, file: string): Promise<LmdbDefragCopy> {
    removeCopyFiles(file);
    await source.backup(file, true);
    defragHooks.at?.('copied');
    return new LmdbDefragCopy(file, openLmdbRoot(file));
  }

  /** Replays `ops` in one transaction (synchronous: use it for the short, final rest). */
  apply(ops: JournalOp[]): void {
    if (ops.length === 0) return;
    for (const op of ops) this.db(op.db); // opening a db inside the write transaction is not allowed
    this.root.transactionSync(() => {
      for (const op of ops) {
        const db = this.db(op.db);
        if (op.value === null) db.removeSync(op.key);
        else db.putSync(op.key, op.value);
      }
    }, COMMIT_WITHOUT_WAITING_FOR_FLUSH);
  }

  /**
   * Replays the journal in rounds while writes go on, until what is left is small (or the
   * writers keep ahead for MAX_ROUNDS rounds). Stops early when `cancelled` says so.
   */
  async catchUp(journal: DefragJournal, cancelled: () => boolean): Promise<void> {
    for (let round = 0; round < MAX_ROUNDS && !cancelled(); round++) {
      if (journal.length < SMALL_JOURNAL) return;
      for (const part of chunks(journal.take(), REPLAY_CHUNK)) {
        if (cancelled()) return;
        this.apply(part);
        await yieldToEventLoop();
      }
    }
  }

  /** Makes everything replayed so far durable (fsync of the copy). */
  async sync(): Promise<void> {
    await this.root.flushed;
    await new Promise<void>((resolve, reject) => {
      // lmdb's env sync (mdb_env_sync) is not in its typings.
      const env = this.root as unknown as { sync(cb: (err?: Error) => void): void };
      env.sync((err) => (err ? reject(err) : resolve()));
    });
  }

  async close(): Promise<void> {
    await this.root.close();
    fs.rmSync(`${this.file}-lock`, { force: true });
  }

  /** Closes and deletes the copy (a cancelled defragmentation). */
  async discard(): Promise<void> {
    try {
      await this.root.close();
    } finally {
      removeCopyFiles(this.file);
    }
  }

  private db(name: string): Database<Buffer, Buffer> {
    let db = this.dbs.get(name);
    if (db === undefined) {
      db = openLmdbDb(this.root, name);
      this.dbs.set(name, db);
    }
    return db;
  }
}

export function removeCopyFiles(file: string): void {
  fs.rmSync(file, { force: true });
  fs.rmSync(`${file}-lock`, { force: true });
}

/** Makes a rename in `file`'s directory durable. */
export function syncDirectoryOf(file: string): void {
  const fd = fs.openSync(path.dirname(file), 'r');
  try {
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
}
