import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { AuthOp } from '../auth/index.js';
import { Permission_Type } from '../pb/authpb/auth.js';
import { AUTH_FIELDS } from './auth-request-codec.js';
import { decodeInternalRequest, encodeInternalRequest } from './internal-request.js';

const ops: AuthOp[] = [
  { type: 'authEnable', req: {} },
  { type: 'authDisable', req: {} },
  { type: 'authenticate', req: { name: 'alice', password: '', simpleToken: 'AbCdEfGhIjKlMnOp' } },
  {
    type: 'userAdd',
    req: { name: 'alice', password: 'pw', options: { noPassword: false }, hashedPassword: 'JDJhJDA0' },
  },
  { type: 'userDelete', req: { name: 'alice' } },
  { type: 'userGet', req: { name: 'alice' } },
  { type: 'userChangePassword', req: { name: 'alice', password: 'pw2', hashedPassword: 'JDJhJDA1' } },
  { type: 'userGrantRole', req: { user: 'alice', role: 'r' } },
  { type: 'userRevokeRole', req: { name: 'alice', role: 'r' } },
  { type: 'userList', req: {} },
  { type: 'roleList', req: {} },
  { type: 'roleAdd', req: { name: 'r' } },
  { type: 'roleDelete', req: { role: 'r' } },
  { type: 'roleGet', req: { role: 'r' } },
  {
    type: 'roleGrantPermission',
    req: {
      name: 'r',
      perm: { permType: Permission_Type.READWRITE, key: Buffer.from('a'), rangeEnd: Buffer.from('b') },
    },
  },
  { type: 'roleRevokePermission', req: { role: 'r', key: Buffer.from('a'), rangeEnd: Buffer.from('b') } },
];

describe('auth requests in raft entries', () => {
  test("every auth op and the sender survive encoding, at etcd's field numbers", () => {
    for (const op of ops) {
      const bytes = encodeInternalRequest({
        id: 42n,
        op: { kind: 'auth', req: op },
        auth: { username: 'root', revision: 7 },
      });
      const back = decodeInternalRequest(bytes);
      assert.equal(back.id, 42n);
      assert.deepEqual(back.auth, { username: 'root', revision: 7 });
      assert.deepEqual(back.op, { kind: 'auth', req: op }, op.type);
      // The op's field comes right after the header: its tag is the varint of (field << 3) | 2.
      const header = bytes.subarray(0, 3 + (bytes[2] ?? 0));
      let tag = (AUTH_FIELDS[op.type] << 3) | 2;
      const expected: number[] = [];
      while (tag >= 0x80) {
        expected.push((tag & 0x7f) | 0x80);
        tag >>>= 7;
      }
      expected.push(tag);
      assert.deepEqual(
        [...bytes.subarray(header.length, header.length + expected.length)],
        expected,
        op.type,
      );
    }
  });

  test('RequestHeader is {ID 1, username 2, auth_revision 3}; no credentials write nothing extra', () => {
    const anonymous = encodeInternalRequest({
      id: 1n,
      op: { kind: 'auth', req: { type: 'userList', req: {} } },
    });
    // Field 100 (a2 06), 2 bytes: ID 1 (08 01); then field 1106, userList (92 45), empty.
    assert.equal(Buffer.from(anonymous).toString('hex'), 'a206020801924500');
    const signed = encodeInternalRequest({
      id: 1n,
      op: { kind: 'auth', req: { type: 'userList', req: {} } },
      auth: { username: 'ab', revision: 3 },
    });
    // ... 8 bytes: ID 1 (08 01), username "ab" (12 02 61 62), auth_revision 3 (18 03).
    assert.equal(Buffer.from(signed).toString('hex'), 'a2060808011202616218039245' + '00');
    assert.equal(decodeInternalRequest(anonymous).auth, undefined);
  });

  test('a put carrying credentials keeps them (the fast path is for anonymous puts only)', () => {
    const req = {
      key: Buffer.from('k'),
      value: Buffer.from('v'),
      lease: 0n,
      prevKv: false,
      ignoreValue: false,
      ignoreLease: false,
    };
    const back = decodeInternalRequest(
      encodeInternalRequest({ id: 9n, op: { kind: 'put', req }, auth: { username: 'u', revision: 2 } }),
    );
    assert.deepEqual(back.auth, { username: 'u', revision: 2 });
    assert.equal(back.op.kind, 'put');
  });
});
