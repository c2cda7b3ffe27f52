/**
 * Encode/decode microbenchmark of the messages on the hottest paths, for the
 * protobuf library choice (docs/decisions/0001-protobuf.md):
 *   ts-proto  — generated code in src/pb (wire layer from @bufbuild/protobuf)
 *   protobufjs — reflection with runtime code generation (what its static
 *                code compiles to; pbjs is not installed here)
 *   bufbuild  — @bufbuild/protobuf v2 reflection from a descriptor set, which
 *                is what protoc-gen-es output uses at run time
 *
 *   node dist/bench/grpc-spike/codec-bench.js
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { create, createFileRegistry, type DescMessage, fromBinary, toBinary } from '@bufbuild/protobuf';
import { FileDescriptorSetSchema } from '@bufbuild/protobuf/wkt';
import protobuf from 'protobufjs';
import { PutRequest, PutResponse, RangeResponse } from '../../src/pb/etcdserverpb/rpc.js';

const protoDir = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'proto');
const PROTO_DIR = process.env.PROTO_DIR ?? protoDir;

function nsPerOp(fn: () => unknown, iterations: number): number {
  for (let i = 0; i < iterations / 10; i++) fn(); // warm-up / JIT
  const runs: number[] = [];
  for (let r = 0; r < 5; r++) {
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < iterations; i++) fn();
    runs.push(Number(process.hrtime.bigint() - t0) / iterations);
  }
  runs.sort((a, b) => a - b);
  return runs[2]!;
}

// ------------------------------------------------------------ payloads
const key = Buffer.from('key00001');
const value = Buffer.alloc(256, 0x61);
const header = {
  clusterId: 0xcdef0123456789abn,
  memberId: 0x8e9e05c52164694dn,
  revision: 123456,
  raftTerm: 7,
};
const kvs = Array.from({ length: 10 }, (_, i) => ({
  key: Buffer.from(`key-${String(i).padStart(12, '0')}`),
  createRevision: 1000 + i,
  modRevision: 2000 + i,
  version: 3,
  value,
  lease: 0n,
}));

// ------------------------------------------------------------ ts-proto
const tsPut: PutRequest = { key, value, lease: 0n, prevKv: false, ignoreValue: false, ignoreLease: false };
const tsPutRes: PutResponse = { header };
const tsRange: RangeResponse = { header, kvs, more: false, count: 10 };
const putBytes = PutRequest.encode(tsPut).finish();
const putResBytes = PutResponse.encode(tsPutRes).finish();
const rangeBytes = RangeResponse.encode(tsRange).finish();

// ------------------------------------------------------------ protobufjs
const root = new protobuf.Root();
root.resolvePath = (_origin: string, target: string) => join(PROTO_DIR, target);
root.loadSync('etcdserverpb/rpc.proto', { keepCase: false });
const PbPut = root.lookupType('etcdserverpb.PutRequest');
const PbPutRes = root.lookupType('etcdserverpb.PutResponse');
const PbRange = root.lookupType('etcdserverpb.RangeResponse');
const pbPut = PbPut.fromObject({ key, value });
const pbPutRes = PbPutRes.fromObject({
  header: {
    clusterId: header.clusterId.toString(),
    memberId: header.memberId.toString(),
    revision: 123456,
    raftTerm: 7,
  },
});
const pbRange = PbRange.fromObject({
  header: {
    clusterId: header.clusterId.toString(),
    memberId: header.memberId.toString(),
    revision: 123456,
    raftTerm: 7,
  },
  kvs,
  count: 10,
});

// ------------------------------------------------------------ bufbuild
const descriptorFile = join(tmpdir(), `etcd-ts-rpc-${process.pid}.pb`);
execFileSync('protoc', [
  `-I${PROTO_DIR}`,
  '--include_imports',
  `--descriptor_set_out=${descriptorFile}`,
  'etcdserverpb/rpc.proto',
]);
const registry = createFileRegistry(fromBinary(FileDescriptorSetSchema, readFileSync(descriptorFile)));
const desc = (name: string): DescMessage => {
  const d = registry.getMessage(name);
  if (!d) throw new Error(`no ${name}`);
  return d;
};
const BbPut = desc('etcdserverpb.PutRequest');
const BbPutRes = desc('etcdserverpb.PutResponse');
const BbRange = desc('etcdserverpb.RangeResponse');
const bbPut = create(BbPut, { key, value });
const bbPutRes = create(BbPutRes, { header });
const bbRange = create(BbRange, { header, kvs, count: 10n });

// ------------------------------------------------------------ run
type Case = [string, number, Record<string, () => unknown>];
const cases: Case[] = [
  [
    'PutRequest encode (8 B key, 256 B value)',
    200_000,
    {
      'ts-proto': () => PutRequest.encode(tsPut).finish(),
      protobufjs: () => PbPut.encode(pbPut).finish(),
      bufbuild: () => toBinary(BbPut, bbPut),
    },
  ],
  [
    'PutRequest decode',
    200_000,
    {
      'ts-proto': () => PutRequest.decode(putBytes),
      protobufjs: () => PbPut.decode(putBytes),
      bufbuild: () => fromBinary(BbPut, putBytes),
    },
  ],
  [
    'PutResponse encode (header only)',
    200_000,
    {
      'ts-proto': () => PutResponse.encode(tsPutRes).finish(),
      protobufjs: () => PbPutRes.encode(pbPutRes).finish(),
      bufbuild: () => toBinary(BbPutRes, bbPutRes),
    },
  ],
  [
    'PutResponse decode',
    200_000,
    {
      'ts-proto': () => PutResponse.decode(putResBytes),
      protobufjs: () => PbPutRes.decode(putResBytes),
      bufbuild: () => fromBinary(BbPutRes, putResBytes),
    },
  ],
  [
    'RangeResponse encode (10 kvs × 256 B)',
    50_000,
    {
      'ts-proto': () => RangeResponse.encode(tsRange).finish(),
      protobufjs: () => PbRange.encode(pbRange).finish(),
      bufbuild: () => toBinary(BbRange, bbRange),
    },
  ],
  [
    'RangeResponse decode',
    50_000,
    {
      'ts-proto': () => RangeResponse.decode(rangeBytes),
      protobufjs: () => PbRange.decode(rangeBytes),
      bufbuild: () => fromBinary(BbRange, rangeBytes),
    },
  ],
];

// Same bytes from all three encoders, or the comparison is meaningless.
for (const [label, enc] of [
  ['PutRequest', [PbPut.encode(pbPut).finish(), toBinary(BbPut, bbPut)]],
  ['PutResponse', [PbPutRes.encode(pbPutRes).finish(), toBinary(BbPutRes, bbPutRes)]],
  ['RangeResponse', [PbRange.encode(pbRange).finish(), toBinary(BbRange, bbRange)]],
] as const) {
  const reference = { PutRequest: putBytes, PutResponse: putResBytes, RangeResponse: rangeBytes }[label];
  for (const bytes of enc) {
    if (Buffer.compare(Buffer.from(bytes), Buffer.from(reference)) !== 0)
      throw new Error(`${label}: encodings differ`);
  }
}

console.log('| case | ts-proto ns/op | protobufjs ns/op | @bufbuild ns/op |');
console.log('|---|---:|---:|---:|');
for (const [name, iterations, impls] of cases) {
  const cells = ['ts-proto', 'protobufjs', 'bufbuild'].map((k) => nsPerOp(impls[k]!, iterations).toFixed(0));
  console.log(`| ${name} | ${cells.join(' | ')} |`);
}
