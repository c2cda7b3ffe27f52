import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import { WireError } from '../peer/wire/gogo-wire.js';
import { fixturePath, randomMember } from '../peer/wire/testkit.js';
import { seededRandom } from '../util/seeded-random.js';
import {
  encodeAttributes,
  encodeConfigChangeContext,
  encodeMemberJson,
  encodeMembersArray,
  encodeRaftAttributes,
  type MemberRecord,
  parseAttributes,
  parseConfigChangeContext,
  parseMemberJson,
  parseMembersArray,
  parseRaftAttributes,
} from './member-json.js';

function member(fields: Partial<MemberRecord>): MemberRecord {
  return { id: 1n, name: '', peerUrls: [], clientUrls: [], isLearner: false, ...fields };
}

describe("etcd's membership JSON", () => {
  test('the conf change contexts etcd 3.4 wrote (bootstrap, learner add, promote)', () => {
    const bootstrap = member({ id: 5609112764069992735n, name: 'a', peerUrls: ['http://127.0.0.1:35003'] });
    assert.equal(
      encodeMemberJson(bootstrap),
      '{"id":5609112764069992735,"peerURLs":["http://127.0.0.1:35003"],"name":"a"}',
    );
    const learner = member({
      id: 14874346569453092021n,
      peerUrls: ['http://127.0.0.1:35013'],
      isLearner: true,
    });
    const learnerJson = '{"id":14874346569453092021,"peerURLs":["http://127.0.0.1:35013"],"isLearner":true}';
    assert.equal(encodeMemberJson(learner), learnerJson);
    assert.deepEqual(parseMemberJson(learnerJson), learner);
    const promote = '{"id":14874346569453092021,"peerURLs":null,"isPromote":true}';
    assert.equal(encodeConfigChangeContext(member({ id: 14874346569453092021n }), true), promote);
    assert.deepEqual(parseConfigChangeContext(promote), {
      member: member({ id: 14874346569453092021n }),
      isPromote: true,
    });
  });

  test('GET /members: the real etcd 3.4 body, byte for byte (isLearner before name, trailing newline)', () => {
    const body = readFileSync(fixturePath('members-response.body'), 'utf8');
    const members = parseMembersArray(body);
    assert.equal(members[1]?.id, 11123777485364606606n);
    assert.equal(members[1]?.isLearner, true);
    assert.equal(encodeMembersArray([...members].reverse()), body);
    assert.equal(encodeMembersArray([]), 'null\n');
  });

  test('attributes and raft attributes values of the v2 store', () => {
    assert.equal(
      encodeAttributes({ name: 'a', clientUrls: ['http://127.0.0.1:35001'] }),
      '{"name":"a","clientURLs":["http://127.0.0.1:35001"]}',
    );
    assert.equal(encodeAttributes({ name: '', clientUrls: [] }), '{}');
    assert.equal(
      encodeRaftAttributes({ peerUrls: ['http://x'], isLearner: true }),
      '{"peerURLs":["http://x"],"isLearner":true}',
    );
    assert.equal(encodeRaftAttributes({ peerUrls: [], isLearner: false }), '{"peerURLs":null}');
    assert.deepEqual(parseAttributes('{"name":"a"}'), { name: 'a', clientUrls: [] });
    assert.deepEqual(parseRaftAttributes('{"peerURLs":null}'), { peerUrls: [], isLearner: false });
  });

  test("strings are escaped as Go's json.Marshal does", () => {
    const m = member({ name: '<a&b>"\\\t\n\r\u0001\u2028\u2029ü𝄞', peerUrls: ['u'] });
    assert.equal(
      encodeMemberJson(m),
      '{"id":1,"peerURLs":["u"],"name":"\\u003ca\\u0026b\\u003e\\"\\\\\\t\\n\\r\\u0001\\u2028\\u2029ü𝄞"}',
    );
    assert.deepEqual(parseMemberJson(encodeMemberJson(m)), m);
  });

  test('random members round-trip, 64-bit ids exactly', () => {
    const rnd = seededRandom(12);
    for (let i = 0; i < 200; i++) {
      const m = randomMember(rnd);
      assert.deepEqual(parseMemberJson(encodeMemberJson(m)), m);
      assert.deepEqual(parseConfigChangeContext(encodeConfigChangeContext(m, i % 2 === 0)), {
        member: m,
        isPromote: i % 2 === 0,
      });
    }
    assert.equal(parseMemberJson('{"id":18446744073709551615}').id, (1n << 64n) - 1n);
  });

  test("decoding follows Go's Unmarshal: case-insensitive keys, last wins, nulls, unknown keys", () => {
    assert.deepEqual(
      parseMemberJson(
        '{"ID":7,"PeerURLs":["p"],"NAME":"n","extra":{"x":[1,2]},"name":"m","clientURLs":null,"isLearner":null}',
      ),
      member({ id: 7n, peerUrls: ['p'], name: 'm' }),
    );
    assert.deepEqual(parseMemberJson(' {} ').id, 0n);
  });

  test('bad ids and types are refused', () => {
    for (const bad of [
      '{"id":1.5}',
      '{"id":-1}',
      '{"id":18446744073709551616}',
      '{"id":"1"}',
      '{"id":1e3}',
    ]) {
      assert.throws(() => parseMemberJson(bad), WireError, bad);
    }
    for (const bad of [
      '{"peerURLs":"x"}',
      '{"peerURLs":[1]}',
      '{"isLearner":1}',
      '[]',
      '{"id":1',
      '{"id":1}x',
    ]) {
      assert.throws(() => parseMemberJson(bad), WireError, bad);
    }
  });
});
