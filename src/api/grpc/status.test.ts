import assert from 'node:assert/strict';
import { test } from 'node:test';
import { decodeGrpcMessage, encodeGrpcMessage, GrpcError, Status, toStatus } from './status.js';
import { parseGrpcTimeout } from './timeout.js';

test('grpc-message percent-encoding keeps printable ASCII and escapes the rest', () => {
  assert.equal(encodeGrpcMessage('etcdserver: key not found'), 'etcdserver: key not found');
  assert.equal(encodeGrpcMessage('100%\n'), '100%25%0A');
  assert.equal(encodeGrpcMessage('é'), '%C3%A9');
  for (const s of ['a%b', 'tab\there', 'ünïcödé ✓', ''])
    assert.equal(decodeGrpcMessage(encodeGrpcMessage(s)), s);
});

test('toStatus: GrpcError keeps its code, other errors are UNKNOWN', () => {
  assert.deepEqual(toStatus(new GrpcError(Status.NOT_FOUND, 'nope')), {
    code: Status.NOT_FOUND,
    message: 'nope',
  });
  assert.deepEqual(toStatus(new Error('boom')), { code: Status.UNKNOWN, message: 'boom' });
  assert.throws(() => new GrpcError(Status.OK, 'x'), RangeError);
});

test('grpc-timeout parsing', () => {
  assert.equal(parseGrpcTimeout(undefined), undefined);
  assert.equal(parseGrpcTimeout('5S'), 5000);
  assert.equal(parseGrpcTimeout('250m'), 250);
  assert.equal(parseGrpcTimeout('1u'), 1);
  assert.equal(parseGrpcTimeout('2M'), 120_000);
  assert.equal(parseGrpcTimeout('99999999H'), undefined);
  assert.throws(() => parseGrpcTimeout('5s'));
  assert.throws(() => parseGrpcTimeout('S'));
  assert.throws(() => parseGrpcTimeout('123456789S'));
});
