// One seed of the whole-server simulation: real EtcdServers (ready loop, WAL
// on a simulated disk, backend in memory, applier, read path, leases,
// watches) in one process, on virtual time and a simulated network, under a
// client workload and a seeded schedule of faults; then the checkers.
import { parseServerConfig } from '../../../src/config/parse.js';
import type { ServerConfig } from '../../../src/config/types.js';
import { seededRandom } from '../../../src/util/seeded-random.js';
import { checkHistory, type Version } from './history.js';
import { SimLog } from './sim-logger.js';
import { SimMember } from './sim-member.js';
import { CALM, type NetFaults, SimNetwork } from './sim-network.js';
import { VirtualClock } from './virtual-clock.js';
import { checkWatchers, type SimWatcher } from './watchers.js';
import { Workload } from './workload.js';

export type ServerSabotage = 'lyingFsync' | 'staleReads' | 'duplicateWatchEvent';

export interface ServerSimOptions {
  seed: number;
  members: 1 | 3 | 5;
  /** Virtual milliseconds of faults and load. */
  durationMs: number;
  crashes: boolean;
  partitions: boolean;
  messageFaults: boolean;
  sabotage?: ServerSabotage;
  trace?: (line: string) => void;
}

export interface ServerSimResult {
  seed: number;
  simMs: number;
  writesAcked: number;
  writesTried: number;
  readsOk: number;
  crashes: number;
  partitions: number;
  delivered: number;
  dropped: number;
  watchEvents: number;
  problems: string[];
  log: string[];
}

function memberArgs(name: string, all: string[]): string[] {
  return [
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
    // Snapshot transfer between simulated members comes later: keep the log whole.
    '--snapshot-count=10000000',
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
  for (const n of names) members.push(new SimMember(n, configs.get(n)!, clock, net, log, random, o.sabotage));
  const result: ServerSimResult = {
    seed: o.seed,
    simMs: 0,
    writesAcked: 0,
    writesTried: 0,
    readsOk: 0,
    crashes: 0,
    partitions: 0,
    delivered: 0,
    dropped: 0,
    watchEvents: 0,
    problems: [],
    log: log.lines,
  };
  for (const m of members) await m.start();
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
      const up = members.filter((m) => m.isUp());
      if (up.length === 0) return undefined;
      return up[Math.floor(random() * up.length)]!.clientApi();
    },
  );
  workload.start();

  const watchers: SimWatcher[] = [];
  const openWatcher = () => {
    const up = members.filter((m) => m.isUp());
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
  }

  // Heal everything, let the cluster settle, stop the load, let it settle again.
  net.heal();
  net.faults = CALM;
  for (const m of members) if (!m.isUp()) await m.start();
  await clock.runUntil(clock.elapsed + 3000);
  await Promise.race([workload.stop(), clock.runUntil(clock.elapsed + 10_000)]);
  await clock.runUntil(clock.elapsed + 5000);

  const ops = workload.ops;
  result.writesTried = ops.filter((x) => x.kind === 'write').length;
  result.writesAcked = ops.filter((x) => x.kind === 'write' && x.outcome === 'ok').length;
  result.readsOk = ops.filter((x) => x.kind === 'read' && x.ok).length;
  const reference = members.find((m) => m.isUp());
  if (reference === undefined) {
    result.problems.push('no member up after healing');
    return finish();
  }
  const history = await reference.history();
  result.problems.push(...checkHistory(ops, history));
  result.problems.push(...checkWatchers(watchers, history));
  result.watchEvents = watchers.reduce((n, w) => n + w.events.length, 0);
  result.problems.push(...(await checkConvergence(members)));
  return finish();

  function finish(): ServerSimResult {
    for (const m of members) result.problems.push(...m.failures);
    result.simMs = clock.elapsed;
    result.delivered = net.delivered;
    result.dropped = net.dropped;
    for (const m of members) m.halt();
    return result;
  }

  async function injectFault(): Promise<void> {
    const dice = random();
    const up = members.filter((m) => m.isUp());
    const ids = members.map((m) => m.id);
    if (o.crashes && dice < 0.15 && up.length > 0) {
      const victim = up[Math.floor(random() * up.length)]!;
      log.add('sim', 'info', `crash ${victim.name}`);
      victim.crash();
      result.crashes++;
      clock.after(200 + Math.floor(random() * 2000), () => {
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
    }
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
