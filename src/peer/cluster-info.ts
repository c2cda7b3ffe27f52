// What a member asks other members before it has a log: the member list and
// cluster id (GET /members, for joining an existing cluster) and their
// versions (GET /version). Plain HTTP(S) GETs on the peer port, as etcd's
// GetClusterFromRemotePeers and getVersions do.
import http from 'node:http';
import https from 'node:https';
import { type MemberRecord, parseMembersArray } from '../server/member-json.js';
import { Header, parseHexId } from './constants.js';
import type { PeerDialTls } from './context.js';
import { readSmall } from './http-util.js';

export interface RemoteCluster {
  clusterId: bigint;
  members: MemberRecord[];
}

export interface GetOptions {
  timeoutMs: number;
  tls?: PeerDialTls;
}

function get(
  url: URL,
  o: GetOptions,
): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: string }> {
  return new Promise((resolve, reject) => {
    const secure = url.protocol === 'https:';
    const opts: http.RequestOptions = { method: 'GET', timeout: o.timeoutMs, agent: false };
    const onRes = (res: http.IncomingMessage) => {
      void readSmall(res, 4 * 1024 * 1024).then((body) =>
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body }),
      );
    };
    const req = secure
      ? https.request(url, { ...(o.tls?.(url.hostname) ?? {}), ...opts }, onRes)
      : http.request(url, opts, onRes);
    req.on('timeout', () => req.destroy(new Error('i/o timeout')));
    req.on('error', reject);
    req.end();
  });
}

/** The first peer URL that answers with a member list and a cluster id wins. */
export async function getClusterFromPeers(urls: readonly string[], o: GetOptions): Promise<RemoteCluster> {
  let lastError = 'no peer URLs to ask';
  for (const u of urls) {
    try {
      const r = await get(new URL('/members', u), o);
      if (r.status !== 200) {
        lastError = `${u}: status ${r.status}`;
        continue;
      }
      const cid = parseHexId(String(r.headers[Header.clusterId] ?? ''));
      if (cid === undefined) {
        lastError = `${u}: no cluster id in the answer`;
        continue;
      }
      const members = parseMembersArray(r.body);
      if (members.length === 0) {
        lastError = `${u}: empty member list`;
        continue;
      }
      return { clusterId: cid, members };
    } catch (err) {
      lastError = `${u}: ${(err as Error).message}`;
    }
  }
  throw new Error(`could not retrieve cluster information from the given URLs (${lastError})`);
}

export interface RemoteVersions {
  server: string;
  cluster: string;
}

/** A member's /version answer, or undefined when it cannot be reached or read. */
export async function getVersion(
  urls: readonly string[],
  o: GetOptions,
): Promise<RemoteVersions | undefined> {
  for (const u of urls) {
    try {
      const r = await get(new URL('/version', u), o);
      if (r.status !== 200) continue;
      const j = JSON.parse(r.body) as { etcdserver?: unknown; etcdcluster?: unknown };
      if (typeof j.etcdserver === 'string' && typeof j.etcdcluster === 'string') {
        return { server: j.etcdserver, cluster: j.etcdcluster };
      }
    } catch {
      // try the next URL
    }
  }
  return undefined;
}
