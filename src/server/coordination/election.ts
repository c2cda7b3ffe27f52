// Leader election behind v3electionpb.Election, with the semantics of etcd
// 3.4's concurrency.Election as v3election drives it: candidates own keys
// `name/<lease hex>` whose values are their proposals; the key created first
// is the leader. Proclaim and Resign act only while the key still has the
// create revision the candidate was elected with.
import { EventType, type KeyValue } from '../../mvcc/types.js';
import type { ResponseHeader as Header } from '../../pb/etcdserverpb/rpc.js';
import {
  checkedRange,
  checkedTxn,
  childSignal,
  contenderKey,
  contendersPrefix,
  createRevisionIs,
  deleteOp,
  firstCreated,
  getKey,
  getOp,
  headerOf,
  prefixEnd,
  putOp,
  rangeKvs,
  sessionLease,
  throwIfAborted,
  txnRequest,
  waitDeletes,
} from './common.js';
import { CoordinationErrors, type CoordinationKv, type HeadedKv, type LeaderKey } from './types.js';

export interface CampaignResult {
  /** Header of the transaction that entered the candidate (etcd reports that one, not the wait's). */
  header: Header;
  leader: LeaderKey;
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return Buffer.compare(a, b) === 0;
}

/**
 * Blocks until the caller leads election `name` with `value` under `lease` (0:
 * a fresh 60 s lease is granted). A candidate key that already exists for the
 * lease keeps its place and has its value replaced. If `signal` aborts while
 * waiting the candidacy is withdrawn; other wait failures leave it in place,
 * as etcd does.
 */
export async function campaign(
  kv: CoordinationKv,
  name: Buffer,
  lease: bigint,
  value: Buffer,
  signal: AbortSignal,
): Promise<CampaignResult> {
  throwIfAborted(signal);
  const held = await sessionLease(kv, lease);
  throwIfAborted(signal);
  const prefix = contendersPrefix(name);
  const key = contenderKey(prefix, held);
  const resp = await checkedTxn(
    kv,
    txnRequest([createRevisionIs(key, 0)], [putOp(key, value, held)], [getOp(getKey(key))]),
  );
  const header = headerOf(resp);
  const leader: LeaderKey = { name, key, rev: header.revision, lease: held };
  if (!resp.succeeded) {
    const existing = rangeKvs(resp.responses[0])[0];
    if (existing !== undefined) {
      leader.rev = existing.createRevision;
      if (!sameBytes(existing.value, value)) {
        try {
          await proclaim(kv, leader, value);
        } catch (err) {
          await resign(kv, leader).catch(() => undefined);
          throw err;
        }
      }
    }
  }
  try {
    await waitDeletes(kv, prefix, leader.rev - 1, signal);
  } catch (err) {
    if (signal.aborted) await resign(kv, leader).catch(() => undefined);
    throw err;
  }
  return { header, leader };
}

/**
 * Replaces the leader's value, provided its key still has the create revision
 * it was elected with; otherwise "election: not leader". The put carries
 * `leader.lease` (0: a freshly granted one, as etcd's session would).
 */
export async function proclaim(kv: CoordinationKv, leader: LeaderKey, value: Buffer): Promise<Header> {
  const lease = await sessionLease(kv, leader.lease);
  const resp = await checkedTxn(
    kv,
    txnRequest([createRevisionIs(leader.key, leader.rev)], [putOp(leader.key, value, lease)], []),
  );
  if (!resp.succeeded) throw CoordinationErrors.notLeader();
  return headerOf(resp);
}

/** Deletes the leader's key if it is still the one elected; a no-op (no error) otherwise. */
export async function resign(kv: CoordinationKv, leader: LeaderKey): Promise<Header> {
  const resp = await checkedTxn(
    kv,
    txnRequest([createRevisionIs(leader.key, leader.rev)], [deleteOp(leader.key)], []),
  );
  return headerOf(resp);
}

/** The current leader's key-value, or "election: no leader". */
export async function leader(kv: CoordinationKv, name: Buffer): Promise<HeadedKv> {
  const resp = await checkedRange(kv, firstCreated(contendersPrefix(name)));
  const first = resp.kvs[0];
  if (first === undefined) throw CoordinationErrors.noLeader();
  return { header: headerOf(resp), kv: first };
}

/**
 * The first PUT under `prefix` from `fromRevision` on (etcd takes the first put
 * it sees when nobody leads, deletes are skipped). Undefined when the watch
 * stops or fails.
 */
async function firstPut(
  kv: CoordinationKv,
  prefix: Buffer,
  fromRevision: number,
  signal: AbortSignal,
): Promise<HeadedKv | undefined> {
  const child = childSignal(signal);
  try {
    for await (const batch of kv.watch(prefix, prefixEnd(prefix), fromRevision, child.signal)) {
      const put = batch.events.find((ev) => ev.type === EventType.PUT);
      // The header names the put's own revision: the batch may hold later ones.
      if (put !== undefined) return { header: { ...batch.header, revision: put.kv.modRevision }, kv: put.kv };
    }
    return undefined;
  } catch {
    return undefined;
  } finally {
    child.dispose();
  }
}

/**
 * Every leader of election `name` and every value it proclaims, in order,
 * until `signal` aborts (etcd's Election.Observe). The first item is the
 * current leader, or — if there is none — the first candidate to appear; then
 * each put on the leader's key, and after its deletion the next leader. Like
 * etcd, it ends quietly (no error) when a read or a watch fails.
 */
export async function* observe(
  kv: CoordinationKv,
  name: Buffer,
  signal: AbortSignal,
): AsyncGenerator<HeadedKv, void, undefined> {
  const prefix = contendersPrefix(name);
  while (!signal.aborted) {
    let current: HeadedKv | undefined;
    try {
      const resp = await checkedRange(kv, firstCreated(prefix));
      const first = resp.kvs[0];
      current =
        first !== undefined
          ? { header: headerOf(resp), kv: first }
          : await firstPut(kv, prefix, headerOf(resp).revision, signal);
    } catch {
      return;
    }
    if (current === undefined || signal.aborted) return;
    yield current;
    if (!(yield* followUntilDeleted(kv, current.kv, current.header.revision + 1, signal))) return;
  }
}

/**
 * Yields each later put of the leader's key; true once the key is deleted,
 * false when the watch stopped or failed first.
 */
async function* followUntilDeleted(
  kv: CoordinationKv,
  leaderKv: KeyValue,
  fromRevision: number,
  signal: AbortSignal,
): AsyncGenerator<HeadedKv, boolean, undefined> {
  const child = childSignal(signal);
  try {
    for await (const batch of kv.watch(leaderKv.key, Buffer.alloc(0), fromRevision, child.signal)) {
      for (const ev of batch.events) {
        if (ev.type === EventType.DELETE) return true;
        yield { header: batch.header, kv: ev.kv };
      }
    }
    return false;
  } catch {
    return false;
  } finally {
    child.dispose();
  }
}
