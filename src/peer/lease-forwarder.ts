// A follower's way to the leader's lessor: keep-alives and time-to-live
// questions go over the leader's peer port (/leases, /leases/internal), as
// etcd 3.4 followers send them, trying each of the leader's peer URLs until
// the request's deadline.
import http from 'node:http';
import https from 'node:https';
import {
  LeaseKeepAliveRequest,
  LeaseKeepAliveResponse,
  type LeaseTimeToLiveRequest,
  type LeaseTimeToLiveResponse,
} from '../pb/etcdserverpb/rpc.js';
import { request, type TransportContext } from './context.js';
import { readSmall } from './http-util.js';
import { decodeLeaseInternalResponse, encodeLeaseInternalRequest } from './member-handler.js';

/** The leader answered with an error status (e.g. 404 "lease not found"). */
export class LeaseForwardError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
    this.name = 'LeaseForwardError';
  }
}

const RETRY_PAUSE_MS = 50;

export class LeaseForwarder {
  private readonly httpAgent = new http.Agent({ keepAlive: true });
  private readonly httpsAgent = new https.Agent({ keepAlive: true });

  constructor(private readonly ctx: TransportContext) {}

  async renew(leaderUrls: readonly string[], id: bigint, timeoutMs: number): Promise<number> {
    const body = LeaseKeepAliveRequest.encode({ ID: id }).finish();
    const out = await this.post(leaderUrls, '/leases', body, timeoutMs);
    const resp = LeaseKeepAliveResponse.decode(out);
    if (resp.ID !== id) throw new Error('lease: renew id mismatch');
    return resp.TTL;
  }

  async timeToLive(
    leaderUrls: readonly string[],
    req: LeaseTimeToLiveRequest,
    timeoutMs: number,
  ): Promise<LeaseTimeToLiveResponse> {
    const out = await this.post(leaderUrls, '/leases/internal', encodeLeaseInternalRequest(req), timeoutMs);
    return decodeLeaseInternalResponse(out);
  }

  close(): void {
    this.httpAgent.destroy();
    this.httpsAgent.destroy();
  }

  /** Tries the URLs in turn until one answers 200 or returns an error status; transport errors retry. */
  private async post(
    urls: readonly string[],
    path: string,
    body: Uint8Array,
    timeoutMs: number,
  ): Promise<Buffer> {
    const deadline = Date.now() + timeoutMs;
    let lastError: Error = new Error('no leader peer URL');
    for (let i = 0; Date.now() < deadline && urls.length > 0; i++) {
      const url = new URL(path, urls[i % urls.length]);
      try {
        return await this.once(url, body, Math.max(1, deadline - Date.now()));
      } catch (err) {
        if (err instanceof LeaseForwardError) throw err;
        lastError = err as Error;
        await new Promise((r) => setTimeout(r, RETRY_PAUSE_MS));
      }
    }
    throw lastError;
  }

  private once(url: URL, body: Uint8Array, timeoutMs: number): Promise<Buffer> {
    return new Promise((resolve, reject) => {
      const req = request(
        this.ctx,
        { url, agent: url.protocol === 'https:' ? this.httpsAgent : this.httpAgent },
        {
          method: 'POST',
          headers: { 'Content-Type': 'application/protobuf', 'Content-Length': String(body.length) },
          timeout: timeoutMs,
        },
        (res) => {
          const status = res.statusCode ?? 0;
          if (status !== 200) {
            void readSmall(res).then((t) => reject(new LeaseForwardError(status, t.trim())));
            return;
          }
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => resolve(Buffer.concat(chunks)));
          res.on('error', reject);
        },
      );
      req.on('timeout', () => req.destroy(new Error('lease forward timed out')));
      req.on('error', reject);
      req.end(body);
    });
  }
}
