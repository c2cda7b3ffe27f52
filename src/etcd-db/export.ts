// Our store → etcd 3.4's backend file: the ten buckets etcd creates, written with the streaming
// bbolt writer from one LMDB read transaction (a single point in time, read twice: once to lay
// pages out, once to write them). Memory stays at a few pages; the event loop gets a turn at
// least every MiB of data and whenever the output asks us to wait.

import type { Writable } from 'node:stream';
import {
  type BoltBuilder,
  type BoltLayout,
  type BoltWriteResult,
  compareBytes,
  writeBolt,
} from '../bbolt/index.js';
import type { MvccStore } from '../mvcc/index.js';
import type { BackendReadView, RawEntry } from '../mvcc/read-view.js';
import {
  AUTH_BUCKETS,
  AUTH_REVISION_KEY,
  BUCKET,
  CLUSTER_VERSION_KEY,
  type EtcdMember,
  encodeCompactRev,
  encodeMember,
  encodeU64BE,
  etcdAlarmKey,
  fromOurAlarmKey,
  META_CONSISTENT_INDEX,
  META_FINISHED_COMPACT,
  META_SCHEDULED_COMPACT,
  memberKey,
  REMOVED_VALUE,
} from './codecs.js';

export interface EtcdDbExtra {
  /** meta/consistent_index: the raft index the db reflects (for a raft snapshot: its index). */
  consistentIndex: number;
  members: EtcdMember[];
  removed: bigint[];
  /** cluster/clusterVersion, e.g. "3.4.0"; omitted when empty. */
  clusterVersion: string;
}

export interface ExportOptions {
  /** Append sha256(db), making the file an `etcdctl snapshot save` file. */
  sha256Trailer?: boolean;
  /** Told the db's size before anything is written (e.g. for the Snapshot RPC's remaining_bytes). */
  onLayout?: (layout: BoltLayout) => void | Promise<void>;
}

/** One bucket's entries in key order; may be iterated more than once. */
export type Entries = () => Iterable<RawEntry>;

/**
 * Writes `store` as an etcd 3.4 db (or, with sha256Trailer, a snapshot file) to a path, a file
 * descriptor or a Writable (not ended). The store may go on applying meanwhile; the file is the
 * state when this was called. Do not close or defragment the store until it resolves.
 */
export async function exportEtcdDb(
  store: MvccStore,
  extra: EtcdDbExtra,
  out: Writable | string | number,
  opts: ExportOptions = {},
): Promise<BoltWriteResult> {
  if (!Number.isSafeInteger(extra.consistentIndex) || extra.consistentIndex < 0) {
    throw new RangeError(`consistentIndex ${extra.consistentIndex} is not a non-negative integer`);
  }
  const view = store.exportView();
  try {
    const buckets = etcdBuckets(view, extra);
    return await writeBolt((b) => produce(b, buckets), out, {
      sha256Trailer: opts.sha256Trailer ?? false,
      ...(opts.onLayout ? { onLayout: opts.onLayout } : {}),
    });
  } finally {
    view.close();
  }
}

/**
 * The buckets' contents, each replayable. Only "key" is big; the others are read up front.
 * Also what Maintenance.Hash is computed over (hash.ts).
 */
export function etcdBuckets(view: BackendReadView, extra: EtcdDbExtra): Map<string, Entries> {
  const fixed = (entries: RawEntry[]): Entries => {
    const sorted = [...entries].sort((x, y) => compareBytes(x.key, y.key));
    return () => sorted;
  };
  const kv = (k: string, v: Buffer): RawEntry => ({ key: Buffer.from(k), value: v });

  const meta: RawEntry[] = [kv(META_CONSISTENT_INDEX, encodeU64BE(extra.consistentIndex))];
  const scheduled = view.metaValue('scheduledCompactRev');
  const finished = view.metaValue('finishedCompactRev');
  if (scheduled !== undefined) meta.push(kv(META_SCHEDULED_COMPACT, encodeCompactRev(scheduled)));
  if (finished !== undefined) meta.push(kv(META_FINISHED_COMPACT, encodeCompactRev(finished)));

  const alarms = [...view.aux(BUCKET.alarm)].map((e) => ({
    key: etcdAlarmKey(fromOurAlarmKey(e.key)),
    value: Buffer.alloc(0),
  }));
  const members = extra.members.map((m) => ({ key: memberKey(m.id), value: encodeMember(m) }));
  const removed = extra.removed.map((id) => ({ key: memberKey(id), value: Buffer.from(REMOVED_VALUE) }));
  const cluster =
    extra.clusterVersion === '' ? [] : [kv(CLUSTER_VERSION_KEY, Buffer.from(extra.clusterVersion))];

  const buckets = new Map<string, Entries>([
    [BUCKET.key, () => view.records()],
    [BUCKET.meta, fixed(meta)],
    [BUCKET.lease, fixed([...view.aux(BUCKET.lease)])],
    [BUCKET.alarm, fixed(alarms)],
    [BUCKET.members, fixed(members)],
    [BUCKET.membersRemoved, fixed(removed)],
    [BUCKET.cluster, fixed(cluster)],
  ]);
  for (const name of AUTH_BUCKETS) buckets.set(name, fixed([...view.aux(name)]));
  // What etcd's auth store writes on first start; kept when our store has auth data of its own.
  if ([...view.aux(BUCKET.auth)].length === 0)
    buckets.set(BUCKET.auth, fixed([kv(AUTH_REVISION_KEY, encodeU64BE(1))]));
  return buckets;
}

async function produce(b: BoltBuilder, buckets: Map<string, Entries>): Promise<void> {
  const names = [...buckets.keys()].sort((x, y) => compareBytes(Buffer.from(x), Buffer.from(y)));
  for (const name of names) {
    await b.bucket(name);
    for (const e of buckets.get(name)!()) {
      const wait = b.put(e.key, e.value);
      if (wait) await wait;
    }
    await b.end();
  }
}
