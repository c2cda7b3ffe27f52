import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ALL, enc, opDel, opGet, opPut } from './fixtures.js';
import type { RequestOp, TxnRequest } from './types.js';
import { checkTxnDuplicates, validatePutRequest, validateTxnRequest } from './validate.js';

const nested = (success: RequestOp[], failure: RequestOp[] = []): RequestOp => ({
  request: { $case: 'requestTxn', requestTxn: { compare: [], success, failure } },
});
const dupMessage = { message: 'etcdserver: duplicate key given in txn request' };

describe('checkTxnDuplicates', () => {
  test('two puts of one key in a branch', () => {
    assert.throws(() => checkTxnDuplicates({ success: [opPut('a', '1'), opPut('a', '2')] }), dupMessage);
    assert.throws(() => checkTxnDuplicates({ failure: [opPut('a', '1'), opPut('a', '2')] }), dupMessage);
  });

  test('the same key in success and failure is fine', () => {
    checkTxnDuplicates({ success: [opPut('a', '1')], failure: [opPut('a', '2')] });
  });

  test('put inside a deleted range, also across nesting', () => {
    assert.throws(() => checkTxnDuplicates({ success: [opDel('a', enc('c')), opPut('b', '1')] }), dupMessage);
    assert.throws(() => checkTxnDuplicates({ success: [opDel('b'), opPut('b', '1')] }), dupMessage);
    assert.throws(
      () => checkTxnDuplicates({ success: [opDel('a', enc('c')), nested([opPut('b', '1')])] }),
      dupMessage,
    );
    assert.throws(() => checkTxnDuplicates({ success: [nested([opDel('b')]), opPut('b', '1')] }), dupMessage);
    checkTxnDuplicates({ success: [opDel('a', enc('c')), opPut('c', '1')] });
  });

  test('puts across nested txns', () => {
    assert.throws(
      () => checkTxnDuplicates({ success: [nested([opPut('a', '1')]), opPut('a', '2')] }),
      dupMessage,
    );
    assert.throws(
      () => checkTxnDuplicates({ success: [nested([opPut('a', '1')]), nested([], [opPut('a', '2')])] }),
      dupMessage,
    );
    // then/else of one nested txn may share a key.
    checkTxnDuplicates({ success: [nested([opPut('a', '1')], [opPut('a', '2')])] });
  });

  test('a "from key" delete ("\\0" end) does not conflict, as in etcd 3.4', () => {
    checkTxnDuplicates({ success: [opDel('a', ALL), opPut('b', '1')] });
  });

  test('reads never conflict', () => {
    checkTxnDuplicates({ success: [opGet('a'), opGet('a'), opPut('a', '1')] });
  });
});

describe('validateTxnRequest / validatePutRequest', () => {
  test('too many ops, counted per list and shrinking for nested txns', () => {
    const many = (n: number, prefix = 'k') =>
      Array.from({ length: n }, (_, i) => opPut(`${prefix}${i}`, 'v'));
    validateTxnRequest({ success: many(128) });
    assert.throws(() => validateTxnRequest({ success: many(129) }), {
      message: 'etcdserver: too many operations in txn request',
    });
    assert.throws(() => validateTxnRequest({ success: [...many(2), nested(many(3, 'n'))] }, 4), {
      code: 'too-many-ops',
    });
    validateTxnRequest({ success: [...many(2), nested(many(1, 'n'))] }, 4);
  });

  test('empty keys and empty ops', () => {
    const req: TxnRequest = { compare: [{ result: 0, target: 0, key: new Uint8Array(0) }] };
    assert.throws(() => validateTxnRequest(req), { message: 'etcdserver: key is not provided' });
    assert.throws(() => validateTxnRequest({ success: [{}] }), { message: 'etcdserver: key not found' });
  });

  test('ignore_value / ignore_lease with a value or lease given', () => {
    assert.throws(() => validatePutRequest({ key: enc('a'), value: enc('x'), ignoreValue: true }), {
      message: 'etcdserver: value is provided',
    });
    assert.throws(() => validatePutRequest({ key: enc('a'), lease: 5n, ignoreLease: true }), {
      message: 'etcdserver: lease is provided',
    });
    validatePutRequest({ key: enc('a'), ignoreValue: true, ignoreLease: true });
  });
});
