// The fallback path to a peer: one POST /raft per message, up to four at a
// time on kept-alive connections. Used for whatever finds no attached stream
// (before the streams are up, or when the peer is an old etcd). A failure
// marks the peer unreachable; raft resends, so nothing is retried here.
import http from 'node:http';
import https from 'node:https';
import type { Message } from '../raft/types.js';
import { MessageType } from '../raft/types.js';
import { refusalReason } from './compat.js';
import { hexId, PIPELINE_BUFFER_MESSAGES, PIPELINE_CONNECTIONS } from './constants.js';
import { raftHeaders, request, type TransportContext } from './context.js';
import { readSmall } from './http-util.js';
import type { UrlPicker } from './url-picker.js';
import { encodeMessage } from './wire/raftpb.js';

export class Pipeline {
  private readonly queue: Message[] = [];
  private running = 0;
  private stopped = false;
  private readonly httpAgent = new http.Agent({ keepAlive: true, maxSockets: PIPELINE_CONNECTIONS });
  private readonly httpsAgent = new https.Agent({ keepAlive: true, maxSockets: PIPELINE_CONNECTIONS });

  constructor(
    private readonly ctx: TransportContext,
    private readonly peerId: bigint,
    private readonly urls: UrlPicker,
    private readonly onResult: (ok: boolean) => void,
  ) {}

  /** False when the pipeline's buffer is full (the message is dropped). */
  send(m: Message): boolean {
    if (this.stopped || this.queue.length >= PIPELINE_BUFFER_MESSAGES) return false;
    this.queue.push(m);
    this.pump();
    return true;
  }

  stop(): void {
    this.stopped = true;
    this.queue.length = 0;
    this.httpAgent.destroy();
    this.httpsAgent.destroy();
  }

  private pump(): void {
    while (!this.stopped && this.running < PIPELINE_CONNECTIONS && this.queue.length > 0) {
      const m = this.queue.shift()!;
      this.running++;
      void this.post(m).finally(() => {
        this.running--;
        this.pump();
      });
    }
  }

  private post(m: Message): Promise<void> {
    let base: string;
    try {
      base = this.urls.pick();
    } catch {
      return Promise.resolve();
    }
    const url = new URL('/raft', base);
    const body = encodeMessage(m);
    return new Promise<void>((resolve) => {
      let settled = false;
      const finish = (ok: boolean, why?: string) => {
        if (settled) return;
        settled = true;
        if (ok) this.ctx.observer?.sent?.(this.peerId, body.length);
        if (!ok) {
          this.ctx.observer?.sendFailed?.(this.peerId);
          this.urls.unreachable(base);
          this.ctx.log.debug('failed to send a message on the pipeline', {
            'remote-peer-id': hexId(this.peerId),
            'message-type': m.type,
            error: why,
          });
          this.ctx.host.reportUnreachable(this.peerId);
          if (m.type === MessageType.Snap) this.ctx.host.reportSnapshot(this.peerId, false);
        }
        this.onResult(ok);
        resolve();
      };
      const req = request(
        this.ctx,
        { url, agent: url.protocol === 'https:' ? this.httpsAgent : this.httpAgent },
        {
          method: 'POST',
          headers: {
            ...raftHeaders(this.ctx),
            'Content-Type': 'application/protobuf',
            'Content-Length': String(body.length),
          },
          timeout: this.ctx.dialTimeoutMs,
        },
        (res) => {
          const status = res.statusCode ?? 0;
          if (status === 204) {
            res.resume();
            res.on('end', () => finish(true));
            res.on('error', () => finish(true));
            return;
          }
          void readSmall(res).then((text) => {
            if (status === 403)
              this.ctx.host.removedByPeer(`peer ${hexId(this.peerId)} refused us as removed`);
            finish(false, refusalReason(status, text));
          });
        },
      );
      req.on('timeout', () => req.destroy(new Error('i/o timeout')));
      req.on('error', (err) => finish(false, err.message));
      req.end(body);
    });
  }
}
