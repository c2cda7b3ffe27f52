// The proxy's own figures, under etcd's names (etcd_grpc_proxy_*), plus two
// of ours that tests and operators use to see what reached the cluster.
export class ProxyMetrics {
  /** Watchers currently sharing another watcher's upstream watch. */
  watchersCoalescing = 0;
  /** Events delivered to more than one watcher from one upstream event (the extra copies). */
  eventsCoalescing = 0;
  cacheKeys = 0;
  cacheHits = 0;
  cacheMisses = 0;
  /** Upstream watches open now (one per broadcast). */
  upstreamWatches = 0;
  /** Range requests sent to the cluster (cache misses and linearizable reads). */
  upstreamRanges = 0;

  /** Prometheus text format. */
  text(): string {
    const lines: string[] = [];
    const put = (name: string, type: 'gauge' | 'counter', help: string, value: number) => {
      lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`, `${name} ${value}`);
    };
    put('etcd_grpc_proxy_cache_hits_total', 'gauge', 'Total number of cache hits', this.cacheHits);
    put('etcd_grpc_proxy_cache_keys_total', 'gauge', 'Total number of keys/ranges cached', this.cacheKeys);
    put('etcd_grpc_proxy_cache_misses_total', 'gauge', 'Total number of cache misses', this.cacheMisses);
    put(
      'etcd_grpc_proxy_events_coalescing_total',
      'counter',
      'Total number of events coalescing',
      this.eventsCoalescing,
    );
    put(
      'etcd_grpc_proxy_watchers_coalescing_total',
      'gauge',
      'Total number of current watchers coalescing',
      this.watchersCoalescing,
    );
    put(
      'etcdts_grpc_proxy_upstream_watches',
      'gauge',
      'Watches the proxy holds open on the cluster (etcd-ts only)',
      this.upstreamWatches,
    );
    put(
      'etcdts_grpc_proxy_upstream_ranges_total',
      'counter',
      'Range requests the proxy sent to the cluster (etcd-ts only)',
      this.upstreamRanges,
    );
    return `${lines.join('\n')}\n`;
  }
}

/** Names of the families above: dropped from an upstream body before ours are appended. */
export const PROXY_FAMILY = /^(# (HELP|TYPE) )?etcdt?s?_grpc_proxy_/;
