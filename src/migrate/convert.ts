// Converting an etcd 3.4 data dir into etcd-ts's formats, once, at start-up:
//   etcd WAL (+ .snap) → our WAL and snap file (same metadata, hard state, entries, snapshot);
//   bbolt member/snap/db → LMDB member/snap/db (importEtcdDb).
// Crash safety: everything new is built beside the originals (<dir>.etcd-ts-new), fsynced, then a
// journal names four renames — originals aside to <dir>.etcd-3.4[.N], new ones into place — and
// they are carried out. A start that finds the journal finishes the renames (each is done iff
// its target exists), so a crash at any point leaves either the untouched etcd dir (plus
// leftovers that are cleared and rebuilt) or a finished conversion. The originals are kept.
import { mkdir, open, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { importEtcdDb } from '../etcd-db/index.js';
import type { Logger } from '../log/types.js';
import { decodeWalMetadata } from '../server/wal-metadata.js';
import {
  type Etcd34Member,
  fileExists,
  isBoltFile,
  isEtcd34DataDir,
  readEtcd34Member,
  snapDbPath,
} from './etcd-data-dir.js';
import { writeNativeRaftState } from './native-dir.js';

export interface ConversionLayout {
  memberDir: string;
  walDir: string;
  snapDir: string;
  dbPath: string;
}

export class MigrationError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'MigrationError';
  }
}

const JOURNAL = 'etcd-ts-migration.json';
const NEW_SUFFIX = '.etcd-ts-new';
const BACKUP_SUFFIX = '.etcd-3.4';

interface Journal {
  /** [from, to] pairs, in order; a pair is done iff `to` exists. */
  renames: [string, string][];
}

export interface ConversionReport {
  memberId: bigint;
  clusterId: bigint;
  snapshotIndex: number;
  snapshotTerm: number;
  entries: number;
  commit: number;
  consistentIndex: number;
  revision: number;
  records: number;
  walBackup: string;
  snapBackup: string;
}

/**
 * Converts the member's data dir if it is an etcd 3.4 one (or finishes a conversion a crash
 * interrupted). Returns what was converted, or undefined when there was nothing to do.
 */
export async function convertEtcd34DataDir(
  layout: ConversionLayout,
  log: Logger,
): Promise<ConversionReport | undefined> {
  const journalPath = join(layout.memberDir, JOURNAL);
  if (await fileExists(journalPath)) {
    log.warn('finishing an interrupted conversion of an etcd 3.4 data dir', { journal: journalPath });
    await carryOut(journalPath);
    return undefined;
  }
  if (!(await isEtcd34DataDir(layout))) return undefined;
  const started = Date.now();
  log.info('found an etcd 3.4 data dir; converting it to etcd-ts format (the originals are kept)', {
    'wal-dir': layout.walDir,
    'snap-dir': layout.snapDir,
  });
  const walNew = layout.walDir + NEW_SUFFIX;
  const snapNew = layout.snapDir + NEW_SUFFIX;
  await clearLeftovers(walNew, snapNew);
  let report: Omit<ConversionReport, 'walBackup' | 'snapBackup'>;
  try {
    report = await buildConverted(layout, walNew, snapNew, log);
  } catch (err) {
    await clearLeftovers(walNew, snapNew);
    throw new MigrationError(
      `cannot convert the etcd 3.4 data dir (left unchanged): ${(err as Error).message}`,
    );
  }
  const walBackup = await freeName(layout.walDir + BACKUP_SUFFIX);
  const snapBackup = await freeName(layout.snapDir + BACKUP_SUFFIX);
  const journal: Journal = {
    renames: [
      [layout.walDir, walBackup],
      [walNew, layout.walDir],
      [layout.snapDir, snapBackup],
      [snapNew, layout.snapDir],
    ],
  };
  await writeDurably(journalPath, JSON.stringify(journal));
  await carryOut(journalPath);
  const full = { ...report, walBackup, snapBackup };
  log.info('converted the etcd 3.4 data dir to etcd-ts format', {
    'local-member-id': full.memberId.toString(16),
    'cluster-id': full.clusterId.toString(16),
    'snapshot-index': full.snapshotIndex,
    'snapshot-term': full.snapshotTerm,
    'wal-entries': full.entries,
    'commit-index': full.commit,
    'consistent-index': full.consistentIndex,
    revision: full.revision,
    'backend-records': full.records,
    'original-wal-dir': walBackup,
    'original-snap-dir': snapBackup,
    took: `${Date.now() - started}ms`,
  });
  return full;
}

async function buildConverted(
  layout: ConversionLayout,
  walNew: string,
  snapNew: string,
  log: Logger,
): Promise<Omit<ConversionReport, 'walBackup' | 'snapBackup'>> {
  if (!(await isBoltFile(layout.dbPath))) {
    throw new Error(`${layout.dbPath} is missing or is not a bbolt database`);
  }
  const member: Etcd34Member = await readEtcd34Member(layout);
  if (member.torn !== undefined) {
    log.warn('etcd WAL ends with a torn record; leaving it out as etcd would', {
      file: member.torn.file,
      offset: member.torn.offset,
      reason: member.torn.reason,
    });
  }
  for (const f of member.skippedSnapFiles) log.warn('skipped an unreadable etcd snapshot file', { file: f });
  const ids = decodeWalMetadata(member.metadata);
  const snapIndex = member.snapshot?.metadata.index ?? 0;

  await mkdir(snapNew, { recursive: true, mode: 0o700 });
  const into = join(snapNew, basename(layout.dbPath));
  let imported = await importEtcdDb(layout.dbPath, into);
  if (imported.consistentIndex < snapIndex) {
    // etcd's recoverSnapshotBackend: a snapshot was received but its db not yet moved into place.
    const received = snapDbPath(layout.snapDir, snapIndex);
    if (!(await fileExists(received))) {
      throw new Error(
        `backend consistent index ${imported.consistentIndex} is below the snapshot index ${snapIndex} and ${received} is missing`,
      );
    }
    await rm(into, { force: true });
    await rm(`${into}-lock`, { force: true });
    imported = await importEtcdDb(received, into);
  }
  await writeNativeRaftState(walNew, snapNew, {
    metadata: member.metadata,
    snapshot: member.snapshot,
    hardState: member.hardState,
    entries: member.entries,
  });
  await fsyncDir(snapNew);
  return {
    memberId: ids.memberId,
    clusterId: ids.clusterId,
    snapshotIndex: snapIndex,
    snapshotTerm: member.snapshot?.metadata.term ?? 0,
    entries: member.entries.length,
    commit: member.hardState.commit,
    consistentIndex: imported.consistentIndex,
    revision: imported.revision,
    records: imported.records,
  };
}

async function clearLeftovers(walNew: string, snapNew: string): Promise<void> {
  for (const p of [walNew, `${walNew}.tmp`, snapNew]) await rm(p, { recursive: true, force: true });
}

/** `base`, or `base.1`, `base.2`, ... whichever does not exist yet. */
async function freeName(base: string): Promise<string> {
  if (!(await fileExists(base))) return base;
  for (let n = 1; ; n++) {
    const candidate = `${base}.${n}`;
    if (!(await fileExists(candidate))) return candidate;
  }
}

async function carryOut(journalPath: string): Promise<void> {
  let journal: Journal;
  try {
    journal = JSON.parse(await readFile(journalPath, 'utf8')) as Journal;
  } catch (err) {
    throw new MigrationError(`unreadable conversion journal ${journalPath}: ${(err as Error).message}`);
  }
  for (const [from, to] of journal.renames) {
    if (await fileExists(to)) continue;
    if (!(await fileExists(from))) {
      throw new MigrationError(`conversion journal ${journalPath}: neither ${from} nor ${to} exists`);
    }
    await rename(from, to);
    await fsyncDir(dirname(to));
    if (dirname(from) !== dirname(to)) await fsyncDir(dirname(from));
  }
  await rm(journalPath);
  await fsyncDir(dirname(journalPath));
}

async function writeDurably(path: string, text: string): Promise<void> {
  const tmp = `${path}.tmp`;
  await writeFile(tmp, text, { mode: 0o600 });
  const fh = await open(tmp, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
  await rename(tmp, path);
  await fsyncDir(dirname(path));
}

async function fsyncDir(dir: string): Promise<void> {
  const fh = await open(dir, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}
