// Bytes per peer, added up in plain numbers and handed to the prom-client counter only when
// the counter is read (its collect hook). The transport reports every frame written and every
// chunk read; a labelled prom-client inc for each (label object, key string, hash lookup) was
// about 1% of a loaded member's CPU, and nobody looks at the figure between scrapes.

export class PeerByteTally {
  private readonly pending = new Map<bigint, number>();

  add(peer: bigint, bytes: number): void {
    this.pending.set(peer, (this.pending.get(peer) ?? 0) + bytes);
  }

  /** Hands over what was added since the last drain, per peer as etcd prints ids (hex). */
  drain(into: (peerHex: string, bytes: number) => void): void {
    for (const [peer, bytes] of this.pending) into(peer.toString(16), bytes);
    this.pending.clear();
  }
}
