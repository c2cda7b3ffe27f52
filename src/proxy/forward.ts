// Transparent forwarding of gRPC methods to the cluster through our client:
// the request bytes go up unchanged, the response bytes come back unchanged,
// and an upstream error becomes the same status downstream. The caller's auth
// token and etcd's "hasleader" requirement travel with the call, as etcd's
// proxy forwards them, so the member does every check itself.
import { BinaryWriter } from '@bufbuild/protobuf/wire';
import type { MessageCodec } from '../api/grpc/framing.js';
import type { GrpcServer } from '../api/grpc/server.js';
import { GrpcError as ServerGrpcError, Status, type StatusCode } from '../api/grpc/status.js';
import type { CallContext, ResponseSink } from '../api/grpc/types.js';
import type { CallOptions, EtcdClient } from '../client/index.js';
import { GrpcError as ClientGrpcError } from '../client/index.js';

/** Bytes in, bytes out: what a forwarded method needs instead of a message codec. */
export const rawCodec: MessageCodec<Uint8Array> = {
  encode: (message, writer) => (writer ?? new BinaryWriter()).raw(message),
  // The transport may reuse the frame's memory; forwarding keeps it past this call.
  decode: (input, length) => Buffer.from(input.subarray(0, length ?? input.length)),
};

/** Request headers a proxied call carries upstream. */
const FORWARDED_METADATA = ['token', 'hasleader'] as const;

/** Upstream call options for a downstream call: its credentials, leader requirement and deadline. */
export function upstreamOptions(ctx: CallContext): CallOptions {
  const metadata: Record<string, string> = {};
  for (const name of FORWARDED_METADATA) {
    const v = ctx.metadata[name];
    const value = Array.isArray(v) ? v[0] : v;
    if (typeof value === 'string') metadata[name] = value;
  }
  const options: CallOptions = { metadata };
  if (ctx.timeoutMs !== undefined) options.deadline = Date.now() + ctx.timeoutMs;
  return options;
}

/** The caller's auth token, if it sent one. */
export function callerToken(ctx: CallContext): string | undefined {
  const v = ctx.metadata.token;
  const value = Array.isArray(v) ? v[0] : v;
  return typeof value === 'string' ? value : undefined;
}

/** An upstream failure as the same status downstream; anything else is a proxy bug (UNKNOWN). */
export function asServerError(err: unknown): Error {
  if (err instanceof ClientGrpcError && err.code >= 1 && err.code <= 16) {
    return new ServerGrpcError(err.code as StatusCode, err.details);
  }
  if (err instanceof ServerGrpcError) return err;
  return new ServerGrpcError(Status.UNKNOWN, err instanceof Error ? err.message : String(err));
}

/** Runs an upstream call, turning its failure into the downstream status. */
export async function upstream<T>(call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (err) {
    throw asServerError(err);
  }
}

interface MethodShape {
  readonly name: string;
  readonly requestStream: boolean;
  readonly responseStream: boolean;
}

/**
 * Registers every method of `definition` not in `except` as a byte-for-byte
 * forward to the cluster.
 */
export function forwardService(
  grpc: GrpcServer,
  definition: { readonly fullName: string; readonly methods: object },
  client: EtcdClient,
  except: ReadonlySet<string> = new Set(),
): void {
  for (const [key, value] of Object.entries(definition.methods)) {
    if (except.has(key)) continue;
    const method = value as MethodShape;
    const path = `/${definition.fullName}/${method.name}`;
    if (method.requestStream) {
      grpc.addBidiStream(path, rawCodec, rawCodec, (requests, sink, ctx) =>
        pipeBidi(client, path, requests, sink, ctx),
      );
    } else if (method.responseStream) {
      grpc.addServerStream(path, rawCodec, rawCodec, (request, sink, ctx) =>
        pipeBidi(client, path, single(request), sink, ctx),
      );
    } else {
      grpc.addUnary(path, rawCodec, rawCodec, (request, ctx) =>
        upstream(() => client.unaryRaw(path, request, upstreamOptions(ctx), false)),
      );
    }
  }
}

async function* single(message: Uint8Array): AsyncIterable<Uint8Array> {
  yield message;
}

/**
 * One upstream stream per downstream stream: requests flow up as they come,
 * responses flow down with back-pressure; either side ending ends the other.
 */
async function pipeBidi(
  client: EtcdClient,
  path: string,
  requests: AsyncIterable<Uint8Array>,
  sink: ResponseSink<Uint8Array>,
  ctx: CallContext,
): Promise<void> {
  const options = upstreamOptions(ctx);
  // A stream lives as long as the caller wants it: only a connect deadline applies.
  const call = await upstream(() => client.streamRaw(path, options));
  const abort = () => call.cancel();
  ctx.signal.addEventListener('abort', abort);
  const pumpUp = (async () => {
    for await (const message of requests) call.send(message);
    call.end();
  })().catch(() => call.cancel());
  try {
    for (;;) {
      const next = await upstream(() => call.next());
      if (next.done === true) break;
      if (!sink.write(next.value)) await sink.drained();
      if (sink.ended) break;
    }
  } finally {
    ctx.signal.removeEventListener('abort', abort);
    call.cancel();
    void pumpUp;
  }
}
