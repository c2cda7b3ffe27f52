import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import type { Writable } from 'node:stream';
import { describe, test } from 'node:test';
import type { ResponseHeader, SnapshotResponse } from '../../pb/etcdserverpb/rpc.js';
import type { MaintenancePort } from '../../server/ports.js';
import type { ResponseSink } from '../grpc/types.js';
import { SNAPSHOT_CHUNK_BYTES, streamSnapshot } from './snapshot-stream.js';

const HEADER: ResponseHeader = { clusterId: 1n, memberId: 2n, revision: 3, raftTerm: 4 };

/** A member whose "db" is `size` pseudo-random bytes, written in pieces of `piece` bytes. */
function fakeMember(size: number, piece: number): MaintenancePort {
  const db = Buffer.alloc(size);
  for (let i = 0; i < size; i++) db[i] = (i * 31 + 7) & 0xff;
  const port: Pick<MaintenancePort, 'snapshot' | 'header'> = {
    header: () => HEADER,
    snapshot: async (out: Writable, onSize: (n: number) => void) => {
      onSize(size);
      for (let at = 0; at < size; at += piece) {
        if (!out.write(db.subarray(at, Math.min(size, at + piece)))) {
          await new Promise<void>((resolve, reject) => {
            out.once('drain', resolve);
            out.once('error', reject);
          });
        }
      }
      return { size, sha256: createHash('sha256').update(db).digest() };
    },
  };
  return port as MaintenancePort;
}

class Collector implements ResponseSink<SnapshotResponse> {
  readonly messages: SnapshotResponse[] = [];
  ended = false;
  constructor(private readonly endAfter = Number.POSITIVE_INFINITY) {}
  write(m: SnapshotResponse): boolean {
    if (this.ended) return false;
    this.messages.push(m);
    if (this.messages.length >= this.endAfter) this.ended = true;
    return this.messages.length % 3 !== 0; // ask for a drain now and then
  }
  drained(): Promise<void> {
    return new Promise((r) => setImmediate(r));
  }
}

describe('Maintenance.Snapshot stream', () => {
  for (const [size, piece] of [
    [5 * 4096, 4096],
    [SNAPSHOT_CHUNK_BYTES * 3, 1 << 20],
    [SNAPSHOT_CHUNK_BYTES * 2 + 4096, 1000],
  ] as const) {
    test(`${size} bytes in ${piece}-byte writes: 32 KiB blobs, remaining_bytes, then the sha256`, async () => {
      const sink = new Collector();
      await streamSnapshot(fakeMember(size, piece), sink);
      const data = sink.messages.slice(0, -1);
      const last = sink.messages.at(-1)!;
      let sent = 0;
      for (const m of data) {
        assert.ok(m.blob.length === SNAPSHOT_CHUNK_BYTES || m === data.at(-1));
        sent += m.blob.length;
        assert.equal(m.remainingBytes, size - sent);
        assert.equal(m.header, undefined, 'etcd 3.4 sends no header on snapshot messages');
      }
      assert.equal(sent, size);
      const all = Buffer.concat(data.map((m) => m.blob));
      assert.equal(last.remainingBytes, 0);
      assert.deepEqual(Buffer.from(last.blob), createHash('sha256').update(all).digest());
      // What etcdctl saves: db ‖ sha256, which it recognises by size % 512 == 32.
      assert.equal((size + 32) % 512, 32);
    });
  }

  test('a client that goes away ends the stream quietly', async () => {
    const sink = new Collector(2);
    await streamSnapshot(fakeMember(SNAPSHOT_CHUNK_BYTES * 10, 4096), sink);
    assert.equal(sink.messages.length, 2);
  });

  test('an export failure reaches the caller', async () => {
    const failing: Pick<MaintenancePort, 'snapshot' | 'header'> = {
      header: () => HEADER,
      snapshot: async () => {
        throw new Error('backend closed');
      },
    };
    await assert.rejects(streamSnapshot(failing as MaintenancePort, new Collector()), /backend closed/);
  });
});
