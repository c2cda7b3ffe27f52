// The shape of the message table the gateway transcodes with: what jsonpb
// (golang/protobuf 1.3, which etcd 3.4's grpc-gateway uses) knows of a field
// through its Go struct tag, and nothing more.

/** Scalar field types that occur in etcd's client protos. */
export type ScalarKind = 'int64' | 'uint64' | 'int32' | 'uint32' | 'bool' | 'string' | 'bytes';

export type FieldKind = ScalarKind | 'enum' | 'message';

export interface FieldSchema {
  /** The .proto name: what etcd's gateway writes (OrigName) and accepts. */
  readonly name: string;
  /** protoc's lowerCamelCase json_name: also accepted on input (it wins when both are given). */
  readonly json: string;
  readonly no: number;
  readonly kind: FieldKind;
  /** Full proto name of the message or enum type. */
  readonly ref?: string;
  readonly repeated?: true;
  /** Name of the oneof the field belongs to. */
  readonly oneof?: string;
}

export interface MessageSchema {
  /** The Go type name, as Go's error messages spell it (e.g. "etcdserverpb.RangeRequest"). */
  readonly go: string;
  /** In declaration order (the Go struct's order, which jsonpb writes in). */
  readonly fields: readonly FieldSchema[];
}

export interface EnumSchema {
  /** The Go type name (e.g. "etcdserverpb.RangeRequest_SortOrder"). */
  readonly go: string;
  readonly values: readonly (readonly [name: string, value: number])[];
}

/** A service method's request and response message types. */
export interface MethodSchema {
  readonly in: string;
  readonly out: string;
}

export interface Schema {
  readonly messages: Readonly<Record<string, MessageSchema>>;
  readonly enums: Readonly<Record<string, EnumSchema>>;
  /** By gRPC method path without the leading slash, e.g. "etcdserverpb.KV/Range". */
  readonly methods: Readonly<Record<string, MethodSchema>>;
}
