// "etcd grpc-proxy start": flags as etcd 3.4 spells them → src/proxy. Flags
// etcd has and the proxy does not act on (--auto-tls, --client-crl-file,
// --listen-cipher-suites, --experimental-*, --max-concurrent-streams,
// --max-send-bytes, --data-dir, --debug, --enable-pprof) are accepted; those
// that change behaviour say so in the log. --resolver-prefix/--resolver-ttl
// are checked as etcd checks them, but the proxy does not register itself.
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type tls from 'node:tls';
import type { TlsOptions } from '../../client/index.js';
import type { Logger } from '../../log/types.js';
import { type RunningGrpcProxy, splitHostPort, startGrpcProxy } from '../../proxy/index.js';
import { discoverEndpoints, type SrvResolver } from './gateway-srv.js';

/** "etcd grpc-proxy" without "start". */
export const GRPC_PROXY_GROUP_USAGE = `grpc-proxy related command

Usage:
  etcd grpc-proxy [command]

Available Commands:
  start       start the grpc proxy
`;

export const GRPC_PROXY_USAGE = `start the grpc proxy

Usage:
  etcd grpc-proxy start [flags]

Flags:
      --advertise-client-url string          advertise address to register (must be reachable by client) (default "127.0.0.1:23790")
      --auto-tls                             proxy TLS using generated certificates
      --cacert string                        verify certificates of TLS-enabled secure etcd servers using this CA bundle
      --cert string                          identify secure connections with etcd servers using this TLS certificate file
      --cert-file string                     identify secure connections to the proxy using this TLS certificate file
      --client-crl-file string               proxy client certificate revocation list file.
      --data-dir string                      Data directory for persistent data (default "default.proxy")
      --debug                                Enable debug-level logging for grpc-proxy.
      --discovery-srv string                 domain name to query for SRV records describing cluster endpoints
      --discovery-srv-name string            service name to query when using DNS discovery
      --enable-pprof                         Enable runtime profiling data via HTTP server. Address is at client URL + "/debug/pprof/"
      --endpoints strings                    comma separated etcd cluster endpoints (default [127.0.0.1:2379])
      --experimental-leasing-prefix string   leasing metadata prefix for disconnected linearized reads.
      --experimental-serializable-ordering   Ensure serializable reads have monotonically increasing store revisions across endpoints.
  -h, --help                                 help for start
      --insecure-discovery                   accept insecure SRV records
      --insecure-skip-tls-verify             skip authentication of etcd server TLS certificates (CAUTION: this option should be enabled only for testing purposes)
      --key string                           identify secure connections with etcd servers using this TLS key file
      --key-file string                      identify secure connections to the proxy using this TLS key file
      --listen-addr string                   listen address (default "127.0.0.1:23790")
      --listen-cipher-suites strings         Comma-separated list of supported TLS cipher suites between client/proxy (empty will be auto-populated by Go).
      --max-concurrent-streams uint32        Maximum concurrent streams that each client can open at a time. (default 4294967295)
      --max-recv-bytes int                   message receive limits in bytes (default value is math.MaxInt32) (default 2147483647)
      --max-send-bytes int                   message send limits in bytes (default value is 1.5 MiB) (default 1572864)
      --metrics-addr string                  listen for endpoint /metrics requests on an additional interface
      --namespace string                     string to prefix to all keys for namespacing requests
      --resolver-prefix string               prefix to use for registering proxy (must be shared with other grpc-proxy members)
      --resolver-ttl int                     specify TTL, in seconds, when registering proxy endpoints
      --trusted-ca-file string               verify certificates of TLS-enabled secure proxy using this CA bundle
`;

export interface GrpcProxyFlags {
  listenAddr: string;
  endpoints: string[];
  advertiseClientUrl: string;
  namespace: string;
  resolverPrefix: string;
  resolverTtl: number;
  cert: string;
  key: string;
  cacert: string;
  insecureSkipTlsVerify: boolean;
  certFile: string;
  keyFile: string;
  trustedCaFile: string;
  metricsAddr: string;
  enablePprof: boolean;
  discoverySrv: string;
  discoverySrvName: string;
  insecureDiscovery: boolean;
  maxRecvBytes: number;
  maxSendBytes: number;
  help: boolean;
}

export class GrpcProxyUsageError extends Error {}

const STRING_FLAGS: Record<string, keyof GrpcProxyFlags | null> = {
  'listen-addr': 'listenAddr',
  'advertise-client-url': 'advertiseClientUrl',
  namespace: 'namespace',
  'resolver-prefix': 'resolverPrefix',
  cert: 'cert',
  key: 'key',
  cacert: 'cacert',
  'cert-file': 'certFile',
  'key-file': 'keyFile',
  'trusted-ca-file': 'trustedCaFile',
  'metrics-addr': 'metricsAddr',
  'discovery-srv': 'discoverySrv',
  'discovery-srv-name': 'discoverySrvName',
  'data-dir': null,
  'client-crl-file': null,
  'listen-cipher-suites': null,
  'experimental-leasing-prefix': null,
};
const INT_FLAGS: Record<string, keyof GrpcProxyFlags | null> = {
  'resolver-ttl': 'resolverTtl',
  'max-recv-bytes': 'maxRecvBytes',
  'max-send-bytes': 'maxSendBytes',
  'max-concurrent-streams': null,
};
const BOOL_FLAGS: Record<string, keyof GrpcProxyFlags | null> = {
  'insecure-skip-tls-verify': 'insecureSkipTlsVerify',
  'enable-pprof': 'enablePprof',
  'insecure-discovery': 'insecureDiscovery',
  help: 'help',
  'auto-tls': null,
  debug: null,
  'experimental-serializable-ordering': null,
};

/** pflag-style: "--f=v", "--f v", "-f", bare booleans, "--b=false". */
export function parseGrpcProxyArgs(args: readonly string[]): GrpcProxyFlags {
  const f: GrpcProxyFlags = {
    listenAddr: '127.0.0.1:23790',
    endpoints: ['127.0.0.1:2379'],
    advertiseClientUrl: '127.0.0.1:23790',
    namespace: '',
    resolverPrefix: '',
    resolverTtl: 0,
    cert: '',
    key: '',
    cacert: '',
    insecureSkipTlsVerify: false,
    certFile: '',
    keyFile: '',
    trustedCaFile: '',
    metricsAddr: '',
    enablePprof: false,
    discoverySrv: '',
    discoverySrvName: '',
    insecureDiscovery: false,
    maxRecvBytes: 2147483647,
    maxSendBytes: 1572864,
    help: false,
  };
  const set = (name: keyof GrpcProxyFlags, value: string | number | boolean) => {
    (f as unknown as Record<string, unknown>)[name] = value;
  };
  for (let i = 0; i < args.length; i++) {
    const arg = args[i] as string;
    if (arg === '-h') {
      f.help = true;
      continue;
    }
    if (!arg.startsWith('--'))
      throw new GrpcProxyUsageError(`unknown command "${arg}" for "etcd grpc-proxy start"`);
    const eq = arg.indexOf('=');
    const name = arg.slice(2, eq >= 0 ? eq : undefined);
    const inline = eq >= 0 ? arg.slice(eq + 1) : undefined;
    if (name in BOOL_FLAGS) {
      const v = inline ?? 'true';
      if (!['true', 'false', '1', '0', 't', 'f', 'TRUE', 'FALSE', 'True', 'False'].includes(v))
        throw new GrpcProxyUsageError(
          `invalid argument "${v}" for "--${name}" flag: strconv.ParseBool: parsing "${v}": invalid syntax`,
        );
      const field = BOOL_FLAGS[name];
      if (field) set(field, ['true', '1', 't', 'TRUE', 'True'].includes(v));
      continue;
    }
    const isString = name in STRING_FLAGS;
    const isInt = name in INT_FLAGS;
    if (!isString && !isInt && name !== 'endpoints') throw new GrpcProxyUsageError(`unknown flag: --${name}`);
    const value = inline ?? args[++i];
    if (value === undefined) throw new GrpcProxyUsageError(`flag needs an argument: --${name}`);
    if (name === 'endpoints') {
      f.endpoints = value
        .split(',')
        .map((e) => e.trim())
        .filter((e) => e !== '');
    } else if (isString) {
      const field = STRING_FLAGS[name];
      if (field) set(field, value);
    } else {
      if (!/^-?\d+$/.test(value))
        throw new GrpcProxyUsageError(
          `invalid argument "${value}" for "--${name}" flag: strconv.ParseInt: parsing "${value}": invalid syntax`,
        );
      const field = INT_FLAGS[name];
      if (field) set(field, Number(value));
    }
  }
  return f;
}

/** etcd's checkArgs: the resolver flags go together. */
export function checkResolverArgs(f: GrpcProxyFlags): string | undefined {
  if (f.resolverPrefix !== '' && f.resolverTtl < 1) return `invalid resolver-ttl ${f.resolverTtl}`;
  if (f.resolverPrefix === '' && f.resolverTtl > 0)
    return `invalid resolver-prefix ${JSON.stringify(f.resolverPrefix)}`;
  if (f.resolverPrefix !== '' && f.resolverTtl > 0 && f.advertiseClientUrl === '')
    return `invalid advertise-client-url ${JSON.stringify(f.advertiseClientUrl)}`;
  return undefined;
}

function clusterTls(f: GrpcProxyFlags, log: Logger): TlsOptions | undefined {
  const any = f.cacert !== '' || f.cert !== '' || f.key !== '';
  if (!any && !f.insecureSkipTlsVerify) return undefined;
  const t: TlsOptions = {};
  if (f.cacert !== '') t.ca = readFileSync(f.cacert);
  if (f.cert !== '') t.cert = readFileSync(f.cert);
  if (f.key !== '') t.key = readFileSync(f.key);
  if (f.insecureSkipTlsVerify) {
    t.insecureSkipVerify = true;
    log.warn(
      '--insecure-skip-tls-verify was given, this grpc proxy process skips authentication of etcd server TLS certificates. This option should be enabled only for testing purposes.',
    );
  }
  log.info('gRPC proxy client TLS', {
    'tls-info': `cert = ${f.cert}, key = ${f.key}, trusted-ca = ${f.cacert}, client-cert-auth = false`,
  });
  return t;
}

function listenerTls(f: GrpcProxyFlags, log: Logger): tls.TlsOptions | undefined {
  if (f.certFile === '' && f.keyFile === '' && f.trustedCaFile === '') return undefined;
  const t: tls.TlsOptions = {};
  if (f.certFile !== '') t.cert = readFileSync(f.certFile);
  if (f.keyFile !== '') t.key = readFileSync(f.keyFile);
  if (f.trustedCaFile !== '') {
    t.ca = readFileSync(f.trustedCaFile);
    t.requestCert = true;
    t.rejectUnauthorized = true;
  }
  log.info('gRPC proxy server TLS', {
    'tls-info': `cert = ${f.certFile}, key = ${f.keyFile}, trusted-ca = ${f.trustedCaFile}, client-cert-auth = ${f.trustedCaFile !== ''}`,
  });
  return t;
}

export interface StartedGrpcProxy {
  proxy: RunningGrpcProxy;
  close(): Promise<void>;
}

/** Everything "grpc-proxy start" does after parsing; errors carry etcd's text for stderr. */
export async function runGrpcProxy(
  f: GrpcProxyFlags,
  log: Logger,
  deps: { srvResolver?: SrvResolver } = {},
): Promise<StartedGrpcProxy> {
  const problem = checkResolverArgs(f);
  if (problem !== undefined) throw new GrpcProxyUsageError(problem);
  let endpoints = f.endpoints;
  if (f.discoverySrv !== '') {
    const found = await discoverEndpoints(
      {
        domain: f.discoverySrv,
        serviceName: f.discoverySrvName,
        insecure: f.insecureDiscovery,
        ...(deps.srvResolver === undefined ? {} : { resolver: deps.srvResolver }),
      },
      log,
    );
    if (found.length > 0) endpoints = found.map((e) => e.url);
  }
  if (f.resolverPrefix !== '') {
    log.warn('etcd-ts grpc-proxy does not register itself under --resolver-prefix', {
      'resolver-prefix': f.resolverPrefix,
    });
  }
  const clientTls = clusterTls(f, log);
  const serverTls = listenerTls(f, log);
  const proxy = await startGrpcProxy(
    {
      endpoints,
      listenAddr: f.listenAddr,
      advertiseClientUrl: f.advertiseClientUrl,
      namespace: f.namespace,
      maxRecvBytes: Math.min(f.maxRecvBytes, 2147483647),
      ...(clientTls === undefined ? {} : { clientTls }),
      ...(serverTls === undefined ? {} : { serverTls }),
    },
    log,
  );
  if (f.enablePprof) log.info('gRPC proxy enabled pprof', { path: '/debug/pprof' });
  let metricsServer: ReturnType<typeof createServer> | undefined;
  if (f.metricsAddr !== '') {
    const url = new URL(f.metricsAddr);
    const { host, port } = splitHostPort(url.host);
    metricsServer = createServer(proxy.httpHandler);
    const server = metricsServer;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => resolve());
    });
    log.info('gRPC proxy listening for metrics', { address: f.metricsAddr });
    log.info('gRPC proxy server metrics URL serving');
  }
  return {
    proxy,
    close: async () => {
      if (metricsServer !== undefined) {
        const server = metricsServer;
        server.closeAllConnections();
        await new Promise<void>((resolve) => server.close(() => resolve()));
      }
      await proxy.close();
    },
  };
}
