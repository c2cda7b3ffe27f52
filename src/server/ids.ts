// Member and cluster ids, derived exactly as etcd derives them
// (etcdserver/api/membership: newMember and RaftCluster.genID), so that every
// member of a new cluster computes the same ids without talking to the others,
// and so our ids equal real etcd's for the same flags.

import { createHash } from 'node:crypto';

const UINT64_MAX = (1n << 64n) - 1n;

/** First 8 bytes of SHA-1(data) read as a big-endian uint64. */
function sha1Uint64(data: Buffer): bigint {
  const digest = createHash('sha1').update(data).digest();
  return digest.readBigUInt64BE(0);
}

/** Byte-wise order (Go's sort.Strings), independent of locale. */
function byteOrder(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a), Buffer.from(b));
}

/**
 * Member id: SHA-1 over the member's peer URLs (sorted, concatenated without a
 * separator), then the cluster token, then — for a member added at runtime
 * ("member add", where etcd passes an empty token) — the Unix time in seconds
 * as decimal digits.
 */
export function computeMemberId(
  peerUrls: readonly string[],
  clusterToken: string,
  unixSeconds?: number,
): bigint {
  if (peerUrls.length === 0) throw new Error('a member needs at least one peer URL');
  if (unixSeconds !== undefined && !Number.isSafeInteger(unixSeconds)) {
    throw new Error(`unixSeconds must be an integer, got ${unixSeconds}`);
  }
  const sorted = [...peerUrls].sort(byteOrder);
  const suffix = unixSeconds === undefined ? '' : String(unixSeconds);
  const id = sha1Uint64(Buffer.from(sorted.join('') + clusterToken + suffix, 'utf8'));
  return id;
}

/** Cluster id: SHA-1 over the member ids sorted ascending, each as 8 big-endian bytes. */
export function computeClusterId(memberIds: readonly bigint[]): bigint {
  const sorted = [...memberIds].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  const buf = Buffer.alloc(8 * sorted.length);
  sorted.forEach((id, i) => {
    if (id < 0n || id > UINT64_MAX) throw new Error(`member id out of uint64 range: ${id}`);
    buf.writeBigUInt64BE(id, 8 * i);
  });
  return sha1Uint64(buf);
}

/** Ids of the members named in --initial-cluster (name → peer URLs) and the cluster id they make. */
export function idsFromInitialCluster(
  initialCluster: ReadonlyMap<string, readonly string[]>,
  clusterToken: string,
): { members: Map<string, bigint>; clusterId: bigint } {
  const members = new Map<string, bigint>();
  for (const [name, urls] of initialCluster) members.set(name, computeMemberId(urls, clusterToken));
  return { members, clusterId: computeClusterId([...members.values()]) };
}

/** How etcd prints ids (types.ID.String): lower-case hex without leading zeros. */
export function formatId(id: bigint): string {
  return id.toString(16);
}

/** Parses an id as etcd accepts it on the command line (hex, as printed by etcdctl). */
export function parseId(hex: string): bigint {
  if (!/^[0-9a-fA-F]{1,16}$/.test(hex)) throw new Error(`bad member ID arg: ${hex}`);
  return BigInt(`0x${hex}`);
}
