// The member's events turned into etcd 3.4's metrics: the MemberObserver (proposals,
// slow applies, heartbeats, read indexes, leases, the peer transport) and the store's
// compaction timings. Each moves the family etcd moves at the same point; peer label
// values are hexadecimal member ids, as etcd's types.ID prints them.
import type { CompactionObserver } from '../mvcc/compaction.js';
import type { PeerObserver } from '../peer/observer.js';
import type { MemberObserver } from '../server/member-observer.js';
import type { LeaseFamilies, MvccFamilies, NetworkFamilies, ServerFamilies } from './families.js';

/** etcd's label for a snapshot whose sender could not be read. */
const UNKNOWN_SNAPSHOT_SENDER = 'UNKNOWN_SNAPSHOT_SENDER';

const hex = (id: bigint): string => id.toString(16);

export function memberObserver(
  server: ServerFamilies,
  lease: LeaseFamilies,
  network: NetworkFamilies,
  mvcc: MvccFamilies,
  localId: () => bigint | undefined,
): MemberObserver {
  return {
    proposalPending: (delta) => server.proposalsPending.inc(delta),
    proposalFailed: () => server.proposalsFailed.inc(),
    slowApply: () => server.slowApply.inc(),
    heartbeatSendFailed: () => server.heartbeatSendFailures.inc(),
    readIndexFailed: () => server.readIndexFailed.inc(),
    slowReadIndex: () => server.slowReadIndexes.inc(),
    leaseGranted: (ttlSec) => {
      lease.ttl.observe(ttlSec);
      lease.granted.inc();
    },
    leaseRevoked: () => lease.revoked.inc(),
    leaseRenewed: () => lease.renewed.inc(),
    watchEventsSent: (count) => mvcc.events.inc(count),
    peer: peerObserver(network, localId),
  };
}

function peerObserver(n: NetworkFamilies, localId: () => bigint | undefined): PeerObserver {
  const pair = (peer: bigint) => ({ Local: hex(localId() ?? 0n), Remote: hex(peer) });
  return {
    sent: (to, bytes) => n.peerSentTally.add(to, bytes),
    received: (from, bytes) => n.peerReceivedTally.add(from, bytes),
    sendFailed: (to) => n.peerSentFailures.inc({ To: hex(to) }),
    receiveFailed: (from) => n.peerReceivedFailures.inc({ From: from }),
    peerActive: (peer) => n.activePeers.inc(pair(peer)),
    peerInactive: (peer, disconnected) => {
      n.activePeers.dec(pair(peer));
      if (disconnected) n.disconnectedPeers.inc(pair(peer));
    },
    roundTrip: (to, seconds) => n.peerRoundTrip.observe({ To: hex(to) }, seconds),
    snapshotSendInflight: (to, delta) => n.snapshotSendInflights.inc({ To: hex(to) }, delta),
    snapshotSent: (to, ok, seconds) => {
      if (!ok) {
        n.snapshotSendFailures.inc({ To: hex(to) });
        return;
      }
      n.snapshotSend.inc({ To: hex(to) });
      n.snapshotSendSeconds.observe({ To: hex(to) }, seconds);
    },
    snapshotReceiveInflight: (from, delta) => n.snapshotReceiveInflights.inc({ From: hex(from) }, delta),
    snapshotReceived: (from, ok, seconds) => {
      const From = from === undefined ? UNKNOWN_SNAPSHOT_SENDER : hex(from);
      if (!ok) {
        n.snapshotReceiveFailures.inc({ From });
        return;
      }
      n.snapshotReceive.inc({ From });
      n.snapshotReceiveSeconds.observe({ From }, seconds);
    },
  };
}

/** etcd observes compaction pauses in whole milliseconds (Duration / Millisecond). */
export function compactionObserver(mvcc: MvccFamilies): CompactionObserver {
  return {
    indexCompacted: (ms) => mvcc.indexCompactionPause.observe(Math.floor(ms)),
    chunkDeleted: (ms) => mvcc.dbCompactionPause.observe(Math.floor(ms)),
    finished: (ms, keys) => {
      mvcc.dbCompactionTotal.observe(Math.floor(ms));
      mvcc.dbCompactionKeys.inc(keys);
    },
  };
}
