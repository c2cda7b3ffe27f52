// What every part of the transport needs to know about the local member and
// how to reach others: ids, advertised URLs, TLS, where messages go.
import http from 'node:http';
import https from 'node:https';
import type { Message } from '../raft/types.js';
import { CanonicalHeader, hexId, MIN_CLUSTER_VERSION, PEER_SERVER_VERSION } from './constants.js';
import type { PeerObserver } from './observer.js';

export interface PeerLogger {
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  debug(msg: string, fields?: Record<string, unknown>): void;
}

/** The member the transport serves: raft steps, membership facts, failure reports. */
export interface RaftHost {
  /** Hands a peer's raft message to raft; throws RemovedMemberError for a removed sender. */
  process(m: Message): void;
  isRemoved(id: bigint): boolean;
  reportUnreachable(id: bigint): void;
  reportSnapshot(id: bigint, ok: boolean): void;
  /** A peer said we were removed from the cluster (410 on a stream dial, 403 on a POST). */
  removedByPeer(reason: string): void;
}

export class RemovedMemberError extends Error {
  constructor(id: bigint) {
    super(`the member has been permanently removed from the cluster (${hexId(id)})`);
    this.name = 'RemovedMemberError';
  }
}

/** Client-side TLS for a member dialling another member's https peer URL. */
export type PeerDialTls = (host: string) => https.RequestOptions;

export interface TransportContext {
  localId: bigint;
  /** Read on every request: a joining member learns its cluster id after start. */
  clusterId(): bigint;
  /** Our advertised peer URLs (X-PeerURLs). */
  peerUrls: readonly string[];
  host: RaftHost;
  log: PeerLogger;
  /** TLS options for dialling an https peer URL's host, read per connection so reloaded files apply. */
  tls?: PeerDialTls;
  /** The dial timeout: 1 s + the election timeout, as etcd's. */
  dialTimeoutMs: number;
  /** Told of bytes, failures, reachability, round trips and snapshots (metrics); optional. */
  observer?: PeerObserver;
}

/** The headers etcd puts on every /raft* request. */
export function raftHeaders(ctx: TransportContext): Record<string, string> {
  const h: Record<string, string> = {
    [CanonicalHeader.from]: hexId(ctx.localId),
    [CanonicalHeader.serverVersion]: PEER_SERVER_VERSION,
    [CanonicalHeader.minClusterVersion]: MIN_CLUSTER_VERSION,
    [CanonicalHeader.clusterId]: hexId(ctx.clusterId()),
  };
  if (ctx.peerUrls.length > 0) h[CanonicalHeader.peerUrls] = ctx.peerUrls.join(',');
  return h;
}

export interface RequestTarget {
  url: URL;
  agent: http.Agent | https.Agent | false;
}

/** http.request or https.request for a URL, with the context's TLS for https. */
export function request(
  ctx: TransportContext,
  target: RequestTarget,
  options: http.RequestOptions,
  onResponse: (res: http.IncomingMessage) => void,
): http.ClientRequest {
  const secure = target.url.protocol === 'https:';
  const base: http.RequestOptions = {
    ...options,
    protocol: target.url.protocol,
    hostname: target.url.hostname,
    port: target.url.port === '' ? (secure ? 443 : 80) : Number(target.url.port),
    path: target.url.pathname + target.url.search,
    agent: target.agent,
  };
  if (secure) return https.request({ ...(ctx.tls?.(target.url.hostname) ?? {}), ...base }, onResponse);
  return http.request(base, onResponse);
}
