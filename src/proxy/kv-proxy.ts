// etcdserverpb.KV through the proxy: serializable ranges from the cache, every
// other call upstream; writes invalidate what they touch (a txn also what its
// compares name, since it may report an outdated key as changed), and ranges
// that went upstream refill the cache. Keys are moved under --namespace
// between the cache (which sees the caller's keys) and the cluster.

import { GrpcError, Status } from '../api/grpc/status.js';
import type { CallContext, ServiceImplementation } from '../api/grpc/types.js';
import type { EtcdClient } from '../client/index.js';
import type {
  CompactionRequest,
  DeleteRangeRequest,
  KVDefinition,
  PutRequest,
  RangeRequest,
  RangeResponse,
  RequestOp,
  ResponseOp,
  TxnRequest,
} from '../pb/etcdserverpb/rpc.js';
import { upstream, upstreamOptions } from './forward.js';
import type { Namespace } from './namespace.js';
import type { ProxyMetrics } from './proxy-metrics.js';
import { CompactedError, type RangeCache } from './range-cache.js';

function requireKey(key: Uint8Array): void {
  if (key.length === 0) throw new GrpcError(Status.INVALID_ARGUMENT, 'etcdserver: key is not provided');
}

export function kvProxy(
  client: EtcdClient,
  cache: RangeCache,
  ns: Namespace,
  metrics: ProxyMetrics,
): ServiceImplementation<typeof KVDefinition> {
  const settle = () => {
    metrics.cacheKeys = cache.size;
  };

  const rangeUpstream = async (req: RangeRequest, ctx: CallContext): Promise<RangeResponse> => {
    metrics.upstreamRanges++;
    const resp = await upstream(() =>
      client.kv.range(ns.enabled ? ns.range(req) : req, upstreamOptions(ctx)),
    );
    return ns.enabled ? ns.rangeResponse(resp) : resp;
  };

  /** Ranges a txn read are cached; its writes invalidate. */
  const txnToCache = (ops: RequestOp[], responses: ResponseOp[]) => {
    responses.forEach((r, i) => {
      const op = ops[i]?.request;
      const resp = r.response;
      if (op === undefined || resp === undefined) return;
      if (op.$case === 'requestPut') cache.invalidate(op.requestPut.key, Buffer.alloc(0));
      else if (op.$case === 'requestDeleteRange')
        cache.invalidate(op.requestDeleteRange.key, op.requestDeleteRange.rangeEnd);
      else if (op.$case === 'requestRange' && resp.$case === 'responseRange')
        cache.add({ ...op.requestRange, serializable: true }, resp.responseRange);
    });
  };

  return {
    range: async (req, ctx) => {
      requireKey(req.key);
      if (req.serializable) {
        let hit: RangeResponse | undefined;
        try {
          hit = cache.get(req);
        } catch (err) {
          if (!(err instanceof CompactedError)) throw err;
          metrics.cacheHits++;
          throw new GrpcError(Status.OUT_OF_RANGE, err.message);
        }
        if (hit !== undefined) {
          metrics.cacheHits++;
          return hit;
        }
        metrics.cacheMisses++;
      }
      const resp = await rangeUpstream(req, ctx);
      cache.add({ ...req, serializable: true }, resp);
      settle();
      return resp;
    },
    put: async (req: PutRequest, ctx) => {
      requireKey(req.key);
      cache.invalidate(req.key, Buffer.alloc(0));
      settle();
      const resp = await upstream(() => client.kv.put(ns.enabled ? ns.put(req) : req, upstreamOptions(ctx)));
      // Again after the write: a range answered meanwhile may have cached the old value.
      cache.invalidate(req.key, Buffer.alloc(0));
      settle();
      return ns.enabled ? ns.putResponse(resp) : resp;
    },
    deleteRange: async (req: DeleteRangeRequest, ctx) => {
      requireKey(req.key);
      cache.invalidate(req.key, req.rangeEnd);
      settle();
      const resp = await upstream(() =>
        client.kv.deleteRange(ns.enabled ? ns.deleteRange(req) : req, upstreamOptions(ctx)),
      );
      cache.invalidate(req.key, req.rangeEnd);
      settle();
      return ns.enabled ? ns.deleteRangeResponse(resp) : resp;
    },
    txn: async (req: TxnRequest, ctx) => {
      const raw = await upstream(() => client.kv.txn(ns.enabled ? ns.txn(req) : req, upstreamOptions(ctx)));
      const resp = ns.enabled ? ns.txnResponse(raw) : raw;
      for (const c of req.compare) cache.invalidate(c.key, c.rangeEnd);
      txnToCache(resp.succeeded ? req.success : req.failure, resp.responses);
      settle();
      return resp;
    },
    compact: async (req: CompactionRequest, ctx) => {
      const resp = await upstream(() => client.kv.compact(req, upstreamOptions(ctx)));
      cache.compact(req.revision);
      settle();
      return resp;
    },
  };
}
