// Multi-member clusters of real processes on loopback: etcd-ts members, real
// etcd 3.4 members, or a mix, started with the flags the tutorials use
// (--initial-cluster, --initial-cluster-token, --initial-cluster-state).
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import {
  DeleteRangeRequest,
  DeleteRangeResponse,
  MemberAddRequest,
  MemberAddResponse,
  MemberListRequest,
  MemberListResponse,
  MemberPromoteRequest,
  MemberPromoteResponse,
  MemberRemoveRequest,
  MemberRemoveResponse,
  MoveLeaderRequest,
  MoveLeaderResponse,
  PutRequest,
  PutResponse,
  RangeRequest,
  RangeResponse,
  StatusRequest,
  StatusResponse,
} from '../../src/pb/etcdserverpb/rpc.js';
import {
  Client,
  eventually,
  freePort,
  MemberProcess,
  removeDir,
  serverMain,
  tempDir,
} from '../integration/harness.js';

export const REAL_ETCD = '/usr/bin/etcd';
export const haveRealEtcd = existsSync(REAL_ETCD);

export type Impl = 'ts' | 'real';

export interface NodeOptions {
  name: string;
  impl: Impl;
  clientPort: number;
  peerPort: number;
  /** A proxy port advertised to the other members instead of the listening port. */
  advertisePeerPort?: number;
  dataDir: string;
  extraArgs?: string[];
}

/** One member process; its --initial-cluster comes from the cluster it belongs to. */
export class ClusterNode extends MemberProcess {
  initialCluster = '';
  clusterState: 'new' | 'existing' = 'new';
  token = 'etcd-ts-cluster';

  constructor(readonly opts: NodeOptions) {
    super({
      name: opts.name,
      dataDir: opts.dataDir,
      clientPort: opts.clientPort,
      peerPort: opts.peerPort,
      extraArgs: opts.extraArgs ?? [],
    });
  }

  /** The advertised peer URL (the proxy's, when there is one). */
  get peerUrl(): string {
    return `http://127.0.0.1:${this.opts.advertisePeerPort ?? this.opts.peerPort}`;
  }

  override args(): string[] {
    const client = `http://127.0.0.1:${this.opts.clientPort}`;
    return [
      `--name=${this.opts.name}`,
      `--data-dir=${this.opts.dataDir}`,
      `--listen-client-urls=${client}`,
      `--advertise-client-urls=${client}`,
      `--listen-peer-urls=http://127.0.0.1:${this.opts.peerPort}`,
      `--initial-advertise-peer-urls=${this.peerUrl}`,
      `--initial-cluster=${this.initialCluster}`,
      `--initial-cluster-token=${this.token}`,
      `--initial-cluster-state=${this.clusterState}`,
      '--heartbeat-interval=50',
      '--election-timeout=500',
      ...(this.opts.extraArgs ?? []),
    ];
  }

  override command(): [string, string[]] {
    if (this.opts.impl === 'real') return [REAL_ETCD, this.args()];
    return [process.execPath, [serverMain(), ...this.args()]];
  }

  client(): Client {
    return new Client(this.endpoint);
  }
}

export class TestCluster {
  readonly nodes: ClusterNode[] = [];
  private readonly clients = new Map<ClusterNode, Client>();

  constructor(readonly root: string) {}

  static async create(impls: Impl[], extraArgs: string[] = [], proxied = false): Promise<TestCluster> {
    const c = new TestCluster(tempDir('cluster'));
    for (let i = 0; i < impls.length; i++) await c.addNode(impls[i]!, `m${i}`, extraArgs, proxied);
    const initial = c.nodes.map((n) => `${n.opts.name}=${n.peerUrl}`).join(',');
    for (const n of c.nodes) n.initialCluster = initial;
    return c;
  }

  async addNode(impl: Impl, name: string, extraArgs: string[] = [], proxied = false): Promise<ClusterNode> {
    const n = new ClusterNode({
      name,
      impl,
      clientPort: await freePort(),
      peerPort: await freePort(),
      ...(proxied ? { advertisePeerPort: await freePort() } : {}),
      dataDir: join(this.root, name),
      extraArgs,
    });
    this.nodes.push(n);
    return n;
  }

  startAll(): void {
    for (const n of this.nodes) n.start();
  }

  client(n: ClusterNode): Client {
    let c = this.clients.get(n);
    if (c === undefined) {
      c = n.client();
      this.clients.set(n, c);
    }
    return c;
  }

  async put(n: ClusterNode, key: string, value: string, timeoutMs = 5000): Promise<PutResponse> {
    return this.client(n).call(
      '/etcdserverpb.KV/Put',
      PutRequest,
      PutResponse,
      PutRequest.fromPartial({ key: Buffer.from(key), value: Buffer.from(value) }),
      timeoutMs,
    );
  }

  async get(
    n: ClusterNode,
    key: string,
    serializable = false,
    timeoutMs = 5000,
  ): Promise<string | undefined> {
    const r = await this.client(n).call(
      '/etcdserverpb.KV/Range',
      RangeRequest,
      RangeResponse,
      RangeRequest.fromPartial({ key: Buffer.from(key), serializable }),
      timeoutMs,
    );
    const kv = r.kvs[0];
    return kv === undefined ? undefined : Buffer.from(kv.value).toString();
  }

  async range(n: ClusterNode, prefix: string): Promise<RangeResponse> {
    const key = Buffer.from(prefix);
    const end = Buffer.from(prefix);
    end[end.length - 1]!++;
    return this.client(n).call(
      '/etcdserverpb.KV/Range',
      RangeRequest,
      RangeResponse,
      RangeRequest.fromPartial({ key, rangeEnd: end }),
      10_000,
    );
  }

  async deletePrefix(n: ClusterNode, prefix: string): Promise<DeleteRangeResponse> {
    const key = Buffer.from(prefix);
    const end = Buffer.from(prefix);
    end[end.length - 1]!++;
    return this.client(n).call(
      '/etcdserverpb.KV/DeleteRange',
      DeleteRangeRequest,
      DeleteRangeResponse,
      DeleteRangeRequest.fromPartial({ key, rangeEnd: end }),
    );
  }

  async members(n: ClusterNode): Promise<MemberListResponse> {
    return this.client(n).call('/etcdserverpb.Cluster/MemberList', MemberListRequest, MemberListResponse, {});
  }

  async status(n: ClusterNode): Promise<StatusResponse> {
    return this.client(n).call('/etcdserverpb.Maintenance/Status', StatusRequest, StatusResponse, {}, 2000);
  }

  /** The node every reachable member names as leader, once they agree. */
  async leader(nodes: ClusterNode[] = this.nodes, timeoutMs = 15_000): Promise<ClusterNode> {
    return eventually(
      async () => {
        const statuses = await Promise.all(nodes.map((n) => this.status(n)));
        const leaders = new Set(statuses.map((s) => s.leader));
        if (leaders.size !== 1 || statuses[0]!.leader === 0n) throw new Error('no agreed leader yet');
        const leaderId = statuses[0]!.leader;
        const idx = statuses.findIndex((s) => s.header?.memberId === leaderId);
        if (idx < 0) throw new Error('the leader is not among the asked nodes');
        return nodes[idx]!;
      },
      timeoutMs,
      100,
    );
  }

  /** Waits until each node answers a linearizable read. */
  async ready(nodes: ClusterNode[] = this.nodes, timeoutMs = 20_000): Promise<void> {
    await Promise.all(nodes.map((n) => eventually(() => this.get(n, 'health-probe'), timeoutMs, 100)));
  }

  closeClient(n: ClusterNode): void {
    this.clients.get(n)?.close();
    this.clients.delete(n);
  }

  logs(): string {
    return this.nodes
      .map((n) => `--- ${n.opts.name} (${n.opts.impl}) ---\n${n.output.slice(-4000)}`)
      .join('\n');
  }

  async stop(): Promise<void> {
    for (const c of this.clients.values()) c.close();
    this.clients.clear();
    await Promise.all(this.nodes.map((n) => n.stop()));
    removeDir(this.root);
  }
}

/** Adds `n` to the cluster through `via` (Cluster.MemberAdd) and starts it with --initial-cluster-state existing. */
export async function addAndStart(
  c: TestCluster,
  via: ClusterNode,
  n: ClusterNode,
  learner = false,
): Promise<bigint> {
  // etcd refuses a member add until every voter has been connected for 5 s
  // ("unhealthy cluster"); users retry, so do we.
  const r = await eventually(
    () =>
      c
        .client(via)
        .call(
          '/etcdserverpb.Cluster/MemberAdd',
          MemberAddRequest,
          MemberAddResponse,
          MemberAddRequest.fromPartial({ peerURLs: [n.peerUrl], isLearner: learner }),
          10_000,
        ),
    15_000,
    500,
  );
  const id = r.member?.ID ?? 0n;
  // --initial-cluster as `member add` prints it: every member that has a name, plus the new one.
  const named = r.members.filter((m) => m.name !== '' && m.ID !== id);
  n.initialCluster = [
    ...named.map((m) => `${m.name}=${m.peerURLs.join(`,${m.name}=`)}`),
    `${n.opts.name}=${n.peerUrl}`,
  ].join(',');
  n.clusterState = 'existing';
  n.start();
  return id;
}

export async function removeMember(
  c: TestCluster,
  via: ClusterNode,
  id: bigint,
): Promise<MemberRemoveResponse> {
  return c
    .client(via)
    .call(
      '/etcdserverpb.Cluster/MemberRemove',
      MemberRemoveRequest,
      MemberRemoveResponse,
      { ID: id },
      10_000,
    );
}

export async function promoteMember(
  c: TestCluster,
  via: ClusterNode,
  id: bigint,
): Promise<MemberPromoteResponse> {
  return c
    .client(via)
    .call(
      '/etcdserverpb.Cluster/MemberPromote',
      MemberPromoteRequest,
      MemberPromoteResponse,
      { ID: id },
      10_000,
    );
}

export async function moveLeader(c: TestCluster, via: ClusterNode, target: bigint): Promise<void> {
  await c
    .client(via)
    .call(
      '/etcdserverpb.Maintenance/MoveLeader',
      MoveLeaderRequest,
      MoveLeaderResponse,
      { targetID: target },
      10_000,
    );
}
