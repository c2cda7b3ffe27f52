import type { DeepPartial, MessageFns } from '../pb/etcdserverpb/rpc.js';
import type { BidiCall } from './grpc-call.js';

/** Per-call settings. */
export interface CallOptions {
  /** Absolute deadline (Date.now() ms). Without one the call may wait forever. */
  deadline?: number;
  /** Pin the call to one endpoint index (no failover), as `endpoint status` needs. */
  endpoint?: number;
  /** Extra request headers, e.g. etcd's `hasleader: true` (refuse service without a leader). */
  metadata?: Record<string, string>;
}

/** A bidirectional stream with typed messages. */
export interface TypedStream<Req, Res> extends AsyncIterable<Res> {
  send(request: DeepPartial<Req>): boolean;
  /** The next response (done at a clean end); rejects with the call's GrpcError. */
  next(): Promise<IteratorResult<Res>>;
  /** Half-close: the server sees end of requests. */
  end(): void;
  cancel(): void;
}

interface MethodShape<Req, Res> {
  readonly name: string;
  readonly requestType: MessageFns<Req>;
  readonly responseType: MessageFns<Res>;
  readonly requestStream: boolean;
  readonly responseStream: boolean;
}

type StubFor<M> = M extends {
  readonly requestType: MessageFns<infer Req>;
  readonly responseType: MessageFns<infer Res>;
  readonly requestStream: infer ReqStream;
  readonly responseStream: infer ResStream;
}
  ? ReqStream extends true
    ? (options?: CallOptions) => Promise<TypedStream<Req, Res>>
    : ResStream extends true
      ? (request: DeepPartial<Req>, options?: CallOptions) => Promise<AsyncIterable<Res>>
      : (request: DeepPartial<Req>, options?: CallOptions) => Promise<Res>
  : never;

/** Typed client methods for every RPC of a ts-proto generic service definition. */
export type ServiceStub<D extends { readonly methods: object }> = {
  readonly [K in keyof D['methods']]: StubFor<D['methods'][K]>;
};

/** What a stub needs from the client: raw unary and streaming calls by path. */
export interface RawCaller {
  unaryRaw(path: string, body: Uint8Array, options: CallOptions, idempotent: boolean): Promise<Buffer>;
  streamRaw(path: string, options: CallOptions): Promise<BidiCall>;
}

/**
 * RPCs safe to repeat after an ambiguous failure: reads and status queries.
 * Writes are retried only when they provably never left the client.
 */
const IDEMPOTENT = new Set([
  'Range',
  'MemberList',
  'Status',
  'Alarm',
  'Hash',
  'HashKV',
  'LeaseTimeToLive',
  'LeaseLeases',
  'Leader',
  'Authenticate',
  'UserGet',
  'UserList',
  'RoleGet',
  'RoleList',
]);

export function makeStub<D extends { readonly fullName: string; readonly methods: object }>(
  definition: D,
  caller: RawCaller,
): ServiceStub<D> {
  const stub: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(definition.methods)) {
    const method = value as MethodShape<unknown, unknown>;
    const path = `/${definition.fullName}/${method.name}`;
    if (method.requestStream) {
      stub[key] = async (options: CallOptions = {}) =>
        typedStream(await caller.streamRaw(path, options), method);
    } else if (method.responseStream) {
      stub[key] = async (request: DeepPartial<unknown>, options: CallOptions = {}) => {
        const call = await caller.streamRaw(path, options);
        const typed = typedStream(call, method);
        typed.send(request);
        typed.end();
        return typed;
      };
    } else {
      stub[key] = async (request: DeepPartial<unknown>, options: CallOptions = {}) => {
        const body = method.requestType.encode(method.requestType.fromPartial(request)).finish();
        const reply = await caller.unaryRaw(path, body, options, IDEMPOTENT.has(method.name));
        return method.responseType.decode(reply);
      };
    }
  }
  return stub as ServiceStub<D>;
}

function typedStream<Req, Res>(call: BidiCall, method: MethodShape<Req, Res>): TypedStream<Req, Res> {
  const next = async (): Promise<IteratorResult<Res>> => {
    const r = await call.next();
    if (r.done === true) return { value: undefined, done: true };
    return { value: method.responseType.decode(r.value), done: false };
  };
  return {
    send: (request) => call.send(method.requestType.encode(method.requestType.fromPartial(request)).finish()),
    end: () => call.end(),
    cancel: () => call.cancel(),
    next,
    [Symbol.asyncIterator]: () => ({ next }),
  };
}
