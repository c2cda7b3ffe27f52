// `etcdctl migrate` beside etcdctl 3.4, on data dirs of a real etcd 3.4 started with --enable-v2
// and written with `ETCDCTL_API=2 etcdctl set/mkdir/rm` (with a .snap and WAL entries after it):
// - ours and the real etcdctl print the same lines and leave the same backend, bucket by bucket,
//   with and without --no-ttl;
// - a real etcd 3.4 and etcd-ts started on the migrated dir serve the v2 keys as v3 keys;
// - a --transformer program gets the same JSON from both; a failing one changes nothing;
// - a member that never had v2 keys: "no v2 keys to migrate".
// Skips when etcd/etcdctl are missing.

import assert from 'node:assert/strict';
import { chmodSync, cpSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { BoltDb } from '../../src/bbolt/index.js';
import {
  eventually,
  MemberProcess,
  type MemberSpec,
  memberSpec,
  removeDir,
  tempDir,
} from '../integration/harness.js';
import { REAL_CTL, REAL_ETCD, runCommand } from './twins.js';

const missing =
  existsSync(REAL_ETCD) && existsSync(REAL_CTL) ? undefined : `needs ${REAL_ETCD} and ${REAL_CTL}`;
const OUR_CTL = fileURLToPath(new URL('../../src/cmd/etcdctl/main.js', import.meta.url));

class RealEtcdProcess extends MemberProcess {
  override command(): [string, string[]] {
    return [REAL_ETCD, this.args()];
  }
}

const ours = (args: string[]) => runCommand(process.execPath, [OUR_CTL, ...args]);
const real = (args: string[]) => runCommand(REAL_CTL, args);

/** Every entry of every bucket of a backend, as comparable lines. */
function dbLines(dataDir: string): string[] {
  const db = BoltDb.openFile(join(dataDir, 'member', 'snap', 'db'));
  try {
    const lines: string[] = [];
    const root = db.root();
    for (const top of root.entries()) {
      for (const e of root.open(top).entries()) {
        lines.push(`${top.key.toString('latin1')} ${e.key.toString('hex')}=${e.value.toString('hex')}`);
      }
    }
    return lines;
  } finally {
    db.close();
  }
}

/** A real etcd 3.4 with --enable-v2 on `spec`, `write` run against it, then stopped. */
async function realV2Member(
  spec: MemberSpec,
  write: (v2: (args: string[]) => Promise<void>) => Promise<void>,
) {
  const etcd = new RealEtcdProcess({ ...spec, extraArgs: ['--enable-v2', '--snapshot-count=10'] });
  const v2 = async (args: string[]): Promise<void> => {
    const r = await runCommand(REAL_CTL, [`--endpoints=http://${etcd.endpoint}`, ...args], '', {
      ETCDCTL_API: '2',
    });
    assert.equal(r.code, 0, `etcdctl ${args.join(' ')}: ${r.stderr}`);
  };
  etcd.start();
  try {
    await eventually(() => v2(['ls', '/']), 15_000, 100);
    await write(v2);
  } finally {
    await etcd.stop();
  }
}

interface CtlKv {
  key: string;
  value?: string;
  create_revision: number;
  mod_revision: number;
  version: number;
}

/** What `etcdctl get "" --prefix` shows of a member started on `dataDir`. */
async function served(member: MemberProcess): Promise<string[]> {
  member.start();
  try {
    const r = await eventually(
      async () => {
        const g = await real([`--endpoints=${member.endpoint}`, 'get', '', '--prefix', '-w', 'json']);
        assert.equal(g.code, 0, g.stderr);
        return g;
      },
      20_000,
      100,
    ).catch((err: Error) => {
      throw new Error(`${err.message}\n${member.output}`);
    });
    const kvs = (JSON.parse(r.stdout) as { kvs?: CtlKv[] }).kvs ?? [];
    return kvs.map(
      (kv) =>
        `${Buffer.from(kv.key, 'base64')}=${Buffer.from(kv.value ?? '', 'base64')} c${kv.create_revision} m${kv.mod_revision} v${kv.version}`,
    );
  } finally {
    await member.stop();
  }
}

describe('etcdctl migrate beside etcdctl 3.4', { timeout: 150_000, skip: missing }, () => {
  const dir = tempDir('migrate-interop');
  const source = join(dir, 'source');
  let spec: MemberSpec;

  before(async () => {
    spec = await memberSpec('m', source);
    await realV2Member(spec, async (v2) => {
      for (let i = 1; i <= 12; i++) await v2(['set', `/k${i}`, `v${i}`]);
      await v2(['set', '/dir/a', '1']);
      await v2(['set', '/dir/b', '2']);
      await v2(['mkdir', '/empty']);
      await v2(['set', '/ttl', 'x', '--ttl', '300']);
      await v2(['set', '/k1', 'v1-again']);
      await v2(['rm', '/dir/b']);
      await v2(['set', '/we<ird>&', 'v"q']);
    });
    // A v3 key beside them must survive the migration.
    const etcd = new RealEtcdProcess(spec);
    etcd.start();
    try {
      await eventually(
        async () => {
          const r = await real([`--endpoints=${etcd.endpoint}`, 'put', 'v3key', 'v3val']);
          assert.equal(r.code, 0, r.stderr);
        },
        15_000,
        100,
      );
    } finally {
      await etcd.stop();
    }
  });
  after(() => removeDir(dir));

  /** A fresh copy of the source member's data dir. */
  const copy = (name: string): string => {
    const to = join(dir, name);
    cpSync(source, to, { recursive: true });
    return to;
  };

  test('same output and the same backend as etcdctl 3.4; etcd 3.4 and etcd-ts serve the keys', async () => {
    const realDir = copy('real');
    const oursDir = copy('ours');
    const r = await real(['migrate', '--data-dir', realDir]);
    const o = await ours(['migrate', '--data-dir', oursDir]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(o.code, 0, o.stderr);
    assert.equal(o.stdout, r.stdout);
    assert.match(o.stdout, /^using default transformer\n/);
    assert.match(o.stdout, /"msg":"recovered\/added member from store"/, 'the member had a .snap');
    assert.match(o.stdout, /finished transforming keys\n$/);
    assert.deepEqual(dbLines(oursDir), dbLines(realDir));

    const expected = (kvs: string[]) => {
      const byKey = new Map(kvs.map((l) => [l.split('=')[0], l]));
      assert.match(byKey.get('/k1') ?? '', /^\/k1=v1-again c\d+ m\d+ v1$/);
      assert.match(byKey.get('/dir/a') ?? '', /^\/dir\/a=1 /);
      assert.equal(byKey.has('/dir/b'), false);
      assert.equal(byKey.has('/dir'), false, 'directories are not keys');
      assert.match(byKey.get('/we<ird>&') ?? '', /=v"q /);
      assert.match(byKey.get('/ttl') ?? '', /^\/ttl=x /);
      assert.match(byKey.get('v3key') ?? '', /^v3key=v3val c2 m2 v1$/);
      assert.equal(kvs.length, 16);
    };
    const byReal = await served(new RealEtcdProcess({ ...spec, dataDir: oursDir }));
    expected(byReal);
    // etcd-ts converts the etcd 3.4 dir at start-up and serves the same keys.
    const oursCopy = join(dir, 'ours-for-etcd-ts');
    cpSync(oursDir, oursCopy, { recursive: true });
    assert.deepEqual(await served(new MemberProcess({ ...spec, dataDir: oursCopy })), byReal);
  });

  test('--no-ttl leaves TTL keys out, as etcdctl 3.4', async () => {
    const realDir = copy('real-nottl');
    const oursDir = copy('ours-nottl');
    const r = await real(['migrate', '--no-ttl', '--data-dir', realDir]);
    const o = await ours(['migrate', '--no-ttl', '--data-dir', oursDir]);
    assert.equal(o.code, 0, o.stderr);
    assert.equal(o.stdout, r.stdout);
    const lines = dbLines(oursDir);
    assert.deepEqual(lines, dbLines(realDir));
    assert.ok(!lines.some((l) => l.startsWith(`key `) && l.includes(Buffer.from('/ttl').toString('hex'))));
  });

  test('a --transformer gets the JSON etcdctl 3.4 sends; a failing one changes nothing', async () => {
    const script = (name: string, body: string): string => {
      const p = join(dir, name);
      writeFileSync(p, `#!/bin/sh\n${body}\n`);
      chmodSync(p, 0o755);
      return p;
    };
    const realDir = copy('real-tr');
    const oursDir = copy('ours-tr');
    const r = await real([
      'migrate',
      '--data-dir',
      realDir,
      '--transformer',
      script('t-real', `cat > ${dir}/in-real`),
    ]);
    const o = await ours([
      'migrate',
      '--data-dir',
      oursDir,
      '--transformer',
      script('t-ours', `cat > ${dir}/in-ours`),
    ]);
    assert.equal(o.code, 0, o.stderr);
    assert.equal(o.stdout, r.stdout);
    assert.doesNotMatch(o.stdout, /using default transformer/);
    // The TTL left counts down between the two runs.
    const input = (f: string) => readFileSync(join(dir, f), 'utf8').replace(/"ttl":\d+/g, '"ttl":N');
    assert.equal(input('in-ours'), input('in-real'));
    assert.match(input('in-ours'), /^\{"key":"\/","dir":true\}\{"key":"\/dir","dir":true,/);
    assert.match(input('in-ours'), /"key":"\/we\\u003cird\\u003e\\u0026","value":"v\\"q"/);
    assert.deepEqual(dbLines(oursDir), dbLines(realDir));

    const failing = copy('ours-fail');
    const before = readFileSync(join(failing, 'member', 'snap', 'db'));
    const f = await ours([
      'migrate',
      '--data-dir',
      failing,
      '--transformer',
      script('t-fail', 'cat >/dev/null; exit 3'),
    ]);
    assert.equal(f.code, 1);
    assert.match(f.stdout, /failed to transform keys\n$/);
    assert.equal(f.stderr, 'Error: exit status 3\n');
    assert.ok(readFileSync(join(failing, 'member', 'snap', 'db')).equals(before), 'the backend is untouched');
  });

  test('a member without v2 keys: "no v2 keys to migrate"; a missing dir: the error etcdctl gives', async () => {
    const bare = join(dir, 'bare');
    await realV2Member(await memberSpec('b', bare), async () => undefined);
    const o = await ours(['migrate', '--data-dir', bare]);
    const r = await real(['migrate', '--data-dir', bare]);
    assert.equal(o.code, 0, o.stderr);
    assert.equal(o.stdout, r.stdout);
    assert.match(o.stdout, /no v2 keys to migrate\n$/);

    const none = join(dir, 'nothing-here');
    const on = await ours(['migrate', '--data-dir', none]);
    const rn = await real(['migrate', '--data-dir', none]);
    assert.equal(on.code, rn.code);
    assert.equal(on.stderr, rn.stderr);
    assert.equal(on.stderr, `Error: open ${none}/member/snap: no such file or directory\n`);
  });
});
