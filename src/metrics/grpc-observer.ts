// The gRPC server's side of the metrics: every call to a registered method is seen
// through a thin wrapper of its stream, counting what go-grpc-prometheus counts
// (started, handled by code, messages received and sent, handling time with
// --metrics extensive) and the bytes etcd counts as etcd_network_client_grpc_*.
// The wrapper parses only the 5-byte gRPC frame headers to count request messages.
import type { IncomingHttpHeaders } from 'node:http2';
import type { CallEvents, CallStream } from '../api/grpc/transport.js';
import type { GrpcFamilies, NetworkFamilies, ServerFamilies } from './families.js';
import {
  etcdGrpcMethods,
  GRPC_CODE_NAMES,
  type GrpcType,
  grpcCodeName,
  splitMethodPath,
} from './grpc-methods.js';

/** Our server's method kinds → grpc-prometheus's grpc_type values. */
const TYPE_OF_KIND: Record<string, GrpcType> = {
  unary: 'unary',
  clientStream: 'client_stream',
  serverStream: 'server_stream',
  bidiStream: 'bidi_stream',
};

const CANCELED = 1;
const FRAME_HEADER_BYTES = 5;

interface Labels {
  grpc_type: GrpcType;
  grpc_service: string;
  grpc_method: string;
}

/**
 * One method's counts as plain numbers: a call bumps fields, not labelled prom-client
 * series (≈ 1-4 µs each with label hashing, several per call); they are copied into the
 * families when scraped.
 */
interface MethodCounts {
  labels: Labels;
  started: number;
  received: number;
  sent: number;
  /** By gRPC code number. */
  handled: number[];
}

export class GrpcMetrics {
  private readonly byPath = new Map<string, MethodCounts>();
  private receivedBytes = 0;
  private sentBytes = 0;
  /** etcd_server_client_requests_total by "type\0client_api_version". */
  private readonly clientRequests = new Map<string, number>();

  constructor(
    private readonly grpc: GrpcFamilies,
    private readonly net: NetworkFamilies,
    private readonly server?: Pick<ServerFamilies, 'clientRequests'>,
  ) {
    // etcd 3.4 starts every method's counters at 0 (grpc_prometheus.Register).
    for (const labels of etcdGrpcMethods()) {
      this.byPath.set(`/${labels.grpc_service}/${labels.grpc_method}`, newCounts(labels));
    }
  }

  /** For GrpcServerOptions.observeCall. */
  readonly observe = (
    stream: CallStream,
    path: string,
    kind: string,
    headers?: IncomingHttpHeaders,
  ): CallStream => {
    // etcd's interceptors count every call by the client's API version header ("unknown" without).
    const version = headers?.['client-api-version'];
    const key = `${kind === 'unary' ? 'unary' : 'stream'}\0${typeof version === 'string' ? version : 'unknown'}`;
    this.clientRequests.set(key, (this.clientRequests.get(key) ?? 0) + 1);
    let counts = this.byPath.get(path);
    if (counts === undefined) {
      const { service, method } = splitMethodPath(path);
      counts = newCounts({
        grpc_type: TYPE_OF_KIND[kind] ?? 'unary',
        grpc_service: service,
        grpc_method: method,
      });
      this.byPath.set(path, counts);
    }
    counts.started++;
    return new ObservedCallStream(stream, counts, this);
  };

  received(counts: MethodCounts, messages: number, bytes: number): void {
    counts.received += messages;
    this.receivedBytes += bytes;
  }

  sent(counts: MethodCounts, bytes: number): void {
    counts.sent++;
    this.sentBytes += bytes;
  }

  handled(counts: MethodCounts, code: number, startedAt: number): void {
    counts.handled[code] = (counts.handled[code] ?? 0) + 1;
    this.grpc.handlingSeconds?.observe(counts.labels, (performance.now() - startedAt) / 1000);
  }

  /** Copies the counts into the families (at scrape time). */
  publish(): void {
    const g = this.grpc;
    g.started.reset();
    g.msgReceived.reset();
    g.msgSent.reset();
    g.handled.reset();
    for (const c of this.byPath.values()) {
      g.started.inc(c.labels, c.started);
      g.msgReceived.inc(c.labels, c.received);
      g.msgSent.inc(c.labels, c.sent);
      // Every code of a pre-initialised method, as etcd; others only once seen.
      const codes = Math.max(GRPC_CODE_NAMES.length, c.handled.length);
      for (let code = 0; code < codes; code++) {
        g.handled.inc({ ...c.labels, grpc_code: grpcCodeName(code) }, c.handled[code] ?? 0);
      }
    }
    const requests = this.server?.clientRequests;
    if (requests !== undefined) {
      requests.reset();
      for (const [key, n] of this.clientRequests) {
        const [type = '', clientApiVersion = ''] = key.split('\0');
        requests.inc({ type, client_api_version: clientApiVersion }, n);
      }
    }
    this.net.clientGrpcReceivedBytes.reset();
    this.net.clientGrpcReceivedBytes.inc(this.receivedBytes);
    this.net.clientGrpcSentBytes.reset();
    this.net.clientGrpcSentBytes.inc(this.sentBytes);
  }
}

function newCounts(labels: Labels): MethodCounts {
  return {
    labels,
    started: 0,
    received: 0,
    sent: 0,
    handled: new Array<number>(GRPC_CODE_NAMES.length).fill(0),
  };
}

/** Counts request frames as their bytes arrive (frames may be cut anywhere). */
class FrameCounter {
  private headerLeft = FRAME_HEADER_BYTES;
  private header = 0;
  private bodyLeft = 0;

  /** Returns how many frames started in `chunk`. */
  count(chunk: Buffer): number {
    let frames = 0;
    let i = 0;
    while (i < chunk.length) {
      if (this.bodyLeft > 0) {
        const take = Math.min(this.bodyLeft, chunk.length - i);
        this.bodyLeft -= take;
        i += take;
        continue;
      }
      // Header: 1 flag byte, then a 4-byte big-endian length.
      const byte = chunk[i++]!;
      if (this.headerLeft < FRAME_HEADER_BYTES) this.header = this.header * 256 + byte;
      if (--this.headerLeft === 0) {
        frames++;
        this.bodyLeft = this.header;
        this.header = 0;
        this.headerLeft = FRAME_HEADER_BYTES;
      }
    }
    return frames;
  }
}

class ObservedCallStream implements CallStream {
  private readonly startedAt = performance.now();
  private done = false;
  private readonly frames = new FrameCounter();

  constructor(
    private readonly inner: CallStream,
    private readonly counts: MethodCounts,
    private readonly metrics: GrpcMetrics,
  ) {}

  get closed(): boolean {
    return this.inner.closed;
  }

  get bufferedBytes(): number {
    return this.inner.bufferedBytes;
  }

  respondUnary(frame: Uint8Array): void {
    this.metrics.sent(this.counts, frame.length);
    this.inner.respondUnary(frame);
    this.handled(0);
  }

  writeMessage(frame: Uint8Array): boolean {
    this.metrics.sent(this.counts, frame.length);
    return this.inner.writeMessage(frame);
  }

  drained(): Promise<void> {
    return this.inner.drained();
  }

  finish(code: number, message: string): void {
    this.inner.finish(code as Parameters<CallStream['finish']>[0], message);
    this.handled(code);
  }

  pause(): void {
    this.inner.pause();
  }

  resume(): void {
    this.inner.resume();
  }

  attach(events: CallEvents): void {
    this.inner.attach({
      onData: (chunk) => {
        this.metrics.received(this.counts, this.frames.count(chunk), chunk.length);
        events.onData(chunk);
      },
      onEnd: () => events.onEnd(),
      onClose: () => {
        // The client went away before a status was sent: grpc-go reports Canceled.
        this.handled(CANCELED);
        events.onClose();
      },
    });
  }

  socket() {
    return this.inner.socket?.();
  }

  private handled(code: number): void {
    if (this.done) return;
    this.done = true;
    this.metrics.handled(this.counts, code, this.startedAt);
  }
}
