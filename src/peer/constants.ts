// etcd 3.4's peer-protocol constants (see ../shared/reference/etcd-peer-protocol.md).
// They are part of the wire contract: an etcd member on the other end times
// out, redials and falls back on exactly these numbers.
import { ETCD_SERVER_VERSION } from '../config/version.js';

/** What we announce in X-Server-Version: the etcd release we behave as. */
export const PEER_SERVER_VERSION = ETCD_SERVER_VERSION;
/** etcd's version.MinClusterVersion, sent in X-Min-Cluster-Version. */
export const MIN_CLUSTER_VERSION = '3.0.0';

/** Per-read deadline on peer connections; a stream must carry a byte at least this often. */
export const CONN_READ_TIMEOUT_MS = 5000;
/** Link heartbeats keep an idle stream inside the reader's deadline. */
export const LINK_HEARTBEAT_INTERVAL_MS = Math.floor(CONN_READ_TIMEOUT_MS / 3);
/** A stream reader dials at most this often per stream type. */
export const STREAM_REDIAL_MS = 100;
/** Messages queued for one stream or the pipeline before new ones are dropped (raft resends). */
export const STREAM_BUFFER_MESSAGES = 4096;
export const PIPELINE_BUFFER_MESSAGES = 64;
/** Concurrent pipeline POSTs per peer. */
export const PIPELINE_CONNECTIONS = 4;
/** The largest message a stream decoder accepts (etcd's limit). */
export const MAX_MESSAGE_BYTES = 512 * 1024 * 1024;
/** Read the snapshot POST's answer within this long after the headers. */
export const SNAPSHOT_RESPONSE_TIMEOUT_MS = 5000;
/** How long a peer must have been reachable before it counts for membership-change safety. */
export const HEALTH_INTERVAL_MS = 5000;

export const Header = {
  from: 'x-server-from',
  serverVersion: 'x-server-version',
  minClusterVersion: 'x-min-cluster-version',
  clusterId: 'x-etcd-cluster-id',
  peerUrls: 'x-peerurls',
  raftTo: 'x-raft-to',
} as const;

/** Go's canonical spelling, which some tools match on byte for byte. */
export const CanonicalHeader = {
  from: 'X-Server-From',
  serverVersion: 'X-Server-Version',
  minClusterVersion: 'X-Min-Cluster-Version',
  clusterId: 'X-Etcd-Cluster-Id',
  peerUrls: 'X-Peerurls',
  raftTo: 'X-Raft-To',
} as const;

export type StreamType = 'message' | 'msgapp';
export const STREAM_TYPES: readonly StreamType[] = ['message', 'msgapp'];

/** Member and cluster ids on the peer wire: lower-case hex, no padding. */
export function hexId(id: bigint): string {
  return id.toString(16);
}

export function parseHexId(s: string): bigint | undefined {
  if (!/^[0-9a-fA-F]{1,16}$/.test(s)) return undefined;
  return BigInt(`0x${s}`);
}
