// Opening a member's storage: either a fresh start (no WAL yet: derive ids,
// create the WAL, bootstrap raft with the initial members) or a restart
// (newest snapshot -> WAL from it -> in-memory raft log -> backend). Anything
// that does not fit together (unreadable files, a backend from another data
// dir, a snapshot of another cluster) stops start-up with a clear message and
// leaves every file as it was.
import { existsSync } from 'node:fs';
import { verifyBootstrapCluster } from '../config/bootstrap.js';
import { ConfigError, type ServerConfig } from '../config/types.js';
import { mkdirDurable } from '../fs/durable-dir.js';
import type { FileSystem } from '../fs/file-system.js';
import { realFs } from '../fs/real-fs.js';
import type { Logger } from '../log/types.js';
import { convertEtcd34DataDir } from '../migrate/convert.js';
import { MvccStore } from '../mvcc/index.js';
import { type GetOptions, getClusterFromPeers, type RemoteCluster } from '../peer/cluster-info.js';
import { MemoryStorage, RawNode } from '../raft/index.js';
import {
  type ConfChange,
  ConfChangeType,
  type ConfState,
  ReadOnlyOption,
  type Snapshot,
} from '../raft/types.js';
import { type Clock, realClock } from '../runtime/clock.js';
import { Snapshotter } from '../snap/index.js';
import { Wal, type WalLogger } from '../wal/index.js';
import { computeClusterId, computeMemberId } from './ids.js';
import { type DataLayout, dataLayout } from './layout.js';
import { recoverSnapshotBackend, type SnapshotDbImporter } from './member-snapshots.js';
import { encodeMemberContext, type Member, Membership } from './membership.js';
import { decodeWalMetadata, encodeWalMetadata } from './wal-metadata.js';

/**
 * The disk, time and randomness a member's storage is opened with: Node's for
 * a real member, simulated ones under the simulator (same code path).
 */
export interface StorageIo {
  fs: FileSystem;
  clock: Clock;
  random: () => number;
  /** Opens (creating if needed) the backend at `path`. */
  openStore(path: string): Promise<MvccStore>;
  storeExists(path: string): Promise<boolean>;
  /** Converts a data dir another program wrote (etcd 3.4's) before it is opened; real disks only. */
  convertForeignDataDir?(layout: DataLayout, log: Logger): Promise<unknown>;
  /** WAL segment size (default 64 MiB); the simulator uses small ones so a restart does not read 64 MiB. */
  walSegmentBytes?: number;
  /** Imports a received raft snapshot database (default: into an LMDB file); the simulator's is in memory. */
  importSnapshotDb?: SnapshotDbImporter;
  /** GET /members from the other members' peer URLs (default: over HTTP); the simulator answers on its network. */
  clusterFromPeers?(urls: readonly string[], o: GetOptions): Promise<RemoteCluster>;
}

export const realStorageIo: StorageIo = {
  fs: realFs,
  clock: realClock,
  random: Math.random,
  openStore: async (path) => MvccStore.open(path),
  storeExists: async (path) => existsSync(path),
  convertForeignDataDir: (layout, log) => convertEtcd34DataDir(layout, log),
};

export class StartupError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'StartupError';
  }
}

export interface BootedStorage {
  memberId: bigint;
  clusterId: bigint;
  fresh: boolean;
  wal: Wal;
  snapshotter: Snapshotter;
  storage: MemoryStorage;
  node: RawNode;
  backend: MvccStore;
  membership: Membership;
  /** Members to reach at start (the rest are added as conf changes are applied). */
  initialPeers: Member[];
  /** Raft's applied index at start (the snapshot's index): everything above is handed out again. */
  appliedIndex: number;
  confState: ConfState;
  snapshotIndex: number;
}

const MAX_SIZE_PER_MSG = 1024 * 1024;
const MAX_INFLIGHT_MSGS = 4096 / 8;

function walSize(io: StorageIo): { segmentBytes?: number } {
  return io.walSegmentBytes === undefined ? {} : { segmentBytes: io.walSegmentBytes };
}

function walLogger(log: Logger): WalLogger {
  return (level, msg, fields) => log[level](msg, fields as Record<string, string>);
}

function makeNode(
  cfg: ServerConfig,
  memberId: bigint,
  storage: MemoryStorage,
  applied: number,
  random: () => number,
): RawNode {
  const electionTick = Math.max(2, Math.round(cfg.electionTimeoutMs / cfg.heartbeatIntervalMs));
  return new RawNode({
    id: memberId,
    electionTick,
    heartbeatTick: 1,
    storage,
    applied,
    maxSizePerMsg: MAX_SIZE_PER_MSG,
    maxInflightMsgs: MAX_INFLIGHT_MSGS,
    maxInflightBytes: 0,
    maxUncommittedEntriesSize: 0,
    checkQuorum: true,
    preVote: cfg.preVote,
    readOnlyOption: ReadOnlyOption.Safe,
    // The ready loop sends the leader's appends before its own WAL write (raft-loop.ts).
    selfAckOnPersist: true,
    random,
  });
}

/** The members named in --initial-cluster, with etcd's ids. */
export function initialMembers(cfg: ServerConfig): Member[] {
  const out: Member[] = [];
  for (const [name, urls] of cfg.initialCluster) {
    const peerUrls = [...urls];
    out.push({
      id: computeMemberId(peerUrls, cfg.initialClusterToken),
      name,
      peerUrls,
      clientUrls: [],
      isLearner: false,
    });
  }
  return out;
}

function localMember(cfg: ServerConfig, members: Member[]): Member {
  try {
    verifyBootstrapCluster(cfg);
  } catch (err) {
    if (err instanceof ConfigError) throw new StartupError(err.message);
    throw err;
  }
  const me = members.find((m) => m.name === cfg.name);
  if (me === undefined)
    throw new StartupError(`couldn't find local name "${cfg.name}" in the initial cluster configuration`);
  return me;
}

export async function bootStorage(
  cfg: ServerConfig,
  log: Logger,
  peerGet: GetOptions = { timeoutMs: 10_000 },
  io: StorageIo = realStorageIo,
): Promise<BootedStorage> {
  const layout = dataLayout(cfg.dataDir, cfg.walDir);
  // A data dir written by etcd 3.4 (or its `snapshot restore`) is converted once; originals kept.
  try {
    await io.convertForeignDataDir?.(layout, log);
  } catch (err) {
    throw new StartupError((err as Error).message);
  }
  const wlog = walLogger(log);
  if (Wal.exists(layout.walDir, io.fs)) return restart(cfg, log, layout, wlog, peerGet, io);
  if (cfg.initialClusterState === 'existing') return joinExisting(cfg, log, layout, wlog, peerGet, io);
  return freshStart(cfg, log, layout, wlog, io);
}

async function freshStart(
  cfg: ServerConfig,
  log: Logger,
  layout: ReturnType<typeof dataLayout>,
  wlog: WalLogger,
  io: StorageIo,
): Promise<BootedStorage> {
  const members = initialMembers(cfg);
  const me = localMember(cfg, members);
  const clusterId = computeClusterId(members.map((m) => m.id));
  await refuseOrphanBackend(layout, io, log);
  // Every directory made here must survive a crash, or so would not the WAL created in them.
  await mkdirDurable(io.fs, layout.snapDir);
  const wal = await Wal.create(layout.walDir, encodeWalMetadata({ memberId: me.id, clusterId }), wlog, {
    fs: io.fs,
    clock: io.clock,
    ...walSize(io),
  });
  const backend = await io.openStore(layout.dbPath);
  const storage = new MemoryStorage();
  const node = makeNode(cfg, me.id, storage, 0, io.random);
  node.bootstrap(bootstrapChanges(members));
  log.info('starting local member', {
    'local-member-id': me.id.toString(16),
    'cluster-id': clusterId.toString(16),
  });
  return {
    memberId: me.id,
    clusterId,
    fresh: true,
    wal,
    snapshotter: new Snapshotter(layout.snapDir, wlog, { fs: io.fs }),
    storage,
    node,
    backend,
    membership: new Membership(),
    initialPeers: members,
    appliedIndex: 0,
    confState: { voters: [], learners: [] },
    snapshotIndex: 0,
  };
}

/**
 * A new member of a running cluster (after `member add`): ask the others for
 * the member list, match ourselves by peer URLs, adopt the cluster's ids and
 * start with an empty log; the leader sends the log (or a snapshot).
 */
async function joinExisting(
  cfg: ServerConfig,
  log: Logger,
  layout: ReturnType<typeof dataLayout>,
  wlog: WalLogger,
  peerGet: GetOptions,
  io: StorageIo,
): Promise<BootedStorage> {
  const { remote, me } = await fetchExistingCluster(cfg, peerGet, io);
  await refuseOrphanBackend(layout, io, log);
  // Every directory made here must survive a crash, or so would not the WAL created in them.
  await mkdirDurable(io.fs, layout.snapDir);
  const clusterId = remote.clusterId;
  const wal = await Wal.create(layout.walDir, encodeWalMetadata({ memberId: me.id, clusterId }), wlog, {
    fs: io.fs,
    clock: io.clock,
    ...walSize(io),
  });
  const backend = await io.openStore(layout.dbPath);
  const storage = new MemoryStorage();
  const node = makeNode(cfg, me.id, storage, 0, io.random);
  log.info('starting local member', {
    'local-member-id': me.id.toString(16),
    'cluster-id': clusterId.toString(16),
  });
  return {
    memberId: me.id,
    clusterId,
    fresh: true,
    wal,
    snapshotter: new Snapshotter(layout.snapDir, wlog, { fs: io.fs }),
    storage,
    node,
    backend,
    membership: new Membership(),
    initialPeers: remote.members,
    appliedIndex: 0,
    confState: { voters: [], learners: [] },
    snapshotIndex: 0,
  };
}

/** GET /members from the other members named in --initial-cluster. */
async function askPeers(
  cfg: ServerConfig,
  local: readonly Member[],
  peerGet: GetOptions,
  io: StorageIo,
): Promise<RemoteCluster> {
  const others = local.filter((m) => m.name !== cfg.name).flatMap((m) => m.peerUrls);
  try {
    return await (io.clusterFromPeers ?? getClusterFromPeers)(others.sort(), peerGet);
  } catch (err) {
    throw new StartupError(`cannot fetch cluster info from peer urls: ${(err as Error).message}`);
  }
}

/**
 * The running cluster as its members describe it, checked against
 * --initial-cluster as etcd checks it (same member count, every member's peer
 * URLs named), and the entry among them that is this member.
 */
async function fetchExistingCluster(
  cfg: ServerConfig,
  peerGet: GetOptions,
  io: StorageIo,
): Promise<{ remote: RemoteCluster; me: Member }> {
  const local = initialMembers(cfg);
  localMember(cfg, local);
  const remote = await askPeers(cfg, local, peerGet, io);
  const described = `{ClusterID:${remote.clusterId.toString(16)} Members:[${remote.members.map((m) => `&{ID:${m.id.toString(16)} PeerURLs:[${m.peerUrls.join(' ')}]}`).join(' ')}]}`;
  if (remote.members.length !== local.length) {
    throw new StartupError(`error validating peerURLs ${described}: member count is unequal`);
  }
  for (const em of remote.members) {
    const match = local.find((lm) => sameUrls(lm.peerUrls, em.peerUrls));
    if (match === undefined) {
      throw new StartupError(
        `error validating peerURLs ${described}: PeerURLs: no match found for existing member (${em.id.toString(16)}, [${em.peerUrls.join(' ')}]), last resolver error (<nil>)`,
      );
    }
    match.id = em.id;
  }
  const me = local.find((m) => m.name === cfg.name)!;
  refuseStartedEntry(remote, me.id);
  return { remote, me };
}

/**
 * A member that `member add` just added has not started: the cluster lists it
 * without a name or client URLs until it publishes them through raft, which it
 * cannot do before its WAL holds something. An entry that has started is
 * another incarnation: the same peer URLs under a member id that was removed
 * since (the peer that answered has not applied the removal yet), or this
 * member after its data dir was wiped. Joining as it would make a voter that
 * forgot what it acknowledged, and committed writes could be lost; so start-up
 * stops (and is retried, as after any failed join).
 */
function refuseStartedEntry(remote: RemoteCluster, id: bigint): void {
  const entry = remote.members.find((m) => m.id === id);
  if (entry === undefined || (entry.name === '' && entry.clientUrls.length === 0)) return;
  throw new StartupError(
    `member ${id.toString(16)} has already been bootstrapped: a peer lists it as started (${entry.name}), so this data dir is not its own (was the data dir wiped, or has the peer not yet applied the member's removal?)`,
  );
}

/**
 * A backend without a WAL: either the leftover of a first start that died
 * before its WAL became durable (nothing was ever applied: start over), or a
 * backend that belongs elsewhere (refuse, leaving it untouched).
 */
async function refuseOrphanBackend(
  layout: ReturnType<typeof dataLayout>,
  io: StorageIo,
  log: Logger,
): Promise<void> {
  if (!(await io.storeExists(layout.dbPath))) return;
  const store = await io.openStore(layout.dbPath);
  const applied = store.consistentIndex();
  await store.close();
  if (applied === 0) {
    log.info('reusing an empty backend left by an interrupted first start', { path: layout.dbPath });
    return;
  }
  throw new StartupError(
    `${layout.dbPath} exists but ${layout.walDir} has no WAL: refusing to start on a backend without its log (move it away or restore a snapshot)`,
  );
}

function sameUrls(a: readonly string[], b: readonly string[]): boolean {
  if (a.length !== b.length) return false;
  const sa = [...a].sort();
  const sb = [...b].sort();
  return sa.every((u, i) => u === sb[i]);
}

/** etcd's bootstrap entries: one AddNode per founding member, ascending ids, request id 0. */
function bootstrapChanges(members: readonly Member[]): ConfChange[] {
  return [...members]
    .sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))
    .map((m) => ({ type: ConfChangeType.AddNode, nodeId: m.id, context: encodeMemberContext(m), id: 0n }));
}

async function restart(
  cfg: ServerConfig,
  log: Logger,
  layout: ReturnType<typeof dataLayout>,
  wlog: WalLogger,
  peerGet: GetOptions,
  io: StorageIo,
): Promise<BootedStorage> {
  const snapshotter = new Snapshotter(layout.snapDir, wlog, { fs: io.fs });
  const snap = await loadSnapshot(snapshotter);
  const from =
    snap === undefined ? { index: 0, term: 0 } : { index: snap.metadata.index, term: snap.metadata.term };
  let opened: Awaited<ReturnType<typeof Wal.open>>;
  try {
    opened = await Wal.open(layout.walDir, from, wlog, { fs: io.fs, clock: io.clock, ...walSize(io) });
  } catch (err) {
    throw new StartupError(`cannot open WAL in ${layout.walDir}: ${(err as Error).message}`);
  }
  const { wal, replay } = opened;
  const meta = decodeWalMetadataOrFail(replay.metadata, layout.walDir);
  const membership = membershipFrom(snap);
  const storage = new MemoryStorage();
  if (snap !== undefined) storage.applySnapshot(snap);
  storage.setHardState(replay.hardState);
  if (replay.entries.length > 0) storage.append(replay.entries);
  const backend = await openBackend(layout.dbPath, io);
  if (snap !== undefined) await recoverBackend(backend, layout, snap, io, log);
  checkBackendFits(backend, storage.lastIndex(), snap, layout.dbPath);
  // The ready loop does not write commit-only hard states (raft-loop.ts): what the backend
  // applied was committed, so the commit index starts at least there.
  const ci = backend.consistentIndex();
  if (ci > replay.hardState.commit) storage.setHardState({ ...replay.hardState, commit: ci });
  const appliedIndex = snap?.metadata.index ?? 0;
  const node = makeNode(cfg, meta.memberId, storage, appliedIndex, io.random);
  const emptyLog = snap === undefined && replay.entries.length === 0 && replay.hardState.term === 0;
  // The previous run died between creating the WAL and persisting its first Ready.
  let firstPeers: Member[] | undefined;
  try {
    if (emptyLog) firstPeers = await resumeFirstStart(cfg, meta, node, peerGet, io);
  } catch (err) {
    await Promise.allSettled([wal.close(), backend.close()]);
    throw err;
  }
  log.info('restarting local member', {
    'local-member-id': meta.memberId.toString(16),
    'cluster-id': meta.clusterId.toString(16),
    'commit-index': replay.hardState.commit,
  });
  return {
    memberId: meta.memberId,
    clusterId: meta.clusterId,
    fresh: emptyLog,
    wal,
    snapshotter,
    storage,
    node,
    backend,
    membership,
    initialPeers: firstPeers ?? membership.list(),
    appliedIndex,
    confState: snap?.metadata.confState ?? { voters: [], learners: [] },
    snapshotIndex: appliedIndex,
  };
}

/**
 * Picks up a first start that died before its first Ready was durable, the way
 * it began. A founding member bootstraps again (nothing was committed, so that
 * is safe). A member that was joining a running cluster must not: bootstrap
 * entries of its own would conflict with the cluster's log at index 1 and it
 * would never catch up; it asks the members again and waits for the leader.
 */
async function resumeFirstStart(
  cfg: ServerConfig,
  meta: { memberId: bigint; clusterId: bigint },
  node: RawNode,
  peerGet: GetOptions,
  io: StorageIo,
): Promise<Member[]> {
  if (cfg.initialClusterState === 'existing') {
    // The WAL's ids are what this member is; the membership may have changed since
    // (so --initial-cluster is not checked again), but it must still include us.
    const remote = await askPeers(cfg, initialMembers(cfg), peerGet, io);
    if (remote.clusterId !== meta.clusterId) {
      throw new StartupError(
        `the WAL belongs to cluster ${meta.clusterId.toString(16)} but the peers are of cluster ${remote.clusterId.toString(16)}`,
      );
    }
    if (!remote.members.some((m) => m.id === meta.memberId)) {
      throw new StartupError(
        `the member has been permanently removed from the cluster (id ${meta.memberId.toString(16)})`,
      );
    }
    refuseStartedEntry(remote, meta.memberId);
    return remote.members;
  }
  const members = initialMembers(cfg);
  const clusterId = computeClusterId(members.map((m) => m.id));
  if (!members.some((m) => m.id === meta.memberId) || clusterId !== meta.clusterId) {
    throw new StartupError(
      `the WAL was created for member ${meta.memberId.toString(16)} of cluster ${meta.clusterId.toString(16)}, which --initial-cluster does not describe (was it started with --initial-cluster-state existing?)`,
    );
  }
  node.bootstrap(bootstrapChanges(members));
  return members;
}

async function loadSnapshot(snapshotter: Snapshotter): Promise<Snapshot | undefined> {
  try {
    return await snapshotter.loadNewest();
  } catch (err) {
    throw new StartupError(`cannot load raft snapshot: ${(err as Error).message}`);
  }
}

function decodeWalMetadataOrFail(b: Uint8Array, dir: string): { memberId: bigint; clusterId: bigint } {
  try {
    return decodeWalMetadata(b);
  } catch (err) {
    throw new StartupError(`WAL in ${dir} is not an etcd member's log: ${(err as Error).message}`);
  }
}

function membershipFrom(snap: Snapshot | undefined): Membership {
  if (snap === undefined) return new Membership();
  try {
    return Membership.decode(snap.data);
  } catch (err) {
    throw new StartupError(
      `raft snapshot at index ${snap.metadata.index} is unreadable: ${(err as Error).message}`,
    );
  }
}

async function openBackend(path: string, io: StorageIo): Promise<MvccStore> {
  try {
    return await io.openStore(path);
  } catch (err) {
    throw new StartupError(`cannot open backend ${path}: ${(err as Error).message}`);
  }
}

/** A crash between persisting a received raft snapshot and installing its database: install it now. */
async function recoverBackend(
  backend: MvccStore,
  layout: DataLayout,
  snap: Snapshot,
  io: StorageIo,
  log: Logger,
): Promise<void> {
  try {
    const index = snap.metadata.index;
    if (await recoverSnapshotBackend(backend, layout.snapDir, index, io.fs, io.importSnapshotDb)) {
      log.info('recovered the backend from a received snapshot database', { 'snapshot-index': index });
    }
  } catch (err) {
    throw new StartupError(
      `cannot recover the backend from the raft snapshot's database: ${(err as Error).message}`,
    );
  }
}

function checkBackendFits(
  backend: MvccStore,
  walLast: number,
  snap: Snapshot | undefined,
  path: string,
): void {
  const ci = backend.consistentIndex();
  const snapIndex = snap?.metadata.index ?? 0;
  if (ci < snapIndex) {
    // The log below the snapshot is gone, so the missing entries cannot be replayed.
    throw new StartupError(
      `backend ${path} has applied index ${ci} but the raft snapshot is at ${snapIndex}: the backend is older than this data dir's snapshot`,
    );
  }
  const durable = Math.max(walLast, snapIndex);
  if (ci > durable) {
    throw new StartupError(
      `backend ${path} has applied index ${ci} beyond the WAL's last index ${durable}: the backend belongs to another data dir or the WAL lost data`,
    );
  }
}
