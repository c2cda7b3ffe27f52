// Checks etcd makes on --initial-cluster only when a member starts with an EMPTY
// data dir (etcdserver.ServerConfig.VerifyBootstrap / VerifyJoinExisting). A member
// restarting from its WAL ignores --initial-cluster, so these are not part of
// flag parsing: the server calls them once it knows the data dir is empty.

import { ConfigError, type ServerConfig } from './types.js';
import { compareStrings } from './urls.js';

export function verifyBootstrapCluster(cfg: ServerConfig): void {
  const own = cfg.initialCluster.get(cfg.name);
  if (own === undefined) {
    fail(`couldn't find local name "${cfg.name}" in the initial cluster configuration`);
  }
  if (cfg.initialClusterState === 'new') verifyAdvertiseMatches(cfg, own);
  if (hasDuplicateUrl(cfg.initialCluster)) {
    fail(`initial cluster ${formatUrlsMap(cfg.initialCluster)} has duplicate url`);
  }
  if (cfg.initialClusterState === 'existing' && cfg.discovery !== '') {
    fail('discovery URL should not be set when joining existing initial cluster');
  }
}

/** The URLs this member advertises must be exactly its URLs in --initial-cluster. */
function verifyAdvertiseMatches(cfg: ServerConfig, own: readonly string[]): void {
  const advertised = [...cfg.initialAdvertisePeerUrls].sort(compareStrings);
  const listed = new Set(own);
  const missingFromAdvertise = own.filter((u) => !advertised.includes(u));
  if (missingFromAdvertise.length > 0) {
    const pairs = missingFromAdvertise.map((u) => `${cfg.name}=${u}`).join(',');
    fail(
      `--initial-cluster has ${pairs} but missing from --initial-advertise-peer-urls=${advertised.join(',')} (${mismatchReason(advertised, [...own].sort(compareStrings))})`,
    );
  }
  const missingFromCluster = advertised.filter((u) => !listed.has(u));
  if (missingFromCluster.length > 0) {
    fail(
      `--initial-advertise-peer-urls has ${missingFromCluster.join(',')} but missing from --initial-cluster=${formatUrlsMap(new Map([[cfg.name, advertised]]))}`,
    );
  }
}

/** etcd's netutil.URLStringsEqual error text for two sorted lists that differ. */
function mismatchReason(a: readonly string[], b: readonly string[]): string {
  const quoteList = (l: readonly string[]) => `[${l.map((s) => JSON.stringify(s)).join(' ')}]`;
  if (a.length !== b.length) return `len(${quoteList(a)}) != len(${quoteList(b)})`;
  const i = a.findIndex((u, k) => u !== b[k]);
  return `resolved urls: ${JSON.stringify(a[i])} != ${JSON.stringify(b[i])}`;
}

function hasDuplicateUrl(cluster: ReadonlyMap<string, readonly string[]>): boolean {
  const seen = new Set<string>();
  for (const urls of cluster.values()) {
    for (const u of urls) {
      if (seen.has(u)) return true;
      seen.add(u);
    }
  }
  return false;
}

/** etcd's URLsMap.String(): "name=url" pairs sorted. */
export function formatUrlsMap(cluster: ReadonlyMap<string, readonly string[]>): string {
  const pairs: string[] = [];
  for (const [name, urls] of cluster) for (const u of urls) pairs.push(`${name}=${u}`);
  return pairs.sort(compareStrings).join(',');
}

function fail(message: string): never {
  throw new ConfigError(message, 'verify');
}
