// The receiving half of one stream from one peer: we dial the peer's
// /raft/stream/<type>/<our id> and read the messages it writes into the
// response until the connection breaks, then dial again (at most once per
// 100 ms). Any data, link heartbeats included, refreshes the 5 s read deadline.
import type http from 'node:http';
import type { Message } from '../raft/types.js';
import { refusalReason } from './compat.js';
import {
  CanonicalHeader,
  CONN_READ_TIMEOUT_MS,
  Header,
  hexId,
  STREAM_REDIAL_MS,
  type StreamType,
} from './constants.js';
import { raftHeaders, request, type TransportContext } from './context.js';
import { readSmall } from './http-util.js';
import type { UrlPicker } from './url-picker.js';
import { isLinkHeartbeat, MessageStreamDecoder } from './wire/message-stream.js';
import { MsgAppV2Decoder } from './wire/msgappv2.js';

interface Decoder {
  push(chunk: Uint8Array): Message[];
}

export class StreamReader {
  private stopped = false;
  private req: http.ClientRequest | undefined;
  private timer: NodeJS.Timeout | undefined;
  private lastDial = 0;
  private connected = false;
  /** Log a failing dial once per failure kind, not every 100 ms. */
  private lastFailure = '';

  constructor(
    private readonly ctx: TransportContext,
    readonly type: StreamType,
    private readonly peerId: bigint,
    private readonly urls: UrlPicker,
    private readonly onConnected: (connected: boolean) => void,
  ) {}

  start(): void {
    this.schedule();
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
    this.req?.destroy();
    this.req = undefined;
    this.setConnected(false);
  }

  /** Drops the current connection (the peer's URLs changed); the loop redials. */
  reset(): void {
    this.req?.destroy();
  }

  private schedule(): void {
    if (this.stopped) return;
    const wait = Math.max(0, this.lastDial + STREAM_REDIAL_MS - Date.now());
    this.timer = setTimeout(() => this.dial(), wait);
  }

  private setConnected(c: boolean): void {
    if (this.connected === c) return;
    this.connected = c;
    this.onConnected(c);
  }

  private failed(url: string, why: string): void {
    if (why !== this.lastFailure) {
      this.lastFailure = why;
      this.ctx.log.warn('failed to dial remote peer stream', {
        'stream-reader-type': this.type,
        'remote-peer-id': hexId(this.peerId),
        address: url,
        error: why,
      });
    }
    this.urls.unreachable(url);
  }

  private dial(): void {
    if (this.stopped) return;
    this.lastDial = Date.now();
    let base: string;
    try {
      base = this.urls.pick();
    } catch {
      this.schedule();
      return;
    }
    const url = new URL(`/raft/stream/${this.type}/${hexId(this.ctx.localId)}`, base);
    let settled = false;
    const done = (why?: string) => {
      if (settled) return;
      settled = true;
      this.req = undefined;
      this.setConnected(false);
      if (why !== undefined) this.failed(base, why);
      this.schedule();
    };
    const req = request(
      this.ctx,
      { url, agent: false },
      {
        method: 'GET',
        headers: { ...raftHeaders(this.ctx), [CanonicalHeader.raftTo]: hexId(this.peerId) },
        timeout: this.ctx.dialTimeoutMs,
      },
      (res) => this.onResponse(res, done),
    );
    this.req = req;
    req.on('timeout', () => req.destroy(new Error('i/o timeout')));
    req.on('error', (err) => done(err.message));
    req.on('close', () => done());
    req.end();
  }

  private onResponse(res: http.IncomingMessage, done: (why?: string) => void): void {
    const status = res.statusCode ?? 0;
    if (status !== 200) {
      void readSmall(res).then((body) => {
        if (status === 410) {
          this.ctx.host.removedByPeer(`peer ${hexId(this.peerId)} says this member was removed`);
        }
        const why =
          status === 404 ? `peer failed to find local node (${body.trim()})` : refusalReason(status, body);
        done(why);
        res.destroy();
      });
      return;
    }
    if (res.headers[Header.serverVersion] === undefined) {
      // etcd would take the peer for 2.0 and use no streams; so do we.
      res.destroy();
      done('stream response without X-Server-Version');
      return;
    }
    this.lastFailure = '';
    const decoder: Decoder =
      this.type === 'msgapp'
        ? new MsgAppV2Decoder(this.ctx.localId, this.peerId)
        : new MessageStreamDecoder();
    res.socket.setTimeout(CONN_READ_TIMEOUT_MS, () => res.destroy(new Error('read deadline exceeded')));
    this.setConnected(true);
    res.on('data', (chunk: Buffer) => {
      this.ctx.observer?.received?.(this.peerId, chunk.length);
      let msgs: Message[];
      try {
        msgs = decoder.push(chunk);
      } catch (err) {
        this.ctx.observer?.receiveFailed?.(hexId(this.peerId));
        res.destroy();
        done(`bad stream data: ${(err as Error).message}`);
        return;
      }
      for (const m of msgs) {
        if (isLinkHeartbeat(m)) continue;
        try {
          this.ctx.host.process(m);
        } catch (err) {
          this.ctx.log.debug('dropped a message from a peer stream', {
            'remote-peer-id': hexId(this.peerId),
            error: (err as Error).message,
          });
        }
      }
    });
    res.on('error', () => done());
    res.on('end', () => done());
  }
}
