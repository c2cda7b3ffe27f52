// The gRPC server's side of the metrics: every call to a registered method is seen
// through a thin wrapper of its stream, counting what go-grpc-prometheus counts
// (started, handled by code, messages received and sent, handling time with
// --metrics extensive) and the bytes etcd counts as etcd_network_client_grpc_*.
// The wrapper parses only the 5-byte gRPC frame headers to count request messages.
import type { CallEvents, CallStream } from '../api/grpc/transport.js';
import type { GrpcFamilies, NetworkFamilies } from './families.js';
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

export class GrpcMetrics {
  /** Labels per method path, made once (a call then allocates no label object). */
  private readonly labelsByPath = new Map<string, Labels>();

  constructor(
    private readonly grpc: GrpcFamilies,
    private readonly net: NetworkFamilies,
  ) {
    // etcd 3.4 starts every method's counters at 0 (grpc_prometheus.Register).
    for (const labels of etcdGrpcMethods()) {
      grpc.started.inc(labels, 0);
      grpc.msgReceived.inc(labels, 0);
      grpc.msgSent.inc(labels, 0);
      for (const code of GRPC_CODE_NAMES) grpc.handled.inc({ ...labels, grpc_code: code }, 0);
    }
  }

  /** For GrpcServerOptions.observeCall. */
  readonly observe = (stream: CallStream, path: string, kind: string): CallStream => {
    let labels = this.labelsByPath.get(path);
    if (labels === undefined) {
      const { service, method } = splitMethodPath(path);
      labels = { grpc_type: TYPE_OF_KIND[kind] ?? 'unary', grpc_service: service, grpc_method: method };
      this.labelsByPath.set(path, labels);
    }
    this.grpc.started.inc(labels);
    return new ObservedCallStream(stream, labels, this);
  };

  received(labels: Labels, messages: number, bytes: number): void {
    if (messages > 0) this.grpc.msgReceived.inc(labels, messages);
    this.net.clientGrpcReceivedBytes.inc(bytes);
  }

  sent(labels: Labels, bytes: number): void {
    this.grpc.msgSent.inc(labels);
    this.net.clientGrpcSentBytes.inc(bytes);
  }

  handled(labels: Labels, code: number, startedAt: number): void {
    this.grpc.handled.inc({ ...labels, grpc_code: grpcCodeName(code) });
    this.grpc.handlingSeconds?.observe(labels, (performance.now() - startedAt) / 1000);
  }
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
    private readonly labels: Labels,
    private readonly metrics: GrpcMetrics,
  ) {}

  get closed(): boolean {
    return this.inner.closed;
  }

  get bufferedBytes(): number {
    return this.inner.bufferedBytes;
  }

  respondUnary(frame: Uint8Array): void {
    this.metrics.sent(this.labels, frame.length);
    this.inner.respondUnary(frame);
    this.handled(0);
  }

  writeMessage(frame: Uint8Array): boolean {
    this.metrics.sent(this.labels, frame.length);
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
        this.metrics.received(this.labels, this.frames.count(chunk), chunk.length);
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
    this.metrics.handled(this.labels, code, this.startedAt);
  }
}
