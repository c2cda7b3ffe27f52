// `etcdctl migrate` (etcd 3.4's ctlv3/command/migrate_command.go): the v2 keys of an etcd 3.4
// member's data dir, rebuilt from its newest .snap and its WAL, become v3 keys in its backend
// (member/snap/db). The facts kept from etcd:
// - the v2 store is rebuilt the way the server builds it: the snapshot's store JSON, then every
//   WAL entry after it: conf changes through the membership rules (they write /0 too, so the
//   store's indexes come out as the server's), v2 requests (bare or wrapped) applied, v3 requests
//   skipped; the highest index of a normal entry (or the snapshot's) becomes the consistent index;
// - every node under /1 is handed to the transformer as Go's json.Marshal of a NodeExtern with
//   the "/1" cut off ("/1" itself is "/"), directories without their children, one after another
//   with nothing in between; --no-ttl leaves out nodes with a TTL (their children still go);
// - the default transformer makes each key {key, value, create_revision: createdIndex,
//   mod_revision: modifiedIndex, version: 1} (directories are dropped); a --transformer program
//   reads the JSON on stdin and answers length-prefixed (8 bytes, little-endian) mvccpb.KeyValue
//   messages on stdout;
// - each KeyValue is stored at revision {mod_revision, 0} in bucket "key" (overwriting what is
//   there), and meta/consistent_index is raised to the index (never lowered).
// Unlike etcd, the backend is rewritten as a new file (our bbolt writer streams whole files) and
// renamed over the old one only when everything succeeded, so a failed transformer changes nothing.

import { spawn } from 'node:child_process';
import { renameSync, rmSync, statSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import {
  type BoltBucket,
  type BoltBuilder,
  BoltDb,
  compareBytes,
  copyBucket,
  writeBolt,
} from '../bbolt/index.js';
import { BUCKET, EtcdDbError, encodeU64BE, META_CONSISTENT_INDEX } from '../etcd-db/codecs.js';
import { decodeKeyValue, encodeKeyValue } from '../mvcc/kv-codec.js';
import { encodeRevision } from '../mvcc/revision.js';
import type { KeyValue } from '../mvcc/types.js';
import { goJsonString } from '../peer/wire/go-json.js';
import { decodeConfChange } from '../raft/confchange-codec.js';
import { ConfChangeType, type Entry, EntryType } from '../raft/types.js';
import { decodeInternalRequest } from '../server/internal-request.js';
import { Membership } from '../server/membership.js';
import { applyV2ToStore } from '../server/v2/apply.js';
import { type NodeExtern, nodeJson, V2Error, V2ErrorCode, type V2Store } from '../v2store/index.js';
import { isEtcd34DataDir, readEtcd34Member } from './etcd-data-dir.js';
import { listEtcdWalFiles } from './etcd-wal-reader.js';

export class V2MigrateError extends Error {
  override readonly name = 'V2MigrateError';
}

export interface RebuiltV2Store {
  store: V2Store;
  /** The consistent index the migrated backend gets. */
  index: number;
  /** Whether etcd's migrate would find "/1" (a snapshot, or a v2 write under /1 in the log). */
  hasKeySpace: boolean;
}

/** etcd's zap.NewExample lines: {"level":"info","msg":...,fields} with no time or caller. */
export type LogLine = (msg: string, fields: Record<string, string | string[]>) => void;

/** Paths of a member: <data-dir>/member/{snap,wal}, or --wal-dir. */
export function memberPaths(
  dataDir: string,
  walDir: string,
): { snapDir: string; walDir: string; dbPath: string } {
  const snapDir = join(dataDir, 'member', 'snap');
  return {
    snapDir,
    walDir: walDir !== '' ? walDir : join(dataDir, 'member', 'wal'),
    dbPath: join(snapDir, 'db'),
  };
}

/** The v2 store of an etcd 3.4 member, as migrate's rebuildStoreV2 makes it. */
export async function rebuildV2Store(
  dataDir: string,
  walDirFlag: string,
  log: LogLine,
): Promise<RebuiltV2Store> {
  const p = memberPaths(dataDir, walDirFlag);
  try {
    await readdir(p.snapDir);
  } catch (err) {
    throw new V2MigrateError(`open ${p.snapDir}: ${errnoText(err)}`);
  }
  if ((await listEtcdWalFiles(p.walDir).catch(() => [])).length === 0) {
    throw new V2MigrateError('wal: file not found');
  }
  if (!(await isEtcd34DataDir(p))) {
    throw new V2MigrateError(
      `${p.walDir} does not hold etcd 3.4 WAL files (an etcd-ts data dir?): migrate converts etcd 3.4 data dirs`,
    );
  }
  const member = await readEtcd34Member(p);
  const ms = member.snapshot === undefined ? new Membership() : Membership.decode(member.snapshot.data);
  const cluster = new ClusterLog(log);
  cluster.recovered(ms);
  let index = member.snapshot?.metadata.index ?? 0;
  let hasKeySpace = member.snapshot !== undefined;
  for (const e of member.entries) {
    if (e.type === EntryType.ConfChange) {
      applyConfChange(ms, e, cluster);
      continue;
    }
    if (e.type !== EntryType.Normal) continue;
    index = Math.max(index, e.index);
    if (e.data.length === 0) continue;
    let req: ReturnType<typeof decodeInternalRequest>;
    try {
      req = decodeInternalRequest(e.data);
    } catch {
      continue; // a v3 request this build does not decode: migrate skips v3 requests anyway
    }
    const op = req.op;
    if (op.kind === 'memberAttrSet') {
      ms.setAttributes(op.req.memberId, op.req.name, op.req.clientUrls);
    } else if (op.kind === 'clusterVersionSet') {
      cluster.versionSet(ms.clusterVersion(), op.req.version);
      ms.setClusterVersion(op.req.version);
    } else if (op.kind === 'v2Request') {
      const r = op.req;
      const out = applyV2ToStore(ms.v2Store(), r, Date.now());
      if (out.kind === 'event' && (r.path === '/1' || r.path.startsWith('/1/'))) hasKeySpace = true;
    }
  }
  return { store: ms.v2Store(), index, hasKeySpace };
}

function applyConfChange(ms: Membership, e: Entry, cluster: ClusterLog): void {
  const cc = decodeConfChange(e.data);
  if (ms.validate(cc) !== undefined) return;
  const before = ms.get(cc.nodeId);
  ms.applyConfChange(cc);
  const after = ms.get(cc.nodeId);
  switch (cc.type) {
    case ConfChangeType.AddNode:
    case ConfChangeType.AddLearnerNode:
      if (before === undefined && after !== undefined) cluster.added(after.id, after.peerUrls);
      else cluster.promoted();
      break;
    case ConfChangeType.RemoveNode:
      cluster.removed(cc.nodeId, before?.peerUrls ?? []);
      break;
    case ConfChangeType.UpdateNode:
      if (after !== undefined) cluster.updated(after.id, after.peerUrls);
      break;
  }
}

/** The lines etcd's RaftCluster logs while migrate rebuilds it (its cluster and member ids are 0). */
class ClusterLog {
  private capability: string | undefined;
  constructor(private readonly log: LogLine) {}

  private readonly ids = { 'cluster-id': '0', 'local-member-id': '0' };

  recovered(ms: Membership): void {
    const v = ms.clusterVersion();
    if (v !== undefined) this.enable(v);
    for (const m of ms.list()) {
      this.log('recovered/added member from store', {
        ...this.ids,
        'recovered-remote-peer-id': m.id.toString(16),
        'recovered-remote-peer-urls': m.peerUrls,
      });
    }
    if (v !== undefined) this.log('set cluster version from store', { 'cluster-version': majorMinor(v) });
  }

  added(id: bigint, peerUrls: string[]): void {
    this.log('added member', {
      ...this.ids,
      'added-peer-id': id.toString(16),
      'added-peer-peer-urls': peerUrls,
    });
  }

  removed(id: bigint, peerUrls: string[]): void {
    this.log('removed member', {
      ...this.ids,
      'removed-remote-peer-id': id.toString(16),
      'removed-remote-peer-urls': peerUrls,
    });
  }

  updated(id: bigint, peerUrls: string[]): void {
    this.log('updated member', {
      ...this.ids,
      'updated-remote-peer-id': id.toString(16),
      'updated-remote-peer-urls': peerUrls,
    });
  }

  promoted(): void {
    this.log('promote member', this.ids);
  }

  versionSet(from: string | undefined, to: string): void {
    if (from === undefined) {
      this.log('set initial cluster version', { ...this.ids, 'cluster-version': majorMinor(to) });
    } else {
      // etcd 3.4 logs both versions under the key "from" (zap keeps both).
      this.log('updated cluster version', {
        ...this.ids,
        from: majorMinor(from),
        'from\u0000': majorMinor(to),
      });
    }
    this.enable(to);
  }

  /** api.UpdateCapability: logged when the version rises above the one enabled so far. */
  private enable(v: string): void {
    if (this.capability !== undefined && !versionLess(this.capability, v)) return;
    this.capability = v;
    this.log('enabled capabilities for version', { 'cluster-version': majorMinor(v) });
  }
}

/** A zap.NewExample JSON line; a key ending in NUL is written without it (repeated keys). */
export function exampleLogLine(msg: string, fields: Record<string, string | string[]>): string {
  const parts = [`"level":"info"`, `"msg":${goJsonString(msg)}`];
  for (const [k, v] of Object.entries(fields)) {
    const value = Array.isArray(v) ? `[${v.map(goJsonString).join(',')}]` : goJsonString(v);
    parts.push(`${goJsonString(k.replace(/\0$/, ''))}:${value}`);
  }
  return `{${parts.join(',')}}\n`;
}

function majorMinor(v: string): string {
  const [major = '0', minor = '0'] = v.split('.');
  return `${major}.${minor}`;
}

function versionLess(a: string, b: string): boolean {
  const pa = a.split('.').map((x) => Number.parseInt(x, 10) || 0);
  const pb = b.split('.').map((x) => Number.parseInt(x, 10) || 0);
  for (let i = 0; i < 3; i++) {
    if ((pa[i] ?? 0) !== (pb[i] ?? 0)) return (pa[i] ?? 0) < (pb[i] ?? 0);
  }
  return false;
}

function errnoText(err: unknown): string {
  const code = (err as NodeJS.ErrnoException).code;
  if (code === 'ENOENT') return 'no such file or directory';
  if (code === 'ENOTDIR') return 'not a directory';
  if (code === 'EACCES') return 'permission denied';
  return (err as Error).message;
}

// ---------------------------------------------------------------- the nodes under /1

/** One node as migrate hands it to the transformer. */
export interface MigratedNode {
  node: NodeExtern;
  /** Go's json.Marshal of it. */
  json: string;
}

/** The nodes under /1 in migrate's order (depth first, children sorted); undefined without /1. */
export function v2KeyNodes(store: V2Store, noTtl: boolean, nowMs = Date.now()): MigratedNode[] | undefined {
  let root: NodeExtern;
  try {
    root = store.get('/1', true, true, BigInt(nowMs) * 1_000_000n).node;
  } catch (err) {
    if (err instanceof V2Error && err.errorCode === V2ErrorCode.KeyNotFound) return undefined;
    throw err;
  }
  const out: MigratedNode[] = [];
  const walk = (n: NodeExtern): void => {
    const key = n.key.slice(2) === '' ? '/' : n.key.slice(2);
    const { nodes, ...rest } = n;
    const node: NodeExtern = { ...rest, key };
    if (!noTtl || (n.ttl ?? 0) === 0) out.push({ node, json: nodeJson(node) });
    for (const child of nodes ?? []) walk(child);
  };
  walk(root);
  return out;
}

/** etcd's default transformer: keys become v3 keys at their v2 indexes, version 1. */
export function defaultTransform(nodes: readonly MigratedNode[]): KeyValue[] {
  return nodes
    .filter((n) => n.node.dir !== true)
    .map(({ node }) => ({
      key: Buffer.from(node.key),
      value: Buffer.from(node.value ?? ''),
      createRevision: node.createdIndex,
      modRevision: node.modifiedIndex,
      version: 1,
      lease: 0n,
    }));
}

/**
 * Runs a user's transformer: the nodes' JSON on its stdin, length-prefixed KeyValues from its
 * stdout, its stderr passed through. Rejects with Go's "exit status N" when it fails.
 */
export function externalTransform(program: string, nodes: readonly MigratedNode[]): Promise<KeyValue[]> {
  return new Promise((resolve, reject) => {
    const child = spawn(program, [], { stdio: ['pipe', 'pipe', 'inherit'] });
    const chunks: Buffer[] = [];
    child.stdout.on('data', (c: Buffer) => chunks.push(c));
    child.stdin.on('error', () => undefined); // a program that exits early: its exit status tells
    child.on('error', (err) => reject(new V2MigrateError(`fork/exec ${program}: ${errnoText(err)}`)));
    child.on('close', (code, signal) => {
      if (code !== 0) {
        reject(new V2MigrateError(signal !== null ? `signal: ${signalText(signal)}` : `exit status ${code}`));
        return;
      }
      try {
        resolve(readFramedKeyValues(Buffer.concat(chunks)));
      } catch (err) {
        reject(err);
      }
    });
    for (const n of nodes) child.stdin.write(n.json);
    child.stdin.end();
  });
}

function signalText(signal: NodeJS.Signals): string {
  const names: Partial<Record<NodeJS.Signals, string>> = { SIGKILL: 'killed', SIGTERM: 'terminated' };
  return names[signal] ?? signal;
}

/** etcd's readKeys: [8-byte little-endian length][KeyValue] until the end; a torn tail is dropped. */
export function readFramedKeyValues(buf: Buffer): KeyValue[] {
  const out: KeyValue[] = [];
  let at = 0;
  while (at + 8 <= buf.length) {
    const len = Number(buf.readBigInt64LE(at));
    at += 8;
    if (len < 0 || at + len > buf.length) break; // etcd ignores readKeys' error too
    out.push(decodeKeyValue(buf.subarray(at, at + len)));
    at += len;
  }
  return out;
}

// ---------------------------------------------------------------- the backend

/**
 * Writes `kvs` into the backend at `dbPath` (created when missing) and raises its consistent
 * index to `index`: a new file beside it, renamed over it once complete.
 */
export async function writeMigratedBackend(
  dbPath: string,
  kvs: readonly KeyValue[],
  index: number,
): Promise<void> {
  const records = new Map<string, { key: Buffer; value: Uint8Array }>();
  for (const kv of kvs) {
    const key = encodeRevision({ main: kv.modRevision, sub: 0 }, false);
    records.set(key.toString('hex'), { key, value: encodeKeyValue(kv) });
  }
  const sorted = [...records.values()].sort((a, b) => compareBytes(a.key, b.key));
  const exists = fileExists(dbPath);
  const db = exists ? BoltDb.openFile(dbPath) : undefined;
  const tmp = `${dbPath}.migrate.tmp`;
  rmSync(tmp, { force: true });
  try {
    await writeBolt((b) => produce(b, db, sorted, index), tmp);
    db?.close();
    renameSync(tmp, dbPath);
  } catch (err) {
    db?.close();
    rmSync(tmp, { force: true });
    throw err;
  }
}

function fileExists(path: string): boolean {
  try {
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

async function produce(
  b: BoltBuilder,
  db: BoltDb | undefined,
  records: readonly { key: Buffer; value: Uint8Array }[],
  index: number,
): Promise<void> {
  const root = db?.root();
  const existing = new Map<string, BoltBucket>();
  for (const top of root?.entries() ?? []) {
    if (!top.isBucket) throw new EtcdDbError(`top-level key ${top.key.toString('latin1')} is not a bucket`);
    existing.set(top.key.toString('latin1'), root!.open(top));
  }
  // prepareBackend creates "key" and "meta" when they are missing.
  const names = [...new Set([...existing.keys(), BUCKET.key, BUCKET.meta])].sort((x, y) =>
    compareBytes(Buffer.from(x, 'latin1'), Buffer.from(y, 'latin1')),
  );
  for (const name of names) {
    const bucket = existing.get(name);
    await b.bucket(Buffer.from(name, 'latin1'));
    if (name === BUCKET.key) await mergeKeys(b, bucket, records);
    else if (name === BUCKET.meta) await writeMeta(b, bucket, index);
    else if (bucket !== undefined) await copyBucket(bucket, b);
    await b.end();
  }
}

async function mergeKeys(
  b: BoltBuilder,
  bucket: BoltBucket | undefined,
  records: readonly { key: Buffer; value: Uint8Array }[],
): Promise<void> {
  let i = 0;
  for (const e of bucket?.entries() ?? []) {
    if (e.isBucket) throw new EtcdDbError('unexpected nested bucket in "key"');
    while (i < records.length && compareBytes(records[i]!.key, e.key) < 0) {
      await b.put(records[i]!.key, records[i]!.value);
      i++;
    }
    // The migrated key takes the place of a record at the same revision (etcd's UnsafePut).
    if (i < records.length && compareBytes(records[i]!.key, e.key) === 0) continue;
    await b.put(e.key, e.value);
  }
  for (; i < records.length; i++) await b.put(records[i]!.key, records[i]!.value);
}

async function writeMeta(b: BoltBuilder, bucket: BoltBucket | undefined, index: number): Promise<void> {
  const ciKey = Buffer.from(META_CONSISTENT_INDEX);
  let written = false;
  // mvcc.UpdateConsistentIndex: only ever raised; nothing written for 0 over nothing.
  const putIndex = async (old: Buffer | undefined): Promise<void> => {
    written = true;
    const oldIndex = old !== undefined && old.length === 8 ? old.readBigUInt64BE(0) : 0n;
    if (BigInt(index) > oldIndex) await b.put(ciKey, encodeU64BE(index));
    else if (old !== undefined) await b.put(ciKey, old);
  };
  for (const e of bucket?.entries() ?? []) {
    if (e.isBucket) throw new EtcdDbError('unexpected nested bucket in "meta"');
    const cmp = compareBytes(e.key, ciKey);
    if (!written && cmp > 0) await putIndex(undefined);
    if (cmp === 0) {
      await putIndex(e.value);
      continue;
    }
    await b.put(e.key, e.value);
  }
  if (!written) await putIndex(undefined);
}
