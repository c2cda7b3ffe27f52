// What the server puts in a Normal raft entry: etcd's InternalRaftRequest wire
// format (etcdserverpb/raft_internal.proto field numbers), written by hand on
// top of the generated request messages. Hand-writing the envelope keeps
// src/pb untouched (no regeneration needed) while staying byte-compatible with
// etcd's log format, so tools that read etcd WAL entries can read ours too.
import { BinaryReader, BinaryWriter, WireType } from '@bufbuild/protobuf/wire';
import type { AuthInfo } from '../auth/index.js';
import {
  AlarmRequest,
  CompactionRequest,
  DeleteRangeRequest,
  LeaseGrantRequest,
  LeaseRevokeRequest,
  PutRequest,
  TxnRequest,
} from '../pb/etcdserverpb/rpc.js';
import { hexId } from '../peer/constants.js';
import { decodeAuthOp, encodeAuthOp } from './auth-request-codec.js';
import { encodeAttributes, parseAttributes } from './member-json.js';
import type { InternalOp, InternalRequest } from './ops.js';
import { decodePutRequestFast, putRequestSize, writePutRequest } from './put-codec.js';
import {
  classifyNormalEntry,
  decodeV2Request,
  emptyV2Request,
  encodeV2Request,
  type V2Request,
} from './v2/request.js';
import { delimitedSize, fitsVarint64, varint64Size, writeVarint, writeVarint64 } from './wire.js';

const FIELD_V2 = 2;
const FIELD_PUT = 4;
const FIELD_DELETE_RANGE = 5;
const FIELD_TXN = 6;
const FIELD_COMPACTION = 7;
const FIELD_LEASE_GRANT = 8;
const FIELD_LEASE_REVOKE = 9;
const FIELD_ALARM = 10;
const FIELD_HEADER = 100;

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

/** Credentials that put nothing on the wire (proto3 leaves empty fields out). */
function isAnonymous(auth: AuthInfo | undefined): boolean {
  return auth === undefined || (auth.username === '' && auth.revision === 0);
}

export function encodeInternalRequest(r: InternalRequest): Uint8Array {
  if (r.op.kind === 'put' && isAnonymous(r.auth)) {
    const fast = encodePutFast(r.id, r.op.req);
    if (fast !== undefined) return fast;
  }
  const w = new BinaryWriter();
  w.tag(FIELD_HEADER, WireType.LengthDelimited).fork();
  w.tag(1, WireType.Varint).uint64(r.id);
  // etcd's RequestHeader: username 2, auth_revision 3.
  if (r.auth !== undefined && r.auth.username !== '')
    w.tag(2, WireType.LengthDelimited).string(r.auth.username);
  if (r.auth !== undefined && r.auth.revision !== 0) w.tag(3, WireType.Varint).uint64(r.auth.revision);
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
    case 'clusterVersionSet':
    case 'v2Request':
      return encodeV2Request(v2RequestOf(r.id, op));
    case 'auth':
      encodeAuthOp(op.req, w);
      break;
    case 'confChange':
      throw new Error('internal request: a conf change is not a Normal entry');
  }
  return w.finish();
}

function decodeHeader(bytes: Uint8Array): { id: bigint; auth: AuthInfo | undefined } {
  const r = new BinaryReader(bytes);
  let id = 0n;
  let username = '';
  let revision = 0;
  while (r.pos < r.len) {
    const [field, wt] = r.tag();
    if (field === 1 && wt === WireType.Varint) id = BigInt.asUintN(64, BigInt(r.uint64()));
    else if (field === 2 && wt === WireType.LengthDelimited) username = r.string();
    else if (field === 3 && wt === WireType.Varint) revision = Number(r.uint64());
    else r.skip(wt);
  }
  const auth = username === '' && revision === 0 ? undefined : { username, revision };
  return { id, auth };
}

/** Decodes a Normal entry's payload; throws on anything that is not one request we know. */
export function decodeInternalRequest(data: Uint8Array): InternalRequest {
  if (classifyNormalEntry(data) === 'v2') {
    const v2 = decodeV2Request(data);
    return { id: v2.id, op: v2Op(v2) };
  }
  const r = new BinaryReader(data);
  let id = 0n;
  let auth: AuthInfo | undefined;
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
        ({ id, auth } = decodeHeader(body));
        break;
      case FIELD_PUT:
        op = {
          kind: 'put',
          req: decodePutRequestFast(body, 0, body.length, true) ?? PutRequest.decode(body),
        };
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
      case FIELD_V2: {
        // etcd 3.4 never writes this form, but its applier accepts it.
        const v2 = decodeV2Request(body);
        return { id: v2.id, op: v2Op(v2) };
      }
      default: {
        const authOp = decodeAuthOp(field, body);
        if (authOp !== undefined) op = { kind: 'auth', req: authOp };
        break;
      }
    }
  }
  if (op === undefined) throw new Error('internal request: no known operation in entry');
  return auth === undefined ? { id, op } : { id, op, auth };
}

const ATTRIBUTES_PATH = /^\/0\/members\/([0-9a-fA-F]{1,16})\/attributes$/;
const VERSION_PATH = '/0/version';

/** A v2 PUT as etcd 3.4 writes it; every non-nullable field set to its zero value. */
export function v2Put(id: bigint, path: string, val: string): V2Request {
  return { ...emptyV2Request(), id, method: 'PUT', path, val };
}

function v2RequestOf(id: bigint, op: InternalOp): V2Request {
  switch (op.kind) {
    case 'memberAttrSet':
      return v2Put(
        id,
        `/0/members/${hexId(op.req.memberId)}/attributes`,
        encodeAttributes({ name: op.req.name, clientUrls: op.req.clientUrls }),
      );
    case 'clusterVersionSet':
      return v2Put(id, VERSION_PATH, op.req.version);
    case 'v2Request':
      return { ...op.req, id };
    default:
      throw new Error(`internal request: ${op.kind} is not a v2 request`);
  }
}

/** What a v2 request means to a 3.4 member: member attributes, the cluster version, or v2 data. */
function v2Op(v2: V2Request): InternalOp {
  if (v2.method === 'PUT') {
    const m = ATTRIBUTES_PATH.exec(v2.path);
    if (m !== null) {
      const a = parseAttributes(v2.val);
      return {
        kind: 'memberAttrSet',
        req: { memberId: BigInt(`0x${m[1]}`), name: a.name, clientUrls: a.clientUrls },
      };
    }
    if (v2.path === VERSION_PATH) return { kind: 'clusterVersionSet', req: { version: v2.val } };
  }
  return { kind: 'v2Request', req: v2 };
}
