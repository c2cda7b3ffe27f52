// Runs script commands against an Env and returns each command's transcript. See README.md for
// the command reference. Nothing here is random or timed: the same script gives the same output.
import {
  type ConfChange,
  ConfChangeType,
  MemoryStorage,
  type NodeId,
  ProposalDroppedError,
  ReadOnlyOption,
  StateType,
} from '../../src/raft/index.js';
import { Args, parseCommand, parseIdList } from './args.js';
import {
  confStateAt,
  DEFAULT_OPTIONS,
  Env,
  type NodeOptions,
  type ScriptNode,
  stateMachineImage,
} from './env.js';
import * as fmt from './format.js';
import { assertOutputLineSafe } from './script-file.js';

/** Bound on Ready/deliver rounds in one stabilize: a livelock fails the script instead of hanging. */
const MAX_STABILIZE_ROUNDS = 1000;

type Handler = (env: Env, a: Args) => void;

const COMMANDS: Record<string, Handler> = {
  'add-nodes': addNodes,
  campaign: (env, a) => env.raw(a.id(0)).campaign(),
  propose: (env, a) =>
    dropped(env, () => env.raw(a.id(0)).propose(new TextEncoder().encode(a.word(1, 'data')))),
  'propose-conf-change': proposeConfChange,
  tick: (env, a) => tick(env, a.id(0), a.count > 1 ? a.int(1, 'count') : 1),
  'tick-heartbeat': (env, a) => {
    const id = a.id(0);
    tick(env, id, env.get(id).options.heartbeatTick * (a.count > 1 ? a.int(1, 'count') : 1));
  },
  'tick-election': tickElection,
  'deliver-msgs': deliverMsgs,
  'process-ready': (env, a) => {
    for (const id of a.count > 0 ? a.idsFrom(0) : env.sortedIds())
      if (!env.processReady(id)) env.emit(`ready ${id}: nothing to do`);
  },
  stabilize,
  partition,
  heal: (env) => {
    env.groups = new Map();
  },
  'read-index': (env, a) => env.raw(a.id(0)).readIndex(new TextEncoder().encode(a.word(1, 'context'))),
  'transfer-leadership': (env, a) => env.raw(a.id(0)).transferLeader(a.id(1)),
  compact,
  status,
  'raft-state': (env) => {
    for (const id of env.sortedIds()) env.emit(stateLine(env.get(id)));
  },
  log: showLog,
  values: (env, a) => {
    const n = env.get(a.id(0));
    env.emit(`${n.id}: applied=${n.appliedIndex} values=${JSON.stringify(n.values.map((v) => v.data))}`);
  },
  crash: (env, a) => {
    const n = env.get(a.id(0));
    n.raw = undefined;
    env.emit(`${n.id} is down: what it had not persisted is lost`);
    // Messages on their way to it are lost too; what it sent before crashing is still on the wire.
    env.deliver((f) => f.msg.to === n.id, true);
  },
  restart,
};

export class Interpreter {
  readonly env = new Env();

  /** Run one command line; errors become part of the transcript (a script may expect them). */
  run(line: string): string[] {
    this.env.out = [];
    try {
      const cmd = parseCommand(line);
      const handler = COMMANDS[cmd.name];
      if (handler === undefined) throw new Error(`unknown command ${cmd.name}`);
      const args = new Args(cmd);
      handler(this.env, args);
      args.done();
    } catch (e) {
      this.env.emit(`error: ${e instanceof Error ? e.message : String(e)}`);
    }
    const out = collapseRepeats(this.env.out);
    if (out.length === 0) out.push('ok');
    for (const l of out) assertOutputLineSafe(l);
    return out;
  }
}

/** Identical consecutive lines (a leader's heartbeats into a partition) are shown once with a count. */
function collapseRepeats(lines: string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < lines.length; ) {
    let j = i + 1;
    while (j < lines.length && lines[j] === lines[i]) j++;
    out.push(j - i > 1 ? `${lines[i]} (x${j - i})` : lines[i]);
    i = j;
  }
  return out;
}

function dropped(env: Env, f: () => void): void {
  try {
    f();
  } catch (e) {
    if (!(e instanceof ProposalDroppedError)) throw e;
    env.emit(`dropped: ${e.message}`);
  }
}

// ---- cluster setup ----

function nodeOptions(a: Args): NodeOptions {
  const d = DEFAULT_OPTIONS;
  const ro = a.option('read-only') ?? 'safe';
  if (ro !== 'safe' && ro !== 'lease') throw new Error(`read-only: safe or lease, got ${ro}`);
  return {
    electionTick: a.intOption('election-tick', d.electionTick),
    heartbeatTick: a.intOption('heartbeat-tick', d.heartbeatTick),
    maxSizePerMsg: a.intOption('max-size-per-msg', d.maxSizePerMsg),
    maxInflightMsgs: a.intOption('max-inflight', d.maxInflightMsgs),
    maxInflightBytes: a.intOption('max-inflight-bytes', d.maxInflightBytes),
    maxUncommittedEntriesSize: a.intOption('max-uncommitted-size', d.maxUncommittedEntriesSize),
    checkQuorum: a.boolOption('check-quorum'),
    preVote: a.boolOption('pre-vote'),
    readOnlyOption: ro === 'lease' ? ReadOnlyOption.LeaseBased : ReadOnlyOption.Safe,
    seed: a.intOption('seed', d.seed),
  };
}

/**
 * add-nodes N: start N new members with the next free ids. They bootstrap a new cluster with
 * voters=(...) learners=(...) (default: all N as voters), or with join=true start empty, as a
 * member added to a running cluster does.
 */
function addNodes(env: Env, a: Args): void {
  const count = a.int(0, 'node count');
  const first = env.nodes.size === 0 ? 1n : env.sortedIds()[env.nodes.size - 1] + 1n;
  const newIds = Array.from({ length: count }, (_, i) => first + BigInt(i));
  const join = a.boolOption('join');
  const voters = a.idListOption('voters') ?? (join ? [] : newIds);
  const learners = a.idListOption('learners') ?? [];
  const options = nodeOptions(a);
  const peers: ConfChange[] = [
    ...voters.map((id) => ({ type: ConfChangeType.AddNode, nodeId: id, context: new Uint8Array(0) })),
    ...learners.map((id) => ({
      type: ConfChangeType.AddLearnerNode,
      nodeId: id,
      context: new Uint8Array(0),
    })),
  ];
  for (const id of newIds) {
    const n: ScriptNode = {
      id,
      raw: undefined,
      storage: new MemoryStorage(),
      options,
      appliedIndex: 0,
      values: [],
      confHistory: [],
      removedPeers: new Set(),
    };
    env.nodes.set(id, n);
    n.raw = env.newRawNode(n);
    if (join) {
      env.emit(`${id}: joined empty, waiting for a leader`);
      continue;
    }
    n.raw.bootstrap(peers);
    // The bootstrap Ready (the initial conf changes) is the same on every member: summarize it.
    // Committed entries come in pages of maxSizePerMsg bytes, so this may take several cycles.
    const before = env.out.length;
    while (env.processReady(id)) {}
    env.out.length = before;
    if (env.pendingCount() > 0) throw new Error('bootstrap produced messages');
    env.emit(`${stateLine(n)} (bootstrapped)`);
  }
}

function proposeConfChange(env: Env, a: Args): void {
  const verb = a.word(1, 'add|remove|add-learner|update');
  const types: Record<string, ConfChangeType> = {
    add: ConfChangeType.AddNode,
    remove: ConfChangeType.RemoveNode,
    'add-learner': ConfChangeType.AddLearnerNode,
    update: ConfChangeType.UpdateNode,
  };
  const type = types[verb];
  if (type === undefined) throw new Error(`unknown conf change ${verb}`);
  const cc: ConfChange = { type, nodeId: a.id(2), context: new Uint8Array(0) };
  dropped(env, () => env.raw(a.id(0)).proposeConfChange(cc));
}

// ---- time ----

function tick(env: Env, id: NodeId, n: number): void {
  const raw = env.raw(id);
  for (let i = 0; i < n; i++) raw.tick();
}

/**
 * A leader ticks one election timeout (check-quorum, transfer timeout). Any other node ticks
 * until its randomized election timer fires (at most 2 election timeouts) and says how long it took.
 */
function tickElection(env: Env, a: Args): void {
  const id = a.id(0);
  const n = env.get(id);
  const raw = env.raw(id);
  const timeout = n.options.electionTick;
  const st = raw.status();
  if (st.softState.state === StateType.Leader) {
    tick(env, id, timeout);
    env.emit(`${id}: ticked ${timeout} times`);
    return;
  }
  for (let i = 1; i <= 2 * timeout; i++) {
    raw.tick();
    const now = raw.status();
    if (
      now.softState.state !== st.softState.state ||
      now.hardState.term !== st.hardState.term ||
      raw.hasReady()
    ) {
      env.emit(`${id}: election timeout after ${i} ticks`);
      return;
    }
  }
  env.emit(`${id}: no election after ${2 * timeout} ticks`);
}

// ---- network ----

/** deliver-msgs [ids] [from=ID] [type=App] [drop=true]: deliver (or drop) what is queued for ids. */
function deliverMsgs(env: Env, a: Args): void {
  const to = a.count > 0 ? new Set(a.idsFrom(0)) : undefined;
  const fromOpt = a.option('from');
  const from = fromOpt === undefined ? undefined : BigInt(fromOpt);
  const type = a.option('type');
  const drop = a.boolOption('drop');
  const before = env.out.length;
  env.deliver(
    (f) =>
      (to === undefined || to.has(f.msg.to)) &&
      (from === undefined || f.sender === from) &&
      (type === undefined || fmt.message(f.msg).split(' ')[1] === type),
    drop,
  );
  if (env.out.length === before) env.emit('no messages');
}

/** Ready cycles on every node (id order), then deliver everything queued; repeat until nothing moves. */
function stabilize(env: Env, a: Args): void {
  const only = a.count > 0 ? new Set(a.idsFrom(0)) : undefined;
  const involved = (id: NodeId) => only === undefined || only.has(id);
  for (let round = 0; round < MAX_STABILIZE_ROUNDS; round++) {
    let moved = false;
    for (const id of env.sortedIds()) {
      if (involved(id) && env.get(id).raw !== undefined && env.processReady(id)) moved = true;
    }
    const before = env.out.length;
    env.deliver((f) => involved(f.msg.to) && involved(f.sender), false);
    if (env.out.length > before) moved = true;
    if (!moved) return;
  }
  throw new Error(`not stable after ${MAX_STABILIZE_ROUNDS} rounds`);
}

/** partition (1,2) (3): nodes in different groups cannot talk; unlisted nodes form one more group. */
function partition(env: Env, a: Args): void {
  const groups = new Map<NodeId, number>();
  for (let i = 0; i < a.count; i++) {
    for (const id of parseIdList(a.word(i, 'group'))) {
      if (groups.has(id)) throw new Error(`node ${id} is in two groups`);
      env.get(id);
      groups.set(id, i);
    }
  }
  for (const id of env.sortedIds()) if (!groups.has(id)) groups.set(id, a.count);
  env.groups = groups;
  const byGroup = new Map<number, NodeId[]>();
  for (const id of env.sortedIds()) {
    const g = groups.get(id) ?? 0;
    byGroup.set(g, [...(byGroup.get(g) ?? []), id]);
  }
  env.emit(`groups: ${[...byGroup.values()].map(fmt.ids).join(' ')}`);
}

// ---- storage and restarts ----

/** compact ID INDEX: snapshot the state machine at INDEX (<= applied) and drop the log up to it. */
function compact(env: Env, a: Args): void {
  const n = env.get(a.id(0));
  const index = a.int(1, 'index');
  if (index > n.appliedIndex) throw new Error(`cannot compact to ${index}: applied is ${n.appliedIndex}`);
  const snap = n.storage.createSnapshot(index, confStateAt(n, index), stateMachineImage(n, index));
  n.storage.compact(index);
  env.emit(`${n.id}: snapshot ${fmt.snapshot(snap)}; log now starts at ${n.storage.firstIndex()}`);
}

function restart(env: Env, a: Args): void {
  const n = env.get(a.id(0));
  n.raw = env.newRawNode(n);
  env.emit(`${stateLine(n)} (restarted)`);
}

// ---- inspection ----

function stateLine(n: ScriptNode): string {
  if (n.raw === undefined) return `${n.id}: down`;
  const st = n.raw.status();
  const hs = st.hardState;
  const transfer = st.leadTransferee !== 0n ? ` transferee=${st.leadTransferee}` : '';
  return (
    `${n.id}: ${fmt.stateName(st.softState.state)} term=${hs.term} vote=${hs.vote} lead=${st.softState.leader}` +
    ` commit=${hs.commit} applied=${st.applied} last=${n.storage.lastIndex()} ${fmt.confState(st.confState)}${transfer}`
  );
}

function status(env: Env, a: Args): void {
  const n = env.get(a.id(0));
  env.emit(stateLine(n));
  const progress = n.raw?.status().progress;
  if (progress === undefined) return;
  for (const [id, p] of [...progress].sort(([x], [y]) => (x < y ? -1 : x > y ? 1 : 0))) {
    const flags = [p.recentActive ? 'active' : 'inactive', ...(p.isLearner ? ['learner'] : [])];
    env.emit(`  progress ${id}: ${p.state} match=${p.match} next=${p.next} ${flags.join(' ')}`);
  }
}

/** log ID: the durable log, as in the node's MemoryStorage. */
function showLog(env: Env, a: Args): void {
  const n = env.get(a.id(0));
  const s = n.storage;
  const snap = s.snapshot().metadata;
  env.emit(`${n.id}: snapshot=${snap.term}/${snap.index} entries ${s.firstIndex()}..${s.lastIndex()}`);
  if (s.lastIndex() < s.firstIndex()) return;
  for (const e of s.entries(s.firstIndex(), s.lastIndex() + 1, Number.MAX_SAFE_INTEGER))
    env.emit(`  ${fmt.entry(e)}`);
}
