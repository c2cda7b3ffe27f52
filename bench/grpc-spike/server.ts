/**
 * Spike server: a trivial KV.Put that answers a PutResponse with a full
 * header (cluster_id, member_id, revision, raft_term), on either
 *   lean     — src/api/grpc with its native HTTP/2 transport (through the client listener)
 *   leannode — src/api/grpc on node:http2 (transport: 'node')
 *   grpcjs — @grpc/grpc-js
 * so the per-call cost of the RPC layer alone can be compared.
 *
 *   node dist/bench/grpc-spike/server.js lean|leannode|grpcjs PORT
 * Prints "listening PORT" when ready.
 */
import * as grpcJs from '@grpc/grpc-js';
import { GrpcServer } from '../../src/api/grpc/index.js';
import { createClientListener } from '../../src/api/listener.js';
import { PutRequest, PutResponse } from '../../src/pb/etcdserverpb/rpc.js';

const CLUSTER_ID = 0xcdef0123456789abn;
const MEMBER_ID = 0x8e9e05c52164694dn;
let revision = 1;

function put(req: PutRequest): PutResponse {
  if (req.key.length === 0) throw new Error('empty key');
  revision++;
  return { header: { clusterId: CLUSTER_ID, memberId: MEMBER_ID, revision, raftTerm: 2 } };
}

async function startLean(port: number, transport: 'native' | 'node' = 'native'): Promise<void> {
  const grpc = new GrpcServer({ transport });
  grpc.addUnary('/etcdserverpb.KV/Put', PutRequest, PutResponse, put);
  await createClientListener({ host: '127.0.0.1', port, grpc, http1: (_req, res) => res.end('ok') });
}

function startGrpcJs(port: number): Promise<void> {
  const server = new grpcJs.Server();
  server.addService(
    {
      put: {
        path: '/etcdserverpb.KV/Put',
        requestStream: false,
        responseStream: false,
        requestSerialize: (m: PutRequest) => Buffer.from(PutRequest.encode(m).finish()),
        requestDeserialize: (b: Buffer) => PutRequest.decode(b),
        responseSerialize: (m: PutResponse) => Buffer.from(PutResponse.encode(m).finish()),
        responseDeserialize: (b: Buffer) => PutResponse.decode(b),
      },
    },
    {
      put: (call: grpcJs.ServerUnaryCall<PutRequest, PutResponse>, cb: grpcJs.sendUnaryData<PutResponse>) =>
        cb(null, put(call.request)),
    },
  );
  return new Promise((resolve, reject) =>
    server.bindAsync(`127.0.0.1:${port}`, grpcJs.ServerCredentials.createInsecure(), (err) =>
      err ? reject(err) : resolve(),
    ),
  );
}

const [mode, portText] = process.argv.slice(2);
const port = Number(portText);
const starters: Record<string, (port: number) => Promise<void>> = {
  lean: (p) => startLean(p, 'native'),
  leannode: (p) => startLean(p, 'node'),
  grpcjs: startGrpcJs,
};
const start = mode === undefined ? undefined : starters[mode];
if (!Number.isInteger(port) || start === undefined) {
  console.error('usage: server.js lean|leannode|grpcjs PORT');
  process.exit(2);
}
await start(port);
console.log(`listening ${port}`);
// Exit through process.exit so --cpu-prof can write its profile.
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, () => process.exit(0));
