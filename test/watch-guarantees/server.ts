// The member under test: etcd-ts (the harness's MemberProcess, serverMain())
// by default, or with WATCH_CHECK_SERVER=real the real etcd 3.4 started with
// exactly the same arguments. Only the process started here is ever signalled.
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
export class RealEtcdProcess extends MemberProcess {
  override command(): [string, string[]] {
    return [REAL_ETCD, this.args()];
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
