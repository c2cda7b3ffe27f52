// What the peer transport reports as it works (for the member's metrics: etcd 3.4's
// etcd_network_* families), as plain optional callbacks so src/peer needs no metrics
// library. Peers are member ids; `receiveFailed` gets a string because etcd labels a
// request it could not read with the sender's address when it has no member id yet.

export interface PeerObserver {
  /** Bytes written to a peer: stream frames as flushed, a pipeline message once accepted, a whole snapshot once sent. */
  sent?(to: bigint, bytes: number): void;
  /** Bytes read from a peer: stream data, a pipeline message, a snapshot (message and database). */
  received?(from: bigint, bytes: number): void;
  /** A message that could not be sent (dropped on a full buffer, a failed write or POST). */
  sendFailed?(to: bigint): void;
  /** A message or stream from a peer that could not be read. */
  receiveFailed?(from: string): void;
  /** The peer became reachable (a stream connected, a POST answered). */
  peerActive?(peer: bigint): void;
  /** The peer stopped being reachable; `disconnected` false when we dropped it ourselves (removed, stopping). */
  peerInactive?(peer: bigint, disconnected: boolean): void;
  /** The prober's smoothed round trip time to a peer, every 30 s (5 s while unhealthy). */
  roundTrip?(to: bigint, seconds: number): void;
  /** A snapshot send started (+1) or ended (-1). */
  snapshotSendInflight?(to: bigint, delta: 1 | -1): void;
  /** A snapshot send ended; `seconds` from its start. */
  snapshotSent?(to: bigint, ok: boolean, seconds: number): void;
  /** A snapshot receive started (+1) or ended (-1). */
  snapshotReceiveInflight?(from: bigint, delta: 1 | -1): void;
  /** A snapshot receive ended (`from` undefined when the sender could not be read). */
  snapshotReceived?(from: bigint | undefined, ok: boolean, seconds: number): void;
}
