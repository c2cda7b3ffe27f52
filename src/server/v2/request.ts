// etcd's v2 etcdserverpb.Request (etcdserver/etcdserverpb/etcdserver.proto, proto2, gogoproto).
// etcd 3.4 still proposes these, unwrapped, as the data of EntryNormal entries: member
// attribute publishes (PUT /0/members/<hex>/attributes), the cluster version (PUT /0/version)
// and the v2 TTL sweep (SYNC). Gogo writes every non-nullable field even when zero (1-7, 9-16);
// PrevExist (8) and Refresh (17) only when set.
//
// Expiration and Time are int64 Unix nanoseconds (about 1.7e18, beyond 2^53), hence bigint.
import {
  checkU64,
  checkUint,
  ExactWriter,
  Reader,
  u64Size,
  uintSize,
  WireType,
} from '../../peer/wire/gogo-wire.js';
import { fieldBodies, goUnmarshals } from './go-unmarshal-check.js';

export interface V2Request {
  id: bigint;
  method: string;
  path: string;
  val: string;
  dir: boolean;
  prevValue: string;
  prevIndex: number;
  prevExist?: boolean;
  /** int64 Unix nanoseconds; 0 for none. */
  expiration: bigint;
  wait: boolean;
  since: number;
  recursive: boolean;
  sorted: boolean;
  quorum: boolean;
  /** int64 Unix nanoseconds (SYNC's "now"). */
  time: bigint;
  stream: boolean;
  refresh?: boolean;
}

/** A request with every field zero, to spread over: `{ ...emptyV2Request(), method: 'PUT', ... }`. */
export function emptyV2Request(): V2Request {
  return {
    id: 0n,
    method: '',
    path: '',
    val: '',
    dir: false,
    prevValue: '',
    prevIndex: 0,
    expiration: 0n,
    wait: false,
    since: 0,
    recursive: false,
    sorted: false,
    quorum: false,
    time: 0n,
    stream: false,
  };
}

const utf8 = new TextEncoder();

export function encodeV2Request(r: V2Request): Uint8Array {
  checkU64(r.id, 'request id');
  checkUint(r.prevIndex, 'request prevIndex');
  checkUint(r.since, 'request since');
  const method = utf8.encode(r.method);
  const path = utf8.encode(r.path);
  const val = utf8.encode(r.val);
  const prevValue = utf8.encode(r.prevValue);
  const expiration = BigInt.asUintN(64, r.expiration);
  const time = BigInt.asUintN(64, r.time);
  const size =
    1 +
    u64Size(r.id) +
    [method, path, val, prevValue].reduce((n, s) => n + 1 + uintSize(s.length) + s.length, 0) +
    2 + // Dir
    1 +
    uintSize(r.prevIndex) +
    (r.prevExist === undefined ? 0 : 2) +
    1 +
    u64Size(expiration) +
    2 + // Wait
    1 +
    uintSize(r.since) +
    6 + // Recursive, Sorted, Quorum
    1 +
    u64Size(time) +
    3 + // Stream (two-byte tag)
    (r.refresh === undefined ? 0 : 3);
  const w = new ExactWriter(size);
  w.byte(0x08);
  w.u64(r.id);
  w.byte(0x12);
  w.bytes(method);
  w.byte(0x1a);
  w.bytes(path);
  w.byte(0x22);
  w.bytes(val);
  w.byte(0x28);
  w.bool(r.dir);
  w.byte(0x32);
  w.bytes(prevValue);
  w.byte(0x38);
  w.uint(r.prevIndex);
  if (r.prevExist !== undefined) {
    w.byte(0x40);
    w.bool(r.prevExist);
  }
  w.byte(0x48);
  w.u64(expiration);
  w.byte(0x50);
  w.bool(r.wait);
  w.byte(0x58);
  w.uint(r.since);
  w.byte(0x60);
  w.bool(r.recursive);
  w.byte(0x68);
  w.bool(r.sorted);
  w.byte(0x70);
  w.bool(r.quorum);
  w.byte(0x78);
  w.u64(time);
  w.byte(0x80);
  w.byte(0x01);
  w.bool(r.stream);
  if (r.refresh !== undefined) {
    w.byte(0x88);
    w.byte(0x01);
    w.bool(r.refresh);
  }
  return w.finish('v2 request');
}

/** What Go's Request.Unmarshal accepts (WireError otherwise, or for indexes above 2^53-1). */
export function decodeV2Request(b: Uint8Array): V2Request {
  const r = new Reader(b, 'etcdserverpb.Request');
  const req = emptyV2Request();
  const bool = (name: string): boolean => {
    r.expect(WireType.Varint, name);
    return r.bool();
  };
  const str = (name: string): string => {
    r.expect(WireType.Bytes, name);
    return r.string();
  };
  while (!r.done()) {
    r.tag();
    switch (r.field) {
      case 1:
        r.expect(WireType.Varint, 'ID');
        req.id = r.u64();
        break;
      case 2:
        req.method = str('Method');
        break;
      case 3:
        req.path = str('Path');
        break;
      case 4:
        req.val = str('Val');
        break;
      case 5:
        req.dir = bool('Dir');
        break;
      case 6:
        req.prevValue = str('PrevValue');
        break;
      case 7:
        r.expect(WireType.Varint, 'PrevIndex');
        req.prevIndex = r.uint('PrevIndex');
        break;
      case 8:
        req.prevExist = bool('PrevExist');
        break;
      case 9:
        r.expect(WireType.Varint, 'Expiration');
        req.expiration = BigInt.asIntN(64, r.u64());
        break;
      case 10:
        req.wait = bool('Wait');
        break;
      case 11:
        r.expect(WireType.Varint, 'Since');
        req.since = r.uint('Since');
        break;
      case 12:
        req.recursive = bool('Recursive');
        break;
      case 13:
        req.sorted = bool('Sorted');
        break;
      case 14:
        req.quorum = bool('Quorum');
        break;
      case 15:
        r.expect(WireType.Varint, 'Time');
        req.time = BigInt.asIntN(64, r.u64());
        break;
      case 16:
        req.stream = bool('Stream');
        break;
      case 17:
        req.refresh = bool('Refresh');
        break;
      default:
        r.skip();
    }
  }
  return req;
}

/**
 * How etcd 3.4 reads the data of a non-empty EntryNormal (server.go applyEntryNormal): as an
 * InternalRaftRequest when Go's Unmarshal of one succeeds, otherwise as a bare v2 Request.
 *
 * A bare Request, as gogo writes it, never passes: its field 5 (Dir, a varint) lands on
 * InternalRaftRequest.delete_range, a message, and "wrong wireType" fails the decode; most
 * fail earlier, since field 2 (Method) is parsed as a nested Request ("PUT" = 0x50 0x55 0x54
 * ends on an end-group tag) and field 3 (Path, "/…") as a RangeRequest (0x2f is wire type 7).
 * Only the full Go check is exact for other bytes, so that is what runs here.
 *
 * Empty data (the leader's no-op) unmarshals as an empty InternalRaftRequest: 'internal';
 * etcd checks for it before this decision, and so must the caller.
 */
export function classifyNormalEntry(data: Uint8Array): 'internal' | 'v2' {
  return goUnmarshals('InternalRaftRequest', data) ? 'internal' : 'v2';
}

export function isBareV2Request(data: Uint8Array): boolean {
  return classifyNormalEntry(data) === 'v2';
}

/**
 * The v2 Request wrapped in an InternalRaftRequest (field 2), which etcd 3.4 applies like a
 * bare one (`raftReq.V2 != nil`) though it never writes it; undefined when there is none.
 * Only for data that classifyNormalEntry calls 'internal'.
 */
export function wrappedV2Request(data: Uint8Array): V2Request | undefined {
  const body = fieldBodies(data, 2, 'etcdserverpb.InternalRaftRequest');
  return body === undefined ? undefined : decodeV2Request(body);
}
