import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { computeClusterId, computeMemberId, formatId, idsFromInitialCluster, parseId } from './ids.js';

describe('member and cluster ids (etcd membership rules)', () => {
  test("the tutorial's single member: c9ac9fc89eae9cf7 in cluster 17478742799590499669", () => {
    const member = computeMemberId(['http://localhost:12380'], 'etcd-cluster');
    assert.equal(formatId(member), 'c9ac9fc89eae9cf7');
    assert.equal(member, 14532165781622267127n);
    assert.equal(computeClusterId([member]), 17478742799590499669n);
  });
  test("the tutorial's three TLS members", () => {
    const ids = [3380, 4380, 5380].map((p) =>
      formatId(computeMemberId([`https://127.0.0.1:${p}`], 'etcd-cluster-1')),
    );
    assert.deepEqual(ids, ['1701f7e3861531d4', '6a58b5afdcebd95d', '84a1a2f39cda4029']);
  });
  test('ids a real etcd 3.4 printed for a single member on 127.0.0.1:23800', () => {
    const { members, clusterId } = idsFromInitialCluster(
      new Map([['cfgh', ['http://127.0.0.1:23800']]]),
      'etcd-cluster',
    );
    assert.equal(formatId(members.get('cfgh') ?? 0n), '2e1259d415f2a040');
    assert.equal(formatId(clusterId), '48276a8f75b6a87');
  });
  test('peer URL order does not matter; token and time do', () => {
    const a = computeMemberId(['http://b:1', 'http://a:1'], 't');
    assert.equal(a, computeMemberId(['http://a:1', 'http://b:1'], 't'));
    assert.notEqual(a, computeMemberId(['http://a:1', 'http://b:1'], 'u'));
    assert.notEqual(computeMemberId(['http://a:1'], ''), computeMemberId(['http://a:1'], '', 1700000000));
  });
  test('cluster id does not depend on member order', () => {
    assert.equal(computeClusterId([1n, 2n, 3n]), computeClusterId([3n, 1n, 2n]));
    assert.notEqual(computeClusterId([1n, 2n]), computeClusterId([1n, 3n]));
  });
  test('invariants are enforced', () => {
    assert.throws(() => computeMemberId([], 't'));
    assert.throws(() => computeClusterId([1n << 64n]));
    assert.equal(parseId('c9ac9fc89eae9cf7'), 14532165781622267127n);
    assert.throws(() => parseId('xyz'));
  });
});
