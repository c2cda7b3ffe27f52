import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { removeDir, tempDir } from '../integration/harness.js';
import { Background, stopAll } from './background.js';
import { REAL_CTL, runCommand, startTwins, type Twins } from './twins.js';

/**
 * etcd 3.4's own Go client -- clientv3, clientv3/concurrency (Session, Mutex,
 * Election) and the v3lock / v3election gRPC services -- drives etcd-ts and
 * the real etcd 3.4 through test/interop/go/concurrency (built here, offline,
 * in GOPATH mode against Debian's golang-etcd-server-dev). Locks held by
 * concurrent processes must never overlap, elections have one leader at a
 * time, and the watch, lease and error outputs must equal the real etcd's.
 * INTEROP_OURS=real runs a second real etcd in place of etcd-ts.
 */

const GOPATH = '/usr/share/gocode';
const CLIENTV3 = `${GOPATH}/src/go.etcd.io/etcd/clientv3`;

/** The Go source lives in the source tree; the compiled test runs from dist/test/interop. */
function goSource(): string {
  const here = fileURLToPath(new URL('.', import.meta.url));
  const candidates = [
    join(here, 'go', 'concurrency'),
    join(here, '..', '..', '..', 'test', 'interop', 'go', 'concurrency'),
  ];
  const found = candidates.find((p) => existsSync(join(p, 'main.go')));
  if (found === undefined) throw new Error(`go/concurrency/main.go not found in ${candidates.join(', ')}`);
  return found;
}

function buildGo(source: string, output: string): Promise<void> {
  return new Promise((resolve, reject) => {
    execFile(
      'go',
      ['build', '-o', output, '.'],
      {
        cwd: source,
        timeout: 300_000,
        env: {
          ...process.env,
          GO111MODULE: 'off',
          GOFLAGS: '',
          GOPATH,
          GOCACHE: process.env.GOCACHE ?? join(tmpdir(), 'etcd-ts-interop-gocache'),
        },
      },
      (err, _stdout, stderr) => {
        if (err === null) resolve();
        else reject(new Error(`go build of ${source} failed: ${err.message}\n${stderr}`));
      },
    );
  });
}

/** Lines of the form "<word> <unix-ms>" as a map; other lines kept as they are. */
interface Timeline {
  at: Map<string, number>;
  lines: string[];
}

function timeline(stdout: string): Timeline {
  const at = new Map<string, number>();
  const lines: string[] = [];
  for (const line of stdout.trimEnd().split('\n')) {
    const m = /^(\w+) (\d{13})$/.exec(line);
    if (m !== null) {
      at.set(m[1]!, Number(m[2]));
      lines.push(m[1]!);
    } else lines.push(line);
  }
  return { at, lines };
}

function time(t: Timeline, word: string): number {
  const v = t.at.get(word);
  assert.ok(v !== undefined, `no "${word}" line in ${t.lines.join(' | ')}`);
  return v;
}

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

function jsonLines(stdout: string): Json[] {
  return stdout
    .trimEnd()
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l) as Json);
}

describe('etcd clientv3 (Go): concurrency, watch, lease against etcd-ts and the real etcd', {
  timeout: 600_000,
}, () => {
  let twins: Twins | undefined;
  let binDir: string | undefined;
  let bin = '';
  const running = new Set<Background>();

  before(async () => {
    const probe = await runCommand('go', ['version']);
    if (probe.code !== 0 || !existsSync(CLIENTV3)) {
      throw new Error(
        `the Go interop test needs the go tool and etcd's Go client sources (${CLIENTV3}); ` +
          `go version: ${probe.code === 0 ? probe.stdout.trim() : `failed (${probe.stderr.trim() || 'not found'})`}; ` +
          'install them with: apt-get install golang-go golang-etcd-server-dev (.ci/run must install both)',
      );
    }
    binDir = tempDir('interop-go');
    bin = join(binDir, 'concurrency');
    await buildGo(goSource(), bin);
    twins = await startTwins();
  });

  after(async () => {
    await stopAll(running);
    await twins?.stop();
    if (binDir !== undefined) removeDir(binDir);
  });

  const endpoints = (): { ours: string; real: string } => {
    if (twins === undefined) throw new Error('servers not started');
    return { ours: twins.oursEndpoint, real: twins.realEndpoint };
  };

  const go = (args: string[]): Background => {
    const b = new Background(bin, args);
    running.add(b);
    return b;
  };

  /** Runs processes to completion (they end by themselves); each must exit with `code`. */
  const finish = async (procs: Background[], code = 0): Promise<void> => {
    await Promise.all(
      procs.map(async (p) => {
        const ended = await p.waitExit(60_000);
        running.delete(p);
        assert.deepEqual(ended, { code, signal: null }, p.describe());
      }),
    );
  };

  /** On one server: N processes of `mode` at once; returns their timelines once all are done. */
  const contend = async (
    endpoint: string,
    mode: 'lock' | 'lockrpc' | 'elect' | 'electrpc',
    name: string,
    n: number,
    holdMs: number,
  ): Promise<Timeline[]> => {
    const procs = Array.from({ length: n }, (_, i) =>
      go(
        mode.startsWith('lock')
          ? [mode, endpoint, name, String(holdMs)]
          : [mode, endpoint, name, `v${i}`, String(holdMs)],
      ),
    );
    await finish(procs);
    return procs.map((p) => timeline(p.stdout));
  };

  /** Critical sections [start, end] must be disjoint: sorted by start, each starts after the previous ended. */
  const assertExclusive = (ts: Timeline[], start: string, end: string, what: string): void => {
    const sorted = [...ts].sort((a, b) => time(a, start) - time(b, start));
    for (let i = 1; i < sorted.length; i++) {
      const prev = sorted[i - 1]!;
      const next = sorted[i]!;
      assert.ok(
        time(next, start) >= time(prev, end),
        `${what}: #${i + 1} ${start} at ${time(next, start)} before #${i} ${end} at ${time(prev, end)}`,
      );
    }
    // Contention really happened: every process was waiting before the first one let go.
    const firstEnd = time(sorted[0]!, end);
    const waitWord = start === 'acquired' ? 'waiting' : 'campaigning';
    for (const t of sorted)
      assert.ok(time(t, waitWord) < firstEnd, `${what}: a process started too late to contend`);
  };

  for (const mode of ['lock', 'lockrpc'] as const) {
    test(`${mode}: three processes at once, held intervals never overlap (${mode === 'lock' ? 'concurrency.Mutex' : 'the v3lock Lock service'})`, async () => {
      const eps = endpoints();
      const [ours, real] = await Promise.all([
        contend(eps.ours, mode, `go-${mode}`, 3, 1000),
        contend(eps.real, mode, `go-${mode}`, 3, 1000),
      ]);
      for (const [label, ts] of [
        ['ours', ours],
        ['real', real],
      ] as const) {
        assertExclusive(ts, 'acquired', 'releasing', `${mode} on ${label}`);
        for (const t of ts) {
          assert.deepEqual(
            t.lines,
            ['waiting', 'acquired', `key go-${mode}/<lease>`, 'owner true', 'releasing', 'released'],
            `${mode} on ${label}`,
          );
          assert.ok(time(t, 'releasing') - time(t, 'acquired') >= 1000, 'held for the hold time');
        }
      }
      // Nothing is left behind.
      for (const ep of [eps.ours, eps.real]) {
        const left = await runCommand(REAL_CTL, [`--endpoints=${ep}`, 'get', '--prefix', `go-${mode}/`]);
        assert.equal(left.stdout, '', `lock keys left on ${ep}`);
      }
    });
  }

  for (const mode of ['elect', 'electrpc'] as const) {
    test(`${mode}: two candidates at once, one leader at a time, observed in order (${mode === 'elect' ? 'concurrency.Election' : 'the v3election Election service'})`, async () => {
      const eps = endpoints();
      const name = `go-${mode}`;
      const run = async (ep: string): Promise<{ ts: Timeline[]; observed: string[] }> => {
        const observer = go(['observe', ep, name, '4']);
        await observer.waitFor(/"observing":true/, 30_000);
        const ts = await contend(ep, mode, name, 2, 1000);
        // Each leader proclaims value+"+" while leading; the observer must see both of those, in
        // leadership order (the plain values may be skipped: Observe posts the latest value).
        const order = [...ts].sort((a, b) => time(a, 'leader') - time(b, 'leader'));
        const values = order.map((t) => (t.lines.find((l) => l.startsWith('observed ')) ?? '').slice(9));
        await observer.waitFor(new RegExp(`"value":"${values[1]}\\+"`), 30_000);
        await observer.stop();
        running.delete(observer);
        const observed = jsonLines(observer.stdout)
          .slice(1)
          .map((j) => {
            const o = j as { value: string; key_prefix: boolean; has_lease: boolean };
            assert.equal(o.key_prefix, true);
            assert.equal(o.has_lease, true);
            return o.value;
          });
        const expected = values.flatMap((v) => [v, `${v}+`]);
        let i = 0;
        for (const v of observed) {
          while (i < expected.length && expected[i] !== v) i++;
          assert.ok(
            i < expected.length,
            `observed ${observed.join(',')} is not in order ${expected.join(',')}`,
          );
        }
        assert.deepEqual(
          observed.filter((v) => v.endsWith('+')),
          values.map((v) => `${v}+`),
          `observed ${observed.join(',')}`,
        );
        return { ts, observed };
      };
      const [ours, real] = await Promise.all([run(eps.ours), run(eps.real)]);
      for (const [label, r] of [
        ['ours', ours],
        ['real', real],
      ] as const) {
        assertExclusive(r.ts, 'leader', 'resigning', `${mode} on ${label}`);
        for (const t of r.ts) {
          const value = /^v\d$/.exec(t.lines.find((l) => l.startsWith('observed '))?.slice(9) ?? '')?.[0];
          assert.ok(value !== undefined, t.lines.join(' | '));
          const keyLines =
            mode === 'elect' ? [`key ${name}/<lease>`] : [`key ${name}/<lease>`, 'leader_fields true true'];
          assert.deepEqual(
            t.lines,
            [
              'campaigning',
              'leader',
              ...keyLines,
              `observed ${value}`,
              `proclaimed ${value}+`,
              'resigning',
              'resigned',
            ],
            `${mode} on ${label}`,
          );
        }
      }
    });
  }

  test('watch: created notification, live events with prev-kv, replay from a revision (batched), compacted revision', async () => {
    const eps = endpoints();
    const ctl = (ep: string, args: string[], input?: string) =>
      runCommand(REAL_CTL, [`--endpoints=${ep}`, ...args], input).then((r) => {
        assert.equal(r.code, 0, `etcdctl ${args.join(' ')} on ${ep}: ${r.stderr}`);
        return r.stdout;
      });
    const both = async (args: string[], input?: string): Promise<void> => {
      const [o, r] = await Promise.all([ctl(eps.ours, args, input), ctl(eps.real, args, input)]);
      assert.equal(o, r, `etcdctl ${args.join(' ')}`);
    };
    const revision = async (): Promise<number> => {
      const [o, r] = await Promise.all([
        ctl(eps.ours, ['get', 'x', '-w', 'json']),
        ctl(eps.real, ['get', 'x', '-w', 'json']),
      ]);
      const rev = (s: string): number => (JSON.parse(s) as { header: { revision: number } }).header.revision;
      assert.equal(rev(o), rev(r), 'both servers at the same revision');
      return rev(r);
    };

    const start = (await revision()) + 1;
    const live = {
      ours: go(['watch', eps.ours, '/gw/', '7', 'prefix', 'prev-kv']),
      real: go(['watch', eps.real, '/gw/', '7', 'prefix', 'prev-kv']),
    };
    const key = { ours: go(['watch', eps.ours, '/gw/a', '3']), real: go(['watch', eps.real, '/gw/a', '3']) };
    for (const b of [live.ours, live.real, key.ours, key.real]) await b.waitFor(/"created":true/, 30_000);
    await both(['put', '/gw/a', '1']);
    await both(['put', '/gw/b', '2']);
    await both(['put', '/gw/a', '3']);
    await both(['put', '/gx', 'not watched']);
    await both(['txn'], '\nput /gw/c 4\ndel /gw/b\n\n\n');
    await both(['del', '--prefix', '/gw/']);
    await finish([live.ours, live.real, key.ours, key.real]);
    assert.deepEqual(jsonLines(live.ours.stdout), jsonLines(live.real.stdout), 'prefix watch with prev-kv');
    assert.deepEqual(jsonLines(key.ours.stdout), jsonLines(key.real.stdout), 'key watch');
    const [created, ...events] = jsonLines(live.real.stdout) as {
      created?: boolean;
      header_revision: number;
      type: string;
      key: string;
      batch: number;
      prev_value?: string;
    }[];
    assert.deepEqual(created, { created: true, header_revision: start - 1 });
    assert.deepEqual(
      events.map((e) => `${e.type} ${e.key} ${e.batch} ${e.prev_value ?? '-'} ${e.header_revision - start}`),
      [
        'PUT /gw/a 1 - 0',
        'PUT /gw/b 1 - 1',
        'PUT /gw/a 1 1 2',
        'PUT /gw/c 2 - 4',
        'DELETE /gw/b 2 2 4',
        'DELETE /gw/a 2 3 5',
        'DELETE /gw/c 2 4 5',
      ],
    );

    const replay = {
      ours: go(['watch', eps.ours, '/gw/', '7', 'prefix', `rev=${start}`]),
      real: go(['watch', eps.real, '/gw/', '7', 'prefix', `rev=${start}`]),
    };
    await finish([replay.ours, replay.real]);
    assert.deepEqual(jsonLines(replay.ours.stdout), jsonLines(replay.real.stdout), 'replay from a revision');
    const batches = (jsonLines(replay.real.stdout).slice(1) as { batch: number }[]).map((e) => e.batch);
    assert.deepEqual(batches, [7, 7, 7, 7, 7, 7, 7], 'catch-up events arrive in one response');

    await both(['compaction', String(start + 2)]);
    const compacted = {
      ours: go(['watch', eps.ours, '/gw/', '1', 'prefix', `rev=${start}`]),
      real: go(['watch', eps.real, '/gw/', '1', 'prefix', `rev=${start}`]),
    };
    await finish([compacted.ours, compacted.real], 3);
    assert.deepEqual(
      jsonLines(compacted.ours.stdout),
      jsonLines(compacted.real.stdout),
      'watch of a compacted revision',
    );
    assert.deepEqual(jsonLines(compacted.real.stdout).pop(), {
      canceled: true,
      compact_revision: start + 2,
      error: 'etcdserver: mvcc: required revision has been compacted',
      header_revision: 0,
    });
  });

  test('lease: grant, keep-alive (once and stream), time-to-live with keys, leases, revoke, expiry, client-chosen id', async () => {
    const eps = endpoints();
    const [ours, real] = [go(['lease', eps.ours]), go(['lease', eps.real])];
    await finish([ours, real]);
    const o = jsonLines(ours.stdout);
    const r = jsonLines(real.stdout);
    assert.deepEqual(o, r, 'lease steps');
    const byStep = new Map((r as { step: string }[]).map((s) => [s.step, s as unknown as Json]));
    assert.deepEqual(byStep.get('grant'), { step: 'grant', ttl: 10, id_nonzero: true, error: '' });
    assert.deepEqual(byStep.get('keepalive_stream'), { step: 'keepalive_stream', ttl: 10, same_id: true });
    assert.deepEqual(byStep.get('timetolive'), {
      step: 'timetolive',
      granted_ttl: 10,
      ttl_in_range: true,
      ttl_below_granted: true,
      keys: ['go-lease/a', 'go-lease/b'],
      same_id: true,
    });
    assert.deepEqual(byStep.get('revoke'), { step: 'revoke', keys_left: 0 });
    assert.deepEqual(byStep.get('timetolive_revoked'), {
      step: 'timetolive_revoked',
      ttl: -1,
      granted_ttl: 0,
      keys: 0,
    });
    assert.deepEqual(byStep.get('grant_ttl_1'), { step: 'grant_ttl_1', ttl: 2 });
    assert.deepEqual(byStep.get('expiry'), {
      step: 'expiry',
      key_deleted: true,
      not_before_1s: true,
      ttl: -1,
    });
    assert.deepEqual(byStep.get('grant_fixed_id'), { step: 'grant_fixed_id', id: 0x1234abcd, ttl: 30 });
    assert.deepEqual((byStep.get('grant_duplicate_id') as { result: Json }).result, {
      code: 'FailedPrecondition',
      message: 'etcdserver: lease already exists',
      error: 'rpc error: code = FailedPrecondition desc = etcdserver: lease already exists',
    });
    assert.equal(
      (byStep.get('revoke_fixed_id_again') as { result: { code: string } }).result.code,
      'NotFound',
    );
  });

  test('Lock and Election services: error codes and texts, Observe stream', async () => {
    const eps = endpoints();
    const [ours, real] = [go(['rpcerrors', eps.ours]), go(['rpcerrors', eps.real])];
    await finish([ours, real]);
    assert.deepEqual(jsonLines(ours.stdout), jsonLines(real.stdout), 'service errors');
    const byStep = new Map(
      (jsonLines(real.stdout) as { step: string; result?: { code?: string; message?: string } }[]).map(
        (s) => [s.step, s],
      ),
    );
    // The services wrap clientv3 errors: gRPC code Unknown, the etcd error text as the message.
    assert.deepEqual(byStep.get('lock_unknown_lease')?.result?.code, 'Unknown');
    assert.equal(byStep.get('lock_unknown_lease')?.result?.message, 'etcdserver: requested lease not found');
    assert.equal(byStep.get('leader_without_leader')?.result?.message, 'election: no leader');
    assert.equal(byStep.get('resign_without_leader_key')?.result?.message, '"leader" field must be provided');
    assert.equal(byStep.get('proclaim_not_leader')?.result?.message, 'election: not leader');
    assert.deepEqual(byStep.get('observe'), {
      step: 'observe',
      values: ['first', 'second'],
      put_types: [true, true],
      header_revision_second: true,
    });
  });
});
