// JSON ↔ protobuf bytes ↔ the generated message objects, as etcd's gateway
// reads and writes them (jsonpb, OrigName, no defaults).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  LeaseGrantRequest,
  LeaseGrantResponse,
  RangeRequest,
  RangeRequest_SortOrder,
  RangeResponse,
  TxnRequest,
  WatchCreateRequest_FilterType,
  WatchRequest,
  WatchResponse,
} from '../../../../pb/etcdserverpb/rpc.js';
import { Event_EventType } from '../../../../pb/mvccpb/kv.js';
import { ETCD_SCHEMA } from '../schema/etcd-schema.gen.js';
import { parseWhole } from './go-json.js';
import { JsonpbError, JsonToWire } from './json-to-wire.js';
import { WireToJson } from './wire-to-json.js';

const toWire = new JsonToWire(ETCD_SCHEMA);
const toJson = new WireToJson(ETCD_SCHEMA);
const read = (type: string, json: string) => toWire.encode(type, parseWhole(Buffer.from(json)));
const b64 = (s: string) => Buffer.from(s).toString('base64');

test('a request: .proto names or lowerCamelCase, quoted or bare integers, enums by name or number', () => {
  const req = RangeRequest.decode(
    read(
      'etcdserverpb.RangeRequest',
      `{"key":"${b64('a')}","rangeEnd":"${b64('b')}","limit":"5","revision":7,"sort_order":"DESCEND","sort_target":3,"keys_only":true,"serializable":null,"ignored":{"x":[1]}}`,
    ),
  );
  assert.equal(req.key.toString(), 'a');
  assert.equal(req.rangeEnd.toString(), 'b');
  assert.equal(req.limit, 5);
  assert.equal(req.revision, 7);
  assert.equal(req.sortOrder, RangeRequest_SortOrder.DESCEND);
  assert.equal(req.sortTarget, 3);
  assert.equal(req.keysOnly, true);
  assert.equal(req.serializable, false);
});

test('when both spellings are given the lowerCamelCase one wins, as in jsonpb', () => {
  const req = RangeRequest.decode(
    read('etcdserverpb.RangeRequest', `{"key":"YQ==","range_end":"${b64('x')}","rangeEnd":"${b64('y')}"}`),
  );
  assert.equal(req.rangeEnd.toString(), 'y');
});

test('64-bit ids keep every bit', () => {
  const id = 2n ** 63n - 25n;
  const req = LeaseGrantRequest.decode(read('etcdserverpb.LeaseGrantRequest', `{"TTL":10,"ID":${id}}`));
  assert.equal(req.ID, id);
  const out = LeaseGrantResponse.encode({ header: undefined, ID: id, TTL: 10, error: '' }).finish();
  assert.equal(toJson.toJson('etcdserverpb.LeaseGrantResponse', out), `{"ID":"${id}","TTL":"10"}`);
});

test('a oneof member set to zero stays set (a compare against version 0)', () => {
  const req = TxnRequest.decode(
    read(
      'etcdserverpb.TxnRequest',
      `{"compare":[{"key":"YQ==","target":"VERSION","version":"0"}],"success":[{"request_range":{"key":"YQ=="}}]}`,
    ),
  );
  assert.deepEqual(req.compare[0]?.targetUnion, { $case: 'version', version: 0n });
  assert.equal(req.success[0]?.request?.$case, 'requestRange');
  const json = toJson.toJson('etcdserverpb.TxnRequest', TxnRequest.encode(req).finish());
  assert.equal(
    json,
    '{"compare":[{"key":"YQ==","version":"0"}],"success":[{"request_range":{"key":"YQ=="}}]}',
  );
});

test('watch requests: a oneof of messages and packed enum lists', () => {
  const req = WatchRequest.decode(
    read(
      'etcdserverpb.WatchRequest',
      `{"create_request":{"key":"YQ==","filters":["NODELETE",0],"start_revision":"3","watch_id":"9"}}`,
    ),
  );
  assert.equal(req.requestUnion?.$case, 'createRequest');
  if (req.requestUnion?.$case !== 'createRequest') return;
  const c = req.requestUnion.createRequest;
  assert.deepEqual(c.filters, [WatchCreateRequest_FilterType.NODELETE, WatchCreateRequest_FilterType.NOPUT]);
  assert.equal(c.startRevision, 3);
  assert.equal(c.watchId, 9);
});

test('responses: .proto names, defaults left out, int64 as strings, events typed by name', () => {
  const bytes = WatchResponse.encode({
    header: { clusterId: 1n, memberId: 2n, revision: 3, raftTerm: 0 },
    watchId: 0,
    created: false,
    canceled: false,
    compactRevision: 0,
    cancelReason: '',
    fragment: false,
    events: [
      {
        type: Event_EventType.DELETE,
        kv: {
          key: Buffer.from('k'),
          createRevision: 0,
          modRevision: 3,
          version: 0,
          value: Buffer.alloc(0),
          lease: 0n,
        },
        prevKv: undefined,
      },
    ],
  }).finish();
  assert.equal(
    toJson.toJson('etcdserverpb.WatchResponse', bytes),
    '{"header":{"cluster_id":"1","member_id":"2","revision":"3"},"events":[{"type":"DELETE","kv":{"key":"aw==","mod_revision":"3"}}]}',
  );
  const empty = RangeResponse.encode({ header: undefined, kvs: [], more: false, count: 0 }).finish();
  assert.equal(toJson.toJson('etcdserverpb.RangeResponse', empty), '{}');
});

test('an enum value without a name is written as its number, unquoted', () => {
  const bytes = RangeRequest.encode(
    RangeRequest.fromPartial({ key: Buffer.from('a'), sortOrder: 7 as RangeRequest_SortOrder }),
  ).finish();
  assert.equal(toJson.toJson('etcdserverpb.RangeRequest', bytes), '{"key":"YQ==","sort_order":7}');
});

test('type errors carry Go’s words', () => {
  const error = (type: string, json: string) => {
    try {
      read(type, json);
      return 'ok';
    } catch (err) {
      return (err as Error).message;
    }
  };
  const range = 'etcdserverpb.RangeRequest';
  assert.equal(
    error(range, '[1]'),
    'json: cannot unmarshal array into Go value of type map[string]json.RawMessage',
  );
  assert.equal(error(range, '{"key":123}'), 'json: cannot unmarshal number into Go value of type []uint8');
  assert.equal(
    error(range, '{"limit":1.5}'),
    'json: cannot unmarshal number 1.5 into Go value of type int64',
  );
  assert.equal(error(range, '{"limit":"x"}'), "invalid character 'x' looking for beginning of value");
  assert.equal(
    error(range, '{"serializable":"true"}'),
    'json: cannot unmarshal string into Go value of type bool',
  );
  assert.equal(
    error(range, '{"sort_order":"NOPE"}'),
    'unknown value "NOPE" for enum etcdserverpb.RangeRequest_SortOrder',
  );
  assert.equal(
    error(range, '{"sort_order":true}'),
    'json: cannot unmarshal bool into Go value of type etcdserverpb.RangeRequest_SortOrder',
  );
  assert.equal(
    error(range, '{"key":[256]}'),
    'json: cannot unmarshal number 256 into Go value of type uint8',
  );
  assert.equal(
    error('etcdserverpb.MemberAddRequest', '{"peerURLs":"x"}'),
    'json: cannot unmarshal string into Go value of type []json.RawMessage',
  );
  assert.equal(
    error('etcdserverpb.AlarmMember', '{"memberID":-1}'),
    'json: cannot unmarshal number -1 into Go value of type uint64',
  );
  assert.ok(new JsonpbError('x') instanceof Error);
});
