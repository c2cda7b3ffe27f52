export type { Endpoint } from './endpoint.js';
export { parseEndpoint } from './endpoint.js';
export { EtcdClient, type EtcdClientOptions } from './etcd-client.js';
export { AuthenticationFailed, GrpcCode, GrpcError, goCodeName } from './grpc-status.js';
export type { CallOptions, ServiceStub, TypedStream } from './service-stub.js';
export type { TlsOptions } from './tls-options.js';
