// /metrics with etcd 3.4's families: counters moved by exactly the operations done,
// every gRPC method pre-initialised, the metrics listener's narrow surface, /health
// false under an alarm, --metrics extensive, and family-by-family parity with a real
// etcd 3.4 after the same operations.
import assert from 'node:assert/strict';
import { execFile, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import { promisify } from 'node:util';
import {
  AlarmRequest,
  AlarmRequest_AlarmAction,
  AlarmResponse,
  AlarmType,
} from '../../src/pb/etcdserverpb/rpc.js';
import {
  Client,
  eventually,
  freePort,
  MemberProcess,
  type MemberSpec,
  memberSpec,
  removeDir,
  tempDir,
} from './harness.js';
import { type Family, labelNames, parseExposition, sampleValue } from './metrics-text.js';

const run = promisify(execFile);
const ETCDCTL = '/usr/bin/etcdctl';
const REAL_ETCD = '/usr/bin/etcd';

async function etcdctl(endpoint: string, args: string[], input?: string): Promise<string> {
  const env = { ...process.env, ETCDCTL_API: '3' };
  if (input === undefined) {
    const { stdout } = await run(ETCDCTL, [`--endpoints=http://${endpoint}`, ...args], { env });
    return stdout;
  }
  return new Promise((resolve, reject) => {
    const child = execFile(ETCDCTL, [`--endpoints=http://${endpoint}`, ...args], { env }, (err, out) =>
      err ? reject(err) : resolve(out),
    );
    child.stdin?.on('error', () => undefined);
    child.stdin?.end(input);
  });
}

async function scrape(url: string): Promise<Map<string, Family>> {
  const res = await fetch(url);
  assert.equal(res.status, 200);
  assert.match(res.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
  return parseExposition(await res.text());
}

/**
 * The same client operations on any member: 3 puts, 1 get, 1 delete, a txn with one
 * compare and one put (a range and a put, not counted as a txn), a read-only txn with one
 * compare and one get (two ranges in one read transaction: a txn), a watch that sees one
 * event, and a lease grant.
 */
async function operate(endpoint: string): Promise<void> {
  await etcdctl(endpoint, ['put', 'a', '1']);
  await etcdctl(endpoint, ['put', 'b', '2']);
  await etcdctl(endpoint, ['get', 'a']);
  await etcdctl(endpoint, ['del', 'b']);
  await etcdctl(endpoint, ['txn'], 'value("a") = "1"\n\nput c 3\n\n\n');
  await etcdctl(endpoint, ['txn'], 'value("a") = "1"\n\nget a\n\n\n');
  // The watcher runs until killed (etcdctl retries a gone server forever): stop it here.
  const watch = execFile(ETCDCTL, [`--endpoints=http://${endpoint}`, 'watch', 'a', '--rev=1'], {
    env: { ...process.env, ETCDCTL_API: '3' },
  });
  const watchEnded = new Promise((r) => watch.once('exit', r));
  try {
    await new Promise((r) => setTimeout(r, 300));
    await etcdctl(endpoint, ['put', 'a', '5']);
    await etcdctl(endpoint, ['lease', 'grant', '100']);
    await new Promise((r) => setTimeout(r, 200));
  } finally {
    watch.kill('SIGKILL');
    await watchEnded;
  }
}

/** A real etcd 3.4 with the same flags as our MemberProcess. */
class RealEtcd extends MemberProcess {
  override command(): [string, string[]] {
    return [REAL_ETCD, this.args()];
  }
}

/** Families dashboards (etcd's own Grafana dashboard, kube-prometheus mixins) query. */
const DASHBOARD_FAMILIES = [
  'etcd_server_has_leader',
  'etcd_server_is_leader',
  'etcd_server_is_learner',
  'etcd_server_leader_changes_seen_total',
  'etcd_server_proposals_committed_total',
  'etcd_server_proposals_applied_total',
  'etcd_server_proposals_pending',
  'etcd_server_proposals_failed_total',
  'etcd_server_slow_apply_total',
  'etcd_server_heartbeat_send_failures_total',
  'etcd_server_health_success',
  'etcd_server_health_failures',
  'etcd_server_id',
  'etcd_server_version',
  'etcd_cluster_version',
  'etcd_server_quota_backend_bytes',
  'etcd_server_read_indexes_failed_total',
  'etcd_server_slow_read_indexes_total',
  'etcd_server_snapshot_apply_in_progress_total',
  'etcd_server_learner_promote_successes',
  'etcd_disk_wal_fsync_duration_seconds',
  'etcd_disk_wal_write_bytes_total',
  'etcd_disk_backend_commit_duration_seconds',
  'etcd_disk_backend_snapshot_duration_seconds',
  'etcd_disk_backend_defrag_duration_seconds',
  'etcd_disk_defrag_inflight',
  'etcd_mvcc_db_total_size_in_bytes',
  'etcd_mvcc_db_total_size_in_use_in_bytes',
  'etcd_mvcc_db_open_read_transactions',
  'etcd_mvcc_put_total',
  'etcd_mvcc_delete_total',
  'etcd_mvcc_range_total',
  'etcd_mvcc_txn_total',
  'etcd_mvcc_hash_duration_seconds',
  'etcd_mvcc_hash_rev_duration_seconds',
  'etcd_debugging_mvcc_keys_total',
  'etcd_debugging_mvcc_db_compaction_keys_total',
  'etcd_debugging_mvcc_db_compaction_pause_duration_milliseconds',
  'etcd_debugging_mvcc_db_compaction_total_duration_milliseconds',
  'etcd_debugging_mvcc_index_compaction_pause_duration_milliseconds',
  'etcd_debugging_mvcc_watcher_total',
  'etcd_debugging_mvcc_watch_stream_total',
  'etcd_debugging_mvcc_slow_watcher_total',
  'etcd_debugging_mvcc_events_total',
  'etcd_debugging_mvcc_pending_events_total',
  'etcd_debugging_mvcc_current_revision',
  'etcd_debugging_mvcc_compact_revision',
  'etcd_debugging_mvcc_db_total_size_in_bytes',
  'etcd_debugging_mvcc_put_total',
  'etcd_debugging_mvcc_delete_total',
  'etcd_debugging_mvcc_range_total',
  'etcd_debugging_mvcc_txn_total',
  'etcd_debugging_mvcc_total_put_size_in_bytes',
  'etcd_server_client_requests_total',
  'etcd_debugging_lease_granted_total',
  'etcd_debugging_lease_revoked_total',
  'etcd_debugging_lease_renewed_total',
  'etcd_debugging_lease_ttl_total',
  'etcd_debugging_server_lease_expired_total',
  'etcd_network_client_grpc_sent_bytes_total',
  'etcd_network_client_grpc_received_bytes_total',
  'etcd_snap_db_fsync_duration_seconds',
  'etcd_snap_db_save_total_duration_seconds',
  'etcd_snap_fsync_duration_seconds',
  'grpc_server_started_total',
  'grpc_server_handled_total',
  'grpc_server_msg_received_total',
  'grpc_server_msg_sent_total',
  'process_cpu_seconds_total',
  'process_open_fds',
  'process_max_fds',
  'process_resident_memory_bytes',
  'process_start_time_seconds',
  'process_virtual_memory_bytes',
];

const KV = { grpc_service: 'etcdserverpb.KV', grpc_type: 'unary' };

describe('/metrics', { timeout: 60_000 }, () => {
  let dir: string;
  let member: MemberProcess;
  let metricsPort: number;

  before(async () => {
    dir = tempDir('metrics');
    metricsPort = await freePort();
    member = new MemberProcess(
      await memberSpec('m1', `${dir}/data`, [`--listen-metrics-urls=http://127.0.0.1:${metricsPort}`]),
    );
    member.start();
    await eventually(() => etcdctl(member.endpoint, ['put', '/ready', 'y']));
  });

  after(async () => {
    await member.stop();
    removeDir(dir);
  });

  test('counters move by exactly the operations done', async () => {
    const url = `http://${member.endpoint}/metrics`;
    const before = await scrape(url);
    await operate(member.endpoint);
    const after = await scrape(url);
    const delta = (name: string, labels: Record<string, string> = {}) =>
      sampleValue(after, name, labels) - sampleValue(before, name, labels);
    for (const prefix of ['etcd_mvcc', 'etcd_debugging_mvcc']) {
      assert.equal(delta(`${prefix}_put_total`), 4, `${prefix}_put_total`);
      assert.equal(delta(`${prefix}_range_total`), 4, `${prefix}_range_total: get + compares + txn get`);
      assert.equal(delta(`${prefix}_delete_total`), 1, `${prefix}_delete_total`);
      // The writing txn's compare runs apart from its put (etcd 3.4's applier): not a multi-op
      // txn; the read-only txn's compare and get run in one read transaction: a txn.
      assert.equal(delta(`${prefix}_txn_total`), 1, `${prefix}_txn_total`);
    }
    assert.equal(delta('etcd_debugging_mvcc_total_put_size_in_bytes'), 8);
    assert.equal(delta('grpc_server_started_total', { ...KV, grpc_method: 'Put' }), 3);
    assert.equal(delta('grpc_server_handled_total', { ...KV, grpc_method: 'Put', grpc_code: 'OK' }), 3);
    assert.equal(delta('grpc_server_msg_received_total', { ...KV, grpc_method: 'Range' }), 1);
    assert.equal(delta('grpc_server_msg_sent_total', { ...KV, grpc_method: 'Txn' }), 2);
    // etcdctl 3.4 sends client-api-version: 3.4 with every call (etcd's interceptors count it).
    const unary = { type: 'unary', client_api_version: '3.4' };
    assert.ok(delta('etcd_server_client_requests_total', unary) >= 8, 'puts, get, del, txns, lease');
    assert.ok(delta('etcd_server_client_requests_total', { ...unary, type: 'stream' }) >= 1, 'the watch');
    assert.equal(delta('grpc_server_started_total', { grpc_method: 'LeaseGrant' }), 1);
    assert.equal(delta('grpc_server_started_total', { grpc_method: 'Watch', grpc_type: 'bidi_stream' }), 1);
    assert.ok(delta('etcd_network_client_grpc_received_bytes_total') > 0);
    assert.ok(
      delta('etcd_disk_wal_fsync_duration_seconds_count') >= 6,
      'one synced WAL write per write at least',
    );
    assert.ok(delta('etcd_disk_backend_commit_duration_seconds_count') >= 1);
    assert.equal(sampleValue(after, 'etcd_debugging_mvcc_keys_total'), 3, '/ready, a, c');
    assert.equal(delta('etcd_debugging_mvcc_events_total'), 2, 'the watch from revision 1 saw a twice');
    assert.equal(sampleValue(after, 'etcd_server_has_leader'), 1);
    assert.equal(sampleValue(after, 'etcd_server_is_leader'), 1);
    assert.equal(sampleValue(after, 'etcd_server_leader_changes_seen_total'), 1);
    assert.equal(sampleValue(after, 'etcd_server_quota_backend_bytes'), 2 * 1024 * 1024 * 1024);
    assert.equal(sampleValue(after, 'etcd_server_version', { server_version: '3.4.23' }), 1);
    assert.ok(
      sampleValue(after, 'etcd_server_proposals_applied_total') >=
        sampleValue(before, 'etcd_server_proposals_applied_total') + 6,
    );
  });

  test('leases, compactions and defrag move their families as etcd 3.4', async () => {
    const url = `http://${member.endpoint}/metrics`;
    const before = await scrape(url);
    const grant = await etcdctl(member.endpoint, ['lease', 'grant', '60']);
    const id = /lease ([0-9a-f]+) granted/.exec(grant)?.[1];
    assert.ok(id, grant);
    await etcdctl(member.endpoint, ['lease', 'keep-alive', '--once', id]);
    await etcdctl(member.endpoint, ['lease', 'revoke', id]);
    for (let i = 0; i < 5; i++) await etcdctl(member.endpoint, ['put', 'compact-me', String(i)]);
    const rev = /"revision":(\d+)/.exec(await etcdctl(member.endpoint, ['get', 'compact-me', '-w', 'json']));
    await etcdctl(member.endpoint, ['compaction', '--physical', rev?.[1] ?? '0']);
    const mid = await scrape(url);
    const delta = (name: string, labels: Record<string, string> = {}) =>
      sampleValue(mid, name, labels) - sampleValue(before, name, labels);
    assert.equal(delta('etcd_debugging_lease_granted_total'), 1);
    assert.equal(delta('etcd_debugging_lease_ttl_total_count'), 1);
    assert.equal(delta('etcd_debugging_lease_ttl_total_bucket', { le: '32' }), 0, 'ttl 60');
    assert.equal(delta('etcd_debugging_lease_ttl_total_bucket', { le: '64' }), 1, 'ttl 60');
    assert.equal(delta('etcd_debugging_lease_renewed_total'), 1);
    assert.equal(delta('etcd_debugging_lease_revoked_total'), 1);
    assert.equal(delta('etcd_debugging_mvcc_index_compaction_pause_duration_milliseconds_count'), 1);
    assert.equal(delta('etcd_debugging_mvcc_db_compaction_total_duration_milliseconds_count'), 1);
    assert.ok(delta('etcd_debugging_mvcc_db_compaction_keys_total') >= 4, 'the overwritten versions');
    // At rest between requests.
    assert.equal(sampleValue(mid, 'etcd_server_proposals_pending'), 0);
    assert.equal(sampleValue(mid, 'etcd_server_proposals_failed_total'), 0);
    // Defragmentation keeps the backend object: its commits are still timed afterwards.
    await etcdctl(member.endpoint, ['defrag']);
    const afterDefrag = await scrape(url);
    await etcdctl(member.endpoint, ['put', 'after-defrag', 'x']);
    await eventually(async () => {
      const later = await scrape(url);
      const commits = (f: Map<string, Family>) =>
        sampleValue(f, 'etcd_disk_backend_commit_duration_seconds_count');
      assert.ok(commits(later) > commits(afterDefrag), 'a commit observed after the defrag');
    });
  });

  test('families carry etcd 3.4 types, labels and buckets; every gRPC method starts at 0', async () => {
    const fams = await scrape(`http://${member.endpoint}/metrics`);
    const typeOf = (name: string) => fams.get(name)?.type;
    assert.equal(typeOf('etcd_server_proposals_committed_total'), 'gauge');
    assert.equal(typeOf('etcd_server_leader_changes_seen_total'), 'counter');
    assert.equal(typeOf('etcd_disk_wal_fsync_duration_seconds'), 'histogram');
    assert.equal(typeOf('grpc_server_handling_seconds'), undefined, 'only with --metrics extensive');
    const wal = fams.get('etcd_disk_wal_fsync_duration_seconds')!;
    const bounds = wal.samples.filter((s) => s.name.endsWith('_bucket')).map((s) => s.labels.le);
    assert.deepEqual(bounds, [
      '0.001',
      '0.002',
      '0.004',
      '0.008',
      '0.016',
      '0.032',
      '0.064',
      '0.128',
      '0.256',
      '0.512',
      '1.024',
      '2.048',
      '4.096',
      '8.192',
      '+Inf',
    ]);
    const handled = fams.get('grpc_server_handled_total')!;
    assert.deepEqual(labelNames(handled), ['grpc_code', 'grpc_method', 'grpc_service', 'grpc_type']);
    const methods = new Set(handled.samples.map((s) => `${s.labels.grpc_service}/${s.labels.grpc_method}`));
    assert.ok(methods.size >= 41, `${methods.size} methods`);
    assert.ok(methods.has('etcdserverpb.Auth/RoleRevokePermission'));
    assert.ok(methods.has('grpc.health.v1.Health/Check'));
    const codes = handled.samples
      .filter((s) => s.labels.grpc_method === 'Compact')
      .map((s) => s.labels.grpc_code);
    assert.equal(codes.length, 17);
    assert.ok(fams.has('process_resident_memory_bytes'));
    assert.ok(fams.has('nodejs_heap_size_used_bytes'));
  });

  test('the metrics listener serves only /metrics and /health', async () => {
    const base = `http://127.0.0.1:${metricsPort}`;
    const fams = await scrape(`${base}/metrics`);
    assert.ok(fams.has('etcd_server_has_leader'));
    const health = await fetch(`${base}/health`);
    assert.equal(health.status, 200);
    assert.deepEqual(await health.json(), { health: 'true' });
    for (const path of ['/v3/kv/range', '/version', '/v2/keys', '/']) {
      const res = await fetch(`${base}${path}`, {
        method: path === '/v3/kv/range' ? 'POST' : 'GET',
        body: path === '/v3/kv/range' ? '{}' : undefined,
      });
      assert.equal(res.status, 404, path);
      assert.equal(await res.text(), '404 page not found\n');
    }
    const after = await scrape(`${base}/metrics`);
    assert.ok(sampleValue(after, 'etcd_server_health_success') >= 1);
  });

  test('/health is false while an alarm is raised', async () => {
    const client = new Client(member.endpoint);
    try {
      // The member id from etcdctl's JSON, read as text: 64-bit ids do not survive JSON.parse.
      const status = await etcdctl(member.endpoint, ['endpoint', 'status', '-w', 'json']);
      const memberID = BigInt(/"member_id":(\d+)/.exec(status)?.[1] ?? '0');
      assert.notEqual(memberID, 0n);
      const alarm = (action: AlarmRequest_AlarmAction) =>
        client.call('/etcdserverpb.Maintenance/Alarm', AlarmRequest, AlarmResponse, {
          action,
          memberID,
          alarm: AlarmType.NOSPACE,
        });
      await alarm(AlarmRequest_AlarmAction.ACTIVATE);
      const res = await fetch(`http://127.0.0.1:${metricsPort}/health`);
      assert.equal(res.status, 503);
      assert.equal(await res.text(), '{"health":"false"}\n');
      const excluded = await fetch(`http://${member.endpoint}/health?exclude=NOSPACE`);
      assert.equal(excluded.status, 200);
      const fams = await scrape(`http://${member.endpoint}/metrics`);
      assert.ok(sampleValue(fams, 'etcd_server_health_failures') >= 1);
      await alarm(AlarmRequest_AlarmAction.DEACTIVATE);
      assert.equal((await fetch(`http://${member.endpoint}/health`)).status, 200);
    } finally {
      client.close();
    }
  });
});

test('--metrics extensive adds grpc_server_handling_seconds; slow applies count', {
  timeout: 30_000,
}, async () => {
  const dir = tempDir('metrics-ext');
  // A 1 ns apply-duration warning threshold makes every apply and every read slow.
  const member = new MemberProcess(
    await memberSpec('m1', `${dir}/data`, [
      '--metrics=extensive',
      '--experimental-warning-apply-duration=1ns',
    ]),
  );
  member.start();
  try {
    await eventually(() => etcdctl(member.endpoint, ['put', 'k', 'v']));
    const fams = await scrape(`http://${member.endpoint}/metrics`);
    const h = fams.get('grpc_server_handling_seconds');
    assert.equal(h?.type, 'histogram');
    assert.deepEqual(labelNames(h!), ['grpc_method', 'grpc_service', 'grpc_type']);
    assert.ok(sampleValue(fams, 'grpc_server_handling_seconds_count', { grpc_method: 'Put' }) >= 1);
    const slow = sampleValue(fams, 'etcd_server_slow_apply_total');
    assert.ok(slow >= 1, 'the put was a slow apply');
    await etcdctl(member.endpoint, ['get', 'k']);
    const after = await scrape(`http://${member.endpoint}/metrics`);
    assert.ok(sampleValue(after, 'etcd_server_slow_apply_total') >= slow + 1, 'the range was a slow read');
  } finally {
    await member.stop();
    removeDir(dir);
  }
});

test('the exposition parses with prometheus_client (Python), when installed', {
  timeout: 30_000,
}, async (t) => {
  const probe = spawnSync('/usr/bin/python3', ['-c', 'import prometheus_client'], { encoding: 'utf8' });
  if (probe.status !== 0) {
    t.skip('python3-prometheus-client is not installed');
    return;
  }
  const dir = tempDir('metrics-py');
  const member = new MemberProcess(await memberSpec('m1', `${dir}/data`));
  member.start();
  try {
    await eventually(() => etcdctl(member.endpoint, ['put', 'k', 'v']));
    const text = await (await fetch(`http://${member.endpoint}/metrics`)).text();
    const py = spawnSync(
      '/usr/bin/python3',
      [
        '-c',
        'import sys\nfrom prometheus_client.parser import text_string_to_metric_families as p\n' +
          'for f in p(sys.stdin.read()): print(f.name, f.type, len(f.samples))',
      ],
      { input: text, encoding: 'utf8' },
    );
    assert.equal(py.status, 0, py.stderr);
    const lines = py.stdout.trim().split('\n');
    assert.ok(lines.some((l) => l.startsWith('etcd_disk_wal_fsync_duration_seconds histogram')));
    assert.ok(
      lines.some((l) => l.startsWith('grpc_server_handled ')),
      'counters lose _total in the parser',
    );
  } finally {
    await member.stop();
    removeDir(dir);
  }
});

test('parity with etcd 3.4: dashboard families exist with the same type and label names', {
  timeout: 60_000,
  skip: existsSync(REAL_ETCD) ? false : 'no /usr/bin/etcd',
}, async () => {
  const dir = tempDir('metrics-parity');
  const specs: MemberSpec[] = [
    await memberSpec('real', `${dir}/real`),
    await memberSpec('ours', `${dir}/ours`),
  ];
  const real = new RealEtcd(specs[0]!);
  const ours = new MemberProcess(specs[1]!);
  real.start();
  ours.start();
  try {
    for (const m of [real, ours]) await eventually(() => etcdctl(m.endpoint, ['put', '/ready', 'y']));
    await Promise.all([operate(real.endpoint), operate(ours.endpoint)]);
    const [theirs, mine] = await Promise.all([
      scrape(`http://${real.endpoint}/metrics`),
      scrape(`http://${ours.endpoint}/metrics`),
    ]);
    for (const name of DASHBOARD_FAMILIES) {
      const t = theirs.get(name);
      assert.ok(t, `real etcd exposes ${name}`);
      const o = mine.get(name);
      assert.ok(o, `etcd-ts exposes ${name}`);
      assert.equal(o.type, t.type, `${name} type`);
      assert.deepEqual(labelNames(o), labelNames(t), `${name} labels`);
      if (name.startsWith('etcd_') || name.startsWith('grpc_')) assert.equal(o.help, t.help, `${name} help`);
    }
    // Same counts for the same operations.
    for (const name of [
      'etcd_mvcc_put_total',
      'etcd_mvcc_range_total',
      'etcd_mvcc_txn_total',
      'etcd_mvcc_delete_total',
    ]) {
      assert.equal(sampleValue(mine, name), sampleValue(theirs, name), name);
    }
    const startedOf = (f: Map<string, Family>) =>
      new Set(
        f
          .get('grpc_server_started_total')!
          .samples.map((s) => `${s.labels.grpc_service}/${s.labels.grpc_method}/${s.labels.grpc_type}`),
      );
    const missing = [...startedOf(theirs)].filter((m) => !startedOf(mine).has(m));
    assert.deepEqual(missing, [], 'every method etcd pre-initialises');
    // The watch saw two events (put a 1, put a 5), counted as they were sent.
    assert.equal(sampleValue(theirs, 'etcd_debugging_mvcc_events_total'), 2);
    assert.equal(sampleValue(mine, 'etcd_debugging_mvcc_events_total'), 2);
    const versions = (f: Map<string, Family>) =>
      f
        .get('etcd_server_client_requests_total')!
        .samples.map((s) => `${s.labels.type}/${s.labels.client_api_version}`)
        .sort();
    assert.deepEqual(versions(mine), versions(theirs));
    // An alarm raised as clients raise it (member id 0) makes /health false on both.
    for (const m of [real, ours]) {
      const client = new Client(m.endpoint);
      try {
        const alarm = (action: AlarmRequest_AlarmAction) =>
          client.call('/etcdserverpb.Maintenance/Alarm', AlarmRequest, AlarmResponse, {
            action,
            memberID: 0n,
            alarm: AlarmType.NOSPACE,
          });
        const raised = await alarm(AlarmRequest_AlarmAction.ACTIVATE);
        assert.deepEqual(
          raised.alarms.map((a) => a.memberID),
          [0n],
        );
        const res = await fetch(`http://${m.endpoint}/health`);
        assert.equal(res.status, 503, `${m === real ? 'etcd' : 'etcd-ts'} /health under a member-0 alarm`);
        assert.equal(await res.text(), '{"health":"false"}\n');
        await alarm(AlarmRequest_AlarmAction.DEACTIVATE);
        assert.equal((await fetch(`http://${m.endpoint}/health`)).status, 200);
      } finally {
        client.close();
      }
    }
  } finally {
    await Promise.all([real.stop(), ours.stop()]);
    removeDir(dir);
  }
});
