import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { sleep } from '../integration/harness.js';
import { Background, type Ended, stopAll } from './background.js';
import { LeaseNames, selfCheckLeaseNames } from './lease-mask.js';
import { type CommandResult, OURS, REAL_CTL, runCommand, startTwins, type Twins } from './twins.js';

/**
 * The real etcdctl 3.4 against the real etcd 3.4 and etcd-ts (twins: same
 * member and cluster ids) for the streaming and session commands: watch
 * (key, prefix, range, --prev-kv, --rev replay, compacted revision, exec
 * mode, interactive mode, every output format), lease (grant, revoke,
 * timetolive, list, keep-alive), lock and elect, with watchers and waiting
 * lock holders running in the background while other commands change the
 * keyspace. The same commands run on both servers in lockstep and every
 * output must be identical once lease ids (server-chosen) are given names in
 * order of appearance (lease-mask.ts). INTEROP_OURS=real runs a second real
 * etcd in place of etcd-ts, to validate the test itself.
 */

/** Lock and election names whose keys end in a session lease id. */
const LEASE_KEYED = ['lock-a', 'lock-b', 'el-a'];

/** How long a background process may take to show an expected line. */
const LINE_DEADLINE_MS = 15_000;

interface Side {
  readonly label: 'ours' | 'real';
  readonly endpoint: string;
  readonly names: LeaseNames;
}

interface Pair {
  readonly ours: Background;
  readonly real: Background;
}

function b64(s: string): string {
  return Buffer.from(s, 'latin1').toString('base64');
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** etcdctl --hex: every byte as \xNN. */
function hexEscaped(s: string): string {
  return [...Buffer.from(s, 'latin1')].map((b) => `\\x${b.toString(16).padStart(2, '0')}`).join('');
}

/** stderr without the client's JSON log lines (retry warnings with timestamps). */
function stderrText(stderr: string): string {
  return stderr
    .split('\n')
    .filter((line) => !line.startsWith('{"level"'))
    .join('\n');
}

/** Consecutive duplicate lines collapsed (a keep-alive prints one line per renewal; their number is timing). */
function uniqLines(text: string): string {
  const out: string[] = [];
  for (const line of text.split('\n')) if (out[out.length - 1] !== line) out.push(line);
  return out.join('\n');
}

/** The keys of `lease timetolive --keys` come in Go map order: sort them, in every output format. */
function sortLeaseKeys(text: string): string {
  return text
    .replace(
      /attached keys\(\[([^\]]*)\]\)/g,
      (_, ks: string) => `attached keys([${ks.split(' ').sort().join(' ')}])`,
    )
    .replace(/"keys":\[([^\]]*)\]/g, (_, ks: string) => `"keys":[${ks.split(',').sort().join(',')}]`)
    .replace(/(?:^"Key" : .*\n)+/gm, (block: string) => `${block.trimEnd().split('\n').sort().join('\n')}\n`);
}

/** Both outputs, for a failure message. */
function bothOutputs(what: string, ours: string, real: string): string {
  return `${what}\n--- ours ---\n${ours}\n--- real ---\n${real}`;
}

/** `lease list` prints leases in Go map order: sort the id lines. */
function sortLeaseList(text: string): string {
  const [head, ...ids] = text.trimEnd().split('\n');
  return `${[head, ...ids.sort()].join('\n')}\n`;
}

describe('the real etcdctl: watch, lease, lock and elect on etcd-ts and the real etcd', {
  timeout: 300_000,
}, () => {
  let twins: Twins | undefined;
  let ours: Side;
  let real: Side;
  const running = new Set<Background>();

  before(async () => {
    selfCheckLeaseNames();
    twins = await startTwins();
    ours = { label: 'ours', endpoint: twins.oursEndpoint, names: new LeaseNames(LEASE_KEYED) };
    real = { label: 'real', endpoint: twins.realEndpoint, names: new LeaseNames(LEASE_KEYED) };
  });

  after(async () => {
    await stopAll(running);
    await twins?.stop();
  });

  const mask = (side: Side, text: string): string =>
    side.names.mask(text.split(side.endpoint).join('ENDPOINT'));

  /** Unmasked: for polling, where masking would name leases in an order that differs between servers. */
  const ctlRaw = (side: Side, args: string[], input?: string): Promise<CommandResult> =>
    runCommand(REAL_CTL, [`--endpoints=${side.endpoint}`, ...side.names.args(args)], input);

  const ctl = async (side: Side, args: string[], input?: string): Promise<CommandResult> => {
    const r = await ctlRaw(side, args, input);
    return { code: r.code, stdout: mask(side, r.stdout), stderr: stderrText(mask(side, r.stderr)) };
  };

  const describeCmd = (args: string[], input?: string): string =>
    `etcdctl ${args.join(' ')}${input === undefined ? '' : ` <<< ${JSON.stringify(input)}`}`;

  /** One command on both servers at once; stdout, exit status and stderr (without log lines) must agree. */
  const same = async (
    args: string[],
    input?: string,
    tidy: (s: string) => string = (s) => s,
  ): Promise<{ ours: CommandResult; real: CommandResult }> => {
    const [o, r] = await Promise.all([ctl(ours, args, input), ctl(real, args, input)]);
    const what = describeCmd(args, input);
    assert.equal(tidy(o.stdout), tidy(r.stdout), bothOutputs(`stdout of ${what}`, o.stdout, r.stdout));
    assert.equal(o.code, r.code, bothOutputs(`exit status of ${what}; stderr:`, o.stderr, r.stderr));
    assert.equal(o.stderr, r.stderr, bothOutputs(`stderr of ${what}`, o.stderr, r.stderr));
    return { ours: o, real: r };
  };

  const sameOk = async (
    args: string[],
    input?: string,
    tidy?: (s: string) => string,
  ): Promise<{ ours: CommandResult; real: CommandResult }> => {
    const r = await same(args, input, tidy);
    assert.equal(r.real.code, 0, `real etcd failed ${describeCmd(args, input)}: ${r.real.stderr}`);
    return r;
  };

  const sameError = async (args: string[], code: number, errorLine: string): Promise<void> => {
    const r = await same(args);
    assert.equal(r.real.code, code, `exit status of ${describeCmd(args)} on the real etcd: ${r.real.stderr}`);
    const last = r.real.stderr.trimEnd().split('\n').pop();
    assert.equal(last, errorLine);
  };

  /** The current revision (equal on both: everything so far ran in lockstep). */
  const revision = async (): Promise<number> => {
    const r = await sameOk(['get', 'no-such-key', '-w', 'json']);
    const rev = (JSON.parse(r.real.stdout) as { header: { revision: number } }).header.revision;
    assert.equal(typeof rev, 'number');
    return rev;
  };

  /** Starts the same long-running etcdctl command against both servers. */
  const background = (args: string[], encoding: 'utf8' | 'latin1' = 'utf8'): Pair => {
    const start = (side: Side): Background => {
      const b = new Background(
        REAL_CTL,
        [`--endpoints=${side.endpoint}`, ...side.names.args(args)],
        {},
        encoding,
      );
      running.add(b);
      return b;
    };
    return { ours: start(ours), real: start(real) };
  };

  const waitBoth = async (
    p: Pair,
    pattern: RegExp,
    stream: 'stdout' | 'stderr' = 'stdout',
  ): Promise<void> => {
    await Promise.all([
      p.ours.waitFor(pattern, LINE_DEADLINE_MS, stream),
      p.real.waitFor(pattern, LINE_DEADLINE_MS, stream),
    ]);
  };

  const stopBoth = async (p: Pair, signal: NodeJS.Signals = 'SIGTERM'): Promise<[Ended, Ended]> => {
    const r = await Promise.all([p.ours.stop(signal), p.real.stop(signal)]);
    running.delete(p.ours);
    running.delete(p.real);
    return r;
  };

  const exitBoth = async (p: Pair): Promise<[Ended, Ended]> => {
    const r = await Promise.all([p.ours.waitExit(LINE_DEADLINE_MS), p.real.waitExit(LINE_DEADLINE_MS)]);
    running.delete(p.ours);
    running.delete(p.real);
    return r;
  };

  /** The outputs of a background pair (from `from` on each side), masked, must be equal. */
  const sameOutput = (
    what: string,
    p: Pair,
    from: { ours: number; real: number } = { ours: 0, real: 0 },
    tidy: (s: string) => string = (s) => s,
  ): string => {
    const o = tidy(mask(ours, p.ours.stdout.slice(from.ours)));
    const r = tidy(mask(real, p.real.stdout.slice(from.real)));
    assert.equal(o, r, bothOutputs(`stdout of ${what}`, o, r));
    const oe = stderrText(mask(ours, p.ours.stderr));
    const re = stderrText(mask(real, p.real.stderr));
    assert.equal(oe, re, bothOutputs(`stderr of ${what}`, oe, re));
    return r;
  };

  /** Polls a read on both servers until `done` holds for both (lease expiry, a waiter's key appearing). */
  const until = async (args: string[], done: (stdout: string) => boolean, what: string): Promise<void> => {
    const deadline = Date.now() + LINE_DEADLINE_MS;
    for (;;) {
      const [o, r] = await Promise.all([ctlRaw(ours, args), ctlRaw(real, args)]);
      if (done(o.stdout) && done(r.stdout)) return;
      if (Date.now() > deadline) {
        assert.fail(
          `${what}: not reached within ${LINE_DEADLINE_MS} ms\nours: ${o.stdout}\nreal: ${r.stdout}`,
        );
      }
      await sleep(100);
    }
  };

  /**
   * A watch that was started without --rev has no visible "created" moment,
   * so the watchers are synchronised on a sentinel: `key` is put on both
   * servers (the same value, so the revisions stay equal) until every
   * watcher has printed that put; the comparison then starts right after
   * it. `end(value)` matches the output one put of `key` to `value` makes.
   */
  interface Watching {
    pair: Pair;
    end: (value: string) => RegExp;
    from?: { ours: number; real: number };
  }

  const syncWatchers = async (key: string, watchers: Watching[]): Promise<void> => {
    for (let k = 1; k <= 30; k++) {
      const value = `sync-${k}.`;
      await sameOk(['put', key, value]);
      const seen = await Promise.all(
        watchers.flatMap((w) => [w.pair.ours, w.pair.real].map((b) => b.sees(w.end(value), 1000))),
      );
      if (seen.every((s) => s)) {
        for (const w of watchers) {
          const [o, r] = await Promise.all([
            w.pair.ours.waitFor(w.end(value), 1000),
            w.pair.real.waitFor(w.end(value), 1000),
          ]);
          w.from = { ours: o.index + o[0].length, real: r.index + r[0].length };
        }
        return;
      }
    }
    assert.fail(
      `watchers not all created after 30 sentinel puts\n${watchers.map((w) => `${w.pair.ours.describe()}\n${w.pair.real.describe()}`).join('\n')}`,
    );
  };

  /** What one put of `/w/a` (the sentinel and end key) prints in each output format. */
  const ends = {
    simple: (v: string) => new RegExp(`^${escapeRegExp(v)}\\n`, 'm'),
    json: (v: string) => new RegExp(`^.*"kv":\\{[^}]*"value":"${escapeRegExp(b64(v))}"\\}.*\\n`, 'm'),
    fields: (v: string) => new RegExp(`^"Value" : "${escapeRegExp(v)}"\\n"Lease" : \\d+\\n`, 'm'),
    hex: (v: string) => new RegExp(`^${escapeRegExp(hexEscaped(v))}\\n`, 'm'),
    protobuf: (v: string) => new RegExp(escapeRegExp(v)),
    exec: (v: string) => new RegExp(`^exec "PUT" "/w/a" "${escapeRegExp(v)}" \\d+\\n`, 'm'),
  };

  const EXEC = [
    '--',
    'sh',
    '-c',
    'echo "exec $ETCD_WATCH_EVENT_TYPE $ETCD_WATCH_KEY $ETCD_WATCH_VALUE $ETCD_WATCH_REVISION"',
  ];

  let firstWatchRevision = 0;
  let lastWatchRevision = 0;

  test('watch: key, prefix, range, --prev-kv, --hex, exec and every output format while puts, deletes and txns happen', async () => {
    const specs: { args: string[]; end: (v: string) => RegExp; encoding?: 'latin1' }[] = [
      { args: ['watch', '/w/a'], end: ends.simple },
      { args: ['watch', '--prefix', '/w/'], end: ends.simple },
      { args: ['watch', '/w/a', '/w/c'], end: ends.simple },
      { args: ['watch', '--prefix', '/w/', '--prev-kv'], end: ends.simple },
      { args: ['watch', '--prefix', '/w/', '-w', 'json'], end: ends.json },
      { args: ['watch', '--prefix', '/w/', '--prev-kv', '-w', 'json'], end: ends.json },
      { args: ['watch', '/w/a', '--prev-kv', '-w', 'fields'], end: ends.fields },
      { args: ['watch', '--prefix', '/w/', '-w', 'fields'], end: ends.fields },
      { args: ['watch', '/w/a', '-w', 'protobuf'], end: ends.protobuf, encoding: 'latin1' },
      { args: ['watch', '--prefix', '/w/', '--hex', '--prev-kv'], end: ends.hex },
      { args: ['watch', '/w/a', ...EXEC], end: ends.exec },
      { args: ['watch', '--prefix', '/w/', '--prev-kv', ...EXEC], end: ends.exec },
    ];
    const watchers: (Watching & { args: string[] })[] = specs.map((s) => ({
      args: s.args,
      pair: background(s.args, s.encoding),
      end: s.end,
    }));
    await syncWatchers('/w/a', watchers);
    firstWatchRevision = (await revision()) + 1;

    await sameOk(['put', '/w/a', 'one']);
    await sameOk(['put', '/w/b', 'two', '--prev-kv']);
    await sameOk(['put', '/w/a', 'three']);
    await sameOk(['put', '/w/a', 'three']);
    await sameOk(['put', '/elsewhere', 'not watched']);
    await sameOk(['del', '/w/b']);
    await sameOk(['del', '/w/nothing']);
    await sameOk(['put', '/w/c', 'c 1']);
    await sameOk(['put', '/w/d', '\u00e9\t\u0001']);
    const txn = await sameOk(['txn'], '\nput /w/a t1\nput /w/b t2\ndel /w/c\nput /elsewhere t3\n\n\n');
    assert.match(txn.real.stdout, /^SUCCESS\n/);
    await sameOk(['txn'], 'value("/w/a") = "nope"\n\nput /w/a never\n\nget /w/a\n\n');
    await sameOk(['del', '--prefix', '/w/', '--prev-kv']);
    await sameOk(['put', '/w/b', 'again']);
    await sameOk(['put', '/w/a', 'end.']);
    lastWatchRevision = await revision();

    for (const w of watchers) {
      await Promise.all([
        w.pair.ours.waitFor(w.end('end.'), LINE_DEADLINE_MS),
        w.pair.real.waitFor(w.end('end.'), LINE_DEADLINE_MS),
      ]);
    }
    for (const w of watchers) {
      const [o, r] = await stopBoth(w.pair);
      assert.deepEqual(o, r, `how etcdctl ${w.args.join(' ')} ended`);
      const out = sameOutput(`etcdctl ${w.args.join(' ')}`, w.pair, w.from);
      // "three" as text, base64 (json) or \xNN escapes (--hex).
      assert.match(
        out,
        /three|dGhyZWU=|\\x74\\x68\\x72\\x65\\x65/,
        `etcdctl ${w.args.join(' ')} printed the events`,
      );
    }
    // Spot checks of the reference output, so that the test would notice a watcher that printed nothing at all.
    const simple = mask(real, watchers[1]!.pair.real.stdout.slice(watchers[1]!.from!.real));
    assert.equal(
      simple,
      'PUT\n/w/a\none\nPUT\n/w/b\ntwo\nPUT\n/w/a\nthree\nPUT\n/w/a\nthree\nDELETE\n/w/b\n\nPUT\n/w/c\nc 1\n' +
        'PUT\n/w/d\n\u00e9\t\u0001\nPUT\n/w/a\nt1\nPUT\n/w/b\nt2\nDELETE\n/w/c\n\n' +
        'DELETE\n/w/a\n\nDELETE\n/w/b\n\nDELETE\n/w/d\n\nPUT\n/w/b\nagain\nPUT\n/w/a\nend.\n',
    );
    const range = mask(real, watchers[2]!.pair.real.stdout.slice(watchers[2]!.from!.real));
    assert.doesNotMatch(range, /\/w\/c|\/w\/d/);
    assert.match(range, /\/w\/b\nt2\n/);
    const json = watchers[4]!.pair.real.stdout.slice(watchers[4]!.from!.real).trimEnd().split('\n');
    // One response per revision: the txn's three events and the prefix delete's three arrive together.
    const perLine = json.map((l) => (JSON.parse(l) as { Events: unknown[] }).Events.length);
    assert.deepEqual(perLine, [1, 1, 1, 1, 1, 1, 1, 3, 3, 1, 1]);
  });

  test('watch --rev: replay from history (batched), with --prev-kv, exec mode; a compacted revision is an error', async () => {
    assert.ok(firstWatchRevision > 0, 'the live watch test ran first');
    const from = String(firstWatchRevision);
    const cases: { args: string[]; end: (v: string) => RegExp }[] = [
      { args: ['watch', '--rev', from, '--prefix', '/w/'], end: ends.simple },
      { args: ['watch', `--rev=${from}`, '/w/a', '--prev-kv'], end: ends.simple },
      { args: ['watch', '--rev', from, '--prefix', '/w/', '-w', 'json'], end: ends.json },
      { args: ['watch', '--rev', from, '--prefix', '/w/', '--prev-kv', '-w', 'json'], end: ends.json },
      {
        args: ['watch', '--rev', String(firstWatchRevision + 3), '/w/a', '/w/c', '-w', 'fields'],
        end: ends.fields,
      },
      { args: ['watch', '--rev', from, '/w/a', ...EXEC], end: ends.exec },
    ];
    for (const c of cases) {
      const pair = background(c.args);
      await waitBoth(pair, c.end('end.'));
      // Nothing more may come: wait a little for stray output, then stop.
      await sleep(200);
      const [o, r] = await stopBoth(pair);
      assert.deepEqual(o, r, `how etcdctl ${c.args.join(' ')} ended`);
      sameOutput(`etcdctl ${c.args.join(' ')}`, pair);
    }
    // The replay arrives as ONE response holding every event since --rev (etcd batches catch-up events).
    const replay = await (async () => {
      const pair = background(['watch', '--rev', from, '--prefix', '/w/', '-w', 'json']);
      await waitBoth(pair, ends.json('end.'));
      await stopBoth(pair);
      return pair.real.stdout.trimEnd().split('\n');
    })();
    assert.equal(replay.length, 1, `one catch-up response: ${replay.join('\n')}`);
    const header = (JSON.parse(replay[0]!) as { Header: { revision: number } }).Header;
    assert.equal(header.revision, lastWatchRevision);

    // A start revision at or after the compaction replays; before it, etcdctl reports the server's cancel.
    const compactAt = firstWatchRevision + 4;
    await sameOk(['compaction', String(compactAt)]);
    for (const args of [
      ['watch', '--rev', String(firstWatchRevision), '--prefix', '/w/'],
      ['watch', '--rev', String(firstWatchRevision), '/w/a', '-w', 'json'],
      ['watch', '--rev', '1', '/w/a', '-w', 'fields'],
      ['watch', '--rev', String(compactAt - 1), '/w/a', ...EXEC],
    ]) {
      const r = await same(args);
      assert.equal(r.real.code, 5, `exit status of etcdctl ${args.join(' ')}`);
      assert.equal(
        r.real.stderr,
        'watch was canceled (etcdserver: mvcc: required revision has been compacted)\n' +
          'Error: watch is canceled by the server\n',
      );
    }
    const json = await same(['watch', '--rev', String(firstWatchRevision), '/w/a', '-w', 'json']);
    const cancel = JSON.parse(json.real.stdout) as {
      CompactRevision: number;
      Canceled: boolean;
      Header: object;
    };
    assert.equal(cancel.CompactRevision, compactAt);
    assert.equal(cancel.Canceled, true);
    assert.equal('revision' in cancel.Header, false, 'the cancel response has no header revision');
    const replayAtCompaction = background(['watch', '--rev', String(compactAt), '--prefix', '/w/']);
    await waitBoth(replayAtCompaction, ends.simple('end.'));
    await stopBoth(replayAtCompaction);
    sameOutput('watch --rev=<compacted revision>', replayAtCompaction);

    await sameError(['watch'], 128, 'Error: bad number of arguments');
    await sameError(
      ['watch', '/a', '/b', '--prefix'],
      128,
      'Error: `range_end` and `--prefix` are mutually exclusive',
    );
    await sameError(
      ['watch', '/a', '--'],
      128,
      'Error: bad number of arguments (found separator --, but no commands)',
    );
  });

  test('watch -i: interactive watches on stdin, progress requests, invalid lines, EOF', async () => {
    const pair = background(['watch', '-i']);
    const both = (text: string): void => {
      pair.ours.write(text);
      pair.real.write(text);
    };
    // clientv3 sends one watch creation at a time but a progress request at once, so each watch
    // is followed by a progress request, whose answer (one line per created watcher) shows the
    // creation is done: the server answers on the same stream, in order.
    const rev = await revision();
    both('watch /i/a\nprogress\n');
    await waitBoth(pair, new RegExp(`^progress notify: ${rev}\\n$`));
    both('watch --prefix /i/b --prev-kv\nprogress\n');
    await waitBoth(pair, new RegExp(`^(progress notify: ${rev}\\n){3}$`));
    await sameOk(['put', '/i/a', '1']);
    await sameOk(['put', '/i/b1', '2']);
    await sameOk(['put', '/i/c', 'unwatched']);
    await sameOk(['put', '/i/b1', '3']);
    await sameOk(['del', '/i/a']);
    both('bogus\n\nwatch\n');
    await waitBoth(pair, /Invalid command watch \(command type or key is not provided\)\n/, 'stderr');
    both('progress\n');
    await waitBoth(pair, new RegExp(`(progress notify: ${rev + 5}\\n[^]*){2}`));
    both(`watch --rev ${rev + 1} /i/c\n`);
    await waitBoth(pair, /\/i\/c\nunwatched\n/);
    pair.ours.closeStdin();
    pair.real.closeStdin();
    const [o, r] = await exitBoth(pair);
    assert.deepEqual(o, r, 'how etcdctl watch -i ended');
    assert.deepEqual(r, { code: 3, signal: null });
    const out = sameOutput('etcdctl watch -i', pair);
    assert.equal(
      out,
      `progress notify: ${rev}\nprogress notify: ${rev}\nprogress notify: ${rev}\nPUT\n/i/a\n1\nPUT\n/i/b1\n2\nPUT\n/i/b1\n2\n/i/b1\n3\n` +
        `DELETE\n/i/a\n\nprogress notify: ${rev + 5}\nprogress notify: ${rev + 5}\nPUT\n/i/c\nunwatched\n`,
    );
    assert.equal(
      stderrText(pair.real.stderr),
      'Invalid command bogus (only support watch)\nInvalid command:  (watch and progress supported)\n' +
        'Invalid command watch (command type or key is not provided)\nError: Error reading watch request line: EOF\n',
    );
  });

  /**
   * timetolive's remaining TTL depends on when it is asked: both servers must
   * truncate like etcd (below the granted TTL right after the grant), within
   * a second of each other; the rest of the output must be identical.
   */
  const sameTimeToLive = async (args: string[], granted: number): Promise<void> => {
    const remaining = /remaining\((-?\d+)s\)|"ttl":(-?\d+)|"TTL" : (-?\d+)/g;
    const values = (s: string): number[] =>
      [...s.matchAll(remaining)].map((m) => Number(m[1] ?? m[2] ?? m[3]));
    const r = await sameOk(args, undefined, (s) =>
      sortLeaseKeys(s.replace(remaining, (m) => m.replace(/-?\d+/, 'R'))),
    );
    const o = values(r.ours.stdout);
    const e = values(r.real.stdout);
    assert.equal(o.length, e.length);
    assert.ok(e.length > 0, `no remaining TTL in ${r.real.stdout}`);
    for (let i = 0; i < o.length; i++) {
      assert.ok(
        Math.abs(o[i]! - e[i]!) <= 1,
        `remaining TTL ${o[i]} (ours) vs ${e[i]} (real): ${args.join(' ')}`,
      );
      assert.ok(o[i]! < granted && o[i]! >= granted - 5, `remaining TTL ${o[i]} of a ${granted} s lease`);
    }
  };

  test('lease grant, put --lease, timetolive, list, keep-alive --once, revoke, unknown and revoked leases', async () => {
    const g1 = await sameOk(['lease', 'grant', '100']);
    assert.equal(g1.real.stdout, 'lease LEASE1 granted with TTL(100s)\n');
    const g2 = await sameOk(['lease', 'grant', '60', '-w', 'json']);
    assert.match(g2.real.stdout, /"ID":LEASE2,"TTL":60,/);
    await sameOk(['lease', 'grant', '30', '-w', 'fields']);
    await sameOk(['put', '--lease=LEASE1', '/l/a', '1']);
    await sameOk(['put', '--lease=LEASE1', '/l/b', '2']);
    await sameOk(['put', '--lease=LEASE2', '/l/c', '3']);
    await sameOk(['put', '/l/d', '4']);
    const got = await sameOk(['get', '--prefix', '/l/', '-w', 'json']);
    assert.match(got.real.stdout, /"lease":LEASE1.*"lease":LEASE1.*"lease":LEASE2/);
    await sameOk(['get', '/l/a', '-w', 'fields']);

    await sameTimeToLive(['lease', 'timetolive', 'LEASE1'], 100);
    await sameTimeToLive(['lease', 'timetolive', 'LEASE1', '--keys'], 100);
    await sameTimeToLive(['lease', 'timetolive', '--keys', 'LEASE1', '-w', 'json'], 100);
    await sameTimeToLive(['lease', 'timetolive', 'LEASE2', '-w', 'fields'], 60);
    await sameTimeToLive(['lease', 'timetolive', 'LEASE2', '--keys', '-w', 'fields'], 60);

    const list = await sameOk(['lease', 'list'], undefined, sortLeaseList);
    assert.equal(sortLeaseList(list.real.stdout), 'found 3 leases\nLEASE1\nLEASE2\nLEASE3\n');
    await sameOk(['lease', 'keep-alive', '--once', 'LEASE1']);
    await sameOk(['lease', 'keep-alive', '--once', 'LEASE2', '-w', 'json']);
    await sameOk(['lease', 'keep-alive', '--once', 'LEASE2', '-w', 'fields']);

    const revoked = await sameOk(['lease', 'revoke', 'LEASE1']);
    assert.equal(revoked.real.stdout, 'lease LEASE1 revoked\n');
    await sameOk(['lease', 'revoke', 'LEASE3', '-w', 'json']);
    await sameOk(['get', '--prefix', '/l/']);
    const expired = await sameOk(['lease', 'timetolive', 'LEASE1', '--keys']);
    assert.equal(expired.real.stdout, 'lease LEASE1 already expired\n');
    await sameOk(['lease', 'timetolive', 'LEASE1', '-w', 'json']);
    await sameOk(['lease', 'timetolive', 'LEASE1', '-w', 'fields']);
    const unknown = await sameOk(['lease', 'timetolive', '1234']);
    assert.equal(unknown.real.stdout, 'lease LEASE4 already expired\n');
    assert.equal(real.names.hexOf('LEASE4'), '1234');

    await sameError(
      ['lease', 'revoke', 'LEASE1'],
      1,
      'Error: failed to revoke lease (etcdserver: requested lease not found)',
    );
    await sameError(
      ['lease', 'revoke', '1234'],
      1,
      'Error: failed to revoke lease (etcdserver: requested lease not found)',
    );
    await sameError(
      ['lease', 'keep-alive', '--once', 'LEASE1'],
      2,
      'Error: etcdserver: requested lease not found',
    );
    await sameError(
      ['put', '--lease=LEASE1', '/l/x', 'v'],
      1,
      'Error: etcdserver: requested lease not found',
    );
    await sameError(['put', '--lease=1234', '/l/x', 'v'], 1, 'Error: etcdserver: requested lease not found');
    await sameError(
      ['put', '--lease=zz', '/l/x', 'v'],
      128,
      'Error: bad lease ID (strconv.ParseInt: parsing "zz": invalid syntax), expecting ID in Hex',
    );
    await sameError(['lease', 'grant'], 128, 'Error: lease grant command needs TTL argument');
    await sameError(
      ['lease', 'grant', 'abc'],
      128,
      'Error: bad TTL (strconv.ParseInt: parsing "abc": invalid syntax)',
    );
    await sameError(['lease', 'revoke'], 128, 'Error: lease revoke command needs 1 argument');

    const one = await sameOk(['lease', 'list']);
    assert.equal(one.real.stdout, 'found 1 leases\nLEASE2\n');
    await sameOk(['lease', 'list', '-w', 'json']);
    await sameOk(['lease', 'revoke', 'LEASE2']);
    const none = await sameOk(['lease', 'list']);
    assert.equal(none.real.stdout, 'found 0 leases\n');
    await sameOk(['get', '--prefix', '/l/', '-w', 'json']);
  });

  test('lease keep-alive until revoked; a short lease expires and deletes its keys (seen by a watch)', async () => {
    const startRev = (await revision()) + 1;
    const g = await sameOk(['lease', 'grant', '3']);
    const name = /lease (LEASE\d+) granted/.exec(g.real.stdout)?.[1];
    assert.ok(name !== undefined, g.real.stdout);
    await sameOk(['put', `--lease=${name}`, '/k/kept', 'x']);
    const keeper = background(['lease', 'keep-alive', name]);
    await waitBoth(keeper, /keepalived with TTL\(3\)\n/);
    // Kept alive past its TTL.
    await sleep(3500);
    await sameOk(['get', '/k/kept']);
    await sameOk(['lease', 'revoke', name]);
    const [o, r] = await exitBoth(keeper);
    assert.deepEqual(o, r, 'how lease keep-alive ended');
    const out = sameOutput('etcdctl lease keep-alive', keeper, undefined, uniqLines);
    assert.equal(uniqLines(out), `lease ${name} keepalived with TTL(3)\nlease ${name} expired or revoked.\n`);

    // TTL 1 is raised to the minimum (1.5 x the election timeout, rounded up: 2 s with the defaults).
    const short = await sameOk(['lease', 'grant', '1']);
    const shortName = /lease (LEASE\d+) granted with TTL\(2s\)/.exec(short.real.stdout)?.[1];
    assert.ok(shortName !== undefined, short.real.stdout);
    await sameOk(['put', `--lease=${shortName}`, '/k/expiring', 'y']);
    await sameOk(['put', `--lease=${shortName}`, '/k/expiring2', 'z']);
    await until(
      ['get', '--prefix', '/k/', '--keys-only'],
      (s) => s === '',
      'the expired lease deletes its keys',
    );
    const gone = await sameOk(['lease', 'timetolive', shortName, '--keys']);
    assert.equal(gone.real.stdout, `lease ${shortName} already expired\n`);
    await sameOk(['lease', 'list']);

    // The whole story as a watch replays it, leases included.
    const history = background(['watch', '--rev', String(startRev), '--prefix', '/k/', '-w', 'json']);
    await waitBoth(history, new RegExp(`"type":1,"kv":\\{"key":"${escapeRegExp(b64('/k/expiring2'))}"`));
    await sleep(200);
    await stopBoth(history);
    const replay = sameOutput('etcdctl watch --rev --prefix /k/ -w json', history);
    assert.match(replay, /"lease":LEASE\d+/);
  });

  test('lock NAME with a second holder waiting, lock NAME -- COMMAND, lock errors', async () => {
    const first = background(['lock', 'lock-a']);
    await waitBoth(first, /^lock-a\/[0-9a-f]+\n\n/);
    const second = background([
      'lock',
      'lock-a',
      '--',
      'sh',
      '-c',
      'echo "second $ETCD_LOCK_KEY $ETCD_LOCK_REV"',
    ]);
    await until(
      ['get', '--prefix', 'lock-a/', '--keys-only'],
      (s) => s.split('\n').filter((l) => l !== '').length === 2,
      'the second holder queues',
    );
    await sameOk(['get', '--prefix', 'lock-a/', '--sort-by=CREATE', '-w', 'fields']);
    await sleep(300);
    assert.equal(second.ours.stdout, '', 'the second holder waits while the first holds the lock (ours)');
    assert.equal(second.real.stdout, '', 'the second holder waits while the first holds the lock (real)');

    const [o1, r1] = await stopBoth(first);
    assert.deepEqual(o1, r1, 'how the first holder ended');
    assert.deepEqual(r1, { code: 0, signal: null });
    const [o2, r2] = await exitBoth(second);
    assert.deepEqual(o2, r2, 'how the second holder ended');
    assert.deepEqual(r2, { code: 0, signal: null });
    const a = sameOutput('etcdctl lock lock-a', first);
    const b = sameOutput('etcdctl lock lock-a -- sh -c ...', second);
    assert.match(a, /^lock-a\/(LEASE\d+)\n\n$/);
    assert.match(b, /^second lock-a\/(LEASE\d+) \d+\n$/);
    assert.notEqual(/LEASE\d+/.exec(a)?.[0], /LEASE\d+/.exec(b)?.[0], 'two sessions, two leases');
    await sameOk(['get', '--prefix', 'lock-a/']);

    const withTtl = await sameOk([
      'lock',
      '--ttl=5',
      'lock-b',
      '--',
      'sh',
      '-c',
      'echo "held $ETCD_LOCK_KEY"',
    ]);
    assert.match(withTtl.real.stdout, /^held lock-b\/LEASE\d+\n$/);
    await sameError(['lock', 'lock-b', '--', 'false'], 1, 'Error: exit status 1');
    await sameError(
      ['lock'],
      128,
      'Error: lock takes a lock name argument and an optional command to execute',
    );
    await sameOk(['get', '--prefix', 'lock-b/']);
  });

  test('elect NAME PROPOSAL with a second candidate waiting, observed by elect -l', async () => {
    const observer = background(['elect', '-l', 'el-a']);
    const alpha = background(['elect', 'el-a', 'alpha']);
    await waitBoth(alpha, /^el-a\/[0-9a-f]+\nalpha\n/);
    await waitBoth(observer, /^el-a\/[0-9a-f]+\nalpha\n/);
    const beta = background(['elect', 'el-a', 'beta']);
    await until(
      ['get', '--prefix', 'el-a/', '--keys-only'],
      (s) => s.split('\n').filter((l) => l !== '').length === 2,
      'the second candidate queues',
    );
    await sameOk(['get', '--prefix', 'el-a/', '--sort-by=CREATE', '-w', 'fields']);
    await sleep(300);
    assert.equal(beta.real.stdout, '', 'the second candidate waits (real)');
    assert.equal(beta.ours.stdout, '', 'the second candidate waits (ours)');

    const [oa, ra] = await stopBoth(alpha);
    assert.deepEqual(oa, ra, 'how the first leader ended');
    assert.deepEqual(ra, { code: 0, signal: null });
    await waitBoth(beta, /^el-a\/[0-9a-f]+\nbeta\n/);
    await waitBoth(observer, /\nbeta\n/);
    const [ob, rb] = await stopBoth(beta);
    assert.deepEqual(ob, rb, 'how the second leader ended');
    await sameOk(['get', '--prefix', 'el-a/']);
    const [oo, ro] = await stopBoth(observer);
    assert.deepEqual(oo, ro, 'how the observer ended');
    assert.deepEqual(ro, { code: 0, signal: null });

    const a = sameOutput('etcdctl elect el-a alpha', alpha);
    const b = sameOutput('etcdctl elect el-a beta', beta);
    const o = sameOutput('etcdctl elect -l el-a', observer);
    assert.equal(o, a + b, 'the observer saw both leaders, in order');
    assert.match(o, /^el-a\/LEASE\d+\nalpha\nel-a\/LEASE\d+\nbeta\n$/);

    await sameError(['elect', 'el-a'], 128, 'Error: no proposal argument but -l not set');
    await sameError(['elect', '-l', 'el-a', 'x'], 128, 'Error: proposal given but -l is set');
    await sameError(
      ['elect'],
      128,
      'Error: elect takes one election name argument and an optional proposal argument',
    );
  });

  test('the run compared two different servers unless INTEROP_OURS=real', () => {
    assert.ok(OURS === 'etcd-ts' || OURS === 'real');
    assert.notEqual(ours.endpoint, real.endpoint);
  });
});
