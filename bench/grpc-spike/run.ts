/**
 * Drives the spike servers (and optionally real etcd) with etcdbench put at
 * several client counts over ONE connection, and reports ops/s, p99 and the
 * server's CPU per call (from /proc/PID/stat, so it is measured the same way
 * for Node and for etcd).
 *
 *   node dist/bench/grpc-spike/run.js [--etcd] [--bench PATH] [--servers lean,grpcjs]
 * Prints a Markdown table and writes bench/out/grpc-spike.json.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const args = process.argv.slice(2);
const flag = (name: string): string | undefined => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
};
const BENCH = flag('--bench') ?? '/work/shared/tools/etcdbench/bin/etcdbench';
const SERVERS = (flag('--servers') ?? 'lean,leannode,grpcjs').split(',');
if (args.includes('--etcd')) SERVERS.push('etcd');
const CLIENTS = (flag('--clients') ?? '1,16,256').split(',').map(Number);
const TOTALS: Record<number, number> = { 1: 10_000, 16: 40_000, 256: 80_000 };
const CLK_TCK = Number(execFileSync('getconf', ['CLK_TCK']).toString().trim());

interface Row {
  server: string;
  clients: number;
  ok: number;
  errors: number;
  opsPerS: number;
  p99Ms: number;
  serverCpuUsPerCall: number;
  clientCpuS: number;
}

function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // utime and stime are fields 14 and 15 of the full line (11, 12 after the name).
  return (Number(fields[11]) + Number(fields[12])) / CLK_TCK;
}

function waitForLine(child: ChildProcess, pattern: RegExp, what: string): Promise<void> {
  return new Promise((resolve, reject) => {
    let seen = '';
    const timer = setTimeout(() => reject(new Error(`${what} did not start: ${seen}`)), 20_000);
    const onData = (c: Buffer): void => {
      seen += c.toString();
      if (pattern.test(seen)) {
        clearTimeout(timer);
        resolve();
      }
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.once('exit', (code) => reject(new Error(`${what} exited with ${code}: ${seen}`)));
  });
}

async function startServer(
  kind: string,
  port: number,
): Promise<{ child: ChildProcess; cleanup: () => void }> {
  if (kind === 'etcd') {
    const dir = mkdtempSync(join(tmpdir(), 'spike-etcd-'));
    const url = `http://127.0.0.1:${port}`;
    const peer = `http://127.0.0.1:${port + 1}`;
    const child = spawn('/usr/bin/etcd', [
      '--name=spike',
      `--data-dir=${dir}`,
      `--listen-client-urls=${url}`,
      `--advertise-client-urls=${url}`,
      `--listen-peer-urls=${peer}`,
      `--initial-advertise-peer-urls=${peer}`,
      `--initial-cluster=spike=${peer}`,
    ]);
    await waitForLine(child, /ready to serve client requests|serving insecure client requests/, 'etcd');
    return { child, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
  }
  const child = spawn(process.execPath, [join(here, 'server.js'), kind, String(port)]);
  await waitForLine(child, /listening/, kind);
  return { child, cleanup: () => {} };
}

function runBench(
  port: number,
  clients: number,
): { ok: number; errors: number; opsPerS: number; p99Ms: number; clientCpuS: number } {
  const out = execFileSync(
    BENCH,
    [
      `--endpoints=127.0.0.1:${port}`,
      '--conns=1',
      `--clients=${clients}`,
      '--duration=20s',
      'put',
      '--key-size=8',
      '--val-size=256',
      '--sequential-keys',
      '--key-space-size=100000',
      `--total=${TOTALS[clients] ?? 20_000}`,
    ],
    { maxBuffer: 16 * 1024 * 1024 },
  ).toString();
  const json = JSON.parse(out.trim().split('\n').pop()!);
  return {
    ok: json.ok,
    errors: json.errors,
    opsPerS: json.ops_per_s,
    p99Ms: json.p99_ms,
    clientCpuS: json.client_cpu_s,
  };
}

async function main(): Promise<void> {
  const rows: Row[] = [];
  let port = 23790;
  for (const server of SERVERS) {
    port += 10;
    const { child, cleanup } = await startServer(server, port);
    try {
      runBench(port, 16); // warm-up: JIT, connection, etcd's first compaction of nothing
      for (const clients of CLIENTS) {
        const before = cpuSeconds(child.pid!);
        const r = runBench(port, clients);
        const cpu = cpuSeconds(child.pid!) - before;
        rows.push({ server, clients, ...r, serverCpuUsPerCall: (cpu * 1e6) / r.ok });
        console.error(`${server} c=${clients}: ${r.opsPerS.toFixed(0)} ops/s p99 ${r.p99Ms} ms`);
      }
    } finally {
      child.kill('SIGTERM');
      await new Promise((resolve) => child.once('exit', resolve));
      cleanup();
    }
  }
  console.log('| server | clients | ops/s | p99 ms | server CPU µs/call | bench CPU s | errors |');
  console.log('|---|---:|---:|---:|---:|---:|---:|');
  for (const r of rows) {
    console.log(
      `| ${r.server} | ${r.clients} | ${r.opsPerS.toFixed(0)} | ${r.p99Ms.toFixed(2)} | ${r.serverCpuUsPerCall.toFixed(1)} | ${r.clientCpuS.toFixed(2)} | ${r.errors} |`,
    );
  }
  const outDir = join(here, '..', '..', '..', 'bench', 'out');
  mkdirSync(outDir, { recursive: true });
  writeFileSync(join(outDir, 'grpc-spike.json'), JSON.stringify(rows, null, 2));
}

await main();
