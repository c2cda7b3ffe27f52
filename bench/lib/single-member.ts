// One benchmark member (etcd or etcd-ts: `bin` is the command line) on fresh
// loopback ports and a temporary data dir, its output discarded (a pipe nobody
// reads would stall it), killed with its whole process group.
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, waitHealthy } from './proc.js';

export interface RunningMember {
  proc: ChildProcess;
  /** host:port of the client URL. */
  endpoint: string;
  dataDir: string;
}

export async function startMember(
  bin: string[],
  label: string,
  extraArgs: string[] = [],
): Promise<RunningMember> {
  const [clientPort, peerPort] = [await freePort(), await freePort()];
  const dataDir = mkdtempSync(join(tmpdir(), `bench-${label}-`));
  const client = `http://127.0.0.1:${clientPort}`;
  const peer = `http://127.0.0.1:${peerPort}`;
  const args = [
    ...bin.slice(1),
    ...['--name', 'bench', '--data-dir', join(dataDir, 'data')],
    ...['--listen-client-urls', client, '--advertise-client-urls', client],
    ...['--listen-peer-urls', peer, '--initial-advertise-peer-urls', peer],
    ...['--initial-cluster', `bench=${peer}`],
    ...extraArgs,
  ];
  const proc = spawn(bin[0] ?? '', args, { stdio: ['ignore', 'ignore', 'ignore'], detached: true });
  const running = { proc, endpoint: `127.0.0.1:${clientPort}`, dataDir };
  try {
    await waitHealthy(client);
  } catch (err) {
    stopMember(running);
    throw err;
  }
  return running;
}

export function stopMember(r: RunningMember): void {
  try {
    if (r.proc.pid) process.kill(-r.proc.pid, 'SIGKILL');
  } catch {
    // already gone
  }
  rmSync(r.dataDir, { recursive: true, force: true });
}
