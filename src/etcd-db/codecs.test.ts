import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { AlarmType } from '../pb/etcdserverpb/rpc.js';
import {
  decodeCompactRev,
  decodeMember,
  encodeCompactRev,
  encodeMember,
  etcdAlarmKey,
  fromEtcdAlarmKey,
  fromOurAlarmKey,
  memberKey,
  ourAlarmKey,
} from './codecs.js';

describe('etcd db codecs', () => {
  test('a member is written byte for byte as etcd 3.4 wrote it', () => {
    // Read from a real etcd 3.4.23 member/snap/db (bucket "members").
    const real =
      '{"id":10374503385140266822,"peerURLs":["http://127.0.0.1:38380"],"name":"e1","clientURLs":["http://127.0.0.1:38379"]}';
    const m = {
      id: 10374503385140266822n,
      name: 'e1',
      peerUrls: ['http://127.0.0.1:38380'],
      clientUrls: ['http://127.0.0.1:38379'],
      isLearner: false,
    };
    assert.equal(encodeMember(m).toString(), real);
    assert.equal(memberKey(m.id).toString(), '8ff9a3dcc05f8746');
    assert.deepEqual(decodeMember(memberKey(m.id), Buffer.from(real)), m);
  });

  test('an unstarted learner: isLearner after peerURLs, empty name and client URLs omitted', () => {
    const m = { id: 1n, name: '', peerUrls: ['http://a<b'], clientUrls: [], isLearner: true };
    assert.equal(encodeMember(m).toString(), '{"id":1,"peerURLs":["http://a\\u003cb"],"isLearner":true}');
    assert.deepEqual(decodeMember(memberKey(1n), encodeMember(m)), { ...m, peerUrls: ['http://a<b'] });
  });

  test('alarm keys convert between etcd (protobuf) and etcd-ts (fixed 12 bytes)', () => {
    const a = { memberID: 0x8e9e05c52164694dn, alarm: AlarmType.NOSPACE };
    const etcd = etcdAlarmKey(a);
    assert.equal(etcd.toString('hex'), '08cdd2918bd2b881cf8e011001');
    assert.deepEqual(fromEtcdAlarmKey(etcd), a);
    assert.deepEqual(fromOurAlarmKey(ourAlarmKey(a)), a);
  });

  test('compaction marks are 17-byte revisions {main, 0}', () => {
    assert.equal(encodeCompactRev(3).toString('hex'), '00000000000000035f0000000000000000');
    assert.equal(decodeCompactRev(encodeCompactRev(123456789), 'x'), 123456789);
    assert.throws(() => decodeCompactRev(Buffer.alloc(8), 'finishedCompactRev'), /17-byte/);
  });
});
