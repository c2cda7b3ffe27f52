// The gateway calls the same service implementations the gRPC server runs.
// registerServices() takes a GrpcServer; this one never listens: it only
// keeps what is registered on it, so the gateway dispatches in-process to the
// very handlers (with their validation, auth and learner rules) a gRPC client
// reaches.
import { GrpcServer } from '../../grpc/server.js';
import type {
  MethodDefinition,
  MethodKind,
  ServiceDefinition,
  ServiceImplementation,
} from '../../grpc/types.js';

/** A registered method: its codecs and handler (typed by `kind`). */
export interface BoundMethod {
  /** "/etcdserverpb.KV/Range" */
  readonly path: string;
  readonly kind: MethodKind;
  readonly def: MethodDefinition<unknown, unknown, boolean, boolean>;
  readonly handler: (...args: never[]) => unknown;
}

export class GatewayServices extends GrpcServer {
  private readonly bound = new Map<string, BoundMethod>();
  private readonly serviceNames = new Set<string>();

  override addService<S extends ServiceDefinition>(service: S, impl: ServiceImplementation<S>): this {
    this.serviceNames.add(service.fullName);
    for (const [key, handler] of Object.entries(impl) as [string, BoundMethod['handler'] | undefined][]) {
      const def = service.methods[key];
      if (def === undefined || handler === undefined) continue;
      const path = `/${service.fullName}/${def.name}`;
      const kind: MethodKind = def.requestStream
        ? def.responseStream
          ? 'bidiStream'
          : 'clientStream'
        : def.responseStream
          ? 'serverStream'
          : 'unary';
      this.bound.set(path, { path, kind, def, handler });
    }
    return this;
  }

  /** The method registered under a gRPC path ("/etcdserverpb.KV/Range"). */
  method(path: string): BoundMethod | undefined {
    return this.bound.get(path);
  }

  /** Whether any method of the service was registered (for grpc-go's "unknown ..." wording). */
  hasService(fullName: string): boolean {
    return this.serviceNames.has(fullName);
  }
}
