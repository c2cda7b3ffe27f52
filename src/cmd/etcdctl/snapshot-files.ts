// `snapshot status` and `snapshot restore` on files, shared by etcdctl (3.4) and etcdutl (3.5):
// the figures come from src/etcd-db, the restore from src/migrate; this adds what etcd's CLIs
// print: bbolt's own error texts for files it cannot open, and the zap log lines of a restore.
import { open, stat } from 'node:fs/promises';
import { DEFAULT_PAGE_SIZE, decodeMetaPage } from '../../bbolt/format.js';
import { type SnapshotStatus, snapshotStatus } from '../../etcd-db/snapshot-file.js';
import { goPathError, type RestoreConfig, type RestoreEvent, restoreSnapshot } from '../../migrate/index.js';
import { Exit, fail } from './io.js';
import { zapLine } from './zap-line.js';

/**
 * What bbolt's Open would answer for a file it cannot map (etcdctl prints exactly that), or
 * undefined when the file opens. Our reader's own messages are clearer but scripts match these.
 */
async function boltOpenError(path: string, size: number): Promise<string | undefined> {
  // bbolt tries to initialise an empty file, which a read-only handle refuses.
  if (size === 0) return `write ${path}: bad file descriptor`;
  const fh = await open(path, 'r');
  let page: Buffer;
  try {
    page = Buffer.alloc(Math.min(size, DEFAULT_PAGE_SIZE));
    await fh.read(page, 0, page.length, 0);
  } finally {
    await fh.close();
  }
  const m0 = decodeMetaPage(page);
  const pageSize = m0.ok ? m0.meta.pageSize : DEFAULT_PAGE_SIZE;
  if (size < 2 * pageSize) return 'file size too small';
  return undefined;
}

/** bbolt's error texts for a db whose metas both fail (it reports meta 0's problem). */
function metaErrorText(reason: string): string | undefined {
  if (reason.startsWith('bad magic')) return 'invalid database';
  if (reason.startsWith('unsupported version')) return 'version mismatch';
  if (reason.startsWith('checksum')) return 'checksum error';
  return undefined;
}

/** `snapshot status FILE`: the figures, or exit 1 with etcdctl's error text. */
export async function statusOrFail(path: string): Promise<SnapshotStatus> {
  let size: number;
  try {
    size = (await stat(path)).size;
  } catch (err) {
    return fail(Exit.error, goPathError('stat', path, err));
  }
  let early: string | undefined;
  try {
    early = await boltOpenError(path, size);
  } catch (err) {
    early = goPathError('open', path, err);
  }
  if (early !== undefined) fail(Exit.error, early);
  try {
    return snapshotStatus(path);
  } catch (err) {
    const msg = (err as Error).message;
    const meta = /no valid meta page \(meta 0: ([^;]*);/.exec(msg);
    const text = meta ? metaErrorText(meta[1]!) : undefined;
    return fail(Exit.error, text ?? msg.replace(/^etcd db: /, ''));
  }
}

/** Callers (file:line) as etcd 3.4's etcdctl logs a restore; etcdutl 3.5 logs from other lines. */
export interface RestoreLogCallers {
  restoring: string;
  restored: string;
  addedMember: string;
  /** "ts" as ISO 8601 (etcd 3.5's tools) rather than epoch seconds (etcdctl 3.4). */
  isoTime: boolean;
}

export const ETCDCTL_34_RESTORE_CALLERS: RestoreLogCallers = {
  restoring: 'snapshot/v3_snapshot.go:296',
  restored: 'snapshot/v3_snapshot.go:309',
  addedMember: 'membership/cluster.go:392',
  isoTime: false,
};

/** `snapshot restore`: logs as etcd does, exits 1 with etcd's error text on failure. */
export async function restoreOrFail(
  io: { err(s: string): void },
  cfg: RestoreConfig,
  callers: RestoreLogCallers,
): Promise<void> {
  const onEvent = (e: RestoreEvent): void => {
    if (e.kind === 'added-member') {
      zapLine(
        io,
        'info',
        callers.addedMember,
        'added member',
        {
          'cluster-id': e.clusterId.toString(16),
          'local-member-id': '0',
          'added-peer-id': e.member.id.toString(16),
          'added-peer-peer-urls': e.member.peerUrls,
        },
        callers.isoTime,
      );
      return;
    }
    zapLine(
      io,
      'info',
      e.kind === 'restoring' ? callers.restoring : callers.restored,
      e.kind === 'restoring' ? 'restoring snapshot' : 'restored snapshot',
      { path: e.path, 'wal-dir': e.walDir, 'data-dir': e.dataDir, 'snap-dir': e.snapDir },
      callers.isoTime,
    );
  };
  try {
    await restoreSnapshot(cfg, onEvent);
  } catch (err) {
    fail(Exit.error, (err as Error).message);
  }
}
