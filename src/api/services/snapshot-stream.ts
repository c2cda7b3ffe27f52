// Maintenance.Snapshot as etcd 3.4's server sends it (etcdserver/api/v3rpc/maintenance.go): the
// db in 32 KiB blobs, each with remaining_bytes = total - sent so far, then one last message
// {remaining_bytes: 0, blob: sha256(db)}. etcdctl concatenates every blob, so the file it saves
// is db ‖ sha256, the shape `snapshot restore` checks.
import { Writable } from 'node:stream';
import type { ResponseHeader, SnapshotResponse } from '../../pb/etcdserverpb/rpc.js';
import type { MaintenancePort } from '../../server/ports.js';
import type { ResponseSink } from '../grpc/types.js';

/** etcd's snapshotSendBufferSize. */
export const SNAPSHOT_CHUNK_BYTES = 32 * 1024;

class ClientGone extends Error {
  constructor() {
    super('snapshot stream ended by the client');
  }
}

/** A Writable that cuts what it is given into etcd's 32 KiB SnapshotResponse messages. */
class ChunkedSnapshotSink extends Writable {
  private total = -1;
  private sent = 0;
  private pending: Buffer[] = [];
  private pendingBytes = 0;

  constructor(
    private readonly sink: ResponseSink<SnapshotResponse>,
    private readonly header: () => ResponseHeader | undefined,
  ) {
    super({ highWaterMark: 4 * SNAPSHOT_CHUNK_BYTES });
  }

  setTotal(bytes: number): void {
    this.total = bytes;
  }

  override _write(chunk: Buffer, _enc: BufferEncoding, done: (err?: Error | null) => void): void {
    this.pending.push(chunk);
    this.pendingBytes += chunk.length;
    this.sendFull().then(() => done(), done);
  }

  /** Sends the last, partial blob (the db's size need not be a multiple of 32 KiB). */
  override _final(done: (err?: Error | null) => void): void {
    const rest = this.pendingBytes > 0 ? this.send(this.take(this.pendingBytes)) : Promise.resolve();
    rest.then(() => done(), done);
  }

  private async sendFull(): Promise<void> {
    while (this.pendingBytes >= SNAPSHOT_CHUNK_BYTES) await this.send(this.take(SNAPSHOT_CHUNK_BYTES));
  }

  private take(n: number): Buffer {
    const all = this.pending.length === 1 ? this.pending[0]! : Buffer.concat(this.pending);
    const blob = all.subarray(0, n);
    const rest = all.subarray(n);
    this.pending = rest.length > 0 ? [rest] : [];
    this.pendingBytes = rest.length;
    return blob;
  }

  private async send(blob: Buffer): Promise<void> {
    if (this.total < 0) throw new Error('snapshot: data before its size');
    this.sent += blob.length;
    await sendMessage(this.sink, { header: this.header(), remainingBytes: this.total - this.sent, blob });
  }
}

async function sendMessage(sink: ResponseSink<SnapshotResponse>, m: SnapshotResponse): Promise<void> {
  if (sink.ended) throw new ClientGone();
  if (!sink.write(m)) await sink.drained();
  if (sink.ended) throw new ClientGone();
}

/** Streams the member's backend snapshot; returns quietly if the client goes away meanwhile. */
export async function streamSnapshot(
  m: MaintenancePort,
  sink: ResponseSink<SnapshotResponse>,
): Promise<void> {
  // etcd 3.4's SnapshotResponse messages carry no header.
  const out = new ChunkedSnapshotSink(sink, () => undefined);
  // Errors reach us through the export's promise; an unhandled 'error' event must not crash.
  out.on('error', () => {});
  try {
    const { sha256 } = await m.snapshot(out, (bytes) => out.setTotal(bytes));
    await new Promise<void>((resolve, reject) =>
      out.end((err?: Error | null) => (err ? reject(err) : resolve())),
    );
    await sendMessage(sink, { header: undefined, remainingBytes: 0, blob: Buffer.from(sha256) });
  } catch (err) {
    if (err instanceof ClientGone || sink.ended) return;
    throw err;
  } finally {
    out.destroy();
  }
}
