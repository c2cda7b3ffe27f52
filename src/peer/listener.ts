// The peer port: an HTTP/1.1 server per --listen-peer-urls entry serving the
// /raft* endpoints and the member endpoints; anything else gets Go's 404.
// Plain for http:// URLs, TLS for https:// (options from src/tls).
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import https from 'node:https';
import type net from 'node:net';
import type tls from 'node:tls';
import type { ServerTls } from '../tls/index.js';
import { httpError } from './http-util.js';

export interface PeerRoute {
  handle(req: IncomingMessage, res: ServerResponse, path: string): boolean;
}

export interface PeerListener {
  readonly url: string;
  readonly port: number;
  readonly server: http.Server | https.Server;
  close(): Promise<void>;
}

function pathOf(req: IncomingMessage): string {
  const raw = req.url ?? '/';
  const q = raw.indexOf('?');
  return q < 0 ? raw : raw.slice(0, q);
}

export async function listenPeer(
  listenUrl: string,
  routes: readonly PeerRoute[],
  serverTls?: ServerTls,
): Promise<PeerListener> {
  const u = new URL(listenUrl);
  const secure = u.protocol === 'https:';
  if (secure && serverTls === undefined) {
    throw new Error(
      `${listenUrl}: https peer URL needs --peer-cert-file and --peer-key-file or --peer-auto-tls`,
    );
  }
  const route = (req: IncomingMessage, res: ServerResponse) => {
    const path = pathOf(req);
    for (const r of routes) if (r.handle(req, res, path)) return;
    req.resume();
    httpError(res, 404, '404 page not found');
  };
  const onRequest = (req: IncomingMessage, res: ServerResponse) => {
    if (!secure || serverTls === undefined) return route(req, res);
    // etcd's post-handshake checks (allowed CN/hostname, client SAN), once per connection.
    void serverTls.admitted(req.socket as tls.TLSSocket).then((ok) => {
      if (ok) route(req, res);
    });
  };
  const options: http.ServerOptions = {
    // Streams and snapshot bodies live long: no whole-request or header deadline.
    requestTimeout: 0,
    keepAliveTimeout: 10_000,
  };
  let server: http.Server | https.Server;
  if (secure && serverTls !== undefined) {
    const s = https.createServer(
      { ...options, ...serverTls.options(), ALPNProtocols: ['http/1.1'] },
      onRequest,
    );
    serverTls.attach(s);
    server = s;
  } else {
    server = http.createServer(options, onRequest);
  }
  const sockets = new Set<net.Socket>();
  server.on('connection', (s: net.Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  const host = u.hostname.replace(/^\[|\]$/g, '');
  const port = u.port === '' ? (secure ? 443 : 80) : Number(u.port);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host: host === '' ? undefined : host, port }, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const addr = server.address();
  return {
    url: listenUrl,
    port: typeof addr === 'object' && addr !== null ? addr.port : port,
    server,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const s of sockets) s.destroy();
      }),
  };
}
