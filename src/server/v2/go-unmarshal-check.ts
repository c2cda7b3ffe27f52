// Answers "would etcd 3.4's gogo-generated Unmarshal accept these bytes as message X?" for
// the messages an InternalRaftRequest can hold. etcd's apply path depends on exactly that
// answer (pbutil.MaybeUnmarshal on every EntryNormal decides between InternalRaftRequest
// and a bare v2 Request), so the check mirrors Go's rules, nested messages included: a known
// field with another wire type fails, a message field must itself unmarshal, unknown fields
// are skipped as gogo skips them. Values are not kept.
import { Reader, WireError, WireType } from '../../peer/wire/gogo-wire.js';

// Each field: 'v' varint scalar/enum/bool, 'b' string or bytes, otherwise the name of a message type.
const V = 'v';
const B = 'b';

// Field numbers and types from etcd v3.4 etcdserverpb/{etcdserver,raft_internal,rpc}.proto
// and auth/authpb/auth.proto.
const SCHEMAS = {
  InternalRaftRequest: {
    100: 'RequestHeader',
    1: V,
    2: 'Request',
    3: 'RangeRequest',
    4: 'PutRequest',
    5: 'DeleteRangeRequest',
    6: 'TxnRequest',
    7: 'CompactionRequest',
    8: 'LeaseGrantRequest',
    9: 'LeaseRevokeRequest',
    10: 'AlarmRequest',
    11: 'LeaseCheckpointRequest',
    1000: 'Empty',
    1011: 'Empty',
    1012: 'InternalAuthenticateRequest',
    1100: 'AuthUserAddRequest',
    1101: 'NameOnly',
    1102: 'NameOnly',
    1103: 'TwoStrings',
    1104: 'TwoStrings',
    1105: 'TwoStrings',
    1106: 'Empty',
    1107: 'Empty',
    1200: 'NameOnly',
    1201: 'NameOnly',
    1202: 'NameOnly',
    1203: 'AuthRoleGrantPermissionRequest',
    1204: 'ThreeStrings',
  },
  RequestHeader: { 1: V, 2: B, 3: V },
  Request: {
    1: V,
    2: B,
    3: B,
    4: B,
    5: V,
    6: B,
    7: V,
    8: V,
    9: V,
    10: V,
    11: V,
    12: V,
    13: V,
    14: V,
    15: V,
    16: V,
    17: V,
  },
  RangeRequest: { 1: B, 2: B, 3: V, 4: V, 5: V, 6: V, 7: V, 8: V, 9: V, 10: V, 11: V, 12: V, 13: V },
  PutRequest: { 1: B, 2: B, 3: V, 4: V, 5: V, 6: V },
  DeleteRangeRequest: { 1: B, 2: B, 3: V },
  TxnRequest: { 1: 'Compare', 2: 'RequestOp', 3: 'RequestOp' },
  Compare: { 1: V, 2: V, 3: B, 4: V, 5: V, 6: V, 7: B, 8: V, 64: B },
  RequestOp: { 1: 'RangeRequest', 2: 'PutRequest', 3: 'DeleteRangeRequest', 4: 'TxnRequest' },
  CompactionRequest: { 1: V, 2: V },
  LeaseGrantRequest: { 1: V, 2: V },
  LeaseRevokeRequest: { 1: V },
  LeaseCheckpointRequest: { 1: 'LeaseCheckpoint' },
  LeaseCheckpoint: { 1: V, 2: V },
  AlarmRequest: { 1: V, 2: V, 3: V },
  InternalAuthenticateRequest: { 1: B, 2: B, 3: B },
  AuthUserAddRequest: { 1: B, 2: B, 3: 'UserAddOptions' },
  UserAddOptions: { 1: V },
  AuthRoleGrantPermissionRequest: { 1: B, 2: 'Permission' },
  Permission: { 1: V, 2: B, 3: B },
  // Shapes shared by several auth requests (only wire types matter here).
  Empty: {},
  NameOnly: { 1: B },
  TwoStrings: { 1: B, 2: B },
  ThreeStrings: { 1: B, 2: B, 3: B },
} satisfies Record<string, Record<number, string>>;

export type MessageName = keyof typeof SCHEMAS;

/** Every message type a schema refers to (for the test that they all exist). */
export function referencedMessageNames(): string[] {
  return Object.values(SCHEMAS).flatMap((fields) => Object.values(fields).filter((k) => k !== V && k !== B));
}

export function isMessageName(name: string): name is MessageName {
  return Object.hasOwn(SCHEMAS, name);
}

/**
 * Our own recursion bound (Go has none): a TxnRequest can nest through RequestOp. Deeper
 * input is reported as not unmarshalling; etcd itself never writes more than a few levels.
 */
const MAX_DEPTH = 1000;

function check(type: MessageName, r: Reader, depth: number): void {
  if (depth > MAX_DEPTH) r.fail('nested too deeply');
  const schema: Partial<Record<number, string>> = SCHEMAS[type];
  while (!r.done()) {
    r.tag();
    const kind = schema[r.field];
    if (kind === undefined) {
      r.skip();
    } else if (kind === V) {
      r.expectNumbered(WireType.Varint);
      r.skipVarint();
    } else {
      r.expectNumbered(WireType.Bytes);
      const stop = r.spanEnd();
      if (kind !== B) {
        check(kind as MessageName, new Reader(r.buf, kind, stop - r.lastSpanLength, stop), depth + 1);
      }
    }
  }
}

/** True iff Go's (gogo) Unmarshal of `type` returns no error for `data`. */
export function goUnmarshals(type: MessageName, data: Uint8Array): boolean {
  try {
    check(type, new Reader(data, type), 0);
    return true;
  } catch (e) {
    if (e instanceof WireError) return false;
    throw e;
  }
}

/** The concatenated bodies of every occurrence of `field` (protobuf merges them in order). */
export function fieldBodies(data: Uint8Array, field: number, what: string): Uint8Array | undefined {
  const r = new Reader(data, what);
  const parts: Uint8Array[] = [];
  while (!r.done()) {
    r.tag();
    if (r.field === field && r.wireType === WireType.Bytes) {
      const [start, stop] = r.span();
      parts.push(data.subarray(start, stop));
    } else {
      r.skip();
    }
  }
  if (parts.length === 0) return undefined;
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let pos = 0;
  for (const p of parts) {
    out.set(p, pos);
    pos += p.length;
  }
  return out;
}
