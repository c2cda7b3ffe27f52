// Raft core throughput: a 3-node cluster in one thread, in memory, no faults. Each round the
// leader takes a batch of 256-byte proposals (pipelined: the next batch is proposed before the
// previous one commits), then every node handles its Ready (persist to MemoryStorage, send,
// apply, advance) and messages are delivered. Prints committed proposals per second.
//   node dist/bench/raft-sim.js [--seconds S] [--batch B]
import {
  ConfChangeType,
  decodeConfChange,
  EntryType,
  MemoryStorage,
  type Message,
  type NodeId,
  RawNode,
  ReadOnlyOption,
  StateType,
} from '../src/raft/index.js';

const ENTRY_BYTES = 256;
const MAX_IN_FLIGHT_BATCHES = 4;

interface BenchNode {
  raft: RawNode;
  storage: MemoryStorage;
  applied: number;
}

function makeCluster(ids: NodeId[]): Map<NodeId, BenchNode> {
  let seed = 12345;
  const random = (): number => {
    seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
    return seed / 0x100000000;
  };
  const nodes = new Map<NodeId, BenchNode>();
  for (const id of ids) {
    const storage = new MemoryStorage();
    const raft = new RawNode({
      id,
      electionTick: 10,
      heartbeatTick: 1,
      storage,
      applied: 0,
      maxSizePerMsg: 1024 * 1024,
      maxInflightMsgs: 256,
      maxInflightBytes: 0,
      maxUncommittedEntriesSize: 0,
      checkQuorum: true,
      preVote: true,
      readOnlyOption: ReadOnlyOption.Safe,
      random,
    });
    raft.bootstrap(
      ids.map((nodeId) => ({ type: ConfChangeType.AddNode, nodeId, context: new Uint8Array() })),
    );
    nodes.set(id, { raft, storage, applied: 0 });
  }
  return nodes;
}

/** Handle every pending Ready once; returns the messages to deliver and entries applied at `counted`. */
function pumpAll(nodes: Map<NodeId, BenchNode>, counted: NodeId): { msgs: Message[]; applied: number } {
  const msgs: Message[] = [];
  let applied = 0;
  for (const [id, n] of nodes) {
    if (!n.raft.hasReady()) continue;
    const rd = n.raft.ready();
    if (rd.snapshot) n.storage.applySnapshot(rd.snapshot);
    n.storage.append(rd.entries);
    if (rd.hardState) n.storage.setHardState(rd.hardState);
    msgs.push(...rd.messages);
    for (const e of rd.committedEntries) {
      if (e.type === EntryType.ConfChange) n.raft.applyConfChange(decodeConfChange(e.data));
      else if (id === counted && e.data.length > 0) applied++;
      n.applied = e.index;
    }
    n.raft.advance(rd);
  }
  return { msgs, applied };
}

function settle(nodes: Map<NodeId, BenchNode>, counted: NodeId): number {
  let applied = 0;
  for (let rounds = 0; rounds < 1000; rounds++) {
    const r = pumpAll(nodes, counted);
    applied += r.applied;
    if (r.msgs.length === 0) return applied;
    for (const m of r.msgs) nodes.get(m.to)!.raft.step(m);
  }
  throw new Error('bench: cluster did not settle');
}

function run(seconds: number, batch: number): { committed: number; secs: number } {
  const ids = [1n, 2n, 3n];
  const nodes = makeCluster(ids);
  const leader = nodes.get(1n)!;
  settle(nodes, 1n); // apply the bootstrap conf changes first: Raft will not campaign with them pending
  leader.raft.campaign();
  settle(nodes, 1n);
  if (leader.raft.status().softState.state !== StateType.Leader) throw new Error('bench: node 1 did not win');
  const payload = new Uint8Array(ENTRY_BYTES).fill(7);
  let proposed = 0;
  let committed = 0;
  const t0 = performance.now();
  const until = t0 + seconds * 1000;
  let rounds = 0;
  while (performance.now() < until) {
    // Keep a few batches in flight: propose, then do one network round (not a full settle).
    while (proposed - committed < batch * MAX_IN_FLIGHT_BATCHES) {
      for (let i = 0; i < batch; i++) leader.raft.propose(payload);
      proposed += batch;
    }
    const r = pumpAll(nodes, 1n);
    committed += r.applied;
    for (const m of r.msgs) nodes.get(m.to)!.raft.step(m);
    if (++rounds % 50 === 0) for (const n of nodes.values()) n.raft.tick();
    if (rounds % 2000 === 0) compactAll(nodes);
  }
  committed += settle(nodes, 1n);
  return { committed, secs: (performance.now() - t0) / 1000 };
}

/** Keep memory flat on long runs, as a real member would after snapshots. */
function compactAll(nodes: Map<NodeId, BenchNode>): void {
  for (const n of nodes.values()) {
    const upTo = n.applied - 1000;
    if (upTo > n.storage.firstIndex()) n.storage.compact(upTo);
  }
}

function main(): void {
  const argv = process.argv.slice(2);
  const arg = (name: string, dflt: number): number => {
    const i = argv.indexOf(name);
    return i >= 0 ? Number(argv[i + 1]) : dflt;
  };
  const seconds = arg('--seconds', 3);
  const batches = argv.includes('--batch') ? [arg('--batch', 64)] : [1, 16, 64, 256];
  for (const batch of batches) {
    const { committed, secs } = run(seconds, batch);
    const perSec = committed / secs;
    console.log(
      `raft-sim: 3 nodes, ${ENTRY_BYTES} B entries, batch ${batch} (<= ${batch * MAX_IN_FLIGHT_BATCHES} in flight): ` +
        `${committed} proposals committed in ${secs.toFixed(2)} s = ${Math.round(perSec)} proposals/s ` +
        `(${((perSec * ENTRY_BYTES) / 1e6).toFixed(1)} MB/s)`,
    );
  }
}

main();
