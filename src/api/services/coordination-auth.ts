// Lock and Election on behalf of their caller. etcd serves them through an
// in-process client that forwards the call's context, so every KV request of
// the recipes runs with the caller's token: writes carry it through raft,
// reads and watches are checked against it. Here each call gets the member's
// coordination view bound to the caller it identified.
import type { CoordinationKv } from '../../server/coordination/types.js';
import type { AuthPort, KvPort } from '../../server/ports.js';
import type { CallContext, ServiceDefinition, ServiceImplementation } from '../grpc/types.js';
import type { Identify, Identity } from './credentials.js';
import { inProcessClientError } from './lock.js';

/** The member's coordination view acting as `who`. */
export function coordinationAs(
  base: CoordinationKv,
  kv: KvPort,
  auth: Pick<AuthPort, 'checkWatch'>,
  who: Identity,
): CoordinationKv {
  return {
    txn: (req) => kv.txn(req, who),
    range: (req) => kv.range(req, who),
    deleteRange: (req) => kv.deleteRange(req, who),
    watch: (key, rangeEnd, from, signal) => {
      auth.checkWatch(who, key, rangeEnd);
      return base.watch(key, rangeEnd, from, signal);
    },
    grantLease: (ttl) => base.grantLease(ttl),
  };
}

type AnyHandler = (...args: unknown[]) => unknown;

/**
 * A service whose implementation is built per call around the caller's view
 * of the KV (`build` is cheap: it only closes over the view). A token that is
 * not valid fails the call as the in-process client reports it.
 */
export function perCaller<S extends ServiceDefinition>(
  service: S,
  build: (kv: CoordinationKv) => ServiceImplementation<S>,
  base: CoordinationKv,
  kv: KvPort,
  auth: Pick<AuthPort, 'checkWatch'>,
  identify: Identify,
): ServiceImplementation<S> {
  const methods = Object.keys(build(base));
  const out: Record<string, AnyHandler> = {};
  for (const key of methods) {
    const def = service.methods[key];
    if (def === undefined) continue;
    out[key] = async (...args: unknown[]) => {
      const ctx = args[args.length - 1] as CallContext;
      let who: Identity;
      try {
        const w = identify(ctx);
        who = w instanceof Promise ? await w : w;
      } catch (err) {
        throw inProcessClientError(err);
      }
      const impl = build(coordinationAs(base, kv, auth, who)) as Record<string, AnyHandler | undefined>;
      return (impl[key] as AnyHandler)(...args);
    };
  }
  return out as ServiceImplementation<S>;
}
