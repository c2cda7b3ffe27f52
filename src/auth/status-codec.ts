// etcd 3.5's Auth.AuthStatus, which etcd 3.4's protos lack: the request is
// empty; the response is {header 1, enabled 2, auth_revision 3}. Written by
// hand so that src/pb stays generated from etcd 3.4's protos. The server's
// Auth service and etcdctl's `auth status` share it.
import { BinaryReader, BinaryWriter, WireType } from '@bufbuild/protobuf/wire';
import { ResponseHeader } from '../pb/etcdserverpb/rpc.js';

// biome-ignore lint/complexity/noBannedTypes: the request has no fields
export type AuthStatusRequest = {};

export interface AuthStatusResponse {
  header?: ResponseHeader | undefined;
  enabled: boolean;
  authRevision: number;
}

export const AuthStatusRequest = {
  encode(_m: AuthStatusRequest, writer: BinaryWriter = new BinaryWriter()): BinaryWriter {
    return writer;
  },
  decode(input: Uint8Array, length?: number): AuthStatusRequest {
    const r = new BinaryReader(input);
    const end = length === undefined ? r.len : r.pos + length;
    while (r.pos < end) r.skip(r.tag()[1]);
    return {};
  },
};

export const AuthStatusResponse = {
  encode(m: AuthStatusResponse, writer: BinaryWriter = new BinaryWriter()): BinaryWriter {
    if (m.header !== undefined)
      ResponseHeader.encode(m.header, writer.tag(1, WireType.LengthDelimited).fork()).join();
    if (m.enabled) writer.tag(2, WireType.Varint).bool(true);
    if (m.authRevision !== 0) writer.tag(3, WireType.Varint).uint64(m.authRevision);
    return writer;
  },
  decode(input: Uint8Array, length?: number): AuthStatusResponse {
    const r = new BinaryReader(input);
    const end = length === undefined ? r.len : r.pos + length;
    const out: AuthStatusResponse = { enabled: false, authRevision: 0 };
    while (r.pos < end) {
      const [field, wt] = r.tag();
      if (field === 1 && wt === WireType.LengthDelimited) out.header = ResponseHeader.decode(r, r.uint32());
      else if (field === 2 && wt === WireType.Varint) out.enabled = r.bool();
      else if (field === 3 && wt === WireType.Varint) out.authRevision = Number(r.uint64());
      else r.skip(wt);
    }
    return out;
  },
};
