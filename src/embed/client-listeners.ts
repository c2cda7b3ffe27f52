// Binding --listen-client-urls: one shared gRPC + HTTP/1.1 port per URL,
// plain for http://, TLS for https:// (with the --cert-file/--key-file pair).
import { readFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type tls from 'node:tls';
import type { GrpcServer } from '../api/grpc/server.js';
import { type ClientListener, createClientListener } from '../api/listener.js';
import type { TlsConfig } from '../config/types.js';
import type { Logger } from '../log/types.js';
import { StartupError } from '../server/bootstrap.js';

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

export function tlsOptions(t: TlsConfig): tls.TlsOptions {
  if (t.certFile === '' || t.keyFile === '') {
    throw new StartupError(
      'https client URL needs --cert-file and --key-file (--auto-tls is not supported yet)',
    );
  }
  const opts: tls.TlsOptions = {
    cert: readFileSync(t.certFile),
    key: readFileSync(t.keyFile),
    minVersion: 'TLSv1.2',
  };
  if (t.trustedCaFile !== '') opts.ca = readFileSync(t.trustedCaFile);
  if (t.clientCertAuth) {
    opts.requestCert = true;
    opts.rejectUnauthorized = true;
  }
  return opts;
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

export async function listenClients(
  urls: readonly string[],
  grpc: GrpcServer,
  http1: (req: IncomingMessage, res: ServerResponse) => void,
  clientTls: TlsConfig,
): Promise<ClientListener[]> {
  const out: ClientListener[] = [];
  try {
    for (const raw of urls) {
      const t = parseListenUrl(raw);
      const listener = await createClientListener({
        host: t.host,
        port: t.port,
        grpc,
        http1,
        ...(t.secure ? { tls: tlsOptions(clientTls) } : {}),
      });
      out.push(listener);
    }
  } catch (err) {
    for (const l of out) await l.close(true);
    if (err instanceof StartupError) throw err;
    throw new StartupError(`listen tcp: ${(err as Error).message}`);
  }
  return out;
}
