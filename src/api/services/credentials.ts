// Who a call comes from, as etcd's v3rpc finds out: the "token" metadata (or
// "authorization", the gateway's name for it), else -- with
// --client-cert-auth -- the common name of the client's verified certificate,
// else nobody. Calls with neither pay nothing: no promise, no lookup.
import type { AuthInfo } from '../../auth/index.js';
import type { AuthPort } from '../../server/ports.js';
import type { CallContext } from '../grpc/types.js';
import { toGrpcError } from './errors.js';

export type Identity = AuthInfo | undefined;

/** Finds the caller of a call; a promise only when there is something to look up. */
export type Identify = (ctx: CallContext) => Identity | Promise<Identity>;

/**
 * The first value of a metadata key. HTTP/2 layers join repeated headers with
 * ", " (python3-etcd3 sends its token twice: as metadata and as call
 * credentials); etcd takes the first value, and a token has no comma.
 */
function first(v: string | string[] | undefined): string | undefined {
  const s = Array.isArray(v) ? v[0] : v;
  if (s === undefined) return undefined;
  const comma = s.indexOf(',');
  return comma < 0 ? s : s.slice(0, comma).trim();
}

export function tokenOf(ctx: CallContext): string | undefined {
  return first(ctx.metadata.token) ?? first(ctx.metadata.authorization);
}

export interface IdentifyOptions {
  /** --client-cert-auth: a verified client certificate's common name names the user. */
  clientCertAuth: boolean;
  /** The common name of the call's verified client certificate, if any. */
  commonName?: (ctx: CallContext) => string | undefined;
}

/**
 * etcd's AuthInfoFromTLS: the common name of a certificate that verified
 * against the trusted CAs (etcd looks at the verified chains only).
 */
export function verifiedCommonName(ctx: CallContext): string | undefined {
  // A gRPC-gateway proxies with its own certificate, whose name is nobody's.
  if (ctx.metadata['grpcgateway-accept'] !== undefined) return undefined;
  const cert = ctx.clientCertificate?.();
  return cert?.authorized === true ? cert.commonName : undefined;
}

export function identifier(auth: AuthPort, opts: IdentifyOptions): Identify {
  const commonName = opts.clientCertAuth ? (opts.commonName ?? verifiedCommonName) : undefined;
  return (ctx) => {
    const token = tokenOf(ctx);
    if (token !== undefined) return auth.identify({ token });
    // With auth off a certificate's name changes nothing; skip the lookup on that hot path.
    if (commonName === undefined || !auth.isEnabled()) return undefined;
    const cn = commonName(ctx);
    if (cn === undefined || cn === '') return undefined;
    return auth.identify({ commonName: cn });
  };
}

/**
 * Like guarded(): the request is validated, then the caller identified (a bad
 * token fails after a bad request, as in etcd), with no extra await for calls
 * that carry no credentials.
 */
export function onBehalf<Req, Res>(
  identify: Identify,
  validate: (req: Req) => void,
  fn: (req: Req, who: Identity) => Promise<Res>,
): (req: Req, ctx: CallContext) => Promise<Res> {
  return async (req, ctx) => {
    try {
      validate(req);
      const w = identify(ctx);
      return await fn(req, w instanceof Promise ? await w : w);
    } catch (err) {
      throw toGrpcError(err);
    }
  };
}

export const NO_CHECK = (): void => undefined;

/** No credentials ever (auth is not wired, e.g. in tests of a single service). */
export const NOBODY: Identify = () => undefined;
