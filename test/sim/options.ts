// Everything about one run that the seed decides: cluster size, Raft tuning, fault rates.
import { ReadOnlyOption } from '../../src/raft/index.js';
import type { NetworkFaults } from './network.js';
import type { NodeOptions, RaftTuning, Sabotage } from './node.js';
import { Rng } from './rng.js';

/** Simulated time units per Raft tick (think milliseconds: a 10 ms tick). */
export const TICK = 10;

export interface SimOptions {
  seed: number;
  nodes: number;
  tuning: RaftTuning;
  node: NodeOptions;
  faults: NetworkFaults;
  /** Upper bound on the simulated time one persistence (fsync) takes. */
  persistMax: number;
  /** Length of the fault phase in ticks. */
  faultTicks: number;
  /** After healing, ticks within which a leader must commit a fresh write on every live voter. */
  livenessTicks: number;
  /** Mean gap between workload actions, in time units. */
  actionGap: number;
  membership: boolean;
  crashes: boolean;
}

/** What a sweep's command line may override for every seed (so it is part of the replay command). */
export interface RunLimits {
  faultTicks: number;
  /** A deliberate application bug, to see the checkers (and the sweep's failure report) work. */
  sabotage?: Sabotage;
}

export const DEFAULT_LIMITS: RunLimits = { faultTicks: 800 };

export function optionsForSeed(seed: number, limits: RunLimits = DEFAULT_LIMITS): SimOptions {
  const rng = new Rng(seed);
  const nodes = rng.pick([1, 3, 3, 3, 5, 5]);
  const electionTick = rng.pick([10, 10, 15]);
  const checkQuorum = rng.chance(0.7);
  const preVote = rng.chance(0.7);
  const o: SimOptions = {
    seed,
    nodes,
    tuning: {
      electionTick,
      heartbeatTick: rng.pick([1, 1, 2, 3]),
      maxSizePerMsg: rng.pick([1, 64, 1024, 1024 * 1024]),
      maxInflightMsgs: rng.pick([1, 4, 256]),
      maxInflightBytes: rng.pick([0, 0, 4096]),
      maxUncommittedEntriesSize: rng.pick([0, 0, 2048]),
      checkQuorum,
      preVote,
      readOnlyOption: ReadOnlyOption.Safe,
    },
    node: {
      sabotage: limits.sabotage ?? 'none',
      stepWhilePersisting: rng.chance(0.5),
      compactEvery: rng.pick([8, 20, 50, 1000]),
      compactKeep: rng.pick([0, 2, 10]),
      payloadBytes: rng.pick([5, 16, 64]),
      leaderSendsEarly: false,
    },
    faults: {
      dropP: rng.pick([0, 0.01, 0.05, 0.15]),
      dupP: rng.pick([0, 0.02, 0.1]),
      delayMin: 1,
      delayMax: rng.pick([3, 10, 30, 60]),
    },
    persistMax: rng.pick([1, 5, 20, 60]),
    faultTicks: limits.faultTicks,
    // Without pre-vote, a node with a stale config can keep out-campaigning the rightful candidate
    // for a while (their terms race as a random walk), so allow more elections.
    livenessTicks: (preVote ? 20 : 60) * electionTick + 100,
    actionGap: rng.pick([5, 15, 40]),
    membership: nodes > 1 && rng.chance(0.6),
    crashes: rng.chance(0.8),
  };
  // Drawn last, so every earlier choice of a seed stays what it was before this option existed.
  o.node.leaderSendsEarly = rng.chance(0.5);
  return o;
}

export function describeOptions(o: SimOptions): string {
  const t = o.tuning;
  return (
    `seed=${o.seed} nodes=${o.nodes} election=${t.electionTick} heartbeat=${t.heartbeatTick} ` +
    `preVote=${t.preVote} checkQuorum=${t.checkQuorum} maxMsg=${t.maxSizePerMsg} inflight=${t.maxInflightMsgs} ` +
    `stepWhilePersisting=${o.node.stepWhilePersisting} leaderSendsEarly=${o.node.leaderSendsEarly} compactEvery=${o.node.compactEvery} ` +
    `drop=${o.faults.dropP} dup=${o.faults.dupP} delayMax=${o.faults.delayMax} persistMax=${o.persistMax} ` +
    `membership=${o.membership} crashes=${o.crashes} faultTicks=${o.faultTicks}` +
    (o.node.sabotage === 'none' ? '' : ` SABOTAGE=${o.node.sabotage}`)
  );
}
