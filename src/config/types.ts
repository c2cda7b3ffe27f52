// The parsed, validated configuration of one etcd member, shaped after etcd 3.4's
// flags (etcdmain/config.go, embed/config.go). Every field has its final value:
// defaults are applied and derived values (dataDir, initialCluster) are filled in,
// so the server never has to look at argv, env or the config file again.

/** TLS settings for one side (client-facing or peer-facing). Empty strings mean "not set". */
export interface TlsConfig {
  certFile: string;
  keyFile: string;
  trustedCaFile: string;
  clientCertAuth: boolean;
  crlFile: string;
  /** Use self-signed certificates generated at start (--auto-tls / --peer-auto-tls). */
  autoTls: boolean;
  /** --client-cert-allowed-hostname / --peer-cert-allowed-hostname. */
  allowedHostname: string;
  /** --peer-cert-allowed-cn (always "" for the client side). */
  allowedCn: string;
  /** --experimental-peer-skip-client-san-verification (peer side only). */
  skipClientSanVerify: boolean;
}

export type ClusterState = 'new' | 'existing';
export type AutoCompactionMode = 'periodic' | 'revision';
export type LogLevel = 'debug' | 'info' | 'warn' | 'error' | 'dpanic' | 'panic' | 'fatal';

export interface ServerConfig {
  // --- member ---
  name: string;
  /** Default `${name}.etcd`. */
  dataDir: string;
  /** "" = `${dataDir}/member/wal`. */
  walDir: string;
  snapshotCount: number;
  /** Entries kept in memory behind a snapshot for followers a little behind (etcd 3.5's flag). */
  snapshotCatchUpEntries: number;
  heartbeatIntervalMs: number;
  electionTimeoutMs: number;
  initialElectionTickAdvance: boolean;
  /**
   * URL lists are strings in etcd's canonical form ("http://127.0.0.1:2379": scheme
   * lower-cased, no trailing slash), de-duplicated and sorted as etcd sorts them.
   * Use parseEtcdUrl() from './urls.js' to get scheme/hostname/port.
   */
  listenPeerUrls: string[];
  listenClientUrls: string[];
  listenMetricsUrls: string[];
  maxSnapshots: number;
  maxWals: number;
  /** 0 means the default quota (2 GiB); see effectiveQuotaBackendBytes(). */
  quotaBackendBytes: number;
  backendBatchIntervalMs: number;
  backendBatchLimit: number;
  maxTxnOps: number;
  maxRequestBytes: number;
  grpcKeepAliveMinTimeMs: number;
  grpcKeepAliveIntervalMs: number;
  grpcKeepAliveTimeoutMs: number;
  /** Default 4294967295 (Go's math.MaxUint32): in practice unlimited. */
  maxConcurrentStreams: number;

  // --- clustering ---
  initialAdvertisePeerUrls: string[];
  /** May be empty only in proxy mode (etcd refuses to start otherwise). */
  advertiseClientUrls: string[];
  /** The raw --initial-cluster string (after defaulting). */
  initialClusterRaw: string;
  /** name → peer URLs (sorted, canonical strings). Empty when discovery is used. */
  initialCluster: Map<string, string[]>;
  initialClusterToken: string;
  initialClusterState: ClusterState;
  discovery: string;
  discoveryFallback: 'exit' | 'proxy';
  discoveryProxy: string;
  discoverySrv: string;
  discoverySrvName: string;
  strictReconfigCheck: boolean;
  enableV2: boolean;
  preVote: boolean;
  autoCompactionMode: AutoCompactionMode;
  /** Raw retention string ("0" = disabled; "1h", "5m", or a number). */
  autoCompactionRetention: string;

  // --- proxy (accepted, stored; etcd-ts does not run as a v2 proxy) ---
  proxy: 'off' | 'readonly' | 'on';
  proxyFailureWaitMs: number;
  proxyRefreshIntervalMs: number;
  proxyDialTimeoutMs: number;
  proxyWriteTimeoutMs: number;
  proxyReadTimeoutMs: number;

  // --- security ---
  clientTls: TlsConfig;
  peerTls: TlsConfig;
  cipherSuites: string[];
  /** "*" in the set means all origins. */
  cors: string[];
  hostWhitelist: string[];

  // --- auth ---
  /** e.g. "simple" or "jwt,pub-key=...,priv-key=...,sign-method=RS256". */
  authToken: string;
  bcryptCost: number;
  authTokenTtlSeconds: number;

  // --- logging ---
  logger: 'zap' | 'capnslog';
  /** "stderr", "stdout", "default" or file paths. */
  logOutputs: string[];
  logLevel: LogLevel;
  debug: boolean;
  logPackageLevels: string;

  // --- profiling / metrics / gateway ---
  enablePprof: boolean;
  /** "basic" or "extensive". */
  metrics: string;
  enableGrpcGateway: boolean;

  // --- experimental / unsafe ---
  experimentalInitialCorruptCheck: boolean;
  experimentalCorruptCheckTimeMs: number;
  experimentalEnableV2V3: string;
  experimentalBackendBboltFreelistType: string;
  experimentalEnableLeaseCheckpoint: boolean;
  experimentalEnableLeaseCheckpointPersist: boolean;
  experimentalCompactionBatchLimit: number;
  experimentalWatchProgressNotifyIntervalMs: number;
  experimentalWarningApplyDurationMs: number;
  /** Beyond etcd: disarm NOSPACE once space is reclaimed (server/nospace-auto-disarm.ts). */
  experimentalAutoDisarmNospace: boolean;
  unsafeNoFsync: boolean;
  forceNewCluster: boolean;

  /** The config file that was loaded, or "" (flags/env were used). */
  configFile: string;
}

/** What parseEtcdCommandLine returns: either a config to run, or text to print instead. */
export type ParseOutcome =
  | { kind: 'run'; config: ServerConfig; warnings: ConfigWarning[] }
  | { kind: 'version'; text: string }
  | { kind: 'help'; text: string };

/** Things etcd logs at start-up about the configuration (env vars used or ignored and the like). */
export interface ConfigWarning {
  level: 'info' | 'warn';
  /** The full sentence as etcd logs it, e.g. "unrecognized environment variable ETCD_FOO=1". */
  msg: string;
  fields?: Record<string, string>;
}

/**
 * How a configuration error is reported, mirroring etcd:
 *  - 'usage': a command-line syntax error; print the message, then the usage text; exit 2.
 *  - 'verify': a bad value or combination; etcd logs "error verifying flags, <msg>. See 'etcd --help'."; exit 1.
 *  - 'fatal': etcd logs the message as a critical line and exits 1 (e.g. env var shadowed by a flag);
 *  - 'plain': etcd prints just the message to stderr and exits 1 (bad URL in a config file).
 */
export type ConfigErrorKind = 'usage' | 'verify' | 'fatal' | 'plain';

export class ConfigError extends Error {
  constructor(
    message: string,
    readonly kind: ConfigErrorKind,
  ) {
    super(message);
    this.name = 'ConfigError';
  }

  get exitCode(): number {
    return this.kind === 'usage' ? 2 : 1;
  }
}

export const DEFAULT_QUOTA_BACKEND_BYTES = 2 * 1024 * 1024 * 1024;

export function effectiveQuotaBackendBytes(cfg: ServerConfig): number {
  return cfg.quotaBackendBytes > 0 ? cfg.quotaBackendBytes : DEFAULT_QUOTA_BACKEND_BYTES;
}
