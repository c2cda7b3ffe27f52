// Real etcd-ts server processes for integration tests: free loopback ports,
// temp data dirs, a small gRPC client, and stopping exactly what was started.
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as grpc from '@grpc/grpc-js';
import type { MessageFns } from '../../src/pb/etcdserverpb/rpc.js';

/** The server entry point next to this compiled file (ETCD_TS_MAIN overrides it). */
export function serverMain(): string {
  return process.env.ETCD_TS_MAIN ?? fileURLToPath(new URL('../../src/cmd/etcd/main.js', import.meta.url));
}

/**
 * A free loopback port picked at random outside the kernel's ephemeral range (32768+): ports the
 * kernel hands out (listen(0), outgoing connections) come in sequence, so two suites running at
 * once could both be given a port one of them just closed, and mix their traffic.
 */
export async function freePort(): Promise<number> {
  for (;;) {
    const port = 20_000 + Math.floor(Math.random() * 12_000);
    const free = await new Promise<boolean>((resolve) => {
      const s = net.createServer();
      s.once('error', () => resolve(false));
      s.listen(port, '127.0.0.1', () => s.close(() => resolve(true)));
    });
    if (free) return port;
  }
}

export function tempDir(prefix: string): string {
  return mkdtempSync(join(tmpdir(), `etcd-ts-${prefix}-`));
}

export function removeDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
}

export interface MemberSpec {
  name: string;
  dataDir: string;
  clientPort: number;
  peerPort: number;
  extraArgs?: string[];
}

export async function memberSpec(
  name: string,
  dataDir: string,
  extraArgs: string[] = [],
): Promise<MemberSpec> {
  return { name, dataDir, clientPort: await freePort(), peerPort: await freePort(), extraArgs };
}

export class MemberProcess {
  private proc: ChildProcess | undefined;
  output = '';

  constructor(readonly spec: MemberSpec) {}

  get endpoint(): string {
    return `127.0.0.1:${this.spec.clientPort}`;
  }

  args(): string[] {
    const s = this.spec;
    const client = `http://127.0.0.1:${s.clientPort}`;
    const peer = `http://127.0.0.1:${s.peerPort}`;
    return [
      `--name=${s.name}`,
      `--data-dir=${s.dataDir}`,
      `--listen-client-urls=${client}`,
      `--advertise-client-urls=${client}`,
      `--listen-peer-urls=${peer}`,
      `--initial-advertise-peer-urls=${peer}`,
      `--initial-cluster=${s.name}=${peer}`,
      ...(s.extraArgs ?? []),
    ];
  }

  /** The program and its arguments; a subclass may run another server with the same flags. */
  command(): [string, string[]] {
    return [process.execPath, [serverMain(), ...this.args()]];
  }

  start(): void {
    if (this.proc !== undefined) throw new Error('member already running');
    this.output = '';
    const [file, argv] = this.command();
    const p = spawn(file, argv, { stdio: ['ignore', 'pipe', 'pipe'] });
    const keep = (b: Buffer): void => {
      this.output = (this.output + b.toString()).slice(-20_000);
    };
    p.stdout?.on('data', keep);
    p.stderr?.on('data', keep);
    this.proc = p;
  }

  /** Resolves with the exit code (or signal) once the process is gone. */
  private exited(): Promise<number | string> {
    const p = this.proc;
    if (p === undefined) return Promise.resolve(0);
    if (p.exitCode !== null) return Promise.resolve(p.exitCode);
    if (p.signalCode !== null) return Promise.resolve(p.signalCode);
    return new Promise((resolve) => p.once('exit', (code, sig) => resolve(code ?? sig ?? 0)));
  }

  async stop(): Promise<number | string> {
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

  /** Waits for the process to exit on its own (start-up failures). */
  async waitExit(timeoutMs: number): Promise<number | string | undefined> {
    const r = await Promise.race([this.exited(), sleep(timeoutMs).then(() => undefined)]);
    if (r !== undefined) this.proc = undefined;
    return r;
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Minimal unary gRPC client over the generated codecs. */
export class Client {
  /** The underlying channel, for streaming calls the helpers below do not cover. */
  readonly grpc: grpc.Client;

  constructor(endpoint: string, options?: grpc.ChannelOptions) {
    this.grpc = new grpc.Client(endpoint, grpc.credentials.createInsecure(), options);
  }

  call<Req, Res>(
    path: string,
    reqType: MessageFns<Req>,
    resType: MessageFns<Res>,
    req: Req,
    timeoutMs = 5000,
  ): Promise<Res> {
    return new Promise((resolve, reject) => {
      this.grpc.makeUnaryRequest(
        path,
        (m: Req) => Buffer.from(reqType.encode(m).finish()),
        (b: Buffer) => resType.decode(b),
        req,
        new grpc.Metadata(),
        { deadline: Date.now() + timeoutMs },
        (err, res) => {
          if (err) reject(err);
          else if (res === undefined) reject(new Error('empty response'));
          else resolve(res);
        },
      );
    });
  }

  close(): void {
    this.grpc.close();
  }
}

/** Retries `fn` until it succeeds or the time is up (servers take a moment to start). */
export async function eventually<T>(fn: () => Promise<T>, timeoutMs = 10_000, stepMs = 50): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await fn();
    } catch (err) {
      if (Date.now() > until) throw err;
      await sleep(stepMs);
    }
  }
}
