// Randomized schedules over a small cluster: message loss, duplication, reordering, partitions,
// restarts, compaction (so snapshots), and membership changes (a sixth node joins as learner and
// is promoted; members are removed). Checks election safety (one leader per term) after every
// step, and at the end, after healing, that every member applied the same sequence.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { enc, lcg, learner, Network, voter } from './testkit.js';
import { type ConfChange, ConfChangeType, type Message, ProposalDroppedError, StateType } from './types.js';
import { EMPTY_BYTES } from './util.js';

interface Options {
  preVote: boolean;
  checkQuorum: boolean;
}

const VOTERS = [1, 2, 3, 4, 5];
const ALL = [...VOTERS, 6];
const CONF_CHANGES: ConfChange[] = [
  learner(6n),
  voter(6n),
  { type: ConfChangeType.RemoveNode, nodeId: 5n, context: EMPTY_BYTES },
  { type: ConfChangeType.RemoveNode, nodeId: 1n, context: EMPTY_BYTES },
];

class Schedule {
  readonly rnd: () => number;
  readonly net: Network;
  readonly leaders = new Map<number, bigint>();

  constructor(
    readonly seed: number,
    opts: Options,
  ) {
    this.rnd = lcg(seed);
    this.net = Network.create(VOTERS, [], { ...opts, random: lcg(seed + 1000) });
    this.net.addNode(6n, undefined, { ...opts, random: lcg(seed + 2000) });
  }

  pick<T>(xs: T[]): T {
    return xs[Math.floor(this.rnd() * xs.length)];
  }

  /** Returns how many normal entries the cluster applied. */
  run(steps: number): number {
    for (let step = 0; step < steps; step++) {
      this.act();
      this.checkOneLeaderPerTerm();
    }
    this.net.heal();
    for (let i = 0; i < 300; i++) {
      for (const id of ALL) this.net.tick(id);
      this.net.stabilize();
      this.checkOneLeaderPerTerm();
    }
    return this.checkAppliedAgree();
  }

  private act(): void {
    const net = this.net;
    const r = this.rnd();
    if (r < 0.5 && net.queue.length > 0) this.deliverOne();
    else if (r < 0.75) net.get(this.pick(ALL)).node.tick();
    else if (r < 0.9) net.processReady(net.get(this.pick(ALL)));
    else if (r < 0.965) this.propose(() => net.get(this.pick(VOTERS)).node.propose(enc(`p${this.rnd()}`)));
    else if (r < 0.97)
      this.propose(() => net.get(this.pick(VOTERS)).node.proposeConfChange(this.pick(CONF_CHANGES)));
    else if (r < 0.975) net.restart(this.pick(ALL));
    else if (r < 0.98) net.compact(this.pick(ALL));
    else if (this.rnd() < 0.5) net.heal();
    else net.isolate(this.pick(ALL));
  }

  /** Deliver a random queued message (reordering); 5% are lost, 5% duplicated. */
  private deliverOne(): void {
    const i = Math.floor(this.rnd() * this.net.queue.length);
    const m = this.net.queue[i] as Message;
    const fate = this.rnd();
    if (fate >= 0.05) this.net.queue.splice(i, 1);
    if (fate >= 0.1) this.net.deliver(m);
    else if (fate >= 0.05) this.net.lose(m);
  }

  private propose(f: () => void): void {
    try {
      f();
    } catch (e) {
      if (!(e instanceof ProposalDroppedError)) throw e;
    }
  }

  private checkOneLeaderPerTerm(): void {
    for (const id of ALL) {
      const st = this.net.get(id).node.status();
      if (st.softState.state !== StateType.Leader) continue;
      const prev = this.leaders.get(st.hardState.term);
      assert.ok(
        prev === undefined || prev === BigInt(id),
        `seed ${this.seed}: two leaders in term ${st.hardState.term}`,
      );
      this.leaders.set(st.hardState.term, BigInt(id));
    }
  }

  private checkAppliedAgree(): number {
    const leader = ALL.find((id) => this.net.state(id) === StateType.Leader);
    assert.ok(leader !== undefined, `seed ${this.seed}: no leader after healing`);
    const cs = this.net.get(leader).node.status().confState;
    const members = [...cs.voters, ...cs.learners].map(Number);
    const expected = this.net.get(leader).applied;
    for (const id of members) {
      assert.deepEqual(
        this.net.get(id).applied,
        expected,
        `seed ${this.seed}: node ${id} applied a different sequence`,
      );
    }
    return expected.length;
  }
}

describe('randomized safety', () => {
  const variants: Options[] = [
    { preVote: false, checkQuorum: false },
    { preVote: true, checkQuorum: false },
    { preVote: false, checkQuorum: true },
    { preVote: true, checkQuorum: true },
  ];
  for (const opts of variants) {
    test(`one leader per term, members agree (preVote=${opts.preVote}, checkQuorum=${opts.checkQuorum})`, () => {
      let productive = 0;
      for (let seed = 1; seed <= 30; seed++) if (new Schedule(seed, opts).run(2000) > 0) productive++;
      // Liveness under this much chaos is not guaranteed, but most schedules must make progress.
      assert.ok(productive >= 24, `only ${productive} of 30 schedules committed anything`);
    });
  }
});
