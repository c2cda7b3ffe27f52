// The WAL's metadata record: which member and cluster this log belongs to.
// Encoded as etcd's etcdserverpb.Metadata (NodeID = 1, ClusterID = 2).
import { BinaryReader, BinaryWriter, WireType } from '@bufbuild/protobuf/wire';

export interface WalMetadata {
  memberId: bigint;
  clusterId: bigint;
}

export function encodeWalMetadata(m: WalMetadata): Uint8Array {
  const w = new BinaryWriter();
  w.tag(1, WireType.Varint).uint64(m.memberId);
  w.tag(2, WireType.Varint).uint64(m.clusterId);
  return w.finish();
}

export function decodeWalMetadata(b: Uint8Array): WalMetadata {
  const r = new BinaryReader(b);
  const out: WalMetadata = { memberId: 0n, clusterId: 0n };
  while (r.pos < r.len) {
    const [field, wt] = r.tag();
    if (field === 1 && wt === WireType.Varint) out.memberId = BigInt.asUintN(64, BigInt(r.uint64()));
    else if (field === 2 && wt === WireType.Varint) out.clusterId = BigInt.asUintN(64, BigInt(r.uint64()));
    else r.skip(wt);
  }
  if (out.memberId === 0n || out.clusterId === 0n)
    throw new Error('WAL metadata lacks a member or cluster id');
  return out;
}
