// --config-file: etcd's YAML configuration (embed.ConfigFromFile). Keys are the
// flag names; URL lists are comma-separated strings; durations are integers in
// nanoseconds (Go's time.Duration through JSON); TLS lives under
// client-transport-security / peer-transport-security. Unknown keys are ignored,
// as Go's JSON decoding ignores them. Only the flags etcd's YAML struct knows are
// read: e.g. a top-level "cert-file" has no effect in a config file.

import { parse as parseYaml } from 'yaml';
import { type FlagDef, type FlagValue, findFlag, parseFlagValue } from './flags.js';
import { ConfigError } from './types.js';
import { parseUrlList, UrlError } from './urls.js';
import { parseGoDurationNs, ValueError } from './values.js';

/** Flag names etcd's YAML struct (configYAML + configProxy) has a key for. */
const YAML_FLAG_KEYS: ReadonlySet<string> = new Set([
  'name',
  'data-dir',
  'wal-dir',
  'snapshot-count',
  'max-snapshots',
  'max-wals',
  'heartbeat-interval',
  'election-timeout',
  'initial-election-tick-advance',
  'backend-batch-interval',
  'backend-batch-limit',
  'quota-backend-bytes',
  'max-txn-ops',
  'max-request-bytes',
  'max-concurrent-streams',
  'cipher-suites',
  'initial-cluster-state',
  'discovery-srv',
  'discovery-srv-name',
  'discovery-proxy',
  'discovery',
  'initial-cluster',
  'initial-cluster-token',
  'strict-reconfig-check',
  'enable-v2',
  'auto-compaction-mode',
  'auto-compaction-retention',
  'grpc-keepalive-min-time',
  'grpc-keepalive-interval',
  'grpc-keepalive-timeout',
  'pre-vote',
  'auth-token',
  'bcrypt-cost',
  'auth-token-ttl',
  'experimental-initial-corrupt-check',
  'experimental-corrupt-check-time',
  'experimental-enable-v2v3',
  'experimental-backend-bbolt-freelist-type',
  'experimental-enable-lease-checkpoint',
  'experimental-enable-lease-checkpoint-persist',
  'experimental-compaction-batch-limit',
  'experimental-watch-progress-notify-interval',
  'experimental-warning-apply-duration',
  // beyond etcd: not a key of etcd's YAML struct, read as the flag is
  'experimental-auto-disarm-nospace',
  'force-new-cluster',
  'enable-pprof',
  'metrics',
  'listen-metrics-urls',
  'logger',
  'log-level',
  'log-outputs',
  'log-output',
  'enable-grpc-gateway',
  'debug',
  'log-package-levels',
  'unsafe-no-fsync',
  'listen-peer-urls',
  'listen-client-urls',
  'initial-advertise-peer-urls',
  'advertise-client-urls',
  'cors',
  'host-whitelist',
  'proxy',
  'discovery-fallback',
  'proxy-failure-wait',
  'proxy-refresh-interval',
  'proxy-dial-timeout',
  'proxy-write-timeout',
  'proxy-read-timeout',
]);

/** The two nested TLS sections and the flags their keys stand for. */
const SECURITY_SECTIONS: Readonly<Record<string, Readonly<Record<string, string>>>> = {
  'client-transport-security': {
    'cert-file': 'cert-file',
    'key-file': 'key-file',
    'client-cert-auth': 'client-cert-auth',
    'trusted-ca-file': 'trusted-ca-file',
    'auto-tls': 'auto-tls',
  },
  'peer-transport-security': {
    'cert-file': 'peer-cert-file',
    'key-file': 'peer-key-file',
    'client-cert-auth': 'peer-client-cert-auth',
    'trusted-ca-file': 'peer-trusted-ca-file',
    'auto-tls': 'peer-auto-tls',
  },
};

/** etcd's error wording for URL lists in a config file (including its "advertise-peer-urls" slip). */
const URL_KEY_LABEL: Readonly<Record<string, string>> = {
  'advertise-client-urls': 'advertise-peer-urls',
};

/** Parses the YAML text into flag values (only the keys present in the file). */
export function readConfigFileText(text: string): Map<string, FlagValue> {
  let doc: unknown;
  try {
    // go-yaml v2 (which etcd uses) follows YAML 1.1: "yes"/"on" are booleans.
    doc = parseYaml(text, { version: '1.1' });
  } catch (err) {
    throw new ConfigError(`error converting YAML to JSON: ${(err as Error).message}`, 'verify');
  }
  const values = new Map<string, FlagValue>();
  if (doc === null || doc === undefined) return values;
  if (typeof doc !== 'object' || Array.isArray(doc)) {
    throw new ConfigError(
      'error unmarshaling JSON: json: cannot unmarshal into Go value of type embed.configYAML',
      'verify',
    );
  }
  for (const [rawKey, raw] of Object.entries(doc as Record<string, unknown>)) {
    const key = rawKey.toLowerCase();
    const section = SECURITY_SECTIONS[key];
    if (section !== undefined) {
      readSection(key, section, raw, values);
      continue;
    }
    if (!YAML_FLAG_KEYS.has(key) || raw === null) continue;
    const d = findFlag(key);
    if (d === undefined) throw new Error(`config file key table names unknown flag ${key}`);
    values.set(key, convert(d, key, raw));
  }
  return values;
}

function readSection(
  sectionKey: string,
  section: Readonly<Record<string, string>>,
  raw: unknown,
  values: Map<string, FlagValue>,
): void {
  if (raw === null) return;
  if (typeof raw !== 'object' || Array.isArray(raw))
    throw typeMismatch(sectionKey, raw, 'embed.securityConfig');
  for (const [rawKey, v] of Object.entries(raw as Record<string, unknown>)) {
    const flagName = section[rawKey.toLowerCase()];
    if (flagName === undefined || v === null) continue;
    const d = findFlag(flagName);
    if (d === undefined) throw new Error(`security section names unknown flag ${flagName}`);
    values.set(flagName, convert(d, rawKey.toLowerCase(), v));
  }
}

/** Converts one YAML value with the rules Go's JSON decoding into etcd's struct would apply. */
function convert(d: FlagDef, key: string, raw: unknown): FlagValue {
  switch (d.kind) {
    case 'string':
    case 'choice':
      if (typeof raw === 'string' || typeof raw === 'number' || typeof raw === 'boolean') return String(raw);
      throw typeMismatch(key, raw, 'string');
    case 'bool':
    case 'ignored':
      if (typeof raw === 'boolean') return raw;
      throw typeMismatch(key, raw, 'bool');
    case 'uint':
    case 'uint32':
    case 'int':
      return convertInteger(d, key, raw);
    case 'duration':
      return convertDuration(key, raw);
    case 'urls':
      return convertUrls(d, key, raw);
    case 'unique-strings':
    case 'strings':
      return convertStrings(d, key, raw);
  }
}

function convertInteger(d: FlagDef, key: string, raw: unknown): number {
  const goType = d.kind === 'int' ? 'int64' : d.kind === 'uint32' ? 'uint32' : 'uint64';
  if (typeof raw !== 'number' || !Number.isInteger(raw)) throw typeMismatch(key, raw, goType);
  if (d.kind !== 'int' && raw < 0) throw typeMismatch(key, raw, goType);
  if (d.kind === 'uint32' && raw > 0xffffffff) throw typeMismatch(key, raw, goType);
  return raw;
}

function convertDuration(key: string, raw: unknown): number {
  if (typeof raw === 'number' && Number.isInteger(raw)) return raw;
  // Extension: Go would reject a string here; "100ms" is what people mean, so accept it.
  if (typeof raw === 'string') {
    try {
      return parseGoDurationNs(raw);
    } catch (err) {
      if (!(err instanceof ValueError)) throw err;
    }
  }
  throw typeMismatch(key, raw, 'time.Duration');
}

function convertUrls(d: FlagDef, key: string, raw: unknown): string[] {
  if (typeof raw !== 'string') throw typeMismatch(key, raw, 'string');
  if (raw === '') return d.default as string[];
  if (d.exceptions !== undefined) return parseFlagValue(d, raw) as string[];
  try {
    return parseUrlList(raw);
  } catch (err) {
    if (!(err instanceof UrlError)) throw err;
    throw new ConfigError(
      `unexpected error setting up ${URL_KEY_LABEL[key] ?? key}: ${err.message}`,
      'plain',
    );
  }
}

function convertStrings(d: FlagDef, key: string, raw: unknown): string[] {
  if (d.name === 'host-whitelist') {
    if (typeof raw !== 'string') throw typeMismatch(key, raw, 'string');
    return raw === '' ? (d.default as string[]) : (parseFlagValue(d, raw) as string[]);
  }
  if (!Array.isArray(raw) || raw.some((v) => typeof v !== 'string' && typeof v !== 'number')) {
    throw typeMismatch(key, raw, '[]string');
  }
  return raw.map(String);
}

function typeMismatch(key: string, raw: unknown, goType: string): ConfigError {
  return new ConfigError(
    `error unmarshaling JSON: while decoding JSON: json: cannot unmarshal ${jsonKind(raw)} into Go struct field configYAML.${key} of type ${goType}`,
    'verify',
  );
}

function jsonKind(raw: unknown): string {
  if (Array.isArray(raw)) return 'array';
  if (typeof raw === 'object') return 'object';
  return typeof raw;
}
