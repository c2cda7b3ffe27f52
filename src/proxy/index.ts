export { type GrpcProxyOptions, type RunningGrpcProxy, splitHostPort, startGrpcProxy } from './grpc-proxy.js';
export { Namespace, prefixEnd } from './namespace.js';
export { ProxyMetrics } from './proxy-metrics.js';
export { RangeCache } from './range-cache.js';
