// Between JSON and the services' message objects, always through protobuf
// bytes: JSON → bytes (jsonpb's reading) → the method's own decoder, and the
// method's own encoder → bytes → JSON (jsonpb's writing). The services see
// exactly the objects a gRPC client's bytes would give them, and the JSON
// holds exactly what a gRPC client would receive.
import { GrpcError, Status } from '../../grpc/status.js';
import type { GoJson } from './json/go-json.js';
import { JsonToWire } from './json/json-to-wire.js';
import { WireToJson } from './json/wire-to-json.js';
import type { BoundMethod } from './registry.js';
import { ETCD_SCHEMA } from './schema/etcd-schema.gen.js';
import type { MethodSchema } from './schema/types.js';

const toWire = new JsonToWire(ETCD_SCHEMA);
const toJson = new WireToJson(ETCD_SCHEMA);

/** The request and response types of a gRPC method path ("/etcdserverpb.KV/Range"). */
export function methodTypes(grpcPath: string): MethodSchema | undefined {
  return ETCD_SCHEMA.methods[grpcPath.slice(1)];
}

/** jsonpb's reading of a request (null = the empty message). Throws JsonpbError or GoJsonError. */
export function requestBytes(types: MethodSchema, value: GoJson): Uint8Array {
  return toWire.encode(types.in, value);
}

/** grpc-go's refusal of a message above the server's limit. */
export function tooLarge(size: number, limit: number): GrpcError {
  return new GrpcError(
    Status.RESOURCE_EXHAUSTED,
    `grpc: received message larger than max (${size} vs. ${limit})`,
  );
}

/** What the gRPC server would do with these bytes: refuse them if too large, else decode them. */
export function decodeRequest(m: BoundMethod, bytes: Uint8Array, limit: number): unknown {
  if (bytes.length > limit) throw tooLarge(bytes.length, limit);
  try {
    return m.def.requestType.decode(bytes);
  } catch (err) {
    const reason = err instanceof Error ? err.message : String(err);
    throw new GrpcError(Status.INTERNAL, `grpc: error unmarshalling request: ${reason}`);
  }
}

/** A response object as etcd's gateway writes it. */
export function responseJson(m: BoundMethod, types: MethodSchema, message: unknown): string {
  let bytes: Uint8Array;
  try {
    bytes = m.def.responseType.encode(message).finish();
  } catch (err) {
    const reason = err instanceof Error ? err.message : String(err);
    throw new GrpcError(Status.INTERNAL, `grpc: error while marshaling: ${reason}`);
  }
  return toJson.toJson(types.out, bytes);
}
