// The member under test: etcd-ts (the harness's MemberProcess, serverMain())
// by default, or with WATCH_CHECK_SERVER=real the real etcd 3.4 started with
// exactly the same arguments. Only the process started here is ever signalled.
import { type ChildProcess, spawn } from 'node:child_process';
import { MemberProcess, type MemberSpec, sleep } from '../integration/harness.js';

export const REAL_ETCD = process.env.WATCH_CHECK_ETCD ?? '/usr/bin/etcd';

export type ServerKind = 'etcd-ts' | 'real';

export function serverKind(): ServerKind {
  const v = process.env.WATCH_CHECK_SERVER ?? 'etcd-ts';
  if (v === 'etcd-ts' || v === '') return 'etcd-ts';
  if (v === 'real') return 'real';
  throw new Error(`WATCH_CHECK_SERVER must be "etcd-ts" or "real", not ${JSON.stringify(v)}`);
}

export interface ServerProcess {
  readonly endpoint: string;
  readonly output: string;
  start(): void;
  /** SIGTERM; resolves once the process is gone. */
  stop(): Promise<unknown>;
  /** SIGKILL; resolves once the process is gone. */
  kill(): Promise<void>;
}

/** The real etcd with the arguments MemberProcess gives etcd-ts. */
export class RealEtcdProcess implements ServerProcess {
  private proc: ChildProcess | undefined;
  private readonly args: string[];
  output = '';

  constructor(readonly spec: MemberSpec) {
    this.args = new MemberProcess(spec).args();
  }

  get endpoint(): string {
    return `127.0.0.1:${this.spec.clientPort}`;
  }

  start(): void {
    if (this.proc !== undefined) throw new Error('member already running');
    this.output = '';
    const p = spawn(REAL_ETCD, this.args, { stdio: ['ignore', 'pipe', 'pipe'] });
    const keep = (b: Buffer): void => {
      this.output = (this.output + b.toString()).slice(-20_000);
    };
    p.stdout?.on('data', keep);
    p.stderr?.on('data', keep);
    this.proc = p;
  }

  private exited(): Promise<unknown> {
    const p = this.proc;
    if (p === undefined || p.exitCode !== null || p.signalCode !== null) return Promise.resolve(p?.exitCode);
    return new Promise((resolve) => p.once('exit', (code, sig) => resolve(code ?? sig)));
  }

  async stop(): Promise<unknown> {
    if (this.proc === undefined) return 0;
    this.proc.kill('SIGTERM');
    const r = await this.exited();
    this.proc = undefined;
    return r;
  }

  async kill(): Promise<void> {
    if (this.proc === undefined) return;
    this.proc.kill('SIGKILL');
    await this.exited();
    this.proc = undefined;
  }
}

export function makeServer(kind: ServerKind, spec: MemberSpec): ServerProcess {
  return kind === 'real' ? new RealEtcdProcess(spec) : new MemberProcess(spec);
}

/** A clean stop that turns into SIGKILL if the member has not exited within `ms`. */
export async function stopWithin(server: ServerProcess, ms: number): Promise<'clean' | 'killed'> {
  const done = server.stop().then(() => 'clean' as const);
  const r = await Promise.race([done, sleep(ms).then(() => 'late' as const)]);
  if (r === 'clean') return r;
  await server.kill();
  await done;
  return 'killed';
}
