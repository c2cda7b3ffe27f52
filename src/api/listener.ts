/**
 * One client port for both protocols, as etcd serves its client URL:
 * HTTP/2 with prior knowledge (gRPC over h2c, what Go's gRPC client does for
 * http:// endpoints) and HTTP/1.1 (/health, /version, later /metrics and the
 * JSON gateway). The first bytes of each connection decide: the HTTP/2
 * connection preface starts with "PRI * HTTP/2.0"; anything else is HTTP/1.
 *
 * TLS: the same split is made by ALPN — a TLS server offering ["h2",
 * "http/1.1"] hands 'h2' sockets to the HTTP/2 server and the rest to the
 * HTTP/1 server; a client that sends no ALPN falls back to sniffing.
 * With a `ListenerTls` (src/tls's ServerTls) the port also follows certificate
 * files replaced on disk and refuses, right after the handshake, clients whose
 * certificate fails the allowed-CN/hostname or CRL checks.
 */
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import net from 'node:net';
import tls from 'node:tls';
import type { GrpcServer } from './grpc/server.js';

const H2_PREFACE = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', 'latin1');
/** A connection must show its protocol within this time, or it is dropped. */
const SNIFF_TIMEOUT_MS = 10_000;

export interface ClientListenerOptions {
  host: string;
  /** 0 picks a free port (see the returned `port`). */
  port: number;
  grpc: GrpcServer;
  http1: (req: IncomingMessage, res: ServerResponse) => void;
  /** When set, the port speaks TLS and chooses the protocol by ALPN. */
  tls?: tls.TlsOptions | ListenerTls;
}

/** What the port needs from src/tls's ServerTls (kept structural: api does not depend on tls). */
export interface ListenerTls {
  options(): tls.TlsOptions;
  /** Called once with the TLS server before it listens. */
  attach(server: tls.Server): void;
  /** Post-handshake checks; false means the socket was refused and destroyed. */
  admit(socket: tls.TLSSocket): boolean;
}

function isListenerTls(t: tls.TlsOptions | ListenerTls): t is ListenerTls {
  return typeof (t as ListenerTls).attach === 'function';
}

export interface ClientListener {
  readonly host: string;
  readonly port: number;
  /** Stops accepting, closes HTTP/2 sessions gracefully (force: immediately). */
  close(force?: boolean): Promise<void>;
}

export type Protocol = 'h2' | 'http1';

/**
 * Decides from the bytes seen so far: 'h2' or 'http1' once certain, or
 * undefined while `head` is a strict prefix of the HTTP/2 preface.
 */
export function sniffProtocol(head: Buffer): Protocol | undefined {
  const n = Math.min(head.length, H2_PREFACE.length);
  if (head.compare(H2_PREFACE, 0, n, 0, n) !== 0) return 'http1';
  return n === H2_PREFACE.length ? 'h2' : undefined;
}

export function createClientListener(options: ClientListenerOptions): Promise<ClientListener> {
  const http1Server = http.createServer(options.http1);
  // HTTP/1 clients (curl, load balancers' health checks) expect keep-alive.
  http1Server.keepAliveTimeout = 30_000;
  const sockets = new Set<net.Socket>();
  const dispatch = (socket: net.Socket, protocol: Protocol): void => {
    if (protocol === 'h2') {
      options.grpc.acceptConnection(socket);
    } else {
      http1Server.emit('connection', socket);
      // Sniffing paused the socket explicitly; the HTTP/1 parser only gets the
      // put-back bytes once it flows again.
      socket.resume();
    }
  };
  const secure = options.tls !== undefined && isListenerTls(options.tls) ? options.tls : undefined;
  const onSocket = (socket: net.Socket): void => {
    if (secure !== undefined && !secure.admit(socket as tls.TLSSocket)) return;
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
    const alpn = (socket as tls.TLSSocket).alpnProtocol;
    if (alpn === 'h2') dispatch(socket, 'h2');
    else if (alpn === 'http/1.1') dispatch(socket, 'http1');
    else sniff(socket, dispatch);
  };
  const tlsOptions = secure !== undefined ? secure.options() : (options.tls as tls.TlsOptions | undefined);
  const server: net.Server = tlsOptions
    ? tls.createServer({ ...tlsOptions, noDelay: true, ALPNProtocols: ['h2', 'http/1.1'] }, onSocket)
    : net.createServer({ noDelay: true }, onSocket);
  if (secure !== undefined) secure.attach(server as tls.Server);
  server.on('error', () => {});
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => {
      server.off('error', reject);
      const address = server.address() as net.AddressInfo;
      resolve({
        host: options.host,
        port: address.port,
        close: (force = false) => closeAll(server, http1Server, options.grpc, sockets, force),
      });
    });
  });
}

/** Reads until the protocol is known, puts the bytes back, hands the socket over. */
function sniff(socket: net.Socket, dispatch: (socket: net.Socket, protocol: Protocol) => void): void {
  let seen: Buffer = Buffer.alloc(0);
  socket.on('error', destroyQuietly);
  socket.setTimeout(SNIFF_TIMEOUT_MS, () => socket.destroy());
  const onData = (chunk: Buffer): void => {
    seen = seen.length === 0 ? chunk : Buffer.concat([seen, chunk]);
    const protocol = sniffProtocol(seen);
    if (protocol === undefined) return;
    socket.off('data', onData);
    socket.pause();
    socket.setTimeout(0);
    socket.off('error', destroyQuietly);
    socket.unshift(seen);
    dispatch(socket, protocol);
  };
  socket.on('data', onData);
}

function destroyQuietly(this: net.Socket): void {
  this.destroy();
}

async function closeAll(
  server: net.Server,
  http1Server: http.Server,
  grpc: GrpcServer,
  sockets: Set<net.Socket>,
  force: boolean,
): Promise<void> {
  const stopped = new Promise<void>((resolve) => server.close(() => resolve()));
  await grpc.close(force);
  http1Server.closeIdleConnections();
  if (force) for (const socket of sockets) socket.destroy();
  else http1Server.close();
  // Sockets still in their sniff phase or busy on HTTP/1 keep the server open;
  // give them no grace when forced.
  await stopped;
}
