import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { type CommandResult, REAL_CTL, runCommand, startTwins, type Twins } from './twins.js';

/**
 * The real etcdctl 3.4 runs the same command sequence against the real etcd
 * 3.4 and against etcd-ts (twins: same member and cluster ids); stdout, exit
 * status and the "Error:" lines of stderr must be identical once the things
 * that differ by nature are masked: the client endpoint, durations, the db
 * size and the raft index.
 */

/** Small limits so that the limit errors are cheap to provoke. */
const MAX_REQUEST_BYTES = 4096;
const MAX_TXN_OPS = 4;

/** `endpoint status` simple output: endpoint, id, version, DB SIZE, leader, learner, term, RAFT INDEX, APPLIED INDEX, errors. */
const ENDPOINT_STATUS_LINE = /^(ENDPOINT, [0-9a-f]+, [^,]+, )[0-9.]+ [kMG]?B(, \w+, \w+, \d+, )\d+, \d+, /gm;

function normalise(text: string, endpoint: string): string {
  return text
    .split(endpoint)
    .join('ENDPOINT')
    .replace(/took = [0-9.]+[a-zµ]*s/g, 'took = DURATION')
    .replace(/"took":"[0-9.]+[a-zµ]*s"/g, '"took":"DURATION"')
    .replace(/"(dbSize|dbSizeInUse|raftIndex|raftAppliedIndex)":\d+/g, '"$1":N')
    .replace(/^"(DBSize|DBSizeInUse|RaftIndex|RaftAppliedIndex)" : \d+$/gm, '"$1" : N')
    .replace(ENDPOINT_STATUS_LINE, '$1SIZE$2N, N, ');
}

/** The lines of stderr that say what went wrong (3.4 also logs retry warnings as JSON, with timestamps). */
function errorLines(stderr: string): string {
  return stderr
    .split('\n')
    .filter((line) => line.startsWith('Error:'))
    .join('\n');
}

interface Compared {
  ours: CommandResult;
  real: CommandResult;
}

describe('the real etcdctl against etcd-ts and the real etcd', { timeout: 60_000 }, () => {
  let twins: Twins | undefined;

  before(async () => {
    twins = await startTwins([`--max-request-bytes=${MAX_REQUEST_BYTES}`, `--max-txn-ops=${MAX_TXN_OPS}`]);
  });

  after(async () => {
    await twins?.stop();
  });

  const ctl = (endpoint: string, args: string[], input?: string): Promise<CommandResult> =>
    runCommand(REAL_CTL, [`--endpoints=${endpoint}`, ...args], input).then((r) => ({
      code: r.code,
      stdout: normalise(r.stdout, endpoint),
      stderr: normalise(r.stderr, endpoint),
    }));

  /** Runs one command on both servers and requires the same visible outcome. */
  const same = async (args: string[], input?: string): Promise<Compared> => {
    const t = twins;
    if (t === undefined) throw new Error('servers not started');
    const [ours, real] = await Promise.all([
      ctl(t.oursEndpoint, args, input),
      ctl(t.realEndpoint, args, input),
    ]);
    const what = `etcdctl ${args.join(' ')}${input === undefined ? '' : ` <<< ${JSON.stringify(input)}`}`;
    assert.equal(ours.stdout, real.stdout, `stdout of ${what}`);
    assert.equal(
      ours.code,
      real.code,
      `exit status of ${what}; stderr ours: ${ours.stderr} real: ${real.stderr}`,
    );
    assert.equal(errorLines(ours.stderr), errorLines(real.stderr), `error lines of ${what}`);
    return { ours, real };
  };

  /** Like `same`, and the command must have succeeded. */
  const sameOk = async (args: string[], input?: string): Promise<Compared> => {
    const r = await same(args, input);
    assert.equal(r.real.code, 0, `real etcd failed ${args.join(' ')}: ${r.real.stderr}`);
    return r;
  };

  /** Like `same`, and the command must have failed with this error line. */
  const sameError = async (args: string[], errorLine: string, input?: string): Promise<void> => {
    const r = await same(args, input);
    assert.notEqual(r.real.code, 0);
    assert.equal(errorLines(r.real.stderr).split('\n').pop(), errorLine);
  };

  test('puts, then gets with every selection and output option', async () => {
    for (const [k, v] of [
      ['/k1', 'v1'],
      ['/k2', 'v2'],
      ['/k1', 'v1.1'],
      ['/dir/a', 'x y'],
      ['/dir/b', 'zz'],
      ['/k3', 'a'],
      ['bin', '\u00e9\u0001\t'],
    ] as const) {
      await sameOk(['put', k, v]);
    }
    await sameOk(['put', '/k2', 'v2.1', '--prev-kv']);
    await sameOk(['put', '/k3', 'b', '--prev-kv', '-w', 'json']);
    await sameOk(['put', '/k4'], 'from stdin\n');

    const reads = [
      ['get', '/k1'],
      ['get', '/nothing'],
      ['get', '--prefix', '/'],
      ['get', '/', '--prefix', '--keys-only'],
      ['get', '/', '--prefix', '--keys-only', '-w', 'json'],
      ['get', '/', '--prefix', '--limit=2'],
      ['get', '/', '--prefix', '--limit=2', '-w', 'json'],
      ['get', '/k1', '--rev=2'],
      ['get', '/k', '--prefix', '--rev=3', '-w', 'json'],
      ['get', '/', '--prefix', '--sort-by=VALUE', '--order=DESCEND'],
      ['get', '/', '--prefix', '--sort-by=MODIFY', '--order=ASCEND', '--keys-only'],
      ['get', '/', '--prefix', '--sort-by=CREATE', '--order=DESCEND', '--keys-only'],
      ['get', '/', '--prefix', '--sort-by=VERSION', '--order=DESCEND', '-w', 'json'],
      ['get', '', '--from-key', '--sort-by=KEY', '--order=DESCEND', '--keys-only'],
      ['get', '/a', '/z', '--limit=3'],
      ['get', '/k1', '--print-value-only'],
      ['get', '/', '--prefix', '--print-value-only'],
      ['get', '/', '--prefix', '-w', 'json'],
      ['get', '/k1', '-w', 'fields'],
      ['get', 'bin', '-w', 'fields'],
      ['get', 'bin', '--hex'],
      ['get', '/', '--prefix', '--hex', '-w', 'json'],
      ['get', '/k1', '--consistency=s'],
    ];
    for (const args of reads) await sameOk(args);
    // etcdctl 3.4 has no --count-only: the count is the "count" of -w json (all matches, despite --limit).
    await sameError(['get', '/', '--prefix', '--count-only'], 'Error: unknown flag: --count-only');
    // get -w table is refused by etcdctl 3.4 (exit 4).
    await sameError(['get', '/k1', '-w', 'table'], 'Error: table not supported as output format');
  });

  test('deletes: single, prefix, range, with previous values', async () => {
    await sameOk(['del', '/nothing']);
    await sameOk(['del', '/dir', '--prefix', '--prev-kv']);
    await sameOk(['get', '/dir', '--prefix']);
    await sameOk(['del', '/k3', '--prev-kv', '-w', 'json']);
    await sameOk(['del', '/k4', '/k5']);
    await sameOk(['get', '', '--from-key', '-w', 'json']);
    await sameOk(['put', '/f', 'fields', '-w', 'fields', '--prev-kv']);
    await sameOk(['put', '/f', 'again', '-w', 'fields', '--prev-kv']);
    await sameOk(['get', '/f', '-w', 'protobuf']);
    await sameOk(['del', '/f', '-w', 'fields', '--prev-kv']);
    await sameError(['put', '', 'v'], 'Error: etcdserver: key is not provided');
  });

  test('txn from stdin: success branch, failure branch, json output', async () => {
    const success = await sameOk(['txn'], 'value("/k1") = "v1.1"\n\nput /t ok\nget /k1\n\nput /t failed\n\n');
    assert.match(success.real.stdout, /^SUCCESS\n/);
    const failure = await sameOk(['txn'], 'version("/k1") = "7"\n\nput /t ok2\n\nput /t failed\nget /t\n\n');
    assert.match(failure.real.stdout, /^FAILURE\n/);
    await sameOk(['txn', '-w', 'json'], 'mod("/k2") > "0"\ncreate("/k2") < "100"\n\nget /k2\ndel /t\n\n\n');
    await sameOk(['txn', '-w', 'json'], 'value("/missing") = "x"\n\n\nget /k1 --prefix\n\n');
    await sameOk(['txn', '-w', 'fields'], 'value("/k1") = "v1.1"\n\nget /k1\nput /t fields\n\n\n');
    await sameOk(['get', '', '--from-key', '-w', 'json']);
  });

  test('compaction and the revision errors', async () => {
    await sameError(
      ['get', '/k1', '--rev=999'],
      'Error: etcdserver: mvcc: required revision is a future revision',
    );
    await sameOk(['compaction', '3']);
    await sameOk(['get', '/k1', '--rev=3']);
    await sameError(
      ['get', '/k1', '--rev=2'],
      'Error: etcdserver: mvcc: required revision has been compacted',
    );
    await sameError(['compaction', '2'], 'Error: etcdserver: mvcc: required revision has been compacted');
    await sameError(
      ['compaction', '9999'],
      'Error: etcdserver: mvcc: required revision is a future revision',
    );
    await sameOk(['compaction', '--physical', '5']);
    await sameOk(['get', '', '--from-key', '-w', 'json']);
  });

  test('request limits: too large, too many txn operations', async () => {
    await sameError(
      ['put', '/big', 'x'.repeat(MAX_REQUEST_BYTES + 10)],
      'Error: etcdserver: request is too large',
    );
    const ops = Array.from({ length: MAX_TXN_OPS + 1 }, (_, i) => `put /op${i} v`).join('\n');
    await sameError(['txn'], 'Error: etcdserver: too many operations in txn request', `\n${ops}\n\n\n`);
    const fits = Array.from({ length: MAX_TXN_OPS }, (_, i) => `put /op${i} v`).join('\n');
    await sameOk(['txn'], `\n${fits}\n\n\n`);
    await sameOk(['get', '/op', '--prefix', '-w', 'json']);
  });

  test('endpoint health and status, hashkv, alarms, version', async () => {
    const health = await sameOk(['endpoint', 'health']);
    assert.equal(health.ours.stderr, health.real.stderr);
    assert.match(
      health.real.stderr,
      /^ENDPOINT is healthy: successfully committed proposal: took = DURATION\n$/,
    );
    await sameOk(['endpoint', 'health', '-w', 'json']);
    await sameOk(['endpoint', 'status']);
    await sameOk(['endpoint', 'status', '-w', 'json']);
    await sameOk(['endpoint', 'status', '-w', 'fields']);
    await sameOk(['endpoint', 'hashkv']);
    await sameOk(['endpoint', 'hashkv', '-w', 'json']);
    await sameOk(['alarm', 'list']);
    await sameOk(['version']);
  });

  test('member list in every output format (equal ids: the twins share name, peer URL and token)', async () => {
    await sameOk(['member', 'list']);
    await sameOk(['member', 'list', '-w', 'table']);
    await sameOk(['member', 'list', '-w', 'json']);
    await sameOk(['member', 'list', '-w', 'fields']);
  });
});
