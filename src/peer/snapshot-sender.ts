// Sends a raft snapshot to a peer as etcd does: POST /raft/snapshot whose
// chunked body is `u64 BE length ‖ raftpb.Message(MsgSnap)` followed by the
// backend database until EOF. The database is streamed from the member,
// never held whole in memory. 204 means the peer saved it and stepped the
// message; anything else is a failed snapshot (raft retries later).
import http from 'node:http';
import type { Readable } from 'node:stream';
import type { Message } from '../raft/types.js';
import { refusalReason } from './compat.js';
import { hexId, SNAPSHOT_RESPONSE_TIMEOUT_MS } from './constants.js';
import { raftHeaders, request, type TransportContext } from './context.js';
import { readSmall } from './http-util.js';
import type { UrlPicker } from './url-picker.js';
import { encodeMessage } from './wire/raftpb.js';

/** A snapshot ready to send: the message (with the merged snapshot's data and metadata) and its database. */
export interface OutgoingSnapshot {
  message: Message;
  db: Readable;
  /** Called once the transfer is over, whatever its outcome (the member may release the log). */
  done?(ok: boolean): void;
}

export async function sendSnapshot(
  ctx: TransportContext,
  peerId: bigint,
  urls: UrlPicker,
  snap: OutgoingSnapshot,
): Promise<boolean> {
  const base = urls.pick();
  const url = new URL('/raft/snapshot', base);
  const msg = encodeMessage(snap.message);
  const head = Buffer.alloc(8);
  head.writeBigUInt64BE(BigInt(msg.length));
  const started = Date.now();
  const observer = ctx.observer;
  let bytes = head.length + msg.length;
  observer?.snapshotSendInflight?.(peerId, 1);
  ctx.log.info('sending database snapshot', {
    'remote-peer-id': hexId(peerId),
    'snapshot-index': snap.message.snapshot?.metadata.index,
  });
  const ok = await new Promise<boolean>((resolve) => {
    let settled = false;
    const finish = (result: boolean, why?: string) => {
      if (settled) return;
      settled = true;
      if (!result) {
        urls.unreachable(base);
        ctx.log.warn('failed to send database snapshot', { 'remote-peer-id': hexId(peerId), error: why });
      }
      resolve(result);
    };
    const req = request(
      ctx,
      { url, agent: url.protocol === 'https:' ? false : new http.Agent({ keepAlive: false }) },
      {
        method: 'POST',
        headers: { ...raftHeaders(ctx), 'Content-Type': 'application/octet-stream' },
        timeout: ctx.dialTimeoutMs,
      },
      (res) => {
        const timer = setTimeout(() => res.destroy(), SNAPSHOT_RESPONSE_TIMEOUT_MS);
        void readSmall(res).then((text) => {
          clearTimeout(timer);
          const status = res.statusCode ?? 0;
          if (status === 204) finish(true);
          else finish(false, refusalReason(status, text));
        });
      },
    );
    // Once the body is flowing the dial timeout no longer applies: a big database takes its time.
    req.on('socket', (s) => s.once('connect', () => req.setTimeout(0)));
    req.on('timeout', () => req.destroy(new Error('i/o timeout')));
    req.on('error', (err) => finish(false, err.message));
    req.write(head);
    req.write(msg);
    snap.db.on('error', (err) => req.destroy(err));
    if (observer !== undefined) snap.db.on('data', (chunk: Buffer) => (bytes += chunk.length));
    snap.db.pipe(req);
  });
  snap.db.destroy();
  observer?.snapshotSendInflight?.(peerId, -1);
  if (ok) observer?.sent?.(peerId, bytes);
  else observer?.sendFailed?.(peerId);
  observer?.snapshotSent?.(peerId, ok, (Date.now() - started) / 1000);
  snap.done?.(ok);
  if (ok) {
    ctx.log.info('sent database snapshot', {
      'remote-peer-id': hexId(peerId),
      took: `${Date.now() - started}ms`,
    });
  }
  return ok;
}
