// URL handling with etcd's rules (pkg/types/urls.go, urlsmap.go): only http, https,
// unix and unixs schemes; the address must be "host:port"; no path. Lists are
// sorted by their string form, the way etcd sorts them, because member ids are
// derived from the sorted peer URLs and every member must derive the same ids.

export type UrlScheme = 'http' | 'https' | 'unix' | 'unixs';

export interface EtcdUrl {
  scheme: UrlScheme;
  /** "host:port" exactly as written ("[::1]:2379" keeps its brackets). */
  host: string;
  /** Host without port and without IPv6 brackets. */
  hostname: string;
  port: number;
  /** Canonical string: `${scheme}://${host}` (plus "?query" if one was given). */
  href: string;
}

export class UrlError extends Error {}

const SCHEMES: ReadonlySet<string> = new Set(['http', 'https', 'unix', 'unixs']);

/** Parses one URL or throws UrlError with etcd's wording. */
export function parseEtcdUrl(input: string): EtcdUrl {
  const text = input.trim();
  const schemeEnd = text.indexOf('://');
  const scheme = schemeEnd > 0 ? text.slice(0, schemeEnd).toLowerCase() : '';
  if (!SCHEMES.has(scheme)) {
    throw new UrlError(`URL scheme must be http, https, unix, or unixs: ${text}`);
  }
  let rest = text.slice(schemeEnd + 3);
  let query = '';
  const q = rest.indexOf('?');
  if (q >= 0) {
    query = rest.slice(q);
    rest = rest.slice(0, q);
  }
  const slash = rest.indexOf('/');
  const host = slash >= 0 ? rest.slice(0, slash) : rest;
  const path = slash >= 0 ? rest.slice(slash) : '';
  const hostPort = splitHostPort(host);
  if (hostPort === undefined) {
    throw new UrlError(`URL address does not have the form "host:port": ${text}`);
  }
  if (path !== '') {
    throw new UrlError(`URL must not contain a path: ${text}`);
  }
  return {
    scheme: scheme as UrlScheme,
    host,
    hostname: hostPort.hostname,
    port: hostPort.port,
    href: `${scheme}://${host}${query}`,
  };
}

/** Go's net.SplitHostPort, restricted to what a listen/advertise URL may hold. */
export function splitHostPort(host: string): { hostname: string; port: number } | undefined {
  let hostname: string;
  let portText: string;
  if (host.startsWith('[')) {
    const close = host.indexOf(']');
    if (close < 0 || host[close + 1] !== ':') return undefined;
    hostname = host.slice(1, close);
    portText = host.slice(close + 2);
  } else {
    const colon = host.lastIndexOf(':');
    if (colon < 0 || host.indexOf(':') !== colon) return undefined;
    hostname = host.slice(0, colon);
    portText = host.slice(colon + 1);
  }
  if (!/^[0-9]*$/.test(portText)) return undefined;
  // Go accepts an empty port ("host:"); it then means port 0.
  return { hostname, port: portText === '' ? 0 : Number(portText) };
}

/** A comma-separated list → canonical, de-duplicated, sorted strings ("no valid URLs given" when empty). */
export function parseUrlList(commaSeparated: string): string[] {
  const parts = commaSeparated.split(',');
  const hrefs = parts.map((p) => parseEtcdUrl(p).href);
  return [...new Set(hrefs)].sort(compareStrings);
}

/**
 * "--initial-cluster" syntax: name=url pairs separated by commas; a name may
 * repeat to give a member several URLs. Pairs without "=" get an empty URL, which
 * then fails URL validation, as in etcd.
 */
export function parseInitialCluster(text: string): Map<string, string[]> {
  const raw = new Map<string, string[]>();
  for (const pair of text.split(',')) {
    if (pair === '') continue;
    const eq = pair.indexOf('=');
    const name = eq >= 0 ? pair.slice(0, eq) : pair;
    const url = eq >= 0 ? pair.slice(eq + 1) : '';
    const urls = raw.get(name) ?? [];
    urls.push(url);
    raw.set(name, urls);
  }
  const parsed = new Map<string, string[]>();
  for (const [name, urls] of raw) {
    parsed.set(name, urls.map((u) => parseEtcdUrl(u).href).sort(compareStrings));
  }
  return parsed;
}

/** Byte-wise comparison (Go's sort.Strings), not locale-aware. */
export function compareStrings(a: string, b: string): number {
  if (a === b) return 0;
  return a < b ? -1 : 1;
}
