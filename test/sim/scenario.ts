// Helpers for hand-written scenarios: a calm cluster (no random faults, no workload) that a
// test drives step by step, with the same checkers running underneath.
import { Cluster } from './cluster.js';
import type { SimNode } from './node.js';
import { optionsForSeed, type SimOptions, TICK } from './options.js';
import { Rng } from './rng.js';

export function calmOptions(nodes: number, tweak?: (o: SimOptions) => void): SimOptions {
  const o = optionsForSeed(1);
  o.nodes = nodes;
  o.tuning = {
    ...o.tuning,
    electionTick: 10,
    heartbeatTick: 1,
    maxSizePerMsg: 1024 * 1024,
    maxInflightMsgs: 256,
  };
  o.tuning.maxInflightBytes = 0;
  o.tuning.maxUncommittedEntriesSize = 0;
  o.tuning.checkQuorum = false;
  o.tuning.preVote = true;
  o.node = { ...o.node, stepWhilePersisting: true, compactEvery: 1000, compactKeep: 0 };
  o.faults = { dropP: 0, dupP: 0, delayMin: 1, delayMax: 3 };
  o.persistMax = 2;
  tweak?.(o);
  return o;
}

export function calmCluster(nodes: number, tweak?: (o: SimOptions) => void): Cluster {
  const c = new Cluster(calmOptions(nodes, tweak), new Rng(7));
  c.bootstrap();
  return c;
}

/** Run until `cond` holds; throws if it does not within `ticks` ticks of simulated time. */
export function runUntilTrue(c: Cluster, cond: () => boolean, ticks = 200): void {
  c.runUntil(c.now + ticks * TICK, cond);
  if (!cond()) throw new Error(`scenario: condition not reached within ${ticks} ticks`);
}

export function electLeader(c: Cluster): SimNode {
  runUntilTrue(c, () => c.leader() !== undefined);
  return c.leader()!;
}

/** Let the cluster run quietly (heartbeats only) for a while. */
export function settle(c: Cluster, ticks = 20): void {
  c.runUntil(c.now + ticks * TICK);
}
