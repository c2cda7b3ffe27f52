// etcdserverpb.Maintenance: Status, Defragment, HashKV, Snapshot, Alarm.
// and MoveLeader (Hash answers UNIMPLEMENTED).
import { createHash } from 'node:crypto';
import { open, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type {
  AlarmRequest,
  AlarmResponse,
  DefragmentResponse,
  HashKVRequest,
  HashKVResponse,
  MaintenanceDefinition,
  MoveLeaderRequest,
  MoveLeaderResponse,
  SnapshotResponse,
  StatusResponse,
} from '../../pb/etcdserverpb/rpc.js';
import type { MaintenancePort } from '../../server/ports.js';
import type { ResponseSink, ServiceImplementation } from '../grpc/types.js';
import { guarded, toGrpcError } from './errors.js';

/** etcd sends the backend in chunks of this size, then its SHA-256 as one last message. */
const SNAPSHOT_CHUNK_BYTES = 32 * 1024;

let snapshotSeq = 0;

async function send(sink: ResponseSink<SnapshotResponse>, m: SnapshotResponse): Promise<boolean> {
  if (sink.ended) return false;
  if (!sink.write(m)) await sink.drained();
  return !sink.ended;
}

/** Streams a consistent copy of the backend, then its SHA-256 (etcdctl checks it on restore). */
async function streamSnapshot(m: MaintenancePort, sink: ResponseSink<SnapshotResponse>): Promise<void> {
  const path = join(tmpdir(), `etcd-ts-snapshot-${process.pid}-${++snapshotSeq}.db`);
  try {
    await m.snapshotTo(path);
    const fh = await open(path, 'r');
    try {
      const total = (await fh.stat()).size;
      const sha = createHash('sha256');
      let sent = 0;
      while (sent < total) {
        const buf = Buffer.alloc(Math.min(SNAPSHOT_CHUNK_BYTES, total - sent));
        const { bytesRead } = await fh.read(buf, 0, buf.length, sent);
        if (bytesRead === 0) throw new Error('backend snapshot ended early');
        const blob = buf.subarray(0, bytesRead);
        sent += bytesRead;
        sha.update(blob);
        if (
          !(await send(sink, {
            header: m.header(),
            remainingBytes: total - sent,
            blob,
          }))
        ) {
          return;
        }
      }
      await send(sink, {
        header: m.header(),
        remainingBytes: 0,
        blob: sha.digest(),
      });
    } finally {
      await fh.close();
    }
  } finally {
    await rm(path, { force: true });
  }
}

export function maintenanceService(m: MaintenancePort): ServiceImplementation<typeof MaintenanceDefinition> {
  return {
    status: guarded(async (): Promise<StatusResponse> => m.status()),
    moveLeader: guarded(async (req: MoveLeaderRequest): Promise<MoveLeaderResponse> => {
      await m.moveLeader(req.targetID);
      return { header: m.header() };
    }),
    defragment: guarded((): Promise<DefragmentResponse> => m.defragment()),
    hashKV: guarded((req: HashKVRequest): Promise<HashKVResponse> => m.hashKV(req.revision)),
    alarm: guarded((req: AlarmRequest): Promise<AlarmResponse> => m.alarm(req)),
    snapshot: async (_req, sink) => {
      try {
        await streamSnapshot(m, sink);
      } catch (err) {
        throw toGrpcError(err);
      }
    },
  };
}
