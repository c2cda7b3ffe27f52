// The /raft* endpoints of the peer port, as etcd 3.4's rafthttp serves them:
// the pipeline POST, the two stream GETs (we become the writer of a stream the
// peer dialled), the snapshot POST, and the prober. Status codes and bodies
// are etcd's, because etcd members read them.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { type Readable, Transform } from 'node:stream';
import { type Message, MessageType } from '../raft/types.js';
import { checkCompatibility } from './compat.js';
import {
  CanonicalHeader,
  Header,
  hexId,
  MAX_MESSAGE_BYTES,
  PEER_SERVER_VERSION,
  parseHexId,
} from './constants.js';
import { RemovedMemberError } from './context.js';
import { httpError, methodNotAllowed, readBody } from './http-util.js';
import type { PeerTransport } from './transport.js';
import { decodeMessage } from './wire/raftpb.js';

/** Where a received snapshot's database goes before raft sees the message. */
export interface SnapshotReceiver {
  /** Saves the database (the rest of `body`) for `m`'s snapshot index, durably. */
  saveDatabase(m: Message, body: Readable): Promise<void>;
}

/** Go's time.RFC3339Nano: trailing zeros of the fraction dropped. */
function rfc3339Nano(d: Date): string {
  const iso = d.toISOString(); // 2026-12-07T03:44:40.123Z
  return iso.replace(/\.(\d*?)0*Z$/, (_m, frac: string) => (frac === '' ? 'Z' : `.${frac}Z`));
}

export class RaftHttpHandler {
  constructor(
    private readonly transport: PeerTransport,
    private readonly snapshots: SnapshotReceiver | undefined,
  ) {}

  private get ctx() {
    return this.transport.ctx;
  }

  /** True when the path is ours (the caller serves other paths). */
  handle(req: IncomingMessage, res: ServerResponse, path: string): boolean {
    if (path === '/raft/probing') {
      res.statusCode = 200;
      res.setHeader('Content-Type', 'application/json');
      res.end(`${JSON.stringify({ OK: true, Now: rfc3339Nano(new Date()) })}\n`);
      return true;
    }
    if (path === '/raft') {
      void this.pipeline(req, res);
      return true;
    }
    if (path === '/raft/snapshot') {
      void this.snapshot(req, res);
      return true;
    }
    if (path.startsWith('/raft/stream/')) {
      this.stream(req, res, path);
      return true;
    }
    return false;
  }

  /** Runs the header check; answers and returns false when it fails. */
  private compatible(req: IncomingMessage, res: ServerResponse): boolean {
    res.setHeader(CanonicalHeader.clusterId, hexId(this.ctx.clusterId()));
    const refusal = checkCompatibility(req.headers, this.ctx.clusterId());
    if (refusal === undefined) return true;
    httpError(res, refusal.status, refusal.body);
    return false;
  }

  private learnSender(req: IncomingMessage): void {
    const from = parseHexId(String(req.headers[Header.from] ?? ''));
    const urls = String(req.headers[Header.peerUrls] ?? '')
      .split(',')
      .filter((u) => u !== '');
    if (from !== undefined && urls.length > 0) this.transport.addRemote(from, urls);
  }

  private async pipeline(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (req.method !== 'POST') return methodNotAllowed(res, 'POST');
    if (!this.compatible(req, res)) {
      req.resume();
      return;
    }
    this.learnSender(req);
    let body: Buffer;
    try {
      body = await readBody(req, MAX_MESSAGE_BYTES);
    } catch {
      this.ctx.observer?.receiveFailed?.(remoteAddr(req));
      return httpError(res, 400, 'error reading raft message');
    }
    let m: Message;
    try {
      m = decodeMessage(body);
    } catch {
      this.ctx.observer?.receiveFailed?.(remoteAddr(req));
      return httpError(res, 400, 'error unmarshalling raft message');
    }
    this.ctx.observer?.received?.(m.from, body.length);
    try {
      this.ctx.host.process(m);
    } catch (err) {
      // etcd answers 500 here (also for a removed sender) and drops the connection.
      httpError(res, 500, 'error processing raft message');
      if (!(err instanceof RemovedMemberError)) {
        this.ctx.log.warn('failed to process raft message', { error: (err as Error).message });
      }
      res.on('finish', () => req.socket.destroy());
      return;
    }
    res.statusCode = 204;
    res.end();
  }

  private stream(req: IncomingMessage, res: ServerResponse, path: string): void {
    if (req.method !== 'GET') {
      methodNotAllowed(res, 'GET');
      return;
    }
    res.setHeader(CanonicalHeader.serverVersion, PEER_SERVER_VERSION);
    if (!this.compatible(req, res)) return;
    const parts = path.split('/'); // ['', 'raft', 'stream', type, from]
    const type = parts[3];
    if (parts.length !== 5 || (type !== 'message' && type !== 'msgapp')) {
      httpError(res, 404, 'invalid path');
      return;
    }
    const from = parseHexId(parts[4] ?? '');
    if (from === undefined) {
      httpError(res, 404, 'invalid from');
      return;
    }
    if (this.ctx.host.isRemoved(from)) {
      httpError(res, 410, 'removed member');
      return;
    }
    const peer = this.transport.get(from);
    if (peer === undefined || peer.remoteOnly) {
      this.learnSender(req);
      httpError(res, 404, 'error sender not found');
      return;
    }
    const to = String(req.headers[Header.raftTo] ?? '');
    if (to !== hexId(this.ctx.localId)) {
      httpError(res, 412, 'to field mismatch');
      return;
    }
    res.statusCode = 200;
    res.flushHeaders();
    // The connection now lives as long as the stream; no server timeout may cut it.
    req.socket.setTimeout(0);
    void peer.writer(type).attach(res);
  }

  private async snapshot(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const observer = this.ctx.observer;
    const started = Date.now();
    if (req.method !== 'POST') {
      observer?.snapshotReceived?.(undefined, false, 0);
      return methodNotAllowed(res, 'POST');
    }
    if (!this.compatible(req, res)) {
      observer?.snapshotReceived?.(undefined, false, 0);
      req.resume();
      return;
    }
    this.learnSender(req);
    let m: Message;
    let messageBytes: number;
    try {
      [m, messageBytes] = await readSnapshotMessage(req);
    } catch (err) {
      observer?.receiveFailed?.(remoteAddr(req));
      observer?.snapshotReceived?.(undefined, false, 0);
      return httpError(res, 400, `failed to decode raft message (${(err as Error).message})`);
    }
    observer?.received?.(m.from, messageBytes);
    if (m.type !== MessageType.Snap || m.snapshot === undefined) {
      observer?.snapshotReceived?.(m.from, false, 0);
      req.resume();
      return httpError(res, 400, 'wrong raft message type');
    }
    if (observer === undefined) {
      await this.saveSnapshot(req, res, m);
      return;
    }
    observer.snapshotReceiveInflight?.(m.from, 1);
    let dbBytes = 0;
    const counted = req.pipe(
      new Transform({
        transform(chunk: Buffer, _enc, cb) {
          dbBytes += chunk.length;
          cb(null, chunk);
        },
      }),
    );
    req.on('error', (err) => counted.destroy(err));
    const ok = await this.saveSnapshot(req, res, m, counted);
    observer.snapshotReceiveInflight?.(m.from, -1);
    if (ok) observer.received?.(m.from, dbBytes);
    observer.snapshotReceived?.(m.from, ok, (Date.now() - started) / 1000);
  }

  /** Saves the database behind `m`, then hands `m` to raft; true when both succeeded (204). */
  private async saveSnapshot(
    req: IncomingMessage,
    res: ServerResponse,
    m: Message,
    body: Readable = req,
  ): Promise<boolean> {
    if (m.type !== MessageType.Snap || m.snapshot === undefined) return false;
    if (this.snapshots === undefined) {
      req.resume();
      httpError(res, 500, 'failed to save KV snapshot (snapshots are not accepted)');
      return false;
    }
    this.ctx.log.info('receiving database snapshot', {
      'remote-snapshot-sender-id': hexId(m.from),
      'incoming-snapshot-index': m.snapshot.metadata.index,
    });
    try {
      await this.snapshots.saveDatabase(m, body);
    } catch (err) {
      httpError(res, 500, `failed to save KV snapshot (${(err as Error).message})`);
      return false;
    }
    try {
      this.ctx.host.process(m);
    } catch (err) {
      httpError(res, 500, `failed to process raft message (${(err as Error).message})`);
      return false;
    }
    this.ctx.log.info('received and saved database snapshot', {
      'remote-snapshot-sender-id': hexId(m.from),
      'incoming-snapshot-index': m.snapshot.metadata.index,
    });
    res.statusCode = 204;
    res.end();
    return true;
  }
}

/** etcd labels a request it could not read with the sender's address. */
function remoteAddr(req: IncomingMessage): string {
  return `${req.socket.remoteAddress ?? ''}:${req.socket.remotePort ?? ''}`;
}

/** Reads `u64 BE length ‖ Message` off the front of the body, leaving the rest (the database) unread. */
function readSnapshotMessage(req: IncomingMessage): Promise<[Message, number]> {
  return new Promise((resolve, reject) => {
    let buf: Buffer = Buffer.alloc(0);
    let need = -1;
    const onData = (chunk: Buffer) => {
      buf = buf.length === 0 ? chunk : Buffer.concat([buf, chunk]);
      if (need < 0 && buf.length >= 8) {
        const n = buf.readBigUInt64BE(0);
        if (n > BigInt(MAX_MESSAGE_BYTES)) return fail(new Error('message too large'));
        need = Number(n);
      }
      if (need >= 0 && buf.length >= 8 + need) {
        req.off('data', onData);
        req.off('end', onEnd);
        req.pause();
        const rest = buf.subarray(8 + need);
        if (rest.length > 0) req.unshift(rest);
        try {
          resolve([decodeMessage(buf.subarray(8, 8 + need)), 8 + need]);
        } catch (err) {
          reject(err);
        }
      }
    };
    const onEnd = () => fail(new Error('unexpected EOF'));
    const fail = (err: Error) => {
      req.off('data', onData);
      req.off('end', onEnd);
      reject(err);
    };
    req.on('data', onData);
    req.on('end', onEnd);
  });
}
