import http2 from 'node:http2';
import { goHandshakeErrorText, goVerifyText } from '../tls/handshake-errors.js';
import type { Endpoint } from './endpoint.js';
import { BidiCall, deadlineError, type Metadata, requestHeaders, unaryCall } from './grpc-call.js';
import { GrpcCode, GrpcError } from './grpc-status.js';
import type { TlsOptions } from './tls-options.js';

export interface ChannelOptions {
  tls?: TlsOptions;
  /** Interval between HTTP/2 pings on an idle connection; 0 disables. */
  keepaliveTimeMs: number;
  /** A ping unanswered for this long closes the connection. */
  keepaliveTimeoutMs: number;
}

/** gRPC-Go never pings more often than this, whatever the user asks for. */
const MIN_KEEPALIVE_MS = 10_000;

/**
 * One HTTP/2 connection to one endpoint (h2c with prior knowledge, or TLS
 * with ALPN h2), opened lazily and re-opened after it breaks. Like gRPC-Go's
 * transport, a connection counts as up once the server's SETTINGS arrive: a
 * TLS 1.3 server refusing the client's certificate does so only after the
 * client's side of the handshake is done, and a plain-text client talking to
 * a TLS port gets no SETTINGS at all; both are connection failures (nothing
 * was sent), not failed calls.
 */
export class Channel {
  private session: http2.ClientHttp2Session | undefined;
  private connecting: Promise<http2.ClientHttp2Session> | undefined;
  private keepalive: NodeJS.Timeout | undefined;

  constructor(
    readonly endpoint: Endpoint,
    private readonly options: ChannelOptions,
  ) {}

  async unary(
    path: string,
    body: Uint8Array,
    metadata: Metadata,
    deadline: number | undefined,
  ): Promise<Buffer> {
    const session = await this.connect(deadline);
    return unaryCall(session, path, body, metadata, deadline);
  }

  async stream(path: string, metadata: Metadata, deadline: number | undefined): Promise<BidiCall> {
    const session = await this.connect(deadline);
    const req = session.request(requestHeaders(path, metadata, deadline));
    return new BidiCall(req, deadline);
  }

  close(): void {
    this.stopKeepalive();
    const s = this.session;
    this.session = undefined;
    this.connecting = undefined;
    if (s !== undefined && !s.destroyed) s.close();
  }

  /** Resolves with a connected session; rejects with an UNAVAILABLE GrpcError marked notSent. */
  connect(deadline: number | undefined): Promise<http2.ClientHttp2Session> {
    const current = this.session;
    if (current !== undefined && !current.destroyed && !current.closed) return Promise.resolve(current);
    if (this.connecting === undefined) {
      this.connecting = this.open().finally(() => {
        this.connecting = undefined;
      });
    }
    if (deadline === undefined) return this.connecting;
    return withDeadline(this.connecting, deadline);
  }

  private open(): Promise<http2.ClientHttp2Session> {
    const ep = this.endpoint;
    const url = `${ep.secure ? 'https' : 'http'}://${ep.authority}`;
    const tls = this.options.tls ?? {};
    const connectOptions: http2.SecureClientSessionOptions = ep.secure
      ? {
          ca: tls.ca,
          cert: tls.cert,
          key: tls.key,
          rejectUnauthorized: tls.insecureSkipVerify !== true,
          servername: tls.serverName ?? (isIpLiteral(ep.host) ? undefined : ep.host),
          ALPNProtocols: ['h2'],
        }
      : {};
    return new Promise((resolve, reject) => {
      const session = http2.connect(url, connectOptions);
      let connected = false;
      session.once('remoteSettings', () => {
        connected = true;
        this.session = session;
        this.startKeepalive(session);
        resolve(session);
      });
      session.on('error', (err: Error) => {
        if (!connected) reject(new GrpcError(GrpcCode.UNAVAILABLE, connectionErrorText(ep, err), true));
      });
      session.on('close', () => {
        if (!connected)
          reject(new GrpcError(GrpcCode.UNAVAILABLE, `connection to ${ep.authority} closed`, true));
        if (this.session === session) {
          this.session = undefined;
          this.stopKeepalive();
        }
      });
      session.on('goaway', () => {
        if (this.session === session) this.session = undefined;
      });
    });
  }

  private startKeepalive(session: http2.ClientHttp2Session): void {
    this.stopKeepalive();
    if (this.options.keepaliveTimeMs <= 0) return;
    const every = Math.max(MIN_KEEPALIVE_MS, this.options.keepaliveTimeMs);
    this.keepalive = setInterval(() => {
      const watchdog = setTimeout(() => session.destroy(), this.options.keepaliveTimeoutMs);
      watchdog.unref();
      const sent = session.ping((err) => {
        clearTimeout(watchdog);
        if (err !== null) session.destroy();
      });
      if (!sent) clearTimeout(watchdog);
    }, every);
    this.keepalive.unref();
  }

  private stopKeepalive(): void {
    if (this.keepalive !== undefined) clearInterval(this.keepalive);
    this.keepalive = undefined;
  }
}

function isIpLiteral(host: string): boolean {
  return /^[0-9.]+$/.test(host) || host.includes(':');
}

function connectionErrorText(ep: Endpoint, err: Error): string {
  const code = (err as NodeJS.ErrnoException).code ?? '';
  if (code === 'ECONNREFUSED')
    return `connection error: desc = "transport: Error while dialing dial tcp ${ep.authority}: connect: connection refused"`;
  if (TLS_VERIFY_CODES.has(code))
    return `connection error: desc = "transport: authentication handshake failed: ${goVerifyText(code)}"`;
  if (code === 'ERR_TLS_CERT_ALTNAME_INVALID')
    return `connection error: desc = "transport: authentication handshake failed: x509: certificate is not valid for ${ep.host}"`;
  if (code.startsWith('ERR_SSL_'))
    return `connection error: desc = "transport: authentication handshake failed: ${goHandshakeErrorText(err)}"`;
  return `connection error: desc = "transport: ${err.message}"`;
}

/** Node's certificate verification failures (OpenSSL verify codes). */
const TLS_VERIFY_CODES = new Set([
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'CERT_SIGNATURE_FAILURE',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'INVALID_PURPOSE',
  'CERT_REVOKED',
]);

function withDeadline<T>(p: Promise<T>, deadline: number): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(deadlineError()), Math.max(0, deadline - Date.now()));
    p.then(
      (v) => {
        clearTimeout(timer);
        resolve(v);
      },
      (e: unknown) => {
        clearTimeout(timer);
        reject(e);
      },
    );
  });
}
