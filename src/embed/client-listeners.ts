// Binding --listen-client-urls: one shared gRPC + HTTP/1.1 port per URL,
// plain for http://, TLS for https:// (src/tls: --cert-file/--key-file or
// --auto-tls, client cert auth, allowed hostname, CRL, cipher suites, and
// certificate files re-read when they change on disk).
import type { IncomingMessage, ServerResponse } from 'node:http';
import { join } from 'node:path';
import type tls from 'node:tls';
import type { GrpcServer } from '../api/grpc/server.js';
import { type ClientListener, createClientListener } from '../api/listener.js';
import type { TlsConfig } from '../config/types.js';
import { nopLogger } from '../log/index.js';
import type { Logger } from '../log/types.js';
import { StartupError } from '../server/bootstrap.js';
import {
  createServerTls,
  describeTls,
  loadCaBundle,
  loadKeyPair,
  resolveCipherSuites,
  type ServerTls,
  TlsSetupError,
} from '../tls/index.js';

export interface ListenTarget {
  url: string;
  host: string;
  port: number;
  secure: boolean;
}

/** Host as the socket layer wants it; "localhost" binds IPv4 loopback as Go's listener does. */
export function parseListenUrl(raw: string): ListenTarget {
  let u: URL;
  try {
    u = new URL(raw);
  } catch {
    throw new StartupError(`invalid listen URL ${JSON.stringify(raw)}`);
  }
  const secure = u.protocol === 'https:' || u.protocol === 'unixs:';
  let host = u.hostname.replace(/^\[(.*)\]$/, '$1');
  if (host === 'localhost') host = '127.0.0.1';
  const port = u.port === '' ? (secure ? 443 : 80) : Number(u.port);
  return { url: raw, host, port, secure };
}

/**
 * Static TLS options from the --cert-file/--key-file pair (no auto-tls, no
 * reload): for callers that only have the TlsConfig (the metrics listener).
 * Prefer createServerTls from src/tls, which also reloads changed files.
 */
export function tlsOptions(t: TlsConfig): tls.TlsOptions {
  if (t.certFile === '' || t.keyFile === '') {
    throw new StartupError('TLS key/cert (--cert-file, --key-file) must be provided for an https URL');
  }
  try {
    const pair = loadKeyPair(t.certFile, t.keyFile);
    const opts: tls.TlsOptions = { cert: pair.cert, key: pair.key, minVersion: 'TLSv1.2' };
    if (t.trustedCaFile !== '') opts.ca = loadCaBundle(t.trustedCaFile);
    if (t.clientCertAuth || t.trustedCaFile !== '') {
      opts.requestCert = true;
      opts.rejectUnauthorized = true;
    }
    return opts;
  } catch (e) {
    if (e instanceof TlsSetupError) throw new StartupError(e.message);
    throw e;
  }
}

/** What the client port's TLS needs beyond the TlsConfig. */
export interface ClientPortTls {
  tls: TlsConfig;
  /** --cipher-suites (Go names). */
  cipherSuites: readonly string[];
  /** --auto-tls keeps its pair in <data-dir>/fixtures/client. */
  dataDir: string;
  log: Logger;
}

/**
 * The line operators and scripts wait for once a listener serves clients, in
 * the wording of the logger they chose: etcd's zap message, or 3.4's capnslog
 * text ("serving insecure client requests on ADDR, this is strongly discouraged!").
 */
export function logServing(log: Logger, logger: 'zap' | 'capnslog', secure: boolean, address: string): void {
  if (logger === 'capnslog') {
    log.info(
      secure
        ? `serving client requests on ${address}`
        : `serving insecure client requests on ${address}, this is strongly discouraged!`,
    );
  } else if (secure) {
    log.info('serving client traffic securely', { address });
  } else {
    log.info('serving client traffic insecurely; this is strongly discouraged!', { address });
  }
}

/**
 * Binds every client URL. `clientTls` may be the bare TlsConfig (then
 * --cipher-suites and --auto-tls are unavailable) or the full ClientPortTls.
 */
export async function listenClients(
  urls: readonly string[],
  grpc: GrpcServer,
  http1: (req: IncomingMessage, res: ServerResponse) => void,
  clientTls: TlsConfig | ClientPortTls,
): Promise<ClientListener[]> {
  const port: ClientPortTls | undefined = 'tls' in clientTls ? clientTls : undefined;
  const t = port?.tls ?? (clientTls as TlsConfig);
  const targets = urls.map(parseListenUrl);
  const secure = await serverTlsFor(targets, t, port);
  const out: ClientListener[] = [];
  try {
    for (const target of targets) {
      const listener = await createClientListener({
        host: target.host,
        port: target.port,
        grpc,
        http1,
        ...(target.secure && secure !== undefined ? { tls: secure } : {}),
      });
      out.push(listener);
    }
  } catch (err) {
    for (const l of out) await l.close(true);
    secure?.close();
    if (err instanceof StartupError) throw err;
    throw new StartupError(`listen tcp: ${(err as Error).message}`);
  }
  return out;
}

/** etcd's configureClientListeners checks and warnings, then the shared ServerTls for the https URLs. */
async function serverTlsFor(
  targets: readonly ListenTarget[],
  t: TlsConfig,
  port: ClientPortTls | undefined,
): Promise<ServerTls | undefined> {
  const log = port?.log ?? nopLogger();
  try {
    // etcd checks the names first, whether or not any URL is https.
    resolveCipherSuites(port?.cipherSuites ?? []);
    const pairGiven = t.certFile !== '' || t.keyFile !== '';
    for (const target of targets.filter((x) => !x.secure)) {
      if (pairGiven)
        log.warn('scheme is HTTP while key and cert files are present; ignoring key and cert files', {
          'client-url': target.url,
        });
      if (t.clientCertAuth)
        log.warn(
          'scheme is HTTP while --client-cert-auth is enabled; ignoring client cert auth for this URL',
          {
            'client-url': target.url,
          },
        );
    }
    const firstSecure = targets.find((x) => x.secure);
    if (firstSecure === undefined) return undefined;
    if (!pairGiven && !(t.autoTls && port !== undefined)) {
      throw new StartupError(
        `TLS key/cert (--cert-file, --key-file) must be provided for client url ${firstSecure.url} with HTTPS scheme`,
      );
    }
    const secure = await createServerTls({
      side: 'client',
      tls: t,
      cipherSuites: port?.cipherSuites ?? [],
      log,
      ...(port !== undefined
        ? {
            autoTls: {
              dir: join(port.dataDir, 'fixtures', 'client'),
              hosts: targets.map((x) => new URL(x.url).host),
            },
          }
        : {}),
    });
    log.info('starting with client TLS', {
      'tls-info': describeTls(secure.info),
      'cipher-suites': port?.cipherSuites ?? [],
    });
    return secure;
  } catch (e) {
    if (e instanceof TlsSetupError) throw new StartupError(e.message);
    throw e;
  }
}
