/** gRPC status codes (https://grpc.github.io/grpc/core/md_doc_statuscodes.html). */
export const GrpcCode = {
  OK: 0,
  CANCELLED: 1,
  UNKNOWN: 2,
  INVALID_ARGUMENT: 3,
  DEADLINE_EXCEEDED: 4,
  NOT_FOUND: 5,
  ALREADY_EXISTS: 6,
  PERMISSION_DENIED: 7,
  RESOURCE_EXHAUSTED: 8,
  FAILED_PRECONDITION: 9,
  ABORTED: 10,
  OUT_OF_RANGE: 11,
  UNIMPLEMENTED: 12,
  INTERNAL: 13,
  UNAVAILABLE: 14,
  DATA_LOSS: 15,
  UNAUTHENTICATED: 16,
} as const;

/** Go's names for the codes, as they appear in "rpc error: code = X desc = Y". */
const GO_CODE_NAMES = [
  'OK',
  'Canceled',
  'Unknown',
  'InvalidArgument',
  'DeadlineExceeded',
  'NotFound',
  'AlreadyExists',
  'PermissionDenied',
  'ResourceExhausted',
  'FailedPrecondition',
  'Aborted',
  'OutOfRange',
  'Unimplemented',
  'Internal',
  'Unavailable',
  'DataLoss',
  'Unauthenticated',
];

export function goCodeName(code: number): string {
  return GO_CODE_NAMES[code] ?? `Code(${code})`;
}

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

/** grpc-message is percent-encoded (RFC 3986 style) on the wire. */
export function decodeGrpcMessage(raw: string): string {
  if (!raw.includes('%')) return raw;
  try {
    return decodeURIComponent(raw);
  } catch {
    return raw;
  }
}

/** Percent-encodes the bytes gRPC does not allow verbatim in grpc-message. */
export function encodeGrpcMessage(text: string): string {
  let out = '';
  for (const byte of Buffer.from(text, 'utf8')) {
    if (byte >= 0x20 && byte <= 0x7e && byte !== 0x25) out += String.fromCharCode(byte);
    else out += `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}
