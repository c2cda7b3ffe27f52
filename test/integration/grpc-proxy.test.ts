// `etcd grpc-proxy start` end to end: a real etcd-ts member, our grpc-proxy in
// front of it, the real etcdctl 3.4 through the proxy. Watch coalescing is
// counted on the member (its etcd_debugging_mvcc_watcher_total), the range
// cache by the member's Range call counter; --namespace, a member restart
// behind the proxy, and the proxy in front of the real etcd 3.4 (interop).
import assert from 'node:assert/strict';
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import { EtcdClient, type TypedStream } from '../../src/client/index.js';
import type { WatchRequest, WatchResponse } from '../../src/pb/etcdserverpb/rpc.js';
import {
  eventually,
  freePort,
  MemberProcess,
  type MemberSpec,
  removeDir,
  serverMain,
  sleep,
  tempDir,
} from './harness.js';

async function memberSpec(name: string, dataDir: string): Promise<MemberSpec> {
  return { name, dataDir, clientPort: await freePort(), peerPort: await freePort() };
}

const REAL_ETCDCTL = '/usr/bin/etcdctl';
const REAL_ETCD = '/usr/bin/etcd';
const skip = existsSync(REAL_ETCDCTL) ? false : 'real etcdctl 3.4 is not installed';

class RealEtcdProcess extends MemberProcess {
  override command(): [string, string[]] {
    return [REAL_ETCD, this.args()];
  }
}

/** Our `etcd grpc-proxy start` as a child process. */
class ProxyProcess {
  output = '';
  private proc: ChildProcess | undefined;

  constructor(
    readonly port: number,
    private readonly args: string[],
  ) {}

  get endpoint(): string {
    return `127.0.0.1:${this.port}`;
  }

  async start(): Promise<void> {
    const p = spawn(
      process.execPath,
      [serverMain(), 'grpc-proxy', 'start', `--listen-addr=127.0.0.1:${this.port}`, ...this.args],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    this.proc = p;
    const keep = (b: Buffer) => {
      this.output = (this.output + b.toString()).slice(-20_000);
    };
    p.stdout?.on('data', keep);
    p.stderr?.on('data', keep);
    await eventually(async () => {
      if (p.exitCode !== null) throw new Error(`proxy exited: ${this.output}`);
      assert.match(this.output, /"msg":"started gRPC proxy"/);
    });
  }

  async stop(): Promise<void> {
    const p = this.proc;
    if (p === undefined || p.exitCode !== null) return;
    const exited = new Promise((resolve) => p.once('exit', resolve));
    p.kill('SIGTERM');
    await exited;
  }
}

interface CtlResult {
  stdout: string;
  stderr: string;
  code: number;
}

function etcdctl(endpoint: string, args: string[], input?: string): Promise<CtlResult> {
  return new Promise((resolve) => {
    const child = execFile(
      REAL_ETCDCTL,
      [`--endpoints=${endpoint}`, ...args],
      { env: { PATH: process.env.PATH, ETCDCTL_API: '3' }, timeout: 15_000 },
      (err, stdout, stderr) => {
        const code = err === null ? 0 : typeof err.code === 'number' ? err.code : 1;
        resolve({ stdout, stderr, code });
      },
    );
    if (input !== undefined) child.stdin?.end(input);
  });
}

async function ok(endpoint: string, args: string[], input?: string): Promise<string> {
  const r = await etcdctl(endpoint, args, input);
  assert.equal(r.code, 0, `etcdctl ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

/** One sample of a metrics page: the value of the first line for `name` whose labels contain `labels`. */
async function metric(url: string, name: string, labels = ''): Promise<number | undefined> {
  const res = await fetch(`${url}/metrics`);
  const text = await res.text();
  for (const line of text.split('\n')) {
    if (!line.startsWith(name) || line.startsWith('#')) continue;
    const rest = line.slice(name.length);
    if (rest[0] !== ' ' && rest[0] !== '{') continue;
    if (!rest.includes(labels)) continue;
    return Number(rest.slice(rest.lastIndexOf(' ') + 1));
  }
  return undefined;
}

const RANGE_CALLS = 'grpc_method="Range"';

/** A watcher of our client through the proxy, collecting PUT values. */
class Watcher {
  readonly values: string[] = [];
  created = false;
  private stream: TypedStream<WatchRequest, WatchResponse> | undefined;

  async open(client: EtcdClient, key: string): Promise<void> {
    const stream = await client.watch.watch();
    this.stream = stream;
    stream.send({ requestUnion: { $case: 'createRequest', createRequest: { key: Buffer.from(key) } } });
    void (async () => {
      try {
        for await (const r of stream) {
          if (r.created) this.created = true;
          for (const e of r.events) this.values.push(e.kv?.value.toString() ?? '');
        }
      } catch {
        // Cancelled at the end of the test.
      }
    })();
  }

  close(): void {
    this.stream?.cancel();
  }
}

describe('grpc-proxy in front of an etcd-ts member', { skip, timeout: 120_000 }, () => {
  let dir: string;
  let member: MemberProcess;
  let proxy: ProxyProcess;
  let nsProxy: ProxyProcess;
  let memberUrl: string;

  before(async () => {
    dir = tempDir('grpc-proxy');
    member = new MemberProcess(await memberSpec('m1', `${dir}/m1`));
    member.start();
    memberUrl = `http://${member.endpoint}`;
    await eventually(() => ok(member.endpoint, ['endpoint', 'health']), 20_000);
    proxy = new ProxyProcess(await freePort(), [`--endpoints=${member.endpoint}`]);
    nsProxy = new ProxyProcess(await freePort(), [`--endpoints=${memberUrl}`, '--namespace=/ns/']);
    await Promise.all([proxy.start(), nsProxy.start()]);
  });

  after(async () => {
    await proxy?.stop();
    await nsProxy?.stop();
    await member?.stop();
    removeDir(dir);
  });

  test('etcdctl: put, get, prefix, del, txn', async () => {
    const p = proxy.endpoint;
    assert.equal(await ok(p, ['put', 'k1', 'v1']), 'OK\n');
    await ok(p, ['put', 'k2', 'v2']);
    assert.equal(await ok(p, ['get', 'k1']), 'k1\nv1\n');
    assert.equal(await ok(p, ['get', 'k', '--prefix']), 'k1\nv1\nk2\nv2\n');
    assert.equal(await ok(p, ['txn'], 'value("k1") = "v1"\n\nput k3 v3\n\nput k3 no\n\n'), 'SUCCESS\n\nOK\n');
    assert.equal(await ok(member.endpoint, ['get', 'k3', '--print-value-only']), 'v3\n');
    assert.equal(await ok(p, ['del', 'k', '--prefix']), '3\n');
    assert.equal(await ok(p, ['get', 'k', '--prefix']), '');
  });

  test('etcdctl: lease grant, keep-alive, member list, endpoint status, health', async () => {
    const p = proxy.endpoint;
    const granted = await ok(p, ['lease', 'grant', '60']);
    const id = /lease ([0-9a-f]+) granted with TTL\(60s\)/.exec(granted)?.[1];
    assert.ok(id !== undefined, granted);
    assert.match(
      await ok(p, ['lease', 'keep-alive', '--once', id]),
      new RegExp(`lease ${id} keepalived with TTL\\(`),
    );
    await ok(p, ['put', 'leased', 'x', `--lease=${id}`]);
    assert.match(await ok(p, ['lease', 'timetolive', id, '--keys']), /attached keys\(\[leased\]\)/);
    // As etcd's proxy: the proxy is the cluster's only member, under its advertise URL.
    assert.match(await ok(p, ['member', 'list']), /^0, started, .+, , 127\.0\.0\.1:23790, false\n$/);
    const status = await ok(p, ['endpoint', 'status', '-w', 'json']);
    assert.match(status, /"leader":\d+/);
    assert.equal((await fetch(`http://${p}/health`)).status, 200);
    assert.equal(await (await fetch(`http://${p}/health`)).text(), '{"health":"true"}');
    assert.equal((await fetch(`http://${p}/nope`)).status, 404);
  });

  test('etcdctl watch through the proxy', async () => {
    const w = spawn(REAL_ETCDCTL, [`--endpoints=${proxy.endpoint}`, 'watch', 'wkey'], {
      env: { PATH: process.env.PATH, ETCDCTL_API: '3' },
    });
    let out = '';
    w.stdout.on('data', (d: Buffer) => {
      out += d.toString();
    });
    try {
      // The watch exists once a put made after it shows up; keep putting until one does.
      await eventually(async () => {
        await ok(proxy.endpoint, ['put', 'wkey', 'seen']);
        assert.match(out, /PUT\nwkey\nseen\n/);
      });
    } finally {
      w.kill();
    }
  });

  test('20 watchers on one key share ONE upstream watch and each sees every event', async () => {
    const memberWatchers = () => metric(memberUrl, 'etcd_debugging_mvcc_watcher_total');
    // Watches of earlier tests are gone (their upstream watches close shortly after the clients leave).
    await eventually(async () => assert.equal(await memberWatchers(), 0));
    const before = 0;
    const client = new EtcdClient({ endpoints: [proxy.endpoint] });
    const watchers = Array.from({ length: 20 }, () => new Watcher());
    try {
      for (const w of watchers) await w.open(client, 'shared');
      await eventually(async () => assert.ok(watchers.every((w) => w.created)));
      // Late watchers may start on their own upstream watch; the proxy merges them once they caught up.
      await eventually(async () => {
        assert.equal(await memberWatchers(), before + 1);
        assert.equal(await metric(`http://${proxy.endpoint}`, 'etcdts_grpc_proxy_upstream_watches'), 1);
      });
      for (const v of ['a', 'b', 'c'])
        await client.put({ key: Buffer.from('shared'), value: Buffer.from(v) });
      await eventually(async () => {
        for (const w of watchers) assert.deepEqual(w.values, ['a', 'b', 'c']);
      });
      assert.equal(await metric(`http://${proxy.endpoint}`, 'etcd_grpc_proxy_watchers_coalescing_total'), 19);
    } finally {
      for (const w of watchers) w.close();
      client.close();
    }
    // Every client watcher gone: the upstream watch is closed too.
    await eventually(async () => assert.equal(await memberWatchers(), before));
  });

  test('serializable gets come from the cache until a put through the proxy', async () => {
    const p = proxy.endpoint;
    await ok(p, ['put', 'cached', 'one']);
    const ranges = async () =>
      (await metric(memberUrl, 'grpc_server_started_total', RANGE_CALLS)) ?? Number.NaN;
    const r0 = await ranges();
    assert.equal(await ok(p, ['get', 'cached', '--consistency=s']), 'cached\none\n');
    const r1 = await ranges();
    assert.equal(r1, r0 + 1, 'the first serializable get goes upstream');
    for (let i = 0; i < 3; i++)
      assert.equal(await ok(p, ['get', 'cached', '--consistency=s']), 'cached\none\n');
    assert.equal(await ranges(), r1, 'repeated serializable gets are cache hits');
    await ok(p, ['put', 'cached', 'two']);
    assert.equal(await ok(p, ['get', 'cached', '--consistency=s']), 'cached\ntwo\n');
    assert.equal(await ranges(), r1 + 1, 'the put invalidated the entry');
    // Linearizable gets always go upstream.
    await ok(p, ['get', 'cached']);
    assert.equal(await ranges(), r1 + 2);
  });

  test('--namespace puts keys under the prefix on the member', async () => {
    const ns = nsProxy.endpoint;
    await ok(ns, ['put', 'a', 'in-ns']);
    assert.equal(await ok(member.endpoint, ['get', '/ns/a', '--print-value-only']), 'in-ns\n');
    assert.equal(await ok(ns, ['get', 'a']), 'a\nin-ns\n');
    assert.equal(await ok(ns, ['get', '', '--from-key', '--keys-only']), 'a\n\n');
    assert.equal(await ok(proxy.endpoint, ['get', 'a']), '');
    // Watches see the caller's keys.
    const client = new EtcdClient({ endpoints: [ns] });
    const w = new Watcher();
    try {
      await w.open(client, 'a');
      await eventually(async () => assert.ok(w.created));
      await ok(member.endpoint, ['put', '/ns/a', 'from-member']);
      await eventually(async () => assert.deepEqual(w.values, ['from-member']));
    } finally {
      w.close();
      client.close();
    }
  });

  test('the proxy keeps working across a member restart (watches resume)', async () => {
    const client = new EtcdClient({ endpoints: [proxy.endpoint] });
    const w = new Watcher();
    try {
      await w.open(client, 'restart');
      await eventually(async () => assert.ok(w.created));
      await ok(proxy.endpoint, ['put', 'restart', 'before']);
      await eventually(async () => assert.deepEqual(w.values, ['before']));
      await member.stop();
      member.start();
      await eventually(() => ok(member.endpoint, ['endpoint', 'health']), 20_000);
      await eventually(() => ok(proxy.endpoint, ['put', 'restart', 'after']), 20_000);
      assert.equal(await ok(proxy.endpoint, ['get', 'restart', '--print-value-only']), 'after\n');
      await eventually(async () => assert.deepEqual(w.values, ['before', 'after']), 10_000);
    } finally {
      w.close();
      client.close();
    }
  });
});

describe('grpc-proxy in front of the real etcd 3.4', {
  skip: skip || (existsSync(REAL_ETCD) ? false : 'real etcd 3.4 is not installed'),
  timeout: 60_000,
}, () => {
  test('etcdctl put/get/watch and coalescing through our proxy', async () => {
    const dir = tempDir('grpc-proxy-real');
    const etcd = new RealEtcdProcess(await memberSpec('real', `${dir}/real`));
    etcd.start();
    const proxy = new ProxyProcess(await freePort(), [`--endpoints=${etcd.endpoint}`]);
    const client = new EtcdClient({ endpoints: [`127.0.0.1:${proxy.port}`] });
    const watchers = [new Watcher(), new Watcher(), new Watcher()];
    try {
      await eventually(() => ok(etcd.endpoint, ['endpoint', 'health']), 20_000);
      await proxy.start();
      assert.equal(await ok(proxy.endpoint, ['put', 'x', '1']), 'OK\n');
      assert.equal(await ok(proxy.endpoint, ['get', 'x', '--consistency=s']), 'x\n1\n');
      for (const w of watchers) await w.open(client, 'x');
      await eventually(async () => assert.ok(watchers.every((w) => w.created)));
      await eventually(async () =>
        assert.equal(await metric(`http://${etcd.endpoint}`, 'etcd_debugging_mvcc_watcher_total'), 1),
      );
      await ok(proxy.endpoint, ['put', 'x', '2']);
      await eventually(async () => {
        for (const w of watchers) assert.deepEqual(w.values, ['2']);
      });
      assert.equal(await ok(proxy.endpoint, ['get', 'x', '--consistency=s']), 'x\n2\n');
    } finally {
      for (const w of watchers) w.close();
      client.close();
      await proxy.stop();
      await etcd.stop();
      await sleep(10);
      removeDir(dir);
    }
  });
});
