// The table of every flag etcd 3.4's server accepts (etcdmain/config.go), with its
// kind and default. The table is data: the Go-syntax parser, the ETCD_* env
// reader and the config-file reader all work from it, so a flag exists in all
// three places or in none.

import { compareStrings, parseUrlList, UrlError } from './urls.js';
import { parseGoBool, parseGoDurationNs, parseGoInt, parseGoUint, ValueError } from './values.js';

export type FlagValue = string | boolean | number | string[];

export type FlagKind =
  | 'string'
  | 'bool'
  | 'uint' // Go uint / uint64
  | 'uint32' // pkg/flags uint32Value (its errors are strconv's own text)
  | 'int' // Go int / int64
  | 'duration' // nanoseconds
  | 'urls' // comma-separated URL list, canonical + sorted
  | 'unique-strings' // comma-separated, de-duplicated + sorted
  | 'strings' // comma-separated, order kept
  | 'choice' // one of `choices`
  | 'ignored'; // pre-v3 flags: accepted like a bool, warned about, no effect

export interface FlagDef {
  name: string;
  kind: FlagKind;
  default: FlagValue;
  /** For 'choice'. */
  choices?: readonly string[];
  /** For 'urls': literal values accepted without URL parsing (cors accepts "*"). */
  exceptions?: readonly string[];
  /** One line for --help. */
  help: string;
}

const MS = 1e6;
const SECOND = 1e9;

function def(
  name: string,
  kind: FlagKind,
  dflt: FlagValue,
  help: string,
  extra: Partial<FlagDef> = {},
): FlagDef {
  return { name, kind, default: dflt, help, ...extra };
}

/** The name etcd's usage calls the "default initial cluster". */
export const DEFAULT_NAME = 'default';
export const DEFAULT_LISTEN_PEER_URLS = 'http://localhost:2380';
export const DEFAULT_LISTEN_CLIENT_URLS = 'http://localhost:2379';

export const IGNORED_FLAGS: readonly string[] = [
  'cluster-active-size',
  'cluster-remove-delay',
  'cluster-sync-interval',
  'config',
  'force',
  'max-result-buffer',
  'max-retry-attempts',
  'peer-heartbeat-interval',
  'peer-election-timeout',
  'retry-interval',
  'snapshot',
  'v',
  'vv',
  'test.coverprofile',
  'test.outputdir',
];

export const FLAG_DEFS: readonly FlagDef[] = [
  def(
    'config-file',
    'string',
    '',
    'YAML configuration file; when given, flags and ETCD_* variables are ignored.',
  ),
  // member
  def('data-dir', 'string', '', 'Directory holding the member data (default "<name>.etcd").'),
  def('wal-dir', 'string', '', 'Separate directory for the write-ahead log.'),
  def(
    'listen-peer-urls',
    'urls',
    [DEFAULT_LISTEN_PEER_URLS],
    'URLs to listen on for traffic from other members.',
  ),
  def('listen-client-urls', 'urls', [DEFAULT_LISTEN_CLIENT_URLS], 'URLs to listen on for client traffic.'),
  def('listen-metrics-urls', 'urls', [], 'Extra URLs serving only /metrics and /health.'),
  def('max-snapshots', 'uint', 5, 'Snapshot files to keep (0 = keep all).'),
  def('max-wals', 'uint', 5, 'WAL files to keep (0 = keep all).'),
  def('name', 'string', DEFAULT_NAME, 'Name of this member.'),
  def('snapshot-count', 'uint', 100000, 'Applied entries between two snapshots.'),
  def(
    'experimental-snapshot-catchup-entries',
    'uint',
    5000,
    'Entries kept behind a snapshot for slow followers to catch up from (etcd 3.5).',
  ),
  def('heartbeat-interval', 'uint', 100, 'Heartbeat period in milliseconds.'),
  def('election-timeout', 'uint', 1000, 'Election timeout in milliseconds.'),
  def('initial-election-tick-advance', 'bool', true, 'Fast-forward election ticks at boot.'),
  def('quota-backend-bytes', 'int', 0, 'Backend size that raises the NOSPACE alarm (0 = 2 GiB).'),
  def('backend-batch-interval', 'duration', 0, 'Longest time before a backend commit.'),
  def('backend-batch-limit', 'int', 0, 'Most operations in one backend commit.'),
  def('max-txn-ops', 'uint', 128, 'Most operations in one transaction.'),
  def('max-request-bytes', 'uint', 1572864, 'Largest client request in bytes.'),
  def('grpc-keepalive-min-time', 'duration', 5 * SECOND, 'Shortest ping interval accepted from clients.'),
  def('grpc-keepalive-interval', 'duration', 7200 * SECOND, 'Server-to-client ping period (0 = off).'),
  def('grpc-keepalive-timeout', 'duration', 20 * SECOND, 'Wait for a ping answer before closing (0 = off).'),
  def('max-concurrent-streams', 'uint32', 0xffffffff, 'Concurrent streams per client connection.'),
  // clustering
  def(
    'initial-advertise-peer-urls',
    'urls',
    ['http://localhost:2380'],
    'Peer URLs announced to the cluster.',
  ),
  def('advertise-client-urls', 'urls', ['http://localhost:2379'], 'Client URLs announced to clients.'),
  def('discovery', 'string', '', 'Discovery service URL for bootstrapping.'),
  def('discovery-fallback', 'choice', 'proxy', 'What to do when discovery fails.', {
    choices: ['exit', 'proxy'],
  }),
  def('discovery-proxy', 'string', '', 'HTTP proxy for the discovery service.'),
  def('discovery-srv', 'string', '', 'DNS domain for SRV bootstrapping.'),
  def('discovery-srv-name', 'string', '', 'Service name suffix for SRV bootstrapping.'),
  def('initial-cluster', 'string', 'default=http://localhost:2380', 'name=peerURL,... of the first members.'),
  def('initial-cluster-token', 'string', 'etcd-cluster', 'Token that makes the ids of a new cluster unique.'),
  def('initial-cluster-state', 'choice', 'new', "'new' or 'existing'.", { choices: ['new', 'existing'] }),
  def('strict-reconfig-check', 'bool', true, 'Refuse membership changes that would lose quorum.'),
  def('enable-v2', 'bool', false, 'Serve the v2 API.'),
  def('pre-vote', 'bool', false, 'Run a pre-vote round before elections.'),
  // proxy
  def('proxy', 'choice', 'off', 'v2 proxy mode.', { choices: ['off', 'readonly', 'on'] }),
  def('proxy-failure-wait', 'uint', 5000, 'Milliseconds a failed endpoint stays failed.'),
  def('proxy-refresh-interval', 'uint', 30000, 'Milliseconds between endpoint refreshes.'),
  def('proxy-dial-timeout', 'uint', 1000, 'Dial timeout in milliseconds.'),
  def('proxy-write-timeout', 'uint', 5000, 'Write timeout in milliseconds.'),
  def('proxy-read-timeout', 'uint', 0, 'Read timeout in milliseconds.'),
  // security
  def('cert-file', 'string', '', 'Client-side TLS certificate.'),
  def('key-file', 'string', '', 'Client-side TLS key.'),
  def('client-cert-auth', 'bool', false, 'Require client certificates.'),
  def('client-crl-file', 'string', '', 'Client certificate revocation list.'),
  def('client-cert-allowed-hostname', 'string', '', 'Hostname required in client certificates.'),
  def('trusted-ca-file', 'string', '', 'CA bundle for client certificates.'),
  def('auto-tls', 'bool', false, 'Self-signed client TLS.'),
  def('peer-cert-file', 'string', '', 'Peer-side TLS certificate.'),
  def('peer-key-file', 'string', '', 'Peer-side TLS key.'),
  def('peer-client-cert-auth', 'bool', false, 'Require peer client certificates.'),
  def('peer-trusted-ca-file', 'string', '', 'CA bundle for peer certificates.'),
  def('peer-auto-tls', 'bool', false, 'Self-signed peer TLS.'),
  def('peer-crl-file', 'string', '', 'Peer certificate revocation list.'),
  def('peer-cert-allowed-cn', 'string', '', 'CN required in peer certificates.'),
  def('peer-cert-allowed-hostname', 'string', '', 'Hostname required in peer certificates.'),
  def('cipher-suites', 'strings', [], 'TLS cipher suites, comma-separated.'),
  def('experimental-peer-skip-client-san-verification', 'bool', false, 'Skip SAN checks on peer certs.'),
  def('cors', 'urls', ['*'], 'Allowed CORS origins ("*" = all).', { exceptions: ['*'] }),
  def('host-whitelist', 'unique-strings', ['*'], 'Accepted Host headers on plain HTTP ("*" = all).'),
  // logging
  def(
    'logger',
    'string',
    'zap',
    "'zap' (JSON lines, the default in etcd-ts) or 'capnslog' (etcd 3.4's text lines).",
  ),
  def('log-output', 'unique-strings', ['default'], 'Deprecated spelling of --log-outputs.'),
  def('log-outputs', 'unique-strings', ['default'], "'stderr', 'stdout', 'default' or file paths."),
  def('debug', 'bool', false, 'Deprecated: same as --log-level=debug.'),
  def('log-level', 'string', 'info', 'debug, info, warn, error, panic or fatal.'),
  def('log-package-levels', 'string', '', 'Deprecated per-package levels (capnslog).'),
  // unsafe
  def('force-new-cluster', 'bool', false, 'Restart as a one-member cluster keeping the data.'),
  def('unsafe-no-fsync', 'bool', false, 'Never fsync (loses data on crash).'),
  // version
  def('version', 'bool', false, 'Print the version and exit.'),
  def('auto-compaction-retention', 'string', '0', 'Retention for auto compaction (0 = off).'),
  def('auto-compaction-mode', 'string', 'periodic', "'periodic' (a duration) or 'revision' (a count)."),
  // profiling, metrics, auth, gateway
  def('enable-pprof', 'bool', false, 'Serve runtime profiles under /debug/pprof/.'),
  def('metrics', 'string', 'basic', "'basic' or 'extensive'."),
  def('auth-token', 'string', 'simple', "Auth token type: 'simple' or 'jwt,...'."),
  def('bcrypt-cost', 'uint', 10, 'bcrypt cost for password hashes.'),
  def('auth-token-ttl', 'uint', 300, 'Simple token lifetime in seconds.'),
  def('enable-grpc-gateway', 'bool', true, 'Serve the HTTP/JSON gateway.'),
  // experimental
  def('experimental-initial-corrupt-check', 'bool', false, 'Check data integrity before serving.'),
  def('experimental-corrupt-check-time', 'duration', 0, 'Period of cluster integrity checks.'),
  def('experimental-enable-v2v3', 'string', '', 'v3 prefix for emulated v2 data.'),
  def('experimental-backend-bbolt-freelist-type', 'string', 'array', 'Backend freelist type (array or map).'),
  def('experimental-enable-lease-checkpoint', 'bool', false, 'Leader checkpoints lease TTLs.'),
  def('experimental-enable-lease-checkpoint-persist', 'bool', false, 'Persist lease checkpoints.'),
  def('experimental-compaction-batch-limit', 'int', 1000, 'Revisions deleted per compaction batch.'),
  def('experimental-watch-progress-notify-interval', 'duration', 600 * SECOND, 'Watch progress period.'),
  def('experimental-warning-apply-duration', 'duration', 100 * MS, 'Slow-apply warning threshold.'),
  // beyond etcd (docs/decisions/0018-nospace-auto-disarm.md)
  def(
    'experimental-auto-disarm-nospace',
    'bool',
    false,
    'Disarm NOSPACE by itself once the db size is below 80% of the quota (beyond etcd).',
  ),
  ...IGNORED_FLAGS.map((n) => def(n, 'ignored', false, '')),
];

const BY_NAME: ReadonlyMap<string, FlagDef> = new Map(FLAG_DEFS.map((d) => [d.name, d]));

export function findFlag(name: string): FlagDef | undefined {
  return BY_NAME.get(name);
}

/** Whether the Go parser treats the flag as boolean (may appear without a value). */
export function isBoolFlag(d: FlagDef): boolean {
  return d.kind === 'bool' || d.kind === 'ignored';
}

/**
 * Converts a command-line/env string to the flag's value. Throws ValueError with
 * the text etcd prints after "invalid value ... for flag -name: ".
 */
export function parseFlagValue(d: FlagDef, text: string): FlagValue {
  switch (d.kind) {
    case 'string':
      return text;
    case 'bool':
      return parseGoBool(text);
    case 'ignored':
      // etcd's IgnoredFlag accepts any value (it only warns).
      return false;
    case 'uint':
      return parseGoUint(text, 64);
    case 'uint32':
      return parseUint32Strconv(text);
    case 'int':
      return parseGoInt(text);
    case 'duration':
      return parseGoDurationNs(text);
    case 'urls':
      if (d.exceptions?.includes(text)) return [text];
      return parseUrlListForFlag(text);
    case 'unique-strings':
      return [...new Set(text.split(','))].sort(compareStrings);
    case 'strings':
      return text.split(',');
    case 'choice':
      if (!d.choices?.includes(text)) throw new ValueError('invalid value');
      return text;
  }
}

function parseUrlListForFlag(text: string): string[] {
  try {
    return parseUrlList(text);
  } catch (err) {
    if (err instanceof UrlError) throw new ValueError(err.message);
    throw err;
  }
}

/** pkg/flags' uint32 value reports strconv's own error text, unlike Go's built-in flags. */
function parseUint32Strconv(text: string): number {
  try {
    return parseGoUint(text, 32);
  } catch (err) {
    const reason =
      err instanceof ValueError && err.message === 'value out of range'
        ? 'value out of range'
        : 'invalid syntax';
    throw new ValueError(`strconv.ParseUint: parsing ${goQuote(text)}: ${reason}`);
  }
}

/** Go's %q for the plain strings that flags hold. */
export function goQuote(s: string): string {
  return JSON.stringify(s);
}
