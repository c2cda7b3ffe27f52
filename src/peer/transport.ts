// The member-to-member transport, wire-compatible with etcd 3.4's rafthttp:
// one RemotePeer per member, raft messages routed onto streams or the
// pipeline, snapshots onto their own POST with the database streamed behind.
// A slow or dead peer only fills its own buffers: sends never block and
// never wait for another peer.
import { type Message, MessageType } from '../raft/types.js';
import { hexId } from './constants.js';
import type { TransportContext } from './context.js';
import { toWire } from './read-index-shape.js';
import { RemotePeer } from './remote-peer.js';
import { type OutgoingSnapshot, sendSnapshot } from './snapshot-sender.js';

/** Builds what a MsgSnap needs on the wire: the member's merged snapshot and its database. */
export interface SnapshotSource {
  prepare(m: Message): Promise<OutgoingSnapshot>;
}

/** etcd keeps at most this many snapshots in flight. */
const MAX_SNAPSHOTS_IN_FLIGHT = 16;

export class PeerTransport {
  private readonly peers = new Map<bigint, RemotePeer>();
  private snapshotsInFlight = 0;
  private stopped = false;

  constructor(
    readonly ctx: TransportContext,
    private readonly snapshots?: SnapshotSource,
  ) {}

  /** A member of the cluster: streams are dialled at once. */
  addPeer(id: bigint, urls: readonly string[]): void {
    if (this.stopped || id === this.ctx.localId) return;
    const existing = this.peers.get(id);
    if (existing !== undefined && !existing.remoteOnly) return;
    existing?.stop();
    const p = new RemotePeer(this.ctx, id, urls);
    this.peers.set(id, p);
    p.start();
    this.ctx.log.info('added remote peer', { 'remote-peer-id': hexId(id), 'remote-peer-urls': urls });
  }

  /** A sender we do not know as a member yet: reachable over the pipeline only. */
  addRemote(id: bigint, urls: readonly string[]): void {
    if (this.stopped || id === this.ctx.localId || this.peers.has(id) || urls.length === 0) return;
    this.peers.set(id, new RemotePeer(this.ctx, id, urls, true));
  }

  removePeer(id: bigint): void {
    const p = this.peers.get(id);
    if (p === undefined) return;
    p.stop();
    this.peers.delete(id);
    this.ctx.log.info('removed remote peer', { 'removed-remote-peer-id': hexId(id) });
  }

  updatePeer(id: bigint, urls: readonly string[]): void {
    this.peers.get(id)?.updateUrls(urls);
  }

  removeAllPeers(): void {
    for (const id of [...this.peers.keys()]) this.removePeer(id);
  }

  get(id: bigint): RemotePeer | undefined {
    return this.peers.get(id);
  }

  peerIds(): bigint[] {
    return [...this.peers.keys()];
  }

  /** Since when `id` has been reachable, or undefined. */
  activeSince(id: bigint): number | undefined {
    return this.peers.get(id)?.activeSince();
  }

  send(messages: readonly Message[]): void {
    for (const raw of messages) {
      if (raw.to === 0n) continue;
      const m = toWire(raw);
      const p = this.peers.get(m.to);
      if (p === undefined) {
        this.ctx.log.debug('ignored message send request; unknown remote peer target', {
          'unknown-target-peer-id': hexId(m.to),
        });
        continue;
      }
      if (m.type === MessageType.Snap) {
        this.sendSnapshot(p, m);
        continue;
      }
      if (!p.send(m)) {
        this.ctx.observer?.sendFailed?.(m.to);
        this.ctx.host.reportUnreachable(m.to);
      }
    }
  }

  private sendSnapshot(p: RemotePeer, m: Message): void {
    if (this.snapshots === undefined || this.snapshotsInFlight >= MAX_SNAPSHOTS_IN_FLIGHT) {
      this.ctx.host.reportSnapshot(p.id, false);
      return;
    }
    this.snapshotsInFlight++;
    void this.snapshots
      .prepare(m)
      .then((snap) => sendSnapshot(this.ctx, p.id, p.urls, snap))
      .catch((err: unknown) => {
        this.ctx.log.warn('failed to prepare a snapshot for a peer', {
          'remote-peer-id': hexId(p.id),
          error: (err as Error).message,
        });
        return false;
      })
      .then((ok) => {
        this.snapshotsInFlight--;
        p.snapshotResult(ok);
        if (!ok) this.ctx.host.reportUnreachable(p.id);
        this.ctx.host.reportSnapshot(p.id, ok);
      });
  }

  stop(): void {
    this.stopped = true;
    this.removeAllPeers();
  }
}
