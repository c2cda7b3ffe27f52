// Running the shared Go load generator (../shared/tools/etcdbench, etcd's own
// clientv3): where it lives, building it when its source is newer, one run, and
// the gist of a failed run. Used by bench/compare.ts and bench/cluster-compare.ts.
import { execFileSync } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The repository root: the first folder above this compiled file that holds a
 * package.json (dist/bench/lib and .build/NAME/bench/lib both end at the repo).
 */
function findRepoRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json'))) {
    const up = dirname(dir);
    if (up === dir) throw new Error('no package.json above the bench scripts');
    dir = up;
  }
  return dir;
}

export const repoRoot = findRepoRoot();
const benchSource = resolve(repoRoot, '..', 'shared', 'tools', 'etcdbench');
export const benchBinary = join(repoRoot, 'bench', 'out', 'etcdbench');

/** The etcd-ts server entry point of the same build as this file (dist/ or a .build/NAME/ tree). */
export const etcdTsMain = fileURLToPath(new URL('../../src/cmd/etcd/main.js', import.meta.url));

export interface Figures {
  ops_per_s: number;
  p50_ms: number;
  p99_ms: number;
}

export interface BenchResult extends Figures {
  errors: number;
  /** etcdbench watch: the puts' own figures. */
  put?: Figures;
  /** etcdbench watch: expected_events, lost_events, watch_setup_s. */
  extra?: { expected_events?: number; lost_events?: number; watch_setup_s?: number };
}

export function buildEtcdbench(): void {
  // Rebuild when the source is newer (an older binary may lack the watch and lease-keepalive commands).
  if (
    existsSync(benchBinary) &&
    statSync(benchBinary).mtimeMs >= statSync(join(benchSource, 'main.go')).mtimeMs
  )
    return;
  console.log(`building etcdbench from ${benchSource} ...`);
  execFileSync('go', ['build', '-o', benchBinary, '.'], {
    cwd: benchSource,
    stdio: 'inherit',
    env: { ...process.env, GO111MODULE: 'off', GOFLAGS: '', GOPATH: '/usr/share/gocode' },
  });
}

/**
 * One etcdbench run; `endpoints` is its --endpoints value (comma-separated for a cluster).
 * A run still going after `timeoutMs` is killed and fails (a stuck server must not stall the rest).
 */
export function runBench(endpoints: string, args: string[], timeoutMs = 600_000): BenchResult {
  const out = execFileSync(benchBinary, [`--endpoints=${endpoints}`, ...args], {
    encoding: 'utf8',
    maxBuffer: 16 << 20,
    timeout: timeoutMs,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const last = out.trim().split('\n').pop() ?? '{}';
  const r = JSON.parse(last) as BenchResult;
  if (typeof r.ops_per_s !== 'number') throw new Error(`no figures in etcdbench output: ${last}`);
  return r;
}

/** The gist of a failure: etcdbench's own message (stderr) if there is one. */
export function failureText(err: unknown): string {
  const e = err as { stderr?: unknown; message?: unknown; signal?: unknown; code?: unknown };
  if (e.code === 'ETIMEDOUT' || e.signal === 'SIGTERM') return 'timed out (etcdbench killed)';
  const stderr = typeof e.stderr === 'string' ? e.stderr.trim() : '';
  const text = stderr !== '' ? stderr.split('\n').slice(-2).join(' / ') : String(e.message ?? err);
  return text.length > 240 ? `${text.slice(0, 237)}...` : text;
}

/** etcdbench arguments for puts of 256-byte values over 100,000 keys. */
export function putArgs(clients: number, conns: number, total: string, leaderOnly: boolean): string[] {
  return [
    ...(leaderOnly ? ['--target-leader'] : []),
    `--conns=${conns}`,
    `--clients=${clients}`,
    'put',
    '--key-size=8',
    '--val-size=256',
    '--key-space-size=100000',
    '--sequential-keys',
    `--total=${total}`,
  ];
}
