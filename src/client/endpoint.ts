/** One client endpoint as etcdctl accepts it: `http://h:p`, `https://h:p` or scheme-less `h:p`. */
export interface Endpoint {
  /** As given by the user; what etcdctl prints back (e.g. in `endpoint status`). */
  readonly raw: string;
  /** host:port used for the HTTP/2 connection (and the :authority header). */
  readonly authority: string;
  /** Host name for TLS SNI and certificate checks. */
  readonly host: string;
  readonly secure: boolean;
}

/**
 * Parses an endpoint. A scheme-less endpoint uses TLS exactly when the
 * client has TLS settings, which is how etcd's Go client decides.
 */
export function parseEndpoint(raw: string, tlsConfigured: boolean): Endpoint {
  const trimmed = raw.trim();
  let secure = tlsConfigured;
  let rest = trimmed;
  const scheme = /^([a-zA-Z][a-zA-Z0-9+.-]*):\/\//.exec(trimmed);
  if (scheme !== null) {
    const name = (scheme[1] as string).toLowerCase();
    if (name === 'http') secure = false;
    else if (name === 'https') secure = true;
    else throw new Error(`unsupported endpoint scheme ${JSON.stringify(name)} in ${JSON.stringify(raw)}`);
    rest = trimmed.slice(scheme[0].length);
  }
  const slash = rest.indexOf('/');
  const authority = slash >= 0 ? rest.slice(0, slash) : rest;
  if (authority === '') throw new Error(`endpoint ${JSON.stringify(raw)} has no host`);
  return { raw, authority, host: hostOf(authority), secure };
}

function hostOf(authority: string): string {
  if (authority.startsWith('[')) {
    const close = authority.indexOf(']');
    return close > 0 ? authority.slice(1, close) : authority;
  }
  const colon = authority.lastIndexOf(':');
  return colon >= 0 ? authority.slice(0, colon) : authority;
}
