// `snapshot restore` (etcdctl 3.4 and etcdutl 3.5 share it): a snapshot file in etcd's format
// (bbolt db ‖ sha256) → a new member data dir in etcd 3.4's own formats, as the real etcdctl
// writes it, so etcd 3.4 and etcd-ts both start from it (etcd-ts converts it on its first start,
// src/migrate/convert.ts). The cluster is made from the flags exactly as etcd's restore makes it
// (clientv3/snapshot/v3_snapshot.go):
//   member ids = SHA-1(sorted peer URLs ‖ token), cluster id from the sorted member ids;
//   WAL = one AddNode conf change per member (term 1, ascending ids), hard state
//   {term 1, vote = smallest id, commit n}, snapshot record {n, 1};
//   member/snap/<term>-<index>.snap = raftpb.Snapshot{index n, term 1, voters} whose data is the
//   v2-store JSON with the members' raftAttributes only (they publish the rest when they start);
//   member/snap/db = the snapshot's db with consistent_index = n, so nothing is applied twice.
// Deliberate differences: the db's members buckets are emptied (3.4 keeps them stale and never
// reads them; 3.5 empties them), and etcd 3.4's DeleteRange on user keys named like an old
// member id (a bug 3.5 fixed) is not reproduced: we never delete user data. The db is checked
// (bbolt structure, every record decoded) before anything is kept, and everything is built in a
// temporary directory beside the target and renamed into place last, so a refused or failed
// restore leaves nothing behind.
import { createHash } from 'node:crypto';
import { constants } from 'node:fs';
import { mkdir, open, readdir, rename, rm, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { BoltDb, checkDb } from '../bbolt/index.js';
import { verifyBootstrapCluster } from '../config/bootstrap.js';
import type { ServerConfig } from '../config/types.js';
import { parseEtcdUrl, parseInitialCluster } from '../config/urls.js';
import { encodeEtcdSnapFile } from '../peer/wire/snap-file.js';
import { encodeConfChange } from '../raft/confchange-codec.js';
import { ConfChangeType, type Entry, EntryType, type Snapshot } from '../raft/types.js';
import { computeClusterId, computeMemberId } from '../server/ids.js';
import { encodeMemberContext, type Member } from '../server/membership.js';
import { encodeV2StoreSnapshot } from '../server/v2/store-snapshot.js';
import { encodeWalMetadata } from '../server/wal-metadata.js';
import { createEtcdWal } from './etcd-wal-writer.js';
import { writeRestoredDb } from './restored-db.js';

export interface RestoreConfig {
  snapshotPath: string;
  name: string;
  /** "" = "<name>.etcd". */
  dataDir: string;
  /** "" = "<dataDir>/member/wal". */
  walDir: string;
  peerUrls: string[];
  /** The --initial-cluster text. */
  initialCluster: string;
  initialClusterToken: string;
  skipHashCheck: boolean;
  /** etcdutl (3.5) accepts an existing empty data dir; etcdctl 3.4 refuses any existing one. */
  allowEmptyDataDir?: boolean;
}

export type RestoreEvent =
  | { kind: 'restoring' | 'restored'; path: string; walDir: string; dataDir: string; snapDir: string }
  | { kind: 'added-member'; clusterId: bigint; member: Member };

export interface RestoreResult {
  memberId: bigint;
  clusterId: bigint;
  members: Member[];
  dataDir: string;
  walDir: string;
  /** Main revision of the db's last record (as `snapshot status` shows it) and the consistent index set. */
  revision: number;
  consistentIndex: number;
}

/** A refusal with etcd's wording (the CLI prints it after "Error: "). */
export class RestoreError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RestoreError';
  }
}

const SHA256_SIZE = 32;
const STAGE_SUFFIX = '.etcd-ts-restore.tmp';

export async function restoreSnapshot(
  cfg: RestoreConfig,
  onEvent: (e: RestoreEvent) => void = () => {},
): Promise<RestoreResult> {
  const members = clusterFromFlags(cfg);
  const clusterId = computeClusterId(members.map((m) => m.id));
  const self = members.find((m) => m.name === cfg.name)!;

  const dataDir = cfg.dataDir !== '' ? cfg.dataDir : `${cfg.name}.etcd`;
  if (await exists(dataDir)) {
    if (!cfg.allowEmptyDataDir) throw new RestoreError(`data-dir ${goQuote(dataDir)} exists`);
    if (!(await isEmptyDir(dataDir)))
      throw new RestoreError(`data-dir ${goQuote(dataDir)} not empty or could not be read`);
  }
  const separateWal = cfg.walDir !== '';
  const walDir = separateWal ? cfg.walDir : join(dataDir, 'member', 'wal');
  if (separateWal && (await exists(walDir))) throw new RestoreError(`wal-dir ${goQuote(walDir)} exists`);
  const snapDir = join(dataDir, 'member', 'snap');
  onEvent({ kind: 'restoring', path: cfg.snapshotPath, walDir, dataDir, snapDir });

  const stage = `${dataDir.replace(/\/+$/, '')}${STAGE_SUFFIX}`;
  const walStage = separateWal
    ? `${walDir.replace(/\/+$/, '')}${STAGE_SUFFIX}`
    : join(stage, 'member', 'wal');
  const stageSnap = join(stage, 'member', 'snap');
  await rm(stage, { recursive: true, force: true });
  if (separateWal) await rm(walStage, { recursive: true, force: true });
  let walPlaced = false;
  try {
    const result = await build(cfg, members, self, clusterId, stageSnap, walStage, onEvent);
    if (separateWal) {
      await mkdirFor(walDir);
      await rename(walStage, walDir);
      walPlaced = true;
    }
    await mkdirFor(dataDir);
    await rename(stage, dataDir);
    await fsyncDir(dirname(dataDir));
    onEvent({ kind: 'restored', path: cfg.snapshotPath, walDir, dataDir, snapDir });
    return { ...result, dataDir, walDir };
  } catch (err) {
    await rm(stage, { recursive: true, force: true });
    if (separateWal) await rm(walStage, { recursive: true, force: true });
    // It did not exist before (checked above): a half-done restore must not leave it.
    if (walPlaced) await rm(walDir, { recursive: true, force: true });
    throw err;
  }
}

async function build(
  cfg: RestoreConfig,
  members: Member[],
  self: Member,
  clusterId: bigint,
  snapDir: string,
  walDir: string,
  onEvent: (e: RestoreEvent) => void,
): Promise<Omit<RestoreResult, 'dataDir' | 'walDir'>> {
  await verifyTrailer(cfg.snapshotPath, cfg.skipHashCheck);
  checkBoltFile(cfg.snapshotPath);
  await mkdirAll(snapDir);
  // The new raft log ends at n (one conf change per member): the backend reflects index n.
  const n = members.length;
  let db: Awaited<ReturnType<typeof writeRestoredDb>>;
  try {
    db = await writeRestoredDb(cfg.snapshotPath, join(snapDir, 'db'), n);
  } catch (err) {
    throw new RestoreError(
      `snapshot ${cfg.snapshotPath} is not a usable etcd database: ${(err as Error).message}`,
    );
  }

  for (const m of members) onEvent({ kind: 'added-member', clusterId, member: m });
  const ids = members.map((m) => m.id);
  const entries: Entry[] = members.map((m, i) => ({
    term: 1,
    index: i + 1,
    type: EntryType.ConfChange,
    data: encodeConfChange({
      type: ConfChangeType.AddNode,
      nodeId: m.id,
      context: encodeMemberContext(m),
      id: 0n,
    }),
  }));
  const snapshot: Snapshot = {
    // Unstarted members: raftAttributes only, as etcd's restore stores them.
    data: encodeV2StoreSnapshot({
      members: members.map((m) => ({ ...m, name: '', clientUrls: [] })),
      removed: [],
    }),
    metadata: { index: n, term: 1, confState: { voters: ids, learners: [] } },
  };
  await writeDurably(join(snapDir, etcdSnapName(1, n)), encodeEtcdSnapFile(snapshot));
  await createEtcdWal(walDir, {
    metadata: encodeWalMetadata({ memberId: self.id, clusterId }),
    entries,
    hardState: { term: 1, vote: ids[0]!, commit: n },
    snapshot: { index: n, term: 1 },
  });
  return { memberId: self.id, clusterId, members, revision: db.revision, consistentIndex: n };
}

/** etcd's snap file name: %016x-%016x.snap of term and index. */
function etcdSnapName(term: number, index: number): string {
  return `${term.toString(16).padStart(16, '0')}-${index.toString(16).padStart(16, '0')}.snap`;
}

async function writeDurably(path: string, data: Uint8Array): Promise<void> {
  const fh = await open(path, 'wx', 0o644);
  try {
    await fh.writeFile(data);
    await fh.sync();
  } finally {
    await fh.close();
  }
}

/** The members named by the flags, sorted by id, after etcd's checks (VerifyBootstrap). */
function clusterFromFlags(cfg: RestoreConfig): Member[] {
  let advertised: string[];
  let cluster: Map<string, string[]>;
  try {
    advertised = cfg.peerUrls.map((u) => parseEtcdUrl(u).href).sort();
    cluster = parseInitialCluster(cfg.initialCluster);
  } catch (err) {
    throw new RestoreError((err as Error).message);
  }
  // Only the fields VerifyBootstrap reads; the check is shared with the server's start-up.
  const bootstrap: Pick<
    ServerConfig,
    'name' | 'initialCluster' | 'initialClusterState' | 'initialAdvertisePeerUrls' | 'discovery'
  > = {
    name: cfg.name,
    initialCluster: cluster,
    initialClusterState: 'new',
    initialAdvertisePeerUrls: advertised,
    discovery: '',
  };
  try {
    verifyBootstrapCluster(bootstrap as ServerConfig);
  } catch (err) {
    throw new RestoreError((err as Error).message);
  }
  const members: Member[] = [];
  for (const [name, peerUrls] of cluster) {
    const id = computeMemberId(peerUrls, cfg.initialClusterToken);
    if (id === 0n) throw new RestoreError(`cannot use ${id.toString(16)} as member id`);
    if (members.some((m) => m.id === id))
      throw new RestoreError(`member exists with identical ID ${id.toString(16)}`);
    members.push({ id, name, peerUrls, clientUrls: [], isLearner: false });
  }
  return members.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
}

/**
 * etcd's saveDB checks, with its texts: a file without the sha256 trailer is refused unless
 * told to skip, and a trailer that does not match the db is refused unless told to skip.
 */
async function verifyTrailer(path: string, skipHashCheck: boolean): Promise<void> {
  let fh: Awaited<ReturnType<typeof open>>;
  try {
    fh = await open(path, constants.O_RDONLY);
  } catch (err) {
    throw new RestoreError(goPathError('open', path, err));
  }
  try {
    const size = (await fh.stat()).size;
    if (size < SHA256_SIZE) throw new RestoreError(`seek ${path}: invalid argument`);
    const hasHash = size % 512 === SHA256_SIZE;
    if (!hasHash && !skipHashCheck)
      throw new RestoreError('snapshot missing hash but --skip-hash-check=false');
    if (!hasHash || skipHashCheck) return;
    const dbSize = size - SHA256_SIZE;
    const expected = Buffer.alloc(SHA256_SIZE);
    await fh.read(expected, 0, SHA256_SIZE, dbSize);
    const sha = createHash('sha256');
    const chunk = Buffer.alloc(1 << 20);
    for (let at = 0; at < dbSize; ) {
      const { bytesRead } = await fh.read(chunk, 0, Math.min(chunk.length, dbSize - at), at);
      if (bytesRead === 0) throw new RestoreError(`read ${path}: unexpected EOF`);
      sha.update(chunk.subarray(0, bytesRead));
      at += bytesRead;
    }
    const got = sha.digest();
    if (!got.equals(expected))
      throw new RestoreError(`expected sha256 ${goBytes(expected)}, got ${goBytes(got)}`);
  } finally {
    await fh.close();
  }
}

/** bbolt-level integrity (what `snapshot status` checks): refuse a damaged file before importing. */
function checkBoltFile(path: string): void {
  let db: BoltDb;
  try {
    db = BoltDb.openFile(path);
  } catch (err) {
    throw new RestoreError(`snapshot ${path} is not a valid etcd database: ${(err as Error).message}`);
  }
  try {
    const errors = checkDb(db);
    if (errors.length > 0) {
      throw new RestoreError(
        `snapshot ${path} failed its integrity check (${errors.length} errors): ${errors.slice(0, 5).join('; ')}`,
      );
    }
  } finally {
    db.close();
  }
}

/** Go's %v of a []byte. */
function goBytes(b: Uint8Array): string {
  return `[${[...b].join(' ')}]`;
}

/** Go's strconv.Quote for the plain paths etcd quotes with %q. */
function goQuote(s: string): string {
  return JSON.stringify(s);
}

/** An *os.PathError's text ("open x: no such file or directory"). */
export function goPathError(op: string, path: string, err: unknown): string {
  const code = (err as NodeJS.ErrnoException).code;
  const text: Record<string, string> = {
    ENOENT: 'no such file or directory',
    EACCES: 'permission denied',
    EISDIR: 'is a directory',
    ENOTDIR: 'not a directory',
  };
  return `${op} ${path}: ${(code !== undefined ? text[code] : undefined) ?? (err as Error).message}`;
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch {
    return false;
  }
}

async function isEmptyDir(path: string): Promise<boolean> {
  try {
    return (await readdir(path)).length === 0;
  } catch {
    return false;
  }
}

async function mkdirAll(dir: string): Promise<void> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
}

async function mkdirFor(path: string): Promise<void> {
  await mkdirAll(dirname(path));
}

async function fsyncDir(dir: string): Promise<void> {
  const fh = await open(dir, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}
