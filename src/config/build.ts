// Turns explicitly-set flag values (from argv+env, or from a config file) into a
// complete, validated ServerConfig, applying etcd's defaulting rules and its
// validation order and messages (embed.Config.Validate, etcdmain's post-parse fixes).

import { DEFAULT_NAME, type FlagValue, findFlag } from './flags.js';
import { validateLogging } from './logging-rules.js';
import {
  type AutoCompactionMode,
  type ClusterState,
  ConfigError,
  type LogLevel,
  type ServerConfig,
  type TlsConfig,
} from './types.js';
import { parseEtcdUrl, parseInitialCluster, splitHostPort, UrlError } from './urls.js';

const NS_PER_MS = 1e6;
/** etcd refuses election timeouts above this (embed.maxElectionMs). */
export const MAX_ELECTION_MS = 50000;
const DEFAULT_INITIAL_CLUSTER = `${DEFAULT_NAME}=http://localhost:2380`;

export type ConfigSource = 'command-line' | 'config-file';

/** Typed access to "explicit value, else the table's default". */
class FlagReader {
  constructor(private readonly explicit: ReadonlyMap<string, FlagValue>) {}

  isSet(name: string): boolean {
    return this.explicit.has(name);
  }

  private raw(name: string): FlagValue {
    const d = findFlag(name);
    if (d === undefined) throw new Error(`no such flag in the table: ${name}`);
    return this.explicit.get(name) ?? d.default;
  }

  str(name: string): string {
    const v = this.raw(name);
    if (typeof v !== 'string') throw new Error(`flag ${name} is not a string`);
    return v;
  }

  bool(name: string): boolean {
    const v = this.raw(name);
    if (typeof v !== 'boolean') throw new Error(`flag ${name} is not a boolean`);
    return v;
  }

  num(name: string): number {
    const v = this.raw(name);
    if (typeof v !== 'number') throw new Error(`flag ${name} is not a number`);
    return v;
  }

  /** Durations are stored in nanoseconds; the config speaks milliseconds. */
  ms(name: string): number {
    return this.num(name) / NS_PER_MS;
  }

  list(name: string): string[] {
    const v = this.raw(name);
    if (!Array.isArray(v)) throw new Error(`flag ${name} is not a list`);
    return [...v];
  }
}

/**
 * `defaultHost` is the machine's default-route address (see default-host.ts), or
 * undefined; `usedDefaultHost` says whether it replaced a localhost advertise URL.
 */
export function buildServerConfig(
  explicit: ReadonlyMap<string, FlagValue>,
  source: ConfigSource,
  configFile: string,
  defaultHost?: string,
): { config: ServerConfig; usedDefaultHost: boolean } {
  const f = new FlagReader(explicit);
  const cfg = assemble(f, configFile);
  applyEtcdmainFixups(cfg, f, source);
  validate(cfg);
  const usedDefaultHost = defaultHost !== undefined && advertiseDefaultHost(cfg, defaultHost);
  applyDefaultsAfterValidation(cfg);
  return { config: cfg, usedDefaultHost };
}

/**
 * Listening on 0.0.0.0 while advertising the built-in localhost URL would tell
 * other machines to dial themselves; etcd advertises the default host instead,
 * keeping the listen port.
 */
function advertiseDefaultHost(cfg: ServerConfig, host: string): boolean {
  let used = false;
  const swap = (advertised: string[], builtIn: string, listen: readonly string[]): string[] => {
    const first = listen[0];
    if (advertised.length !== 1 || advertised[0] !== builtIn || first === undefined) return advertised;
    const l = parseEtcdUrl(first);
    if (l.hostname !== '0.0.0.0') return advertised;
    used = true;
    return [`${parseEtcdUrl(builtIn).scheme}://${host}:${l.port}`];
  };
  cfg.initialAdvertisePeerUrls = swap(
    cfg.initialAdvertisePeerUrls,
    'http://localhost:2380',
    cfg.listenPeerUrls,
  );
  cfg.advertiseClientUrls = swap(cfg.advertiseClientUrls, 'http://localhost:2379', cfg.listenClientUrls);
  return used;
}

function assemble(f: FlagReader, configFile: string): ServerConfig {
  return {
    name: f.str('name'),
    dataDir: f.str('data-dir'),
    walDir: f.str('wal-dir'),
    snapshotCount: f.num('snapshot-count'),
    snapshotCatchUpEntries: f.num('experimental-snapshot-catchup-entries'),
    heartbeatIntervalMs: f.num('heartbeat-interval'),
    electionTimeoutMs: f.num('election-timeout'),
    initialElectionTickAdvance: f.bool('initial-election-tick-advance'),
    listenPeerUrls: f.list('listen-peer-urls'),
    listenClientUrls: f.list('listen-client-urls'),
    listenMetricsUrls: f.list('listen-metrics-urls'),
    maxSnapshots: f.num('max-snapshots'),
    maxWals: f.num('max-wals'),
    quotaBackendBytes: f.num('quota-backend-bytes'),
    backendBatchIntervalMs: f.ms('backend-batch-interval'),
    backendBatchLimit: f.num('backend-batch-limit'),
    maxTxnOps: f.num('max-txn-ops'),
    maxRequestBytes: f.num('max-request-bytes'),
    grpcKeepAliveMinTimeMs: f.ms('grpc-keepalive-min-time'),
    grpcKeepAliveIntervalMs: f.ms('grpc-keepalive-interval'),
    grpcKeepAliveTimeoutMs: f.ms('grpc-keepalive-timeout'),
    maxConcurrentStreams: f.num('max-concurrent-streams'),
    initialAdvertisePeerUrls: f.list('initial-advertise-peer-urls'),
    advertiseClientUrls: f.list('advertise-client-urls'),
    initialClusterRaw: f.str('initial-cluster'),
    initialCluster: new Map(),
    initialClusterToken: f.str('initial-cluster-token'),
    initialClusterState: f.str('initial-cluster-state') as ClusterState,
    discovery: f.str('discovery'),
    discoveryFallback: f.str('discovery-fallback') as ServerConfig['discoveryFallback'],
    discoveryProxy: f.str('discovery-proxy'),
    discoverySrv: f.str('discovery-srv'),
    discoverySrvName: f.str('discovery-srv-name'),
    strictReconfigCheck: f.bool('strict-reconfig-check'),
    enableV2: f.bool('enable-v2'),
    preVote: f.bool('pre-vote'),
    autoCompactionMode: f.str('auto-compaction-mode') as AutoCompactionMode,
    autoCompactionRetention: f.str('auto-compaction-retention'),
    proxy: f.str('proxy') as ServerConfig['proxy'],
    proxyFailureWaitMs: f.num('proxy-failure-wait'),
    proxyRefreshIntervalMs: f.num('proxy-refresh-interval'),
    proxyDialTimeoutMs: f.num('proxy-dial-timeout'),
    proxyWriteTimeoutMs: f.num('proxy-write-timeout'),
    proxyReadTimeoutMs: f.num('proxy-read-timeout'),
    clientTls: clientTls(f),
    peerTls: peerTls(f),
    cipherSuites: f.list('cipher-suites'),
    cors: f.list('cors'),
    hostWhitelist: f.list('host-whitelist'),
    authToken: f.str('auth-token'),
    bcryptCost: f.num('bcrypt-cost'),
    authTokenTtlSeconds: f.num('auth-token-ttl'),
    logger: f.str('logger') as ServerConfig['logger'],
    logOutputs: mergeLogOutputs(f),
    logLevel: f.str('log-level') as LogLevel,
    debug: f.bool('debug'),
    logPackageLevels: f.str('log-package-levels'),
    enablePprof: f.bool('enable-pprof'),
    metrics: f.str('metrics'),
    enableGrpcGateway: f.bool('enable-grpc-gateway'),
    experimentalInitialCorruptCheck: f.bool('experimental-initial-corrupt-check'),
    experimentalCorruptCheckTimeMs: f.ms('experimental-corrupt-check-time'),
    experimentalEnableV2V3: f.str('experimental-enable-v2v3'),
    experimentalBackendBboltFreelistType: f.str('experimental-backend-bbolt-freelist-type'),
    experimentalEnableLeaseCheckpoint: f.bool('experimental-enable-lease-checkpoint'),
    experimentalEnableLeaseCheckpointPersist: f.bool('experimental-enable-lease-checkpoint-persist'),
    experimentalCompactionBatchLimit: f.num('experimental-compaction-batch-limit'),
    experimentalWatchProgressNotifyIntervalMs: f.ms('experimental-watch-progress-notify-interval'),
    experimentalWarningApplyDurationMs: f.ms('experimental-warning-apply-duration'),
    experimentalAutoDisarmNospace: f.bool('experimental-auto-disarm-nospace'),
    unsafeNoFsync: f.bool('unsafe-no-fsync'),
    forceNewCluster: f.bool('force-new-cluster'),
    configFile,
  };
}

function clientTls(f: FlagReader): TlsConfig {
  return {
    certFile: f.str('cert-file'),
    keyFile: f.str('key-file'),
    trustedCaFile: f.str('trusted-ca-file'),
    clientCertAuth: f.bool('client-cert-auth'),
    crlFile: f.str('client-crl-file'),
    autoTls: f.bool('auto-tls'),
    allowedHostname: f.str('client-cert-allowed-hostname'),
    allowedCn: '',
    skipClientSanVerify: false,
  };
}

function peerTls(f: FlagReader): TlsConfig {
  return {
    certFile: f.str('peer-cert-file'),
    keyFile: f.str('peer-key-file'),
    trustedCaFile: f.str('peer-trusted-ca-file'),
    clientCertAuth: f.bool('peer-client-cert-auth'),
    crlFile: f.str('peer-crl-file'),
    autoTls: f.bool('peer-auto-tls'),
    allowedHostname: f.str('peer-cert-allowed-hostname'),
    allowedCn: f.str('peer-cert-allowed-cn'),
    skipClientSanVerify: f.bool('experimental-peer-skip-client-san-verification'),
  };
}

/**
 * "--log-output" is the deprecated spelling: when only it was given, it wins
 * (etcd compares how many values each holds; the longer list wins).
 */
function mergeLogOutputs(f: FlagReader): string[] {
  const deprecated = f.list('log-output');
  const current = f.list('log-outputs');
  if (f.isSet('log-output') && !f.isSet('log-outputs')) return deprecated;
  if (deprecated.length > current.length) return deprecated;
  return current;
}

function mayBeProxy(cfg: ServerConfig): boolean {
  return cfg.proxy !== 'off' || (cfg.discovery !== '' && cfg.discoveryFallback === 'proxy');
}

/** What etcdmain does between parsing and validating. */
function applyEtcdmainFixups(cfg: ServerConfig, f: FlagReader, source: ConfigSource): void {
  const discoveryUsed = cfg.discovery !== '' || cfg.discoverySrv !== '';
  if (source === 'command-line') {
    // Listening on explicit client URLs without saying what to advertise is an error
    // (unless acting as a proxy): the default advertise URL would be a lie.
    if (f.isSet('listen-client-urls') && !f.isSet('advertise-client-urls') && !mayBeProxy(cfg)) {
      cfg.advertiseClientUrls = [];
    }
    if ((discoveryUsed || cfg.discoverySrvName !== '') && !f.isSet('initial-cluster')) {
      cfg.initialClusterRaw = '';
    }
  } else if (discoveryUsed && cfg.initialClusterRaw === DEFAULT_INITIAL_CLUSTER) {
    cfg.initialClusterRaw = '';
  }
}

function validate(cfg: ServerConfig): void {
  validateLogging(cfg);
  checkBindUrls(cfg.listenPeerUrls);
  checkBindUrls(cfg.listenClientUrls);
  checkBindUrls(cfg.listenMetricsUrls);
  checkHostUrls('--initial-advertise-peer-urls', cfg.initialAdvertisePeerUrls);
  checkHostUrls('--advertise-client-urls', cfg.advertiseClientUrls);
  const bootstrapWays = [cfg.discovery, cfg.initialClusterRaw, cfg.discoverySrv].filter((s) => s !== '');
  if (cfg.initialClusterState !== 'new' && cfg.initialClusterState !== 'existing') {
    verifyFail(`unexpected clusterState "${cfg.initialClusterState}"`);
  }
  if (bootstrapWays.length > 1) {
    verifyFail(
      'multiple discovery or bootstrap flags are set. Choose one of "initial-cluster", "discovery" or "discovery-srv"',
    );
  }
  validateTiming(cfg);
  if (cfg.listenClientUrls.length > 0 && cfg.advertiseClientUrls.length === 0 && !mayBeProxy(cfg)) {
    verifyFail('--advertise-client-urls is required when --listen-client-urls is set explicitly');
  }
  if (!['', 'periodic', 'revision'].includes(cfg.autoCompactionMode)) {
    verifyFail(`unknown auto-compaction-mode "${cfg.autoCompactionMode}"`);
  }
  if (cfg.experimentalEnableLeaseCheckpointPersist && !cfg.experimentalEnableLeaseCheckpoint) {
    verifyFail(
      'setting experimental-enable-lease-checkpoint-persist requires experimental-enable-lease-checkpoint',
    );
  }
}

function validateTiming(cfg: ServerConfig): void {
  const tick = cfg.heartbeatIntervalMs;
  const election = cfg.electionTimeoutMs;
  if (tick <= 0) verifyFail(`--heartbeat-interval must be >0 (set to ${tick}ms)`);
  if (election <= 0) verifyFail(`--election-timeout must be >0 (set to ${election}ms)`);
  if (5 * tick > election) {
    verifyFail(
      `--election-timeout[${election}ms] should be at least as 5 times as --heartbeat-interval[${tick}ms]`,
    );
  }
  if (election > MAX_ELECTION_MS) {
    verifyFail(
      `--election-timeout[${election}ms] is too long, and should be set less than ${MAX_ELECTION_MS}ms`,
    );
  }
}

/** A listen URL must name an IP address (or "localhost"): we bind to it, never resolve it. */
function checkBindUrls(urls: readonly string[]): void {
  for (const href of urls) {
    const u = parseEtcdUrl(href);
    if (u.scheme === 'unix' || u.scheme === 'unixs') continue;
    if (u.hostname === 'localhost') continue;
    if (!isIpAddress(u.hostname)) verifyFail(`expected IP in URL for binding (${href})`);
  }
}

function checkHostUrls(flag: string, urls: readonly string[]): void {
  for (const href of urls) {
    const u = parseEtcdUrl(href);
    if (splitHostPort(u.host)?.hostname === '') {
      verifyFail(`${flag} "${urls.join(',')}" must be "host:port" (unexpected empty host (${href}))`);
    }
  }
}

function isIpAddress(host: string): boolean {
  if (/^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.test(host)) {
    return host.split('.').every((octet) => Number(octet) <= 255);
  }
  return host.includes(':') && /^[0-9a-fA-F:.]+$/.test(host);
}

/** The steps etcd takes after a successful parse (UpdateDefaultClusterFromName, default data dir). */
function applyDefaultsAfterValidation(cfg: ServerConfig): void {
  // "--name foo" alone means "a one-member cluster called foo on my advertised peer URLs".
  if (cfg.name !== DEFAULT_NAME && cfg.initialClusterRaw === DEFAULT_INITIAL_CLUSTER) {
    cfg.initialClusterRaw = initialClusterFromName(cfg.name, cfg.initialAdvertisePeerUrls);
  }
  if (cfg.dataDir === '') cfg.dataDir = `${cfg.name}.etcd`;
  try {
    cfg.initialCluster =
      cfg.initialClusterRaw === '' ? new Map() : parseInitialCluster(cfg.initialClusterRaw);
  } catch (err) {
    if (err instanceof UrlError) verifyFail(err.message);
    throw err;
  }
}

export function initialClusterFromName(name: string, advertisePeerUrls: readonly string[]): string {
  const member = name === '' ? DEFAULT_NAME : name;
  return advertisePeerUrls.map((u) => `${member}=${u}`).join(',');
}

function verifyFail(message: string): never {
  throw new ConfigError(message, 'verify');
}
