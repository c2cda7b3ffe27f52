// The HTTP side of etcdctl v2 (etcd's Go client v2): endpoints tried in
// order, the member list synced first unless --no-sync, the v2 keys and
// members requests, and the client's error texts.

import { readFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';

export interface ClientOptions {
  endpoints: string[];
  /** Per-request timeout, ms. */
  timeoutMs: number;
  ca?: Buffer;
  cert?: Buffer;
  key?: Buffer;
  /** "user:password" for basic auth. */
  auth?: string;
}

export interface HttpAnswer {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

/** etcd's client.Error: a v2 error the server answered with. */
export class KeysError extends Error {
  constructor(
    readonly errorCode: number,
    readonly text: string,
    readonly causeText: string,
    readonly index: number,
  ) {
    super(`${errorCode}: ${text} (${causeText}) [${index}]`);
  }
}

/** etcd's client.ClusterError: no endpoint answered. */
export class ClusterError extends Error {
  constructor(readonly errors: string[]) {
    super(
      `client: etcd cluster is unavailable or misconfigured${errors.map((e, i) => `; error #${i}: ${e}\n`).join('')}`,
    );
  }

  detail(): string {
    return this.errors.map((e, i) => `error #${i}: ${e}\n`).join('');
  }
}

/** Go's net error text for what Node reports. */
function dialError(url: URL, err: NodeJS.ErrnoException): string {
  const hostPort = `${url.hostname}:${url.port || (url.protocol === 'https:' ? '443' : '80')}`;
  switch (err.code) {
    case 'ECONNREFUSED':
      return `dial tcp ${hostPort}: connect: connection refused`;
    case 'ETIMEDOUT':
    case 'TIMEOUT':
      return `dial tcp ${hostPort}: i/o timeout`;
    case 'ENOTFOUND':
      return `dial tcp: lookup ${url.hostname}: no such host`;
    default:
      return err.message;
  }
}

export function tlsFiles(caFile: string, certFile: string, keyFile: string): Partial<ClientOptions> {
  const out: Partial<ClientOptions> = {};
  if (caFile !== '') out.ca = readFileSync(caFile);
  if (certFile !== '') out.cert = readFileSync(certFile);
  if (keyFile !== '') out.key = readFileSync(keyFile);
  return out;
}

export class V2Client {
  constructor(private opts: ClientOptions) {}

  get endpoints(): string[] {
    return this.opts.endpoints;
  }

  /** One request to one endpoint. */
  private once(
    base: string,
    method: string,
    path: string,
    body?: string,
    contentType?: string,
  ): Promise<HttpAnswer> {
    const url = new URL(path, base);
    const secure = url.protocol === 'https:';
    const headers: Record<string, string> = {};
    if (contentType !== undefined) headers['Content-Type'] = contentType;
    if (this.opts.auth !== undefined)
      headers.Authorization = `Basic ${Buffer.from(this.opts.auth).toString('base64')}`;
    const options: https.RequestOptions = { method, headers, agent: false };
    if (secure) {
      if (this.opts.ca !== undefined) options.ca = this.opts.ca;
      if (this.opts.cert !== undefined) options.cert = this.opts.cert;
      if (this.opts.key !== undefined) options.key = this.opts.key;
    }
    return new Promise((resolve, reject) => {
      const req = (secure ? https : http).request(url, options, (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => {
          text += d;
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: text }));
        res.on('error', reject);
      });
      req.on('error', (err: NodeJS.ErrnoException) => reject(new Error(dialError(url, err))));
      if (this.opts.timeoutMs > 0) {
        req.setTimeout(this.opts.timeoutMs, () => {
          const e: NodeJS.ErrnoException = new Error('timeout');
          e.code = 'TIMEOUT';
          req.destroy(e);
        });
      }
      req.end(body);
    });
  }

  /** Tries every endpoint in order; all failing is a ClusterError. */
  async request(
    method: string,
    path: string,
    body?: string,
    contentType?: string,
    noTimeout = false,
  ): Promise<HttpAnswer> {
    const errors: string[] = [];
    const saved = this.opts.timeoutMs;
    if (noTimeout) this.opts = { ...this.opts, timeoutMs: 0 };
    try {
      for (const ep of this.opts.endpoints) {
        try {
          return await this.once(ep, method, path, body, contentType);
        } catch (err) {
          errors.push((err as Error).message);
        }
      }
    } finally {
      this.opts = { ...this.opts, timeoutMs: saved };
    }
    throw new ClusterError(errors);
  }

  /** etcd client's Sync: the endpoints become the members' client URLs. */
  async sync(): Promise<void> {
    const members = await this.members();
    const urls = members.flatMap((m) => m.clientURLs);
    if (urls.length === 0) throw new Error('client: no endpoints available');
    this.opts = { ...this.opts, endpoints: urls };
  }

  async members(): Promise<V2Member[]> {
    const a = await this.request('GET', '/v2/members');
    if (a.status !== 200) throw new Error(membersMessage(a));
    return (JSON.parse(a.body) as { members: V2Member[] }).members;
  }
}

export interface V2Member {
  id: string;
  name: string;
  peerURLs: string[];
  clientURLs: string[];
}

/** The message of a members API refusal ({"message": ...}). */
export function membersMessage(a: HttpAnswer): string {
  try {
    return (JSON.parse(a.body) as { message?: string }).message ?? `unexpected status code ${a.status}`;
  } catch {
    return `unexpected status code ${a.status}`;
  }
}

export interface KeysNode {
  key: string;
  dir?: boolean;
  value?: string;
  nodes?: KeysNode[];
  createdIndex?: number;
  modifiedIndex?: number;
  expiration?: string;
  ttl?: number;
}

export interface KeysResponse {
  action: string;
  node?: KeysNode;
  prevNode?: KeysNode;
  /** X-Etcd-Index. */
  index: number;
}

/** etcd client's unmarshalHTTPResponse: an event, or the v2 error as a KeysError. */
export function keysResponse(a: HttpAnswer): KeysResponse {
  const index = Number(a.headers['x-etcd-index'] ?? 0);
  if (a.status === 200 || a.status === 201) {
    return { ...(JSON.parse(a.body) as Omit<KeysResponse, 'index'>), index };
  }
  let e: { errorCode?: number; message?: string; cause?: string; index?: number };
  try {
    e = JSON.parse(a.body) as typeof e;
  } catch {
    throw new Error(`unexpected status code ${a.status}`);
  }
  throw new KeysError(e.errorCode ?? 0, e.message ?? '', e.cause ?? '', e.index ?? 0);
}
