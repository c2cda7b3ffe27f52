/**
 * gRPC status codes (the numbers are part of the protocol) and the error type
 * handlers throw to end a call with a specific status.
 */
import { decodeGrpcMessage, encodeGrpcMessage, GRPC_STATUS } from '../../util/grpc-wire.js';

export const Status = GRPC_STATUS;

export type StatusCode = (typeof Status)[keyof typeof Status];

/** Throw (or reject with) this from a handler to choose the call's status. */
export class GrpcError extends Error {
  readonly code: StatusCode;

  constructor(code: StatusCode, message: string) {
    super(message);
    if (!Number.isInteger(code) || code < 1 || code > 16) {
      throw new RangeError(`GrpcError needs a non-OK status code, got ${code}`);
    }
    this.name = 'GrpcError';
    this.code = code;
  }
}

/**
 * Maps anything a handler threw to a status. Only GrpcError chooses its code;
 * any other exception is a server bug and becomes UNKNOWN, as grpc-go does for
 * plain errors returned by a handler.
 */
export function toStatus(err: unknown): { code: StatusCode; message: string } {
  if (err instanceof GrpcError) return { code: err.code, message: err.message };
  if (err instanceof Error) return { code: Status.UNKNOWN, message: err.message };
  return { code: Status.UNKNOWN, message: String(err) };
}

export { decodeGrpcMessage, encodeGrpcMessage };
