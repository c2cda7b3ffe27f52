// The auth requests' place in etcd's InternalRaftRequest (raft_internal.proto):
// field numbers 1000-1204 and their messages, including the two etcd adds
// around rpc.proto's: InternalAuthenticateRequest (name 1, password 2,
// simple_token 3) and the hashed password etcd 3.5 appends to user add (field
// 4) and password change (field 3), which etcd 3.4 members skip as unknown.
import { BinaryReader, type BinaryWriter, WireType } from '@bufbuild/protobuf/wire';
import type { AuthOp, AuthOpType, InternalAuthenticateRequest } from '../auth/index.js';
import {
  AuthDisableRequest,
  AuthEnableRequest,
  AuthRoleAddRequest,
  AuthRoleDeleteRequest,
  AuthRoleGetRequest,
  AuthRoleGrantPermissionRequest,
  AuthRoleListRequest,
  AuthRoleRevokePermissionRequest,
  AuthUserAddRequest,
  AuthUserChangePasswordRequest,
  AuthUserDeleteRequest,
  AuthUserGetRequest,
  AuthUserGrantRoleRequest,
  AuthUserListRequest,
  AuthUserRevokeRoleRequest,
} from '../pb/etcdserverpb/rpc.js';

export const AUTH_FIELDS: Readonly<Record<AuthOpType, number>> = {
  authEnable: 1000,
  authDisable: 1011,
  authenticate: 1012,
  userAdd: 1100,
  userDelete: 1101,
  userGet: 1102,
  userChangePassword: 1103,
  userGrantRole: 1104,
  userRevokeRole: 1105,
  userList: 1106,
  roleList: 1107,
  roleAdd: 1200,
  roleDelete: 1201,
  roleGet: 1202,
  roleGrantPermission: 1203,
  roleRevokePermission: 1204,
};

const TYPE_OF_FIELD = new Map<number, AuthOpType>(
  Object.entries(AUTH_FIELDS).map(([type, field]) => [field, type as AuthOpType]),
);

const USER_ADD_HASHED_PASSWORD = 4;
const CHANGE_PASSWORD_HASHED_PASSWORD = 3;

function encodeAuthenticate(r: InternalAuthenticateRequest, w: BinaryWriter): void {
  if (r.name !== '') w.tag(1, WireType.LengthDelimited).string(r.name);
  if (r.password !== '') w.tag(2, WireType.LengthDelimited).string(r.password);
  if (r.simpleToken !== '') w.tag(3, WireType.LengthDelimited).string(r.simpleToken);
}

function decodeAuthenticate(body: Uint8Array): InternalAuthenticateRequest {
  const out: InternalAuthenticateRequest = { name: '', password: '', simpleToken: '' };
  const r = new BinaryReader(body);
  while (r.pos < r.len) {
    const [field, wt] = r.tag();
    if (wt !== WireType.LengthDelimited || field < 1 || field > 3) {
      r.skip(wt);
      continue;
    }
    const s = r.string();
    if (field === 1) out.name = s;
    else if (field === 2) out.password = s;
    else out.simpleToken = s;
  }
  return out;
}

/** The last string at `field` of a message ("" when absent). */
function stringField(body: Uint8Array, field: number): string {
  const r = new BinaryReader(body);
  let out = '';
  while (r.pos < r.len) {
    const [f, wt] = r.tag();
    if (f === field && wt === WireType.LengthDelimited) out = r.string();
    else r.skip(wt);
  }
  return out;
}

/** Writes the op's message as the body of its InternalRaftRequest field. */
export function encodeAuthOp(op: AuthOp, w: BinaryWriter): void {
  const body = w.tag(AUTH_FIELDS[op.type], WireType.LengthDelimited).fork();
  switch (op.type) {
    case 'authEnable':
      AuthEnableRequest.encode(op.req, body);
      break;
    case 'authDisable':
      AuthDisableRequest.encode(op.req, body);
      break;
    case 'authenticate':
      encodeAuthenticate(op.req, body);
      break;
    case 'userAdd': {
      const { hashedPassword, ...req } = op.req;
      AuthUserAddRequest.encode(req, body);
      if (hashedPassword !== '')
        body.tag(USER_ADD_HASHED_PASSWORD, WireType.LengthDelimited).string(hashedPassword);
      break;
    }
    case 'userDelete':
      AuthUserDeleteRequest.encode(op.req, body);
      break;
    case 'userGet':
      AuthUserGetRequest.encode(op.req, body);
      break;
    case 'userChangePassword': {
      const { hashedPassword, ...req } = op.req;
      AuthUserChangePasswordRequest.encode(req, body);
      if (hashedPassword !== '') {
        body.tag(CHANGE_PASSWORD_HASHED_PASSWORD, WireType.LengthDelimited).string(hashedPassword);
      }
      break;
    }
    case 'userGrantRole':
      AuthUserGrantRoleRequest.encode(op.req, body);
      break;
    case 'userRevokeRole':
      AuthUserRevokeRoleRequest.encode(op.req, body);
      break;
    case 'userList':
      AuthUserListRequest.encode(op.req, body);
      break;
    case 'roleList':
      AuthRoleListRequest.encode(op.req, body);
      break;
    case 'roleAdd':
      AuthRoleAddRequest.encode(op.req, body);
      break;
    case 'roleDelete':
      AuthRoleDeleteRequest.encode(op.req, body);
      break;
    case 'roleGet':
      AuthRoleGetRequest.encode(op.req, body);
      break;
    case 'roleGrantPermission':
      AuthRoleGrantPermissionRequest.encode(op.req, body);
      break;
    case 'roleRevokePermission':
      AuthRoleRevokePermissionRequest.encode(op.req, body);
      break;
  }
  body.join();
}

/** The auth op in InternalRaftRequest field `field`, or undefined if the field is not an auth one. */
export function decodeAuthOp(field: number, body: Uint8Array): AuthOp | undefined {
  const type = TYPE_OF_FIELD.get(field);
  switch (type) {
    case undefined:
      return undefined;
    case 'authEnable':
      return { type, req: AuthEnableRequest.decode(body) };
    case 'authDisable':
      return { type, req: AuthDisableRequest.decode(body) };
    case 'authenticate':
      return { type, req: decodeAuthenticate(body) };
    case 'userAdd':
      return {
        type,
        req: {
          ...AuthUserAddRequest.decode(body),
          hashedPassword: stringField(body, USER_ADD_HASHED_PASSWORD),
        },
      };
    case 'userDelete':
      return { type, req: AuthUserDeleteRequest.decode(body) };
    case 'userGet':
      return { type, req: AuthUserGetRequest.decode(body) };
    case 'userChangePassword':
      return {
        type,
        req: {
          ...AuthUserChangePasswordRequest.decode(body),
          hashedPassword: stringField(body, CHANGE_PASSWORD_HASHED_PASSWORD),
        },
      };
    case 'userGrantRole':
      return { type, req: AuthUserGrantRoleRequest.decode(body) };
    case 'userRevokeRole':
      return { type, req: AuthUserRevokeRoleRequest.decode(body) };
    case 'userList':
      return { type, req: AuthUserListRequest.decode(body) };
    case 'roleList':
      return { type, req: AuthRoleListRequest.decode(body) };
    case 'roleAdd':
      return { type, req: AuthRoleAddRequest.decode(body) };
    case 'roleDelete':
      return { type, req: AuthRoleDeleteRequest.decode(body) };
    case 'roleGet':
      return { type, req: AuthRoleGetRequest.decode(body) };
    case 'roleGrantPermission':
      return { type, req: AuthRoleGrantPermissionRequest.decode(body) };
    case 'roleRevokePermission':
      return { type, req: AuthRoleRevokePermissionRequest.decode(body) };
  }
}
