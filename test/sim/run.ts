// One seeded run: a fault phase with the random workload, then heal everything and
// require progress (liveness) within a bounded simulated time, then final durability checks.

import { SimViolation } from './checkers.js';
import { Cluster } from './cluster.js';
import { CALM } from './network.js';
import type { SimNode } from './node.js';
import { DEFAULT_LIMITS, optionsForSeed, type RunLimits, type SimOptions, TICK } from './options.js';
import { Rng } from './rng.js';
import { Workload } from './workload.js';

export interface SimResult {
  seed: number;
  nodesEver: number;
  steps: number;
  simTime: number;
  messages: number;
  writesProposed: number;
  writesAcked: number;
  readsChecked: number;
  confChanges: number;
  crashes: number;
}

export interface RunOptions {
  limits?: RunLimits;
  trace?: (line: string) => void;
  /** Override the seed's options (scenario tests). */
  tweak?: (o: SimOptions) => void;
}

export function runSeed(seed: number, ro: RunOptions = {}): SimResult {
  const opts = optionsForSeed(seed, ro.limits ?? DEFAULT_LIMITS);
  ro.tweak?.(opts);
  // Separate streams: workload choices never shift the network's or the nodes' draws.
  const master = new Rng(seed ^ 0x5eed);
  const c = new Cluster(opts, master.fork(), ro.trace);
  const workload = new Workload(c, master.fork());
  c.bootstrap();
  workload.start();
  c.runUntil(opts.faultTicks * TICK);
  healEverything(c, workload);
  // Without check-quorum and pre-vote, a node whose term was inflated (e.g. by a removed member's
  // vote requests) silently ignores the real leader's lower-term messages and nothing tells the
  // leader: Raft gives no liveness there (etcd always runs with check-quorum). Safety is still checked.
  if (opts.tuning.checkQuorum || opts.tuning.preVote) requireLiveness(c, workload);
  else settleAfterHeal(c);
  return {
    seed,
    nodesEver: c.nodes.size,
    steps: c.steps,
    simTime: c.now,
    messages: c.messagesSent,
    writesProposed: workload.writesProposed,
    writesAcked: c.check.acked.length,
    readsChecked: c.check.readsChecked,
    confChanges: workload.confChanges,
    crashes: workload.crashes,
  };
}

export function healEverything(c: Cluster, workload: Workload): void {
  c.trace('=== HEAL: faults stop, network heals, every member restarts ===');
  workload.stop();
  c.net.heal();
  c.net.faults = CALM;
  for (const n of c.nodes.values()) if (!n.alive && !n.removed) c.restart(n);
}

/** Keep running (and checking safety) for the liveness budget without requiring progress. */
function settleAfterHeal(c: Cluster): void {
  c.runUntil(c.now + c.opts.livenessTicks * TICK);
}

/** A leader must get a fresh write applied on every voter of its config within the bound. */
export function requireLiveness(c: Cluster, workload: Workload): void {
  const budget = livenessBudgetTicks(c);
  const deadline = c.now + budget * TICK;
  const retryAfter = 2 * c.opts.tuning.electionTick * TICK;
  const probes: number[] = [];
  let lastProbeAt = Number.NEGATIVE_INFINITY;
  let done: SimNode[] | undefined;
  const probe = (): void => {
    done = probeLanded(c, probes);
    if (done !== undefined) return;
    const leader = c.leader();
    if (leader !== undefined && c.now - lastProbeAt >= retryAfter) {
      const id = workload.newWriteId();
      if (leader.propose(id)) {
        probes.push(id);
        lastProbeAt = c.now;
        c.trace(`n${leader.id} propose liveness probe ${id}`);
      }
    }
    c.after(TICK, '', probe);
  };
  probe();
  c.runUntil(deadline, () => done !== undefined);
  if (done === undefined) {
    const states = [...c.nodes.values()]
      .map(
        (n) =>
          `n${n.id}:${n.alive ? 'up' : 'down'}${n.removed ? '/removed' : ''} st=${n.state} term=${n.term} applied=${n.app.applied} voters=[${n.confState.voters}]`,
      )
      .join('; ');
    throw new SimViolation(
      'liveness',
      `no write committed on all voters within ${c.opts.livenessTicks} ticks of healing; ${states}`,
    );
  }
  for (const n of done) c.check.checkAllAckedPresent(n);
}

/**
 * The base bound, plus time to replicate the uncommitted backlog left by the fault phase: with
 * one entry per message and one message in flight, each entry costs a round trip and two fsyncs.
 */
function livenessBudgetTicks(c: Cluster): number {
  let backlog = 0;
  for (const n of c.nodes.values()) {
    if (n.removed) continue;
    backlog = Math.max(backlog, n.storage.lastIndex() - n.storage.initialState().hardState.commit);
  }
  const perEntry = Math.ceil((2 * CALM.delayMax + 2 * c.opts.persistMax) / TICK);
  return c.opts.livenessTicks + backlog * perEntry;
}

/** The voters of the current leader's config, if one probe write is applied on all of them. */
function probeLanded(c: Cluster, probes: number[]): SimNode[] | undefined {
  const leader = c.leader();
  if (leader === undefined || probes.length === 0) return undefined;
  const voters: SimNode[] = [];
  for (const v of leader.confState.voters) {
    const n = c.nodes.get(v);
    if (n === undefined || !n.alive) return undefined;
    voters.push(n);
  }
  return probes.some((p) => voters.every((n) => n.app.writeSet.has(p))) ? voters : undefined;
}
