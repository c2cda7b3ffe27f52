// One seed of the whole-server simulation: real EtcdServers (ready loop, WAL
// on a simulated disk, backend in memory, applier, read path, leases,
// watches) in one process, on virtual time and a simulated network, under a
// client workload and a seeded schedule of faults; then the checkers.
import { parseServerConfig } from '../../../src/config/parse.js';
import type { ServerConfig } from '../../../src/config/types.js';
import { withTimeout } from '../../../src/runtime/clock.js';
import { seededRandom } from '../../../src/util/seeded-random.js';
import { checkHistory, type Version } from './history.js';
import { checkLeaseEvents, LeaseWorkload } from './lease-workload.js';
import { SimLog } from './sim-logger.js';
import { SimMember } from './sim-member.js';
import { CALM, type NetFaults, SimNetwork } from './sim-network.js';
import { VirtualClock } from './virtual-clock.js';
import { allEvents, checkWatchers, type SimWatcher, type WatchedEvent } from './watchers.js';
import { Workload } from './workload.js';

export const SERVER_SABOTAGES = [
  'lyingFsync',
  'staleReads',
  'duplicateWatchEvent',
  'skipLeaseRevokeOnFollower',
  'ignoreFsyncError',
  'fastClocks',
] as const;
export type ServerSabotage = (typeof SERVER_SABOTAGES)[number];

export interface ServerSimOptions {
  seed: number;
  members: 1 | 3 | 5;
  /** Virtual milliseconds of faults and load. */
  durationMs: number;
  crashes: boolean;
  partitions: boolean;
  messageFaults: boolean;
  /** Clock skew and rates per member, clock jumps. */
  clockFaults: boolean;
  /** Slow and stalled disks, fsync errors. */
  diskFaults: boolean;
  /** Leader transfers (MoveLeader). */
  leaderMoves: boolean;
  /** Membership changes: add (learner or voter), promote, remove, re-add a wiped member. */
  membership: boolean;
  sabotage?: ServerSabotage;
  trace?: (line: string) => void;
}

export interface ServerSimResult {
  seed: number;
  simMs: number;
  /** Clock events run. */
  steps: number;
  writesAcked: number;
  writesTried: number;
  readsOk: number;
  /** Client operations whose outcome the checkers judged (acknowledged or refused writes, successful reads). */
  opsChecked: number;
  crashes: number;
  partitions: number;
  delivered: number;
  dropped: number;
  watchEvents: number;
  leasesGranted: number;
  leaseKeepAlives: number;
  leaseReadsChecked: number;
  clockJumps: number;
  diskFaults: number;
  leaderMoves: number;
  /** Raft snapshots delivered to a member that fell behind. */
  snapshots: number;
  /** Membership changes that took effect (adds, promotes, removes). */
  memberChanges: number;
  problems: string[];
  log: string[];
}

function memberArgs(name: string, all: string[], existing = false): string[] {
  return [
    ...(existing ? ['--initial-cluster-state=existing'] : []),
    `--name=${name}`,
    `--data-dir=/sim/${name}`,
    '--listen-client-urls=http://127.0.0.1:2379',
    `--advertise-client-urls=http://${name}:2379`,
    '--listen-peer-urls=http://127.0.0.1:2380',
    `--initial-advertise-peer-urls=http://${name}:2380`,
    `--initial-cluster=${all.map((n) => `${n}=http://${n}:2380`).join(',')}`,
    '--initial-cluster-token=sim',
    '--heartbeat-interval=100',
    '--election-timeout=1000',
    // Small, so that members snapshot and compact their logs often and a member that fell behind
    // (crashed, cut off) catches up by a raft snapshot streamed from the leader.
    '--snapshot-count=150',
    '--experimental-snapshot-catchup-entries=40',
  ];
}

export async function runServerSeed(o: ServerSimOptions): Promise<ServerSimResult> {
  const random = seededRandom(o.seed);
  const clock = new VirtualClock();
  const log = new SimLog(() => clock.elapsed, o.trace);
  const names = Array.from({ length: o.members }, (_, i) => `m${i + 1}`);
  const configs = new Map<string, ServerConfig>(
    names.map((n) => [n, parseServerConfig(memberArgs(n, names), {})]),
  );
  const members: SimMember[] = [];
  const net = new SimNetwork(
    clock,
    random,
    (url) => members.find((m) => url.startsWith(`http://${m.name}:`))?.id,
  );
  // One spare member beside a cluster of 3 or 5: added (and removed, wiped, added again) under faults.
  const spares = o.membership && o.members > 1 ? [`m${o.members + 1}`] : [];
  for (const n of spares) configs.set(n, parseServerConfig(memberArgs(n, [...names, n]), {}));
  for (const n of [...names, ...spares]) {
    const m = new SimMember(n, configs.get(n)!, clock, net, log, random, o.sabotage);
    m.inCluster = !spares.includes(n);
    if (o.clockFaults) {
      // Skew of up to ±5 s and rates within ±0.5% (etcd assumes bounded drift; leases depend on it).
      m.clockOffsetMs = Math.floor((random() - 0.5) * 10_000);
      m.clockRate = 1 + (random() - 0.5) * 0.01;
    }
    // Sabotage: clocks 40% fast (far beyond the drift etcd tolerates): leases expire early.
    if (o.sabotage === 'fastClocks') m.clockRate = 1.4;
    members.push(m);
  }
  const result: ServerSimResult = {
    seed: o.seed,
    simMs: 0,
    steps: 0,
    writesAcked: 0,
    writesTried: 0,
    readsOk: 0,
    opsChecked: 0,
    crashes: 0,
    partitions: 0,
    delivered: 0,
    dropped: 0,
    watchEvents: 0,
    leasesGranted: 0,
    leaseKeepAlives: 0,
    leaseReadsChecked: 0,
    clockJumps: 0,
    diskFaults: 0,
    leaderMoves: 0,
    snapshots: 0,
    memberChanges: 0,
    problems: [],
    log: log.lines,
  };
  /** Members of the cluster now (spares and removed members excluded). */
  const active = () => members.filter((m) => m.inCluster);
  /** Members a client may talk to: in the cluster, up, not a learner (etcd refuses most requests there). */
  const serving = () => members.filter((m) => m.inCluster && m.isUp() && !m.isLearner());
  let memberOp: Promise<void> | undefined;
  for (const m of active()) await m.start();
  const hasLeader = () => members.some((m) => m.isLeader());
  if (!(await clock.runUntilTrue(hasLeader, 20_000))) {
    result.problems.push('no leader within 20 s of virtual time');
    return finish();
  }

  const workload = new Workload(
    clock,
    random,
    { clients: 4, keys: 6, readRatio: 0.4, timeoutMs: 3000, thinkMs: 20 },
    () => {
      const up = serving();
      if (up.length === 0) return undefined;
      return up[Math.floor(random() * up.length)]!.clientApi();
    },
  );
  workload.start();
  const leases = new LeaseWorkload(clock, random, { clients: 2, timeoutMs: 3000, marginRatio: 0.05 }, () => {
    const up = serving();
    if (up.length === 0) return undefined;
    return up[Math.floor(random() * up.length)]!.leaseApi();
  });
  leases.start();

  const watchers: SimWatcher[] = [];
  const openWatcher = () => {
    const up = serving();
    if (up.length === 0) return;
    const m = up[Math.floor(random() * up.length)]!;
    const from = 1 + Math.floor(random() * (m.currentRevision() + 2));
    const w = m.openWatcher(from, o.sabotage === 'duplicateWatchEvent');
    if (w !== undefined) watchers.push(w);
  };
  openWatcher();
  const end = clock.elapsed + o.durationMs;
  while (clock.elapsed < end) {
    await clock.runUntil(clock.elapsed + 100 + Math.floor(random() * 900));
    if (random() < 0.3) openWatcher();
    await injectFault();
    if (o.membership && random() < 0.4) changeMembership();
  }

  // Heal everything, let the cluster settle, stop the load, let it settle again.
  net.heal();
  net.faults = CALM;
  for (const m of members) m.disk.mode = { kind: 'fast' };
  // A removed member that has not noticed yet is stopped, as its operator would.
  for (const m of members) if (!m.inCluster && m.isUp()) m.crash();
  // Not awaited: a start waits on the disk, whose delays (if any are still pending) run on the clock.
  for (const m of active()) if (!m.isUp()) void m.start();
  // (Two election timeouts to elect and catch up; the members then converge within a few heartbeats.)
  await clock.runUntil(clock.elapsed + 2000);
  await Promise.race([Promise.all([workload.stop(), leases.stop()]), clock.runUntil(clock.elapsed + 10_000)]);
  // Quiet now: wait until one member leads and every member applied all it committed. Without
  // pre-vote (etcd's default), a member with a short log can win every election timeout race for a
  // few rounds in a row and keep the cluster leaderless for seconds: a fixed wait reports that as
  // divergence (sweep seeds 1324 and 1552); 60 s of virtual time without convergence is a finding.
  await Promise.race([memberOp, clock.runUntil(clock.elapsed + 10_000)]);
  const settled = await waitSettled(active, clock, 60_000, reconcileMembership);
  await clock.runUntil(clock.elapsed + 500);

  const ops = workload.ops;
  result.writesTried = ops.filter((x) => x.kind === 'write').length;
  result.writesAcked = ops.filter((x) => x.kind === 'write' && x.outcome === 'ok').length;
  result.readsOk = ops.filter((x) => x.kind === 'read' && x.ok).length;
  result.opsChecked = ops.filter((x) => (x.kind === 'read' ? x.ok : x.outcome !== 'unknown')).length;
  const reference = serving()[0];
  if (reference === undefined) {
    result.problems.push('no member up after healing');
    if (!settled)
      result.problems.push('the cluster did not settle within 60 s of virtual time after healing');
    return finish();
  }
  const history = await reference.history();
  result.problems.push(...checkHistory(ops, history));
  result.problems.push(...leases.problems);
  result.leasesGranted = leases.granted;
  result.leaseKeepAlives = leases.keepAlives;
  result.leaseReadsChecked = leases.readsChecked;
  // Every member's lease keys, from revision 1 (a watcher catches up from the store's history).
  const leaseWatchers = active()
    .filter((m) => m.isUp())
    .map((m) => [m, m.leaseKeyWatcher()] as const);
  await clock.runUntil(clock.elapsed + 1000);
  const leaseEvents = new Map<string, WatchedEvent[]>();
  for (const [m, w] of leaseWatchers) if (w !== undefined) leaseEvents.set(m.name, w.events);
  result.problems.push(...checkLeaseEvents(leaseEvents));
  result.problems.push(...checkWatchers(watchers, allEvents(history, leaseEvents.get(reference.name) ?? [])));
  result.watchEvents = watchers.reduce((n, w) => n + w.events.length, 0);
  result.problems.push(...(await checkConvergence(active())));
  // Last: the checkers above name what went wrong more precisely.
  if (!settled) result.problems.push('the cluster did not settle within 60 s of virtual time after healing');
  return finish();

  function finish(): ServerSimResult {
    for (const m of members) result.problems.push(...m.failures);
    if (result.problems.length > 0)
      for (const m of members) log.add('sim', 'info', `at the end: ${m.describe()}`);
    result.simMs = clock.elapsed;
    result.steps = clock.steps;
    result.delivered = net.delivered;
    result.snapshots = net.snapshotsDelivered;
    result.dropped = net.dropped;
    for (const m of members) m.halt();
    return result;
  }

  async function injectFault(): Promise<void> {
    const dice = random();
    const up = active().filter((m) => m.isUp());
    const ids = members.map((m) => m.id);
    if (o.crashes && dice < 0.15 && up.length > 0) {
      const victim = up[Math.floor(random() * up.length)]!;
      log.add('sim', 'info', `crash ${victim.name}`);
      victim.crash();
      result.crashes++;
      clock.after(200 + Math.floor(random() * 2000), () => {
        if (!victim.inCluster) return;
        log.add('sim', 'info', `restart ${victim.name}`);
        void victim.start();
      });
    } else if (o.partitions && dice < 0.3 && members.length > 1) {
      const victim = members[Math.floor(random() * members.length)]!;
      log.add('sim', 'info', `partition around ${victim.name}`);
      if (random() < 0.5) net.isolate(victim.id, ids);
      else {
        const other = members.find((m) => m !== victim)!;
        net.cutOneWay(victim.id, other.id);
      }
      result.partitions++;
    } else if (dice < 0.45) {
      net.heal();
    } else if (o.messageFaults && dice < 0.6) {
      net.faults = randomFaults(random);
    } else if (dice < 0.65) {
      net.faults = CALM;
    } else if (o.clockFaults && dice < 0.7) {
      const m = members[Math.floor(random() * members.length)]!;
      const jump = Math.floor((random() - 0.5) * 120_000);
      log.add('sim', 'info', `clock of ${m.name} jumps ${jump} ms`);
      m.jumpClock(jump);
      result.clockJumps++;
    } else if (o.diskFaults && dice < 0.78) {
      const m = members[Math.floor(random() * members.length)]!;
      // Under the sabotage that swallows fsync errors, every disk fault is the one it concerns.
      const d = o.sabotage === 'ignoreFsyncError' ? 0.7 + random() * 0.3 : random();
      if (d < 0.4) m.disk.mode = { kind: 'slow', maxMs: 5 + Math.floor(random() * 100) };
      else if (d < 0.6)
        m.disk.mode = { kind: 'stalled', untilMs: clock.elapsed + 200 + Math.floor(random() * 3000) };
      else if (d < 0.7) m.disk.mode = { kind: 'fast' };
      else if (m.isUp()) {
        // The next WAL fsync fails, and the power goes a little later: a member that acknowledged
        // what it could not sync (instead of stopping, as etcd does) loses acknowledged writes.
        m.disk.failNextWalSync();
        clock.after(50 + Math.floor(random() * 500), () => {
          if (!m.isUp()) return;
          log.add('sim', 'info', `power loss on ${m.name} after an fsync error`);
          m.crash();
          result.crashes++;
        });
      }
      log.add('sim', 'info', `disk of ${m.name}: ${d < 0.7 ? m.disk.mode.kind : 'next WAL fsync fails'}`);
      result.diskFaults++;
    } else if (o.leaderMoves && dice < 0.84 && members.length > 1) {
      const leader = members.find((m) => m.isLeader());
      const others = members.filter((m) => m !== leader);
      const target = others[Math.floor(random() * others.length)]!;
      if (leader !== undefined) {
        log.add('sim', 'info', `move leader ${leader.name} → ${target.name}`);
        result.leaderMoves++;
        leader.moveLeader(target.id).catch(() => undefined);
      }
    } else if (o.membership && dice < 0.9) {
      changeMembership();
    } else if (dice < 0.95) {
      // Members that stopped on their own (an fsync error) come back; a newcomer tries again.
      for (const m of active()) if (!m.isUp()) void m.start();
    }
  }

  /**
   * One membership change at a time, through the leader's Cluster port, as an operator runs
   * them: promote a learner, add the spare (as a learner or a voter; a removed member comes
   * back with a wiped data dir and a new id), or remove a member (never below two voters, never
   * the leader).
   */
  function changeMembership(): void {
    // (A newcomer that has not booted yet would be confused by another change: wait for it.)
    if (memberOp !== undefined || active().some((m) => m.isJoining())) return;
    const leader = acknowledgedLeader();
    if (leader === undefined) return;
    const view = leader.clusterMembers();
    const voters = view.filter((x) => !x.isLearner);
    const learner = view.find((x) => x.isLearner);
    const spare = members.find((m) => !m.inCluster && !m.isUp());
    const dice = random();
    const byId = (id: bigint) => members.find((m) => m.inCluster && m.id === id);
    let op: Promise<void>;
    if (learner !== undefined && dice < 0.5) {
      log.add('sim', 'info', `promote ${learner.id.toString(16)}`);
      op = leader
        .clusterApi()
        .promote(learner.id)
        .then(() => {
          result.memberChanges++;
        });
    } else if (spare !== undefined && dice < 0.8) {
      const asLearner = random() < 0.5;
      const url = `http://${spare.name}:2380`;
      log.add('sim', 'info', `add ${spare.name} as a ${asLearner ? 'learner' : 'voter'}`);
      op = leader
        .clusterApi()
        .add([url], asLearner)
        .then(({ member, members: now }) => {
          result.memberChanges++;
          const nameOf = (x: { id: bigint; name: string; peerUrls: string[] }) =>
            x.id === member.id
              ? spare.name
              : x.name || (members.find((m) => x.peerUrls.includes(`http://${m.name}:2380`))?.name ?? '');
          const cluster = now.map(nameOf);
          spare.prepareJoin(parseServerConfig(memberArgs(spare.name, cluster, true), {}));
          void spare.start();
        });
    } else {
      // Never the leader itself (etcd's raft README: removing the leader can leave a lagging peer on
      // the old config needing the removed node's vote; an operator moves leadership first).
      const candidates = view.filter((x) => x.id !== leader.id);
      const victim = candidates[Math.floor(random() * candidates.length)];
      if (victim === undefined || (!victim.isLearner && voters.length <= 2)) return;
      log.add('sim', 'info', `remove ${victim.id.toString(16)}`);
      op = leader
        .clusterApi()
        .remove(victim.id)
        .then(() => {
          result.memberChanges++;
          const m = byId(victim.id);
          if (m === undefined) return;
          m.inCluster = false;
          // It stops by itself once it applies its removal; if cut off, its operator stops it.
          clock.after(3000, () => {
            if (!m.inCluster && m.isUp()) m.crash();
          });
        });
    }
    // The member that took the request may die with it (its timers die too): the client gives up.
    memberOp = withTimeout(clock, op, 15_000, () => new Error('no answer'))
      .catch((err: unknown) => log.add('sim', 'info', `membership change failed: ${(err as Error).message}`))
      .finally(() => {
        memberOp = undefined;
        reconcileMembership();
      });
  }

  /**
   * The leader a majority of the cluster follows (a partitioned old leader may still think it
   * leads, with a stale member list: deciding membership from it would be wrong).
   */
  function acknowledgedLeader(): SimMember | undefined {
    const cluster = active();
    for (const m of cluster) {
      if (!m.isLeader()) continue;
      // A majority of the voters the leader itself lists (the harness's own list may hold members
      // whose removal it never heard answered, or newcomers that cannot start: counting those, no
      // leader would ever be acknowledged and a lost answer would never be looked into).
      const voters = m.clusterMembers().filter((x) => !x.isLearner);
      const followers = cluster.filter(
        (x) => voters.some((v) => v.id === x.id) && x.followsLeader(m.id, m.term()),
      ).length;
      if (followers > voters.length / 2) return m;
    }
    return undefined;
  }

  /**
   * After a change whose answer was lost, the operator looks at the member list: a member the
   * leader no longer lists is out (and stopped); the spare it lists was added after all, so it
   * is started with a wiped data dir, as after a successful add.
   */
  function reconcileMembership(): void {
    if (memberOp !== undefined) return;
    const leader = acknowledgedLeader();
    if (leader === undefined) return;
    const view = leader.clusterMembers();
    const listed = (m: SimMember) => view.find((x) => x.peerUrls.includes(`http://${m.name}:2380`));
    for (const m of members) {
      const entry = listed(m);
      if (m.inCluster && entry === undefined && m.isJoining()) {
        // Prepared to join after a stale view said it was added: it never was.
        log.add('sim', 'info', `${m.name} was not added after all`);
        m.inCluster = false;
        m.abandonJoin();
      } else if (m.inCluster && entry === undefined && !m.isJoining()) {
        log.add('sim', 'info', `${m.name} is no longer a member`);
        m.inCluster = false;
        if (m.isUp()) m.crash();
      } else if (m.inCluster && entry !== undefined && m.id !== entry.id && !m.isUp() && !m.isJoining()) {
        // It joined under a stale id (a lagging peer answered its GET /members) and stopped as
        // removed: wipe it and join again, as the operator would.
        log.add('sim', 'info', `${m.name} runs under a stale id: joining again`);
        const names = view.map((x) => (x === entry ? m.name : (nameOfUrl(x.peerUrls) ?? x.name)));
        m.prepareJoin(parseServerConfig(memberArgs(m.name, names, true), {}));
        void m.start();
      } else if (!m.inCluster && entry !== undefined && !m.isUp()) {
        log.add('sim', 'info', `${m.name} was added after all: starting it`);
        const names = view.map((x) => (x === entry ? m.name : (nameOfUrl(x.peerUrls) ?? x.name)));
        m.prepareJoin(parseServerConfig(memberArgs(m.name, names, true), {}));
        void m.start();
      }
    }
  }

  function nameOfUrl(urls: readonly string[]): string | undefined {
    return members.find((m) => urls.includes(`http://${m.name}:2380`))?.name;
  }
}

function randomFaults(random: () => number): NetFaults {
  const maxDelayMs = 1 + Math.floor(random() * 200);
  return {
    dropRate: random() * 0.2,
    duplicateRate: random() * 0.1,
    minDelayMs: Math.floor(random() * Math.min(maxDelayMs, 20)),
    maxDelayMs,
  };
}

/**
 * Runs the clock until every member is up, one leads, all applied the same index and no lease is
 * left (abandoned leases expire by virtual time), or until `limitMs` passed. A member that stopped
 * on its own (an fsync error) is started again, as a supervisor would.
 */
async function waitSettled(
  active: () => SimMember[],
  clock: VirtualClock,
  limitMs: number,
  reconcile: () => void,
): Promise<boolean> {
  const until = clock.elapsed + limitMs;
  while (clock.elapsed < until) {
    reconcile();
    const members = active();
    for (const m of members) if (!m.isUp()) void m.start();
    const up = members.filter((m) => m.isUp());
    const applied = new Set(up.map((m) => m.appliedIndex()));
    if (
      up.length === members.length &&
      up.some((m) => m.isLeader()) &&
      applied.size === 1 &&
      up.every((m) => m.appliedIndex() === m.commitIndex()) &&
      up.every((m) => m.leaseCount() === 0)
    )
      return true;
    await clock.runUntil(clock.elapsed + 100);
  }
  return false;
}

/** After healing, every member holds the same data at the same revision. */
async function checkConvergence(members: SimMember[]): Promise<string[]> {
  const up = members.filter((m) => m.isUp());
  const states = await Promise.all(up.map(async (m) => ({ name: m.name, ...(await m.digest()) })));
  const problems: string[] = [];
  for (const s of states.slice(1)) {
    const first = states[0]!;
    if (s.revision !== first.revision || s.hash !== first.hash) {
      problems.push(
        `members differ after healing: ${first.name} rev ${first.revision} hash ${first.hash}, ${s.name} rev ${s.revision} hash ${s.hash}`,
      );
    }
  }
  return problems;
}

export type { Version };
