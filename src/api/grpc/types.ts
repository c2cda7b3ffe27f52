/**
 * Handler-facing types of the gRPC layer. Handlers receive decoded messages
 * and a CallContext; they never see HTTP/2 objects.
 */
import type { IncomingHttpHeaders } from 'node:http2';
import type { MessageCodec } from './framing.js';

export interface CallContext {
  /** Full method path, e.g. "/etcdserverpb.KV/Put". */
  readonly method: string;
  /** Request headers (gRPC metadata), lower-case keys; e.g. the auth "token". */
  readonly metadata: IncomingHttpHeaders;
  /** Client's timeout from grpc-timeout, in ms, if it sent one. */
  readonly timeoutMs: number | undefined;
  /**
   * Aborted when the call ends for any reason: client cancel or disconnect,
   * deadline, server shutdown, or the response having been sent. Created on
   * first access, so handlers that never look pay nothing.
   */
  readonly signal: AbortSignal;
  /**
   * The client's certificate on a TLS connection: whether it verified against
   * the trusted CAs, and its subject's common name (what --client-cert-auth
   * takes as the user). Undefined on plain TCP or without a certificate.
   */
  clientCertificate?(): ClientCertificate | undefined;
}

export interface ClientCertificate {
  readonly authorized: boolean;
  readonly commonName: string | undefined;
}

/** Outgoing side of a streaming call. */
export interface ResponseSink<T> {
  /**
   * Queues one message. Returns false when the transport buffer is above its
   * high-water mark: the caller should await drained() before writing more.
   * Writes after the call ended are dropped (and return false).
   */
  write(message: T): boolean;
  /** Resolves when the buffer has room again, or the call has ended. */
  drained(): Promise<void>;
  /** True once the call has ended (status sent, cancelled or reset). */
  readonly ended: boolean;
}

export type UnaryHandler<Req, Res> = (request: Req, ctx: CallContext) => Res | Promise<Res>;
export type ServerStreamHandler<Req, Res> = (
  request: Req,
  sink: ResponseSink<Res>,
  ctx: CallContext,
) => void | Promise<void>;
export type ClientStreamHandler<Req, Res> = (
  requests: AsyncIterable<Req>,
  ctx: CallContext,
) => Res | Promise<Res>;
export type BidiStreamHandler<Req, Res> = (
  requests: AsyncIterable<Req>,
  sink: ResponseSink<Res>,
  ctx: CallContext,
) => void | Promise<void>;

export type MethodKind = 'unary' | 'serverStream' | 'clientStream' | 'bidiStream';

/** A method as ts-proto's generic definitions describe it. */
export interface MethodDefinition<Req, Res, ReqStream extends boolean, ResStream extends boolean> {
  readonly name: string;
  readonly requestType: MessageCodec<Req>;
  readonly requestStream: ReqStream;
  readonly responseType: MessageCodec<Res>;
  readonly responseStream: ResStream;
}

export interface ServiceDefinition {
  readonly fullName: string;
  // unknown works here because codec methods are declared with method syntax
  // (bivariant parameters); handlers stay fully typed through HandlerFor.
  readonly methods: Readonly<Record<string, MethodDefinition<unknown, unknown, boolean, boolean>>>;
}

/** The handler type a method definition calls for. */
export type HandlerFor<M> =
  M extends MethodDefinition<infer Req, infer Res, infer RS, infer SS>
    ? RS extends true
      ? SS extends true
        ? BidiStreamHandler<Req, Res>
        : ClientStreamHandler<Req, Res>
      : SS extends true
        ? ServerStreamHandler<Req, Res>
        : UnaryHandler<Req, Res>
    : never;

/** Implementation of (part of) a service: method key (e.g. "put") → handler. */
export type ServiceImplementation<S extends ServiceDefinition> = {
  readonly [K in keyof S['methods']]?: HandlerFor<S['methods'][K]>;
};
