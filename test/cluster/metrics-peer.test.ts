// etcd_network_* on a 3-member etcd-ts cluster: bytes move both ways between every
// pair (labelled with the peer's hexadecimal id), each member has 2 active peers,
// the prober's round trips are observed, a joiner caught up by a raft snapshot
// shows on both ends' snapshot families, and a stopped member counts as disconnected.
import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { eventually } from '../integration/harness.js';
import { type Family, parseExposition, sampleValue } from '../integration/metrics-text.js';
import { addAndStart, type ClusterNode, TestCluster } from './harness.js';

const SNAPSHOT_FLAGS = ['--snapshot-count=100', '--experimental-snapshot-catchup-entries=10'];

async function scrape(n: ClusterNode): Promise<Map<string, Family>> {
  const res = await fetch(`http://${n.endpoint}/metrics`);
  assert.equal(res.status, 200);
  return parseExposition(await res.text());
}

describe('peer network metrics in a 3-member cluster', { timeout: 90_000 }, () => {
  let c: TestCluster | undefined;
  const ids = new Map<ClusterNode, string>();

  after(async () => {
    await c?.stop();
  });

  test('bytes both ways per peer, 2 active peers each, round trips observed', async () => {
    c = await TestCluster.create(['ts', 'ts', 'ts'], SNAPSHOT_FLAGS);
    const cl = c;
    cl.startAll();
    await cl.ready();
    for (const n of cl.nodes) {
      ids.set(n, ((await cl.status(n)).header?.memberId ?? 0n).toString(16));
    }
    await cl.put(cl.nodes[0]!, 'k', 'v');
    // The prober reports its first round trip 5 s after a peer is added.
    await eventually(
      async () => {
        for (const n of cl.nodes) {
          const f = await scrape(n);
          const local = ids.get(n)!;
          for (const peer of cl.nodes.filter((p) => p !== n)) {
            const id = ids.get(peer)!;
            assert.ok(sampleValue(f, 'etcd_network_peer_sent_bytes_total', { To: id }) > 0, `${local}→${id}`);
            assert.ok(
              sampleValue(f, 'etcd_network_peer_received_bytes_total', { From: id }) > 0,
              `${local}←${id}`,
            );
            assert.equal(
              sampleValue(f, 'etcd_network_active_peers', { Local: local, Remote: id }),
              1,
              `${local} sees ${id} active`,
            );
            assert.ok(
              sampleValue(f, 'etcd_network_peer_round_trip_time_seconds_count', { To: id }) >= 1,
              `round trips ${local}→${id}`,
            );
          }
          const active = f.get('etcd_network_active_peers')!.samples.reduce((s, x) => s + x.value, 0);
          assert.equal(active, 2, `${local} has 2 active peers`);
        }
      },
      20_000,
      500,
    );
  });

  test('a joiner caught up by snapshot; a stopped member is disconnected', async () => {
    const cl = c!;
    const leader = await cl.leader();
    for (let i = 0; i < 300; i += 50) {
      await Promise.all(Array.from({ length: 50 }, (_, j) => cl.put(leader, `snap/${i + j}`, 'v')));
    }
    const joiner = await cl.addNode('ts', 'joiner', SNAPSHOT_FLAGS);
    const joinerId = (await addAndStart(cl, leader, joiner)).toString(16);
    // The member that sends the snapshot is whoever leads when the joiner needs it, which on a
    // loaded machine need not be the member that led the puts: every old member is scraped.
    let sender: ClusterNode | undefined;
    await eventually(
      async () => {
        const sent: Array<[ClusterNode, Map<string, Family>]> = [];
        for (const n of cl.nodes) {
          if (n === joiner) continue;
          const f = await scrape(n);
          if (sampleValue(f, 'etcd_network_snapshot_send_success', { To: joinerId }) > 0) sent.push([n, f]);
        }
        assert.equal(sent.length, 1, 'exactly one member sent the joiner a snapshot');
        const [n, f] = sent[0]!;
        assert.equal(sampleValue(f, 'etcd_network_snapshot_send_success', { To: joinerId }), 1);
        assert.equal(
          sampleValue(f, 'etcd_network_snapshot_send_total_duration_seconds_count', { To: joinerId }),
          1,
        );
        assert.equal(sampleValue(f, 'etcd_network_snapshot_send_inflights_total', { To: joinerId }), 0);
        const senderId = ids.get(n)!;
        const j = await scrape(joiner);
        assert.equal(sampleValue(j, 'etcd_network_snapshot_receive_success', { From: senderId }), 1);
        assert.ok(sampleValue(j, 'etcd_network_peer_received_bytes_total', { From: senderId }) > 10_000);
        sender = n;
      },
      30_000,
      500,
    );
    assert.ok(sender !== undefined);
    const leaderId = ids.get(leader)!;
    const victim = cl.nodes.find((n) => n !== leader && n !== joiner)!;
    const victimId = ids.get(victim)!;
    await victim.stop();
    await eventually(
      async () => {
        const f = await scrape(leader);
        const pair = { Local: leaderId, Remote: victimId };
        assert.ok(sampleValue(f, 'etcd_network_disconnected_peers_total', pair) >= 1);
        assert.equal(sampleValue(f, 'etcd_network_active_peers', pair), 0);
        assert.ok(sampleValue(f, 'etcd_network_peer_sent_failures_total', { To: victimId }) >= 1);
      },
      15_000,
      500,
    );
  });
});
