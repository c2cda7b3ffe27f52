import { decodeGrpcMessage, encodeGrpcMessage, GRPC_STATUS, goCodeName } from '../util/grpc-wire.js';

/** gRPC status codes (https://grpc.github.io/grpc/core/md_doc_statuscodes.html). */
export const GrpcCode = GRPC_STATUS;

/** Go's names for the codes, as they appear in "rpc error: code = X desc = Y". */
export { goCodeName };

/** A call that ended with a non-OK grpc-status (or failed locally in a way mapped to one). */
export class GrpcError extends Error {
  readonly code: number;
  readonly details: string;
  /** True when the request never reached a server, so retrying it elsewhere is always safe. */
  readonly notSent: boolean;

  constructor(code: number, details: string, notSent = false) {
    super(details);
    this.name = 'GrpcError';
    this.code = code;
    this.details = details;
    this.notSent = notSent;
  }

  /** The text Go's grpc status error prints. */
  goString(): string {
    return `rpc error: code = ${goCodeName(this.code)} desc = ${this.details}`;
  }
}

/**
 * The client could not authenticate with its configured user and password
 * (etcd's Go client fails to connect then, and etcdctl exits as for a bad
 * connection).
 */
export class AuthenticationFailed extends GrpcError {
  constructor(cause: GrpcError) {
    super(cause.code, cause.details, cause.notSent);
    this.name = 'AuthenticationFailed';
  }
}

export { decodeGrpcMessage, encodeGrpcMessage };
