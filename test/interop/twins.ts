// Two single-member servers that look like the same member to a client: the
// real etcd 3.4 and etcd-ts, started with the same name, cluster token and
// ADVERTISED peer URL, so their member and cluster ids are equal too. Only
// the listen URLs differ (a single member never dials its advertised peer
// URL, so it does not matter that only etcd-ts listens on it).
//
// INTEROP_OURS=real makes the "ours" twin a second real etcd 3.4 (same flags,
// same identity), so that a comparison test can be validated against the
// reference alone before etcd-ts has the feature; unset (or etcd-ts) is the
// normal mode.
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { after, before } from 'node:test';
import {
  freePort,
  MemberProcess,
  type MemberSpec,
  removeDir,
  sleep,
  tempDir,
} from '../integration/harness.js';

export const REAL_ETCD = '/usr/bin/etcd';
export const REAL_CTL = '/usr/bin/etcdctl';

/** What runs as the "ours" twin: etcd-ts (default) or, with INTEROP_OURS=real, a second real etcd. */
export const OURS: 'etcd-ts' | 'real' = ((): 'etcd-ts' | 'real' => {
  const v = process.env.INTEROP_OURS ?? 'etcd-ts';
  if (v === 'etcd-ts' || v === '') return 'etcd-ts';
  if (v === 'real') return 'real';
  throw new Error(`INTEROP_OURS must be "etcd-ts" or "real", not ${JSON.stringify(v)}`);
})();

const MEMBER_NAME = 'twin';
const CLUSTER_TOKEN = 'interop-twins';

export interface CommandResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs a command to completion (bounded by `timeoutMs`); never rejects. */
export function runCommand(
  file: string,
  args: string[],
  input = '',
  env: Record<string, string> = {},
  timeoutMs = 20_000,
): Promise<CommandResult> {
  return new Promise((resolve) => {
    const child = execFile(
      file,
      args,
      {
        env: { PATH: process.env.PATH ?? '/usr/bin:/bin', ETCDCTL_API: '3', ...env },
        timeout: timeoutMs,
        maxBuffer: 16 * 1024 * 1024,
        encoding: 'utf8',
      },
      (err, stdout, stderr) => {
        const code = err === null ? 0 : typeof err.code === 'number' ? err.code : -1;
        resolve({ code, stdout, stderr });
      },
    );
    // A command that exits before reading its stdin must not crash the test with EPIPE.
    child.stdin?.on('error', () => undefined);
    child.stdin?.end(input);
  });
}

/** The peer and cluster settings both twins share. */
interface Identity {
  advertisedPeerUrl: string;
  extraArgs: string[];
}

function commonArgs(id: Identity): string[] {
  return [
    `--name=${MEMBER_NAME}`,
    `--initial-advertise-peer-urls=${id.advertisedPeerUrl}`,
    `--initial-cluster=${MEMBER_NAME}=${id.advertisedPeerUrl}`,
    `--initial-cluster-token=${CLUSTER_TOKEN}`,
    ...id.extraArgs,
  ];
}

/** etcd-ts through the integration harness, advertising the shared peer URL. */
class OurTwin extends MemberProcess implements TwinProcess {
  constructor(
    spec: MemberSpec,
    private readonly id: Identity,
  ) {
    super(spec);
  }

  override args(): string[] {
    const s = this.spec;
    const client = `http://127.0.0.1:${s.clientPort}`;
    return [
      `--data-dir=${s.dataDir}`,
      `--listen-client-urls=${client}`,
      `--advertise-client-urls=${client}`,
      `--listen-peer-urls=http://127.0.0.1:${s.peerPort}`,
      ...commonArgs(this.id),
    ];
  }
}

/** What startTwins needs of either kind of server process. */
interface TwinProcess {
  readonly endpoint: string;
  readonly output: string;
  start(): void;
  stop(): Promise<unknown>;
}

/** The real etcd, started and stopped by this module only. */
class RealTwin implements TwinProcess {
  private proc: ChildProcess | undefined;
  output = '';

  constructor(
    readonly dataDir: string,
    readonly clientPort: number,
    private readonly peerPort: number,
    private readonly id: Identity,
  ) {}

  get endpoint(): string {
    return `127.0.0.1:${this.clientPort}`;
  }

  start(): void {
    if (this.proc !== undefined) throw new Error('real etcd already running');
    const client = `http://${this.endpoint}`;
    const p = spawn(
      REAL_ETCD,
      [
        `--data-dir=${this.dataDir}`,
        `--listen-client-urls=${client}`,
        `--advertise-client-urls=${client}`,
        `--listen-peer-urls=http://127.0.0.1:${this.peerPort}`,
        ...commonArgs(this.id),
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    const keep = (b: Buffer): void => {
      this.output = (this.output + b.toString()).slice(-20_000);
    };
    p.stdout?.on('data', keep);
    p.stderr?.on('data', keep);
    this.proc = p;
  }

  async stop(): Promise<void> {
    const p = this.proc;
    if (p === undefined) return;
    this.proc = undefined;
    if (p.exitCode !== null || p.signalCode !== null) return;
    const gone = new Promise<void>((resolve) => p.once('exit', () => resolve()));
    p.kill('SIGTERM');
    const timer = setTimeout(() => p.kill('SIGKILL'), 10_000);
    await gone;
    clearTimeout(timer);
  }
}

export interface Twins {
  /** Client endpoint (host:port) of the real etcd. */
  realEndpoint: string;
  /** Client endpoint (host:port) of etcd-ts. */
  oursEndpoint: string;
  /** Both servers' logs (tails), for failure messages. */
  logs(): string;
  stop(): Promise<void>;
}

/** Waits until `endpoint health` succeeds (a read: it does not move the revision). */
async function waitHealthy(endpoint: string, timeoutMs: number, logs: () => string): Promise<void> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const r = await runCommand(REAL_CTL, [
      `--endpoints=${endpoint}`,
      '--dial-timeout=1s',
      '--command-timeout=1s',
      'endpoint',
      'health',
    ]);
    if (r.code === 0) return;
    if (Date.now() > until) throw new Error(`${endpoint} never became healthy: ${r.stderr}\n${logs()}`);
    await sleep(100);
  }
}

/** Starts both twins with the same server flags (`extraArgs`) and waits until both serve. */
export async function startTwins(extraArgs: string[] = []): Promise<Twins> {
  const [ourClient, ourPeer, realClient, realPeer] = [
    await freePort(),
    await freePort(),
    await freePort(),
    await freePort(),
  ];
  const id: Identity = { advertisedPeerUrl: `http://127.0.0.1:${ourPeer}`, extraArgs };
  const ourDir = tempDir('interop-ours');
  const realDir = tempDir('interop-real');
  const ours: TwinProcess =
    OURS === 'real'
      ? new RealTwin(ourDir, ourClient, ourPeer, id)
      : new OurTwin(
          { name: MEMBER_NAME, dataDir: ourDir, clientPort: ourClient, peerPort: ourPeer, extraArgs },
          id,
        );
  const real = new RealTwin(realDir, realClient, realPeer, id);
  const logs = (): string =>
    `--- ${OURS === 'real' ? 'second real etcd (INTEROP_OURS=real)' : 'etcd-ts'} log ---\n${ours.output}\n` +
    `--- real etcd log ---\n${real.output}`;
  const stop = async (): Promise<void> => {
    await Promise.all([ours.stop(), real.stop()]);
    removeDir(ourDir);
    removeDir(realDir);
  };
  ours.start();
  real.start();
  try {
    await Promise.all([waitHealthy(ours.endpoint, 15_000, logs), waitHealthy(real.endpoint, 15_000, logs)]);
  } catch (err) {
    await stop();
    throw err;
  }
  return { realEndpoint: real.endpoint, oursEndpoint: ours.endpoint, logs, stop };
}

/**
 * Twins for the enclosing `describe`: started before its tests (with the flags `args()` gives
 * then, so key files may be written first) and stopped after them. The result hands them to a test.
 */
export function twinsForSuite(args: () => string[] = () => []): () => Twins {
  let twins: Twins | undefined;
  before(async () => {
    twins = await startTwins(args());
  });
  after(async () => {
    await twins?.stop();
  });
  return () => {
    if (twins === undefined) throw new Error('the twins did not start');
    return twins;
  };
}
