// etcdserverpb.Watch: one bidirectional stream carrying many watchers. Requests
// go to the stream's watchers in the hub (create, cancel, progress); responses
// are pulled from the stream's queue and written with back-pressure. While the
// transport is full, the hub leaves this stream's watchers behind and catches
// them up from history once it drains, so a slow client costs only itself.

import { AuthError } from '../../auth/errors.js';
import type {
  WatchResponse as PbWatchResponse,
  WatchCreateRequest,
  WatchDefinition,
  WatchRequest,
} from '../../pb/etcdserverpb/rpc.js';
import type { Event as PbEvent } from '../../pb/mvccpb/kv.js';
import type { AuthPort, WatchPort } from '../../server/ports.js';
import type { WatchResponse, WatchStream } from '../../watch/index.js';
import type { CallContext, ResponseSink, ServiceImplementation } from '../grpc/types.js';
import { type Identify, NOBODY } from './credentials.js';
import { toGrpcError } from './errors.js';

/** Responses taken from the stream's queue at a time. */
const TAKE_BATCH = 64;
/**
 * Created/canceled/progress answers are not bounded by the hub's event limits:
 * a client that sends requests but does not read its answers is throttled here
 * instead -- its requests are not read while this many answers wait.
 */
const MAX_UNREAD_RESPONSES = 1024;

function toPb(port: WatchPort, r: WatchResponse): PbWatchResponse {
  return {
    header: port.header(r.revision),
    watchId: r.watchId,
    created: r.created ?? false,
    canceled: r.canceled ?? false,
    compactRevision: r.compactRevision ?? 0,
    cancelReason: r.cancelReason ?? '',
    fragment: r.fragment ?? false,
    // mvcc's events are the wire Event shape (type numbers, Buffer keys and values).
    events: r.events satisfies PbEvent[],
  };
}

/**
 * Why a watch may not be created, as etcd's watch server words it in the
 * cancel reason (the Go text of the gRPC error), or undefined if it may.
 */
type Admission = (
  c: WatchCreateRequest,
  ctx: CallContext,
) => string | undefined | Promise<string | undefined>;

const CANCEL_REASONS: Partial<Record<AuthError['kind'], string>> = {
  invalidAuthToken: 'rpc error: code = Unauthenticated desc = etcdserver: invalid auth token',
  authOldRevision: 'rpc error: code = InvalidArgument desc = etcdserver: revision of auth store is old',
  userEmpty: 'rpc error: code = InvalidArgument desc = etcdserver: user name is empty',
};
const PERMISSION_DENIED = 'rpc error: code = PermissionDenied desc = etcdserver: permission denied';

function cancelReason(err: unknown): string {
  return (err instanceof AuthError ? CANCEL_REASONS[err.kind] : undefined) ?? PERMISSION_DENIED;
}

/** A watch needs read permission on its range (checked at create, with the stream's credentials). */
function admission(auth: Pick<AuthPort, 'checkWatch'>, identify: Identify): Admission {
  const check = (c: WatchCreateRequest, who: Awaited<ReturnType<Identify>>): string | undefined => {
    try {
      auth.checkWatch(who, c.key, c.rangeEnd);
      return undefined;
    } catch (err) {
      return cancelReason(err);
    }
  };
  return (c, ctx) => {
    let w: ReturnType<Identify>;
    try {
      w = identify(ctx);
    } catch (err) {
      return cancelReason(err);
    }
    if (!(w instanceof Promise)) return check(c, w);
    return w.then(
      (who) => check(c, who),
      (err: unknown) => cancelReason(err),
    );
  };
}

function handle(stream: WatchStream, port: WatchPort, req: WatchRequest, refusal?: string): void {
  const u = req.requestUnion;
  if (u === undefined) return;
  switch (u.$case) {
    case 'createRequest': {
      const c = u.createRequest;
      if (refusal !== undefined) {
        stream.rejectCreate(refusal);
        break;
      }
      stream.create({
        key: c.key,
        rangeEnd: c.rangeEnd,
        startRevision: c.startRevision,
        filters: c.filters,
        prevKv: c.prevKv,
        progressNotify: c.progressNotify,
        fragment: c.fragment,
        watchId: c.watchId,
      });
      if (c.startRevision > 0) port.catchUpSoon();
      break;
    }
    case 'cancelRequest':
      stream.cancel(u.cancelRequest.watchId);
      break;
    case 'progressRequest':
      stream.requestProgress();
      break;
  }
}

interface Pump {
  /** Call when the stream has output. */
  readable(): void;
  /** Resolves once fewer than MAX_UNREAD_RESPONSES answers wait (at once if so). */
  roomForRequests(): Promise<void>;
}

/** Copies the stream's queued responses to the call, waiting for the transport when it is full. */
function pumpTo(stream: WatchStream, port: WatchPort, sink: ResponseSink<PbWatchResponse>): Pump {
  let pumping = false;
  let waiter: (() => void) | undefined;
  const release = (): void => {
    if (waiter !== undefined && (stream.pendingResponses < MAX_UNREAD_RESPONSES || sink.ended)) {
      const w = waiter;
      waiter = undefined;
      w();
    }
  };
  const pump = async (): Promise<void> => {
    if (pumping) return;
    pumping = true;
    try {
      for (;;) {
        const batch = stream.take(TAKE_BATCH);
        if (batch.length === 0 || sink.ended) break;
        for (const r of batch) {
          const sent = sink.write(toPb(port, r));
          // etcd counts a response's events once its watch server has sent them.
          if (r.events.length > 0) port.eventsSent?.(r.events.length);
          if (!sent) await sink.drained();
        }
        release();
      }
      if (stream.needsCatchUp) port.catchUpSoon();
    } finally {
      pumping = false;
      release();
    }
  };
  return {
    readable: () => void pump(),
    roomForRequests: () => {
      if (stream.pendingResponses < MAX_UNREAD_RESPONSES || sink.ended) return Promise.resolve();
      return new Promise<void>((resolve) => {
        waiter = resolve;
      });
    },
  };
}

export function watchService(
  port: WatchPort,
  auth?: Pick<AuthPort, 'checkWatch'>,
  identify: Identify = NOBODY,
): ServiceImplementation<typeof WatchDefinition> {
  const admit = auth === undefined ? undefined : admission(auth, identify);
  return {
    watch: async (requests, sink, ctx) => {
      let pump: Pump | undefined;
      const stream = port.openStream({ onReadable: () => pump?.readable() });
      pump = pumpTo(stream, port, sink);
      // The call's end wakes a request loop held back by unread answers.
      ctx.signal.addEventListener('abort', () => pump?.readable());
      try {
        for await (const req of requests) {
          const create =
            req.requestUnion?.$case === 'createRequest' ? req.requestUnion.createRequest : undefined;
          let refusal = create === undefined || admit === undefined ? undefined : admit(create, ctx);
          if (refusal instanceof Promise) refusal = await refusal;
          handle(stream, port, req, refusal);
          await pump.roomForRequests();
        }
        // A client that half-closes still gets its events until it cancels, as from etcd.
        if (!ctx.signal.aborted) {
          await new Promise<void>((resolve) => ctx.signal.addEventListener('abort', () => resolve()));
        }
      } catch (err) {
        throw toGrpcError(err);
      } finally {
        stream.close();
      }
    },
  };
}
