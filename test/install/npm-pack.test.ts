// Installing like a user: `npm pack` of a built tree gives a package that `npm i -g` installs
// into a prefix, putting etcd, etcdctl and etcdutl on the PATH; from a directory outside the
// repository (and with nothing of it on the PATH) etcd starts on a data dir under /tmp, etcdctl
// writes and reads a key, etcdutl answers.
// The package is packed from a staging copy of the repository's package.json, README and bin/
// with this build's output as dist/ (so the test works from any build directory and never
// rebuilds or touches dist/), which is what `npm pack` sees in a built checkout. Runtime
// dependencies come from the npm cache that `npm ci` filled (the registry when missing).
import assert from 'node:assert/strict';
import { type ChildProcess, execFile, execFileSync, spawn } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { eventually, freePort, removeDir, tempDir } from '../integration/harness.js';

/** The build output this compiled test belongs to (dist/ or .build/NAME). */
const BUILD = resolve(fileURLToPath(new URL('../..', import.meta.url)));
const NODE_DIR = dirname(process.execPath);
const STEP_TIMEOUT_MS = 90_000;

/** The checkout: the nearest directory above the build with package.json and bin/etcd. */
function findRepo(): string | undefined {
  let dir = BUILD;
  for (;;) {
    if (existsSync(join(dir, 'package.json')) && existsSync(join(dir, 'bin', 'etcd'))) return dir;
    const up = resolve(dir, '..');
    if (up === dir) return undefined;
    dir = up;
  }
}

function hasNpm(): boolean {
  try {
    execFileSync('npm', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

const repo = findRepo();
const skip = repo === undefined ? 'no checkout above the build' : hasNpm() ? false : 'npm not installed';

/** The environment of a user's shell: none of npm's per-script variables, our PATH. */
function userEnv(path: string): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (!/^npm_/i.test(k) && !k.startsWith('ETCDTS_') && !k.startsWith('ETCDCTL_') && k !== 'ETCD_TS_MAIN')
      env[k] = v;
  }
  env.PATH = path;
  return env;
}

function run(
  file: string,
  args: string[],
  cwd: string,
  env: NodeJS.ProcessEnv,
): Promise<{ stdout: string; stderr: string }> {
  return new Promise((resolvePromise, reject) => {
    execFile(file, args, { cwd, env, timeout: STEP_TIMEOUT_MS }, (err, stdout, stderr) => {
      if (err !== null)
        reject(new Error(`${file} ${args.join(' ')} failed: ${err.message}\n${stdout}\n${stderr}`));
      else resolvePromise({ stdout, stderr });
    });
  });
}

describe('npm pack and a global install', { skip }, () => {
  let tmp: string;
  let prefix: string;
  let etcd: ChildProcess | undefined;

  before(() => {
    tmp = tempDir('npm-pack');
    prefix = join(tmp, 'prefix');
  });
  after(async () => {
    if (etcd !== undefined && etcd.exitCode === null) {
      const gone = new Promise((r) => etcd?.once('exit', r));
      etcd.kill('SIGTERM');
      await gone;
    }
    removeDir(tmp);
  });

  test('packs, installs, and runs etcd, etcdctl and etcdutl from the PATH anywhere', async () => {
    const root = repo as string;
    const stage = join(tmp, 'stage');
    mkdirSync(join(stage, 'dist'), { recursive: true });
    for (const f of ['package.json', 'README.md', 'bin'])
      cpSync(join(root, f), join(stage, f), { recursive: true });
    for (const d of ['src', 'bundle']) {
      if (existsSync(join(BUILD, d))) cpSync(join(BUILD, d), join(stage, 'dist', d), { recursive: true });
    }
    const npmEnv = userEnv(`${NODE_DIR}:/usr/local/bin:/usr/bin:/bin`);
    // The tree is built: packing must not rebuild it (prepack builds a checkout that is not).
    await run('npm', ['pack', '--ignore-scripts', '--pack-destination', tmp], stage, npmEnv);
    const tarballs = readdirSync(tmp).filter((f) => /^etcd-ts-.*\.tgz$/.test(f));
    assert.equal(tarballs.length, 1, `one tarball: ${tarballs}`);
    const listing = await run('tar', ['-tzf', join(tmp, tarballs[0] as string)], tmp, npmEnv);
    const files = listing.stdout.split('\n');
    for (const f of ['bin/etcd', 'bin/etcdctl', 'bin/etcdutl', 'dist/src/cmd/etcd/main.js']) {
      assert.ok(files.includes(`package/${f}`), `${f} is in the package`);
    }
    assert.ok(!files.some((f) => f.includes('.test.')), 'no tests in the package');

    await run(
      'npm',
      [
        'install',
        '--global',
        '--prefix',
        prefix,
        '--prefer-offline',
        '--no-audit',
        '--no-fund',
        `./${tarballs[0]}`,
      ],
      tmp,
      npmEnv,
    );
    const bin = join(prefix, 'bin');
    for (const name of ['etcd', 'etcdctl', 'etcdutl'])
      assert.ok(existsSync(join(bin, name)), `${name} installed`);

    // A user's shell elsewhere: the prefix's bin first, nothing of the checkout anywhere.
    const away = join(tmp, 'elsewhere');
    mkdirSync(away);
    const env = userEnv(`${bin}:${NODE_DIR}:/usr/bin:/bin`);
    const which = await run('sh', ['-c', 'for n in etcd etcdctl etcdutl; do command -v $n; done'], away, env);
    assert.deepEqual(
      which.stdout.trim().split('\n'),
      ['etcd', 'etcdctl', 'etcdutl'].map((n) => join(bin, n)),
    );

    const version = await run('etcd', ['--version'], away, env);
    assert.match(version.stdout, /etcd-ts/, 'the installed etcd is etcd-ts');
    const client = await freePort();
    const peer = await freePort();
    etcd = spawn(
      'etcd',
      [
        '--name=installed',
        `--data-dir=${join(tmp, 'data')}`,
        `--listen-client-urls=http://127.0.0.1:${client}`,
        `--advertise-client-urls=http://127.0.0.1:${client}`,
        `--listen-peer-urls=http://127.0.0.1:${peer}`,
        `--initial-advertise-peer-urls=http://127.0.0.1:${peer}`,
        `--initial-cluster=installed=http://127.0.0.1:${peer}`,
      ],
      { cwd: away, env, stdio: 'ignore' },
    );
    const ep = `--endpoints=127.0.0.1:${client}`;
    const put = await eventually(
      () => run('etcdctl', [ep, 'put', 'greeting', 'hello'], away, env),
      15_000,
      200,
    );
    assert.equal(put.stdout, 'OK\n');
    const get = await run('etcdctl', [ep, 'get', 'greeting'], away, env);
    assert.equal(get.stdout, 'greeting\nhello\n');
    const utl = await run('etcdutl', ['version'], away, env);
    assert.match(utl.stdout, /^etcdutl version: \d+\.\d+\.\d+\nAPI version: \d+\.\d+\n$/);
    assert.ok(
      JSON.parse(readFileSync(join(prefix, 'lib', 'node_modules', 'etcd-ts', 'package.json'), 'utf8')).bin,
    );
  });
});
