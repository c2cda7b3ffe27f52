// The member's Prometheus metrics with etcd 3.4's names (docs/decisions/0017-metrics.md).
export { exponentialBuckets } from './buckets.js';
export { etcdGrpcMethods, GRPC_CODE_NAMES } from './grpc-methods.js';
export { GrpcMetrics } from './grpc-observer.js';
export { MemberMetrics, type MemberMetricsOptions, type MetricsLevel } from './member-metrics.js';
export type { MetricsSource, WatchCounts } from './source.js';
export { countStoreOps, type StoreCounters } from './store-observer.js';
