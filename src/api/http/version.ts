// GET /version: {"etcdserver":"3.4.23","etcdcluster":"3.4.0"}; the cluster
// version is "not_decided" until the members have agreed on one.

import { ETCD_SERVER_VERSION } from '../../config/version.js';
import { allowOnly, type HttpRequestLike, type HttpResponseLike } from './types.js';

export interface VersionSource {
  /** The agreed cluster version ("3.4.0"), or undefined before it is decided. */
  clusterVersion(): string | undefined;
}

export function versionBody(source: VersionSource): string {
  return JSON.stringify({
    etcdserver: ETCD_SERVER_VERSION,
    etcdcluster: source.clusterVersion() ?? 'not_decided',
  });
}

export function handleVersion(source: VersionSource, req: HttpRequestLike, res: HttpResponseLike): void {
  if (!allowOnly(req, res, 'GET')) return;
  res.statusCode = 200;
  res.setHeader('Content-Type', 'application/json');
  res.end(versionBody(source));
}
