// The check every /raft* request passes first (etcd's
// checkClusterCompatibilityFromHeader): versions that cannot talk to each
// other, then a cluster-id mismatch, both answered 412 with etcd's bodies.
import type { IncomingHttpHeaders } from 'node:http';
import { Header, hexId, MIN_CLUSTER_VERSION, PEER_SERVER_VERSION } from './constants.js';

export interface Refusal {
  status: number;
  body: string;
}

/** major*1000 + minor of a semver string; undefined when it does not parse. */
export function majorMinor(v: string): number | undefined {
  const m = /^(\d+)\.(\d+)(?:\.\d+)?(?:[-+].*)?$/.exec(v.trim());
  if (m === null) return undefined;
  return Number(m[1]) * 1000 + Number(m[2]);
}

function header(h: IncomingHttpHeaders, name: string): string | undefined {
  const v = h[name];
  return Array.isArray(v) ? v[0] : v;
}

export function checkCompatibility(h: IncomingHttpHeaders, localClusterId: bigint): Refusal | undefined {
  // A missing version header means an etcd 2.0 member.
  const remoteServer = majorMinor(header(h, Header.serverVersion) ?? '2.0.0') ?? 0;
  const remoteMin = majorMinor(header(h, Header.minClusterVersion) ?? '2.0.0') ?? 0;
  const localMin = majorMinor(MIN_CLUSTER_VERSION) ?? 0;
  const localServer = majorMinor(PEER_SERVER_VERSION) ?? 0;
  if (remoteServer < localMin || remoteMin > localServer) {
    return { status: 412, body: 'incompatible version' };
  }
  const cid = header(h, Header.clusterId);
  if (cid !== hexId(localClusterId)) return { status: 412, body: 'cluster ID mismatch' };
  return undefined;
}

/** The known 412 bodies, as a sender reads them back. */
export function refusalReason(status: number, body: string): string {
  const text = body.trim();
  if (status === 412 && text === 'incompatible version') return 'incompatible version';
  if (status === 412 && text === 'cluster ID mismatch') return 'cluster ID mismatch';
  return `unexpected http status ${status}${text === '' ? '' : ` (${text})`}`;
}
