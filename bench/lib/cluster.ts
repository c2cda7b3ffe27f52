// A 3-member cluster of real server processes on 127.0.0.1 for the cluster
// benchmark: free ports, data dirs under one temp dir, the leader as the
// members report it (Maintenance.Status), resident memory, and a clean stop.
// The same flags go to etcd and etcd-ts; heartbeat and election timeouts are
// left at their defaults (100 ms / 1000 ms).
import { type ChildProcess, spawn } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { StatusRequest, StatusResponse } from '../../src/pb/etcdserverpb/rpc.js';
import { freePorts, rssBytes, sleep, waitHealthy } from './proc.js';

export interface ClusterMember {
  name: string;
  proc: ChildProcess;
  /** host:port of the client listener, as etcdbench takes it. */
  endpoint: string;
  /** Its stdout and stderr, for a failure message. */
  logFile: string;
}

export interface Cluster {
  label: string;
  root: string;
  members: ClusterMember[];
}

export interface LeaderInfo {
  leader: ClusterMember;
  term: number;
}

/** Starts `size` members with `command` (program and leading arguments) and waits for /health on each. */
export async function startCluster(label: string, command: string[], size = 3): Promise<Cluster> {
  const root = mkdtempSync(join(tmpdir(), `bench-cluster-${label}-`));
  const ports = await freePorts(2 * size);
  const specs = Array.from({ length: size }, (_, i) => ({
    name: `m${i}`,
    client: ports[2 * i]!,
    peer: ports[2 * i + 1]!,
  }));
  const initial = specs.map((s) => `${s.name}=http://127.0.0.1:${s.peer}`).join(',');
  const cluster: Cluster = { label, root, members: [] };
  for (const s of specs) {
    const client = `http://127.0.0.1:${s.client}`;
    const peer = `http://127.0.0.1:${s.peer}`;
    const args = [
      ...command.slice(1),
      `--name=${s.name}`,
      `--data-dir=${join(root, s.name)}`,
      `--listen-client-urls=${client}`,
      `--advertise-client-urls=${client}`,
      `--listen-peer-urls=${peer}`,
      `--initial-advertise-peer-urls=${peer}`,
      `--initial-cluster=${initial}`,
      `--initial-cluster-token=bench-${label}`,
      '--initial-cluster-state=new',
    ];
    // Its own process group, so a stop also reaches anything it started. Output goes to a
    // file, not a pipe: this process blocks in execFileSync while etcdbench runs, and a pipe
    // nobody drains fills up and then blocks the member's logger -- real etcd then stops
    // answering linearizable reads and even Status (its log writes hold a lock).
    const logFile = join(root, `${s.name}.log`);
    const out = openSync(logFile, 'a');
    const proc = spawn(command[0]!, args, { stdio: ['ignore', out, out], detached: true });
    closeSync(out);
    cluster.members.push({ name: s.name, proc, endpoint: `127.0.0.1:${s.client}`, logFile });
  }
  try {
    await Promise.race([
      Promise.all(cluster.members.map((m) => waitHealthy(`http://${m.endpoint}`, 30_000))),
      ...cluster.members.map((m) => exitedEarly(m)),
    ]);
  } catch (err) {
    const tails = cluster.members.map((m) => `${m.name}: ${lastLine(m.logFile)}`).join(' / ');
    await stopCluster(cluster);
    throw new Error(`${(err as Error).message} (${tails})`);
  }
  return cluster;
}

/** Rejects when the member exits (a start-up failure: no point waiting for its /health). */
async function exitedEarly(m: ClusterMember): Promise<never> {
  await exited(m.proc);
  await sleep(100); // let its last words reach the log file
  throw new Error(`${m.name} exited (code ${m.proc.exitCode ?? m.proc.signalCode})`);
}

function lastLine(file: string): string {
  let text = '';
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    // no log yet
  }
  const lines = text.trim().split('\n');
  return (lines[lines.length - 1] ?? '').slice(0, 200);
}

/** One member's Maintenance.Status. */
export function memberStatus(endpoint: string, timeoutMs = 2000): Promise<StatusResponse> {
  const client = new grpc.Client(endpoint, grpc.credentials.createInsecure());
  return new Promise<StatusResponse>((resolve, reject) => {
    client.makeUnaryRequest(
      '/etcdserverpb.Maintenance/Status',
      (m: StatusRequest) => Buffer.from(StatusRequest.encode(m).finish()),
      (b: Buffer) => StatusResponse.decode(b),
      StatusRequest.fromPartial({}),
      new grpc.Metadata(),
      { deadline: Date.now() + timeoutMs },
      (err, res) => {
        if (err) reject(err);
        else if (res === undefined) reject(new Error('empty Status response'));
        else resolve(res);
      },
    );
  }).finally(() => client.close());
}

/** The member all members name as leader, once they agree (and its term). */
export async function waitLeader(c: Cluster, timeoutMs = 30_000): Promise<LeaderInfo> {
  const deadline = Date.now() + timeoutMs;
  let last = 'no status yet';
  for (;;) {
    const settled = await Promise.allSettled(c.members.map((m) => memberStatus(m.endpoint)));
    // Name the members that do not answer: a wedged member is a finding of its own.
    const down = settled.flatMap((r, i) =>
      r.status === 'rejected'
        ? [`${c.members[i]!.name} does not answer Status: ${(r.reason as Error).message}`]
        : [],
    );
    if (down.length > 0) last = down.join('; ');
    else {
      const statuses = settled.map((r) => (r as PromiseFulfilledResult<StatusResponse>).value);
      const leaders = new Set(statuses.map((s) => s.leader));
      const leaderId = statuses[0]!.leader;
      const idx = statuses.findIndex((s) => s.header?.memberId === leaderId);
      if (leaders.size === 1 && leaderId !== 0n && idx >= 0)
        return { leader: c.members[idx]!, term: statuses[idx]!.raftTerm };
      last = `members name leaders ${[...leaders].map((l) => l.toString(16)).join(', ')}`;
    }
    if (Date.now() > deadline)
      throw new Error(`${c.label}: no agreed leader after ${timeoutMs} ms (${last})`);
    await sleep(200);
  }
}

/** VmRSS of each member, in bytes (0 for a member that is gone). */
export function memberRss(c: Cluster): number[] {
  return c.members.map((m) => {
    try {
      return m.proc.pid === undefined ? 0 : rssBytes(m.proc.pid);
    } catch {
      return 0;
    }
  });
}

function exited(p: ChildProcess): Promise<void> {
  if (p.exitCode !== null || p.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => p.once('exit', () => resolve()));
}

/**
 * SIGTERM, then SIGKILL to the process group of a member still there after 5 s
 * (a clean exit lets `node --cpu-prof` write its profile), then removes the data dirs.
 */
export async function stopCluster(c: Cluster): Promise<void> {
  await Promise.all(
    c.members.map(async (m) => {
      const pid = m.proc.pid;
      if (pid === undefined) return;
      try {
        m.proc.kill('SIGTERM');
      } catch {
        // already gone
      }
      await Promise.race([exited(m.proc), sleep(5000)]);
      try {
        process.kill(-pid, 'SIGKILL');
      } catch {
        // the group is gone
      }
    }),
  );
  rmSync(c.root, { recursive: true, force: true });
}
