// Endpoint choice for "etcd gateway": round robin over the endpoints that are
// not marked failed. A failed endpoint is skipped until a periodic probe
// (every --retry-delay) connects to it again, as etcd's tcpproxy does.
// Pure: no sockets, no timers.

export interface GatewayRemote {
  /** "host:port" */
  readonly addr: string;
  active: boolean;
}

export class RemotePool {
  readonly remotes: GatewayRemote[];
  private pickCount = 0;

  constructor(addrs: readonly string[]) {
    if (addrs.length === 0) throw new Error('the gateway needs at least one endpoint');
    this.remotes = addrs.map((addr) => ({ addr, active: true }));
  }

  /** The next active endpoint in round-robin order, or undefined when all have failed. */
  pick(): GatewayRemote | undefined {
    for (let i = 0; i < this.remotes.length; i++) {
      const r = this.remotes[this.pickCount % this.remotes.length] as GatewayRemote;
      this.pickCount++;
      if (r.active) return r;
    }
    return undefined;
  }

  inactive(): GatewayRemote[] {
    return this.remotes.filter((r) => !r.active);
  }
}

/** etcd strips a scheme from endpoints ("http://a:1" → "a:1") and needs host:port. */
export function endpointAddress(endpoint: string): string | undefined {
  let addr = endpoint;
  const m = /^[a-zA-Z][a-zA-Z0-9+.-]*:\/\/([^/?#]+)/.exec(endpoint);
  if (m !== null) addr = m[1] as string;
  const colon = addr.lastIndexOf(':');
  if (colon < 0) return undefined;
  const port = addr.slice(colon + 1);
  return /^[0-9]+$/.test(port) ? addr : undefined;
}
