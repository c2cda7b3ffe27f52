import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { goJson } from '../../src/cmd/etcdctl/printer/go-json.js';
import { goQuote } from '../../src/cmd/etcdctl/printer/go-quote.js';
import { humanBytes } from '../../src/cmd/etcdctl/printer/humanize.js';
import { JsonPrinter } from '../../src/cmd/etcdctl/printer/json.js';
import { endpointStatusRows } from '../../src/cmd/etcdctl/printer/rows.js';
import { SimplePrinter } from '../../src/cmd/etcdctl/printer/simple.js';
import { renderTable, wrapWords } from '../../src/cmd/etcdctl/printer/tablewriter.js';
import type { StatusResponse } from '../../src/pb/etcdserverpb/rpc.js';
import { formatDuration, parseDuration } from '../../src/util/go-duration.js';
import { captureIo } from './capture-io.js';

const HEADER = {
  clusterId: 14841639068965178418n,
  memberId: 10276657743932975437n,
  revision: 5,
  raftTerm: 2,
};

describe('table layout', () => {
  test('endpoint status table matches etcdctl 3.4 byte for byte', () => {
    const resp: StatusResponse = {
      header: HEADER,
      version: '3.4.23',
      dbSize: 20480,
      leader: HEADER.memberId,
      raftIndex: 58,
      raftTerm: 2,
      raftAppliedIndex: 58,
      errors: [],
      dbSizeInUse: 16384,
      isLearner: false,
    };
    const { header, rows } = endpointStatusRows([{ ep: '127.0.0.1:23379', resp }]);
    const expected = [
      '+-----------------+------------------+---------+---------+-----------+------------+-----------+------------+--------------------+--------+',
      '|    ENDPOINT     |        ID        | VERSION | DB SIZE | IS LEADER | IS LEARNER | RAFT TERM | RAFT INDEX | RAFT APPLIED INDEX | ERRORS |',
      '+-----------------+------------------+---------+---------+-----------+------------+-----------+------------+--------------------+--------+',
      '| 127.0.0.1:23379 | 8e9e05c52164694d |  3.4.23 |   20 kB |      true |      false |         2 |         58 |                 58 |        |',
      '+-----------------+------------------+---------+---------+-----------+------------+-----------+------------+--------------------+--------+',
      '',
    ].join('\n');
    assert.equal(renderTable(header, rows), expected);
  });

  test('long cells wrap on spaces at 30 columns (output of Go tablewriter for the same input)', () => {
    const out = renderTable(
      ['id', 'errors'],
      [
        ['x', 'memberID:10276657743932975437 alarm:NOSPACE '],
        ['a long value with many words that wraps around', 'short'],
      ],
    );
    const expected = [
      '+--------------------------------+--------------------------------+',
      '|               ID               |             ERRORS             |',
      '+--------------------------------+--------------------------------+',
      '|                              x |  memberID:10276657743932975437 |',
      '|                                |                 alarm:NOSPACE  |',
      '|   a long value with many words |                          short |',
      '|              that wraps around |                                |',
      '+--------------------------------+--------------------------------+',
      '',
    ].join('\n');
    assert.equal(out, expected);
  });

  test('minimum-raggedness word wrapping', () => {
    assert.deepEqual(wrapWords(['aaa', 'bb', 'cc', 'ddddd'], 6), [['aaa'], ['bb', 'cc'], ['ddddd']]);
    assert.deepEqual(wrapWords(['one', 'two'], 7), [['one', 'two']]);
  });
});

describe('value formatting', () => {
  test('humanize bytes like go-humanize', () => {
    assert.equal(humanBytes(0), '0 B');
    assert.equal(humanBytes(9), '9 B');
    assert.equal(humanBytes(20480), '20 kB');
    assert.equal(humanBytes(24576), '25 kB');
    assert.equal(humanBytes(1500), '1.5 kB');
    assert.equal(humanBytes(16 * 1024 * 1024), '17 MB');
    assert.equal(humanBytes(20500), '20 kB');
  });

  test('Go durations', () => {
    assert.equal(parseDuration('5s'), 5e9);
    assert.equal(parseDuration('2m'), 120e9);
    assert.equal(parseDuration('1h30m'), 5400e9);
    assert.equal(parseDuration('1.5s'), 1.5e9);
    assert.equal(parseDuration('300ms'), 300e6);
    assert.equal(parseDuration('0'), 0);
    assert.throws(() => parseDuration('zz'), /time: invalid duration "zz"/);
    assert.throws(() => parseDuration('5'), /time: missing unit|invalid duration|unknown unit/);
    assert.equal(formatDuration(2e9), '2s');
    assert.equal(formatDuration(6e9), '6s');
    assert.equal(formatDuration(90e9), '1m30s');
    assert.equal(formatDuration(3600e9), '1h0m0s');
    assert.equal(formatDuration(1706361), '1.706361ms');
    assert.equal(formatDuration(1500), '1.5µs');
    assert.equal(formatDuration(0), '0s');
  });

  test('JSON keeps 64-bit ids exact and escapes like Go', () => {
    assert.equal(
      goJson({ a: 17478742799590499669n, b: undefined, c: 'x<y', d: Buffer.from('k') }),
      '{"a":17478742799590499669,"c":"x\\u003cy","d":"aw=="}',
    );
  });

  test('Go %q quoting', () => {
    assert.equal(goQuote('a"b\n'), '"a\\"b\\n"');
    assert.equal(goQuote(Buffer.from([0xff, 0x41])), '"\\xffA"');
    assert.equal(goQuote('héllo'), '"héllo"');
    assert.equal(goQuote('\u0001'), '"\\x01"');
  });
});

describe('printers', () => {
  const kv = {
    key: Buffer.from('k'),
    value: Buffer.from('v1'),
    createRevision: 2,
    modRevision: 3,
    version: 2,
    lease: 0n,
  };

  test('simple get prints key and value lines, hex mode escapes bytes', () => {
    const io = captureIo();
    new SimplePrinter(io, false).get({ header: HEADER, kvs: [kv], more: false, count: 1 });
    assert.equal(io.stdout(), 'k\nv1\n');
    const hexIo = captureIo();
    new SimplePrinter(hexIo, true).get({ header: HEADER, kvs: [kv], more: false, count: 1 });
    assert.equal(hexIo.stdout(), '\\x6b\n\\x76\\x31\n');
  });

  test('json get omits empty fields', () => {
    const io = captureIo();
    new JsonPrinter(io).get({ header: HEADER, kvs: [], more: false, count: 0 });
    assert.equal(
      io.stdout(),
      '{"header":{"cluster_id":14841639068965178418,"member_id":10276657743932975437,"revision":5,"raft_term":2}}\n',
    );
    const io2 = captureIo();
    new JsonPrinter(io2).get({ header: HEADER, kvs: [kv], more: false, count: 1 });
    assert.match(
      io2.stdout(),
      /"kvs":\[\{"key":"aw==","create_revision":2,"mod_revision":3,"version":2,"value":"djE="\}\],"count":1\}/,
    );
  });

  test('member add message pads ids to 16 columns', () => {
    const io = captureIo();
    new SimplePrinter(io, false).memberAdd({
      header: { ...HEADER, clusterId: 0xabcn },
      member: { ID: 0x1234n, name: '', peerURLs: [], clientURLs: [], isLearner: false },
      members: [],
    });
    assert.equal(io.stdout(), `Member             1234 added to cluster              abc\n`);
  });
});
