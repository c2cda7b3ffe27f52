// A fault-injecting proxy for peer traffic. Every member advertises a proxy
// port in front of its real peer listener, so all member-to-member
// connections pass through here. etcd's peer requests name their sender
// (X-Server-From on every /raft* request and stream dial), so the proxy reads
// a connection's first request head and knows both ends: isolating a member
// cuts every connection it opens and every connection opened to it, in both
// directions, existing ones included.
import net from 'node:net';

interface Link {
  from: string | undefined;
  to: string;
  client: net.Socket;
  upstream: net.Socket | undefined;
}

export class PeerProxy {
  private readonly servers = new Map<string, net.Server>();
  private readonly links = new Set<Link>();
  private readonly isolated = new Set<string>();

  /** Listens on `port` and forwards to `targetPort`; `name` is the member behind it (its hex id). */
  async add(memberId: string, port: number, targetPort: number): Promise<void> {
    const server = net.createServer((client) => this.accept(memberId, targetPort, client));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => resolve());
    });
    this.servers.set(memberId, server);
  }

  /** Cuts every connection from or to `memberId`, now and until healed. */
  isolate(memberId: string): void {
    this.isolated.add(memberId);
    for (const l of [...this.links]) if (this.cut(l)) this.drop(l);
  }

  heal(): void {
    this.isolated.clear();
  }

  private cut(l: Link): boolean {
    return this.isolated.has(l.to) || (l.from !== undefined && this.isolated.has(l.from));
  }

  private drop(l: Link): void {
    this.links.delete(l);
    l.client.destroy();
    l.upstream?.destroy();
  }

  private accept(to: string, targetPort: number, client: net.Socket): void {
    const link: Link = { from: undefined, to, client, upstream: undefined };
    this.links.add(link);
    let head = Buffer.alloc(0);
    const onData = (chunk: Buffer) => {
      head = Buffer.concat([head, chunk]);
      const end = head.indexOf('\r\n\r\n');
      if (end < 0 && head.length < 64 * 1024) return;
      client.off('data', onData);
      client.pause();
      const m = /\r\nx-server-from:\s*([0-9a-f]+)/i.exec(
        head.subarray(0, Math.max(end, 0)).toString('latin1'),
      );
      link.from = m?.[1]?.toLowerCase();
      if (this.cut(link)) {
        this.drop(link);
        return;
      }
      const upstream = net.connect(targetPort, '127.0.0.1');
      link.upstream = upstream;
      upstream.write(head);
      client.pipe(upstream);
      upstream.pipe(client);
      client.resume();
      upstream.on('error', () => this.drop(link));
      upstream.on('close', () => this.drop(link));
    };
    client.on('data', onData);
    client.on('error', () => this.drop(link));
    client.on('close', () => this.drop(link));
  }

  async close(): Promise<void> {
    for (const l of [...this.links]) this.drop(l);
    await Promise.all([...this.servers.values()].map((s) => new Promise((r) => s.close(() => r(undefined)))));
  }
}
