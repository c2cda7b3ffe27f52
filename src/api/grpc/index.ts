/** Public surface of the gRPC layer. */
export { encodeFrame, FrameReader, frameBytes, type MessageCodec } from './framing.js';
export type { PlainHttpHandler } from './plain-http.js';
export { GrpcServer, type GrpcServerOptions, type GrpcTransport } from './server.js';
export {
  decodeGrpcMessage,
  encodeGrpcMessage,
  GrpcError,
  Status,
  type StatusCode,
  toStatus,
} from './status.js';
export type {
  BidiStreamHandler,
  CallContext,
  ClientStreamHandler,
  HandlerFor,
  ResponseSink,
  ServerStreamHandler,
  ServiceDefinition,
  ServiceImplementation,
  UnaryHandler,
} from './types.js';
