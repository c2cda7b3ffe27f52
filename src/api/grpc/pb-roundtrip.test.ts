import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  Compare_CompareResult,
  Compare_CompareTarget,
  LeaseGrantResponse,
  MemberListResponse,
  PutRequest,
  RangeRequest,
  RangeRequest_SortOrder,
  RangeRequest_SortTarget,
  RangeResponse,
  ResponseHeader,
  StatusResponse,
  TxnRequest,
  WatchResponse,
} from '../../pb/etcdserverpb/rpc.js';
import { Event_EventType } from '../../pb/mvccpb/kv.js';

// Encodings produced by etcd 3.4's own Go types (gogoproto marshalers) with
// bench/grpc-spike/golden/main.go. Decoding them checks our field numbers,
// wire types and the number/bigint split against etcd itself; re-encoding
// them checks that we write the same bytes.
const GOLDEN = {
  ResponseHeader: '08ab939eabb4a4c0f7cd0110cdd2918bd2b881cf8e0118959aef3a2007',
  PutRequest: '0a03666f6f120362617218df9cf5e1b2c3dea669200128013001',
  RangeResponse:
    '0a1d08ab939eabb4a4c0f7cd0110cdd2918bd2b881cf8e0118959aef3a200712180a026b311005180920032a02763130ffffffffffffffff7f1801202a',
  RangeRequest: '0a016112017a180a2063280230033801400148015001580260036804',
  TxnRequest: '0a0d080110021a0163301182040164120812060a01731201311a051a030a0166',
  WatchResponse:
    '0a1d08ab939eabb4a4c0f7cd0110cdd2918bd2b881cf8e0118959aef3a200710031801280b32017838015a09080112050a0165180c',
  LeaseGrantResponse:
    '0a1d08ab939eabb4a4c0f7cd0110cdd2918bd2b881cf8e0118959aef3a200710df9cf5e1b2c3dea66918ffffffffffffffffff01220165',
  StatusResponse:
    '0a1d08ab939eabb4a4c0f7cd0110cdd2918bd2b881cf8e0118959aef3a20071206332e342e32331880808080802020cdd2918bd2b881cf8e0128e807300738e7074201654880205001',
  MemberListResponse:
    '0a1d08ab939eabb4a4c0f7cd0110cdd2918bd2b881cf8e0118959aef3a2007122408ffffffffffffffffff0112016e1a08687474703a2f2f702208687474703a2f2f632801',
} as const;

const CLUSTER_ID = 0xcdef0123456789abn;
const MEMBER_ID = 0x8e9e05c52164694dn;
const LEASE_ID = 0x694d7a1b2c3d4e5fn;

function golden(name: keyof typeof GOLDEN): Buffer {
  return Buffer.from(GOLDEN[name], 'hex');
}

function hex(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString('hex');
}

function assertGoldenHeader(h: ResponseHeader | undefined): void {
  assert.ok(h);
  assert.equal(h.clusterId, CLUSTER_ID);
  assert.equal(h.memberId, MEMBER_ID);
  assert.equal(h.revision, 123456789);
  assert.equal(h.raftTerm, 7);
}

describe('generated protobuf code round-trips', () => {
  test('ResponseHeader keeps a 64-bit member id exact', () => {
    const header: ResponseHeader = {
      clusterId: 0xffffffffffffffffn,
      memberId: MEMBER_ID,
      revision: 2 ** 40,
      raftTerm: 3,
    };
    const decoded = ResponseHeader.decode(ResponseHeader.encode(header).finish());
    assert.deepEqual(decoded, header);
    assert.equal(typeof decoded.revision, 'number');
    assert.equal(typeof decoded.memberId, 'bigint');
  });

  test('PutRequest round-trips with a bigint lease', () => {
    const req: PutRequest = {
      key: Buffer.from('k'),
      value: Buffer.alloc(256, 7),
      lease: LEASE_ID,
      prevKv: true,
      ignoreValue: false,
      ignoreLease: false,
    };
    assert.deepEqual(PutRequest.decode(PutRequest.encode(req).finish()), req);
  });

  test('RangeResponse round-trips header, kvs and count', () => {
    const res: RangeResponse = {
      header: { clusterId: CLUSTER_ID, memberId: MEMBER_ID, revision: 10, raftTerm: 2 },
      kvs: [
        {
          key: Buffer.from('a'),
          createRevision: 1,
          modRevision: 10,
          version: 4,
          value: Buffer.from('v'),
          lease: 0n,
        },
      ],
      more: false,
      count: 1,
    };
    assert.deepEqual(RangeResponse.decode(RangeResponse.encode(res).finish()), res);
  });
});

describe('field numbers match etcd 3.4 (bytes from etcd Go types)', () => {
  test('ResponseHeader', () => {
    const bytes = golden('ResponseHeader');
    assertGoldenHeader(ResponseHeader.decode(bytes));
    assert.equal(hex(ResponseHeader.encode(ResponseHeader.decode(bytes)).finish()), GOLDEN.ResponseHeader);
  });

  test('PutRequest', () => {
    const bytes = golden('PutRequest');
    const m = PutRequest.decode(bytes);
    assert.equal(m.key.toString(), 'foo');
    assert.equal(m.value.toString(), 'bar');
    assert.equal(m.lease, LEASE_ID);
    assert.equal(m.prevKv, true);
    assert.equal(m.ignoreValue, true);
    assert.equal(m.ignoreLease, true);
    assert.equal(hex(PutRequest.encode(m).finish()), GOLDEN.PutRequest);
  });

  test('RangeResponse with KeyValue', () => {
    const m = RangeResponse.decode(golden('RangeResponse'));
    assertGoldenHeader(m.header);
    assert.equal(m.kvs.length, 1);
    const kv = m.kvs[0]!;
    assert.equal(kv.key.toString(), 'k1');
    assert.equal(kv.createRevision, 5);
    assert.equal(kv.modRevision, 9);
    assert.equal(kv.version, 3);
    assert.equal(kv.value.toString(), 'v1');
    assert.equal(kv.lease, 0x7fffffffffffffffn);
    assert.equal(m.more, true);
    assert.equal(m.count, 42);
    assert.equal(hex(RangeResponse.encode(m).finish()), GOLDEN.RangeResponse);
  });

  test('RangeRequest: every field and both enums', () => {
    const m = RangeRequest.decode(golden('RangeRequest'));
    assert.deepEqual(
      { ...m, key: m.key.toString(), rangeEnd: m.rangeEnd.toString() },
      {
        key: 'a',
        rangeEnd: 'z',
        limit: 10,
        revision: 99,
        sortOrder: RangeRequest_SortOrder.DESCEND,
        sortTarget: RangeRequest_SortTarget.MOD,
        serializable: true,
        keysOnly: true,
        countOnly: true,
        minModRevision: 1,
        maxModRevision: 2,
        minCreateRevision: 3,
        maxCreateRevision: 4,
      },
    );
    assert.equal(hex(RangeRequest.encode(m).finish()), GOLDEN.RangeRequest);
  });

  test('TxnRequest: compare oneof, range_end = 64, request oneofs', () => {
    const m = TxnRequest.decode(golden('TxnRequest'));
    const cmp = m.compare[0]!;
    assert.equal(cmp.result, Compare_CompareResult.GREATER);
    assert.equal(cmp.target, Compare_CompareTarget.MOD);
    assert.equal(cmp.key.toString(), 'c');
    assert.deepEqual(cmp.targetUnion, { $case: 'modRevision', modRevision: 17n });
    assert.equal(cmp.rangeEnd.toString(), 'd');
    const put = m.success[0]?.request;
    assert.equal(put?.$case, 'requestPut');
    assert.equal(put.$case === 'requestPut' && put.requestPut.key.toString(), 's');
    const del = m.failure[0]?.request;
    assert.equal(del?.$case, 'requestDeleteRange');
    assert.equal(hex(TxnRequest.encode(m).finish()), GOLDEN.TxnRequest);
  });

  test('WatchResponse with events (field 11)', () => {
    const m = WatchResponse.decode(golden('WatchResponse'));
    assertGoldenHeader(m.header);
    assert.equal(m.watchId, 3);
    assert.equal(m.created, true);
    assert.equal(m.canceled, false);
    assert.equal(m.compactRevision, 11);
    assert.equal(m.cancelReason, 'x');
    assert.equal(m.fragment, true);
    assert.equal(m.events[0]?.type, Event_EventType.DELETE);
    assert.equal(m.events[0]?.kv?.modRevision, 12);
    assert.equal(hex(WatchResponse.encode(m).finish()), GOLDEN.WatchResponse);
  });

  test('LeaseGrantResponse: bigint ID, negative number TTL', () => {
    const m = LeaseGrantResponse.decode(golden('LeaseGrantResponse'));
    assert.equal(m.ID, LEASE_ID);
    assert.equal(m.TTL, -1);
    assert.equal(m.error, 'e');
    assert.equal(hex(LeaseGrantResponse.encode(m).finish()), GOLDEN.LeaseGrantResponse);
  });

  test('StatusResponse: leader is a bigint member id, sizes and indexes are numbers', () => {
    const m = StatusResponse.decode(golden('StatusResponse'));
    assertGoldenHeader(m.header);
    assert.equal(m.version, '3.4.23');
    assert.equal(m.dbSize, 2 ** 40);
    assert.equal(m.leader, MEMBER_ID);
    assert.equal(m.raftIndex, 1000);
    assert.equal(m.raftTerm, 7);
    assert.equal(m.raftAppliedIndex, 999);
    assert.deepEqual(m.errors, ['e']);
    assert.equal(m.dbSizeInUse, 4096);
    assert.equal(m.isLearner, true);
    assert.equal(hex(StatusResponse.encode(m).finish()), GOLDEN.StatusResponse);
  });

  test('MemberListResponse: member id uses all 64 bits', () => {
    const m = MemberListResponse.decode(golden('MemberListResponse'));
    const member = m.members[0]!;
    assert.equal(member.ID, 0xffffffffffffffffn);
    assert.equal(member.name, 'n');
    assert.deepEqual(member.peerURLs, ['http://p']);
    assert.deepEqual(member.clientURLs, ['http://c']);
    assert.equal(member.isLearner, true);
    assert.equal(hex(MemberListResponse.encode(m).finish()), GOLDEN.MemberListResponse);
  });
});
