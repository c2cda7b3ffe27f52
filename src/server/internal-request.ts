// What the server puts in a Normal raft entry: etcd's InternalRaftRequest wire
// format (etcdserverpb/raft_internal.proto field numbers), written by hand on
// top of the generated request messages. Hand-writing the envelope keeps
// src/pb untouched (no regeneration needed) while staying byte-compatible with
// etcd's log format, so tools that read etcd WAL entries can read ours too.
import { BinaryReader, BinaryWriter, WireType } from '@bufbuild/protobuf/wire';
import {
  AlarmRequest,
  CompactionRequest,
  DeleteRangeRequest,
  LeaseGrantRequest,
  LeaseRevokeRequest,
  PutRequest,
  TxnRequest,
} from '../pb/etcdserverpb/rpc.js';
import type { InternalOp, InternalRequest, MemberAttrSet } from './ops.js';
import { decodePutRequestFast, putRequestSize, writePutRequest } from './put-codec.js';
import { delimitedSize, fitsVarint64, varint64Size, writeVarint, writeVarint64 } from './wire.js';

const FIELD_PUT = 4;
const FIELD_DELETE_RANGE = 5;
const FIELD_TXN = 6;
const FIELD_COMPACTION = 7;
const FIELD_LEASE_GRANT = 8;
const FIELD_LEASE_REVOKE = 9;
const FIELD_ALARM = 10;
const FIELD_HEADER = 100;
const FIELD_MEMBER_ATTR_SET = 1301;

/** Tag of field 100 (header), length-delimited, as a varint. */
const HEADER_TAG = [0xa2, 0x06];

/** The put envelope written in one exact-size buffer (the common case of every write workload). */
function encodePutFast(id: bigint, req: PutRequest): Uint8Array | undefined {
  const putBytes = putRequestSize(req);
  if (putBytes < 0 || !fitsVarint64(id)) return undefined;
  const headerBody = 1 + varint64Size(id);
  const total = 2 + delimitedSize(headerBody) + 1 + delimitedSize(putBytes);
  const buf = Buffer.allocUnsafe(total);
  let pos = 0;
  buf[pos++] = HEADER_TAG[0]!;
  buf[pos++] = HEADER_TAG[1]!;
  pos = writeVarint(buf, pos, headerBody);
  buf[pos++] = 0x08;
  pos = writeVarint64(buf, pos, id);
  buf[pos++] = (FIELD_PUT << 3) | WireType.LengthDelimited;
  pos = writeVarint(buf, pos, putBytes);
  pos = writePutRequest(buf, pos, req);
  if (pos !== total) throw new Error(`internal request: wrote ${pos} of ${total} bytes`);
  return buf;
}

export function encodeInternalRequest(r: InternalRequest): Uint8Array {
  if (r.op.kind === 'put') {
    const fast = encodePutFast(r.id, r.op.req);
    if (fast !== undefined) return fast;
  }
  const w = new BinaryWriter();
  w.tag(FIELD_HEADER, WireType.LengthDelimited).fork();
  w.tag(1, WireType.Varint).uint64(r.id);
  w.join();
  const op = r.op;
  switch (op.kind) {
    case 'put':
      PutRequest.encode(op.req, w.tag(FIELD_PUT, WireType.LengthDelimited).fork()).join();
      break;
    case 'deleteRange':
      DeleteRangeRequest.encode(op.req, w.tag(FIELD_DELETE_RANGE, WireType.LengthDelimited).fork()).join();
      break;
    case 'txn':
      TxnRequest.encode(op.req, w.tag(FIELD_TXN, WireType.LengthDelimited).fork()).join();
      break;
    case 'compaction':
      CompactionRequest.encode(op.req, w.tag(FIELD_COMPACTION, WireType.LengthDelimited).fork()).join();
      break;
    case 'alarm':
      AlarmRequest.encode(op.req, w.tag(FIELD_ALARM, WireType.LengthDelimited).fork()).join();
      break;
    case 'leaseGrant':
      LeaseGrantRequest.encode(op.req, w.tag(FIELD_LEASE_GRANT, WireType.LengthDelimited).fork()).join();
      break;
    case 'leaseRevoke':
      LeaseRevokeRequest.encode(op.req, w.tag(FIELD_LEASE_REVOKE, WireType.LengthDelimited).fork()).join();
      break;
    case 'memberAttrSet':
      encodeMemberAttrSet(op.req, w.tag(FIELD_MEMBER_ATTR_SET, WireType.LengthDelimited).fork()).join();
      break;
  }
  return w.finish();
}

function encodeMemberAttrSet(m: MemberAttrSet, w: BinaryWriter): BinaryWriter {
  w.tag(1, WireType.Varint).uint64(m.memberId);
  w.tag(2, WireType.LengthDelimited).fork();
  w.tag(1, WireType.LengthDelimited).string(m.name);
  for (const u of m.clientUrls) w.tag(2, WireType.LengthDelimited).string(u);
  w.join();
  return w;
}

function decodeMemberAttrSet(bytes: Uint8Array): MemberAttrSet {
  const r = new BinaryReader(bytes);
  const out: MemberAttrSet = { memberId: 0n, name: '', clientUrls: [] };
  while (r.pos < r.len) {
    const [field, wt] = r.tag();
    if (field === 1 && wt === WireType.Varint) out.memberId = BigInt.asUintN(64, BigInt(r.uint64()));
    else if (field === 2 && wt === WireType.LengthDelimited) {
      const a = new BinaryReader(r.bytes());
      while (a.pos < a.len) {
        const [f, t] = a.tag();
        if (f === 1 && t === WireType.LengthDelimited) out.name = a.string();
        else if (f === 2 && t === WireType.LengthDelimited) out.clientUrls.push(a.string());
        else a.skip(t);
      }
    } else r.skip(wt);
  }
  return out;
}

function decodeHeaderId(bytes: Uint8Array): bigint {
  const r = new BinaryReader(bytes);
  let id = 0n;
  while (r.pos < r.len) {
    const [field, wt] = r.tag();
    if (field === 1 && wt === WireType.Varint) id = BigInt.asUintN(64, BigInt(r.uint64()));
    else r.skip(wt);
  }
  return id;
}

/** Decodes a Normal entry's payload; throws on anything that is not one request we know. */
export function decodeInternalRequest(data: Uint8Array): InternalRequest {
  const r = new BinaryReader(data);
  let id = 0n;
  let op: InternalOp | undefined;
  while (r.pos < r.len) {
    const [field, wt] = r.tag();
    if (wt !== WireType.LengthDelimited) {
      r.skip(wt);
      continue;
    }
    const body = r.bytes();
    switch (field) {
      case FIELD_HEADER:
        id = decodeHeaderId(body);
        break;
      case FIELD_PUT:
        op = { kind: 'put', req: decodePutRequestFast(body) ?? PutRequest.decode(body) };
        break;
      case FIELD_DELETE_RANGE:
        op = { kind: 'deleteRange', req: DeleteRangeRequest.decode(body) };
        break;
      case FIELD_TXN:
        op = { kind: 'txn', req: TxnRequest.decode(body) };
        break;
      case FIELD_COMPACTION:
        op = { kind: 'compaction', req: CompactionRequest.decode(body) };
        break;
      case FIELD_ALARM:
        op = { kind: 'alarm', req: AlarmRequest.decode(body) };
        break;
      case FIELD_LEASE_GRANT:
        op = { kind: 'leaseGrant', req: LeaseGrantRequest.decode(body) };
        break;
      case FIELD_LEASE_REVOKE:
        op = { kind: 'leaseRevoke', req: LeaseRevokeRequest.decode(body) };
        break;
      case FIELD_MEMBER_ATTR_SET:
        op = { kind: 'memberAttrSet', req: decodeMemberAttrSet(body) };
        break;
      default:
        break;
    }
  }
  if (op === undefined) throw new Error('internal request: no known operation in entry');
  return { id, op };
}
