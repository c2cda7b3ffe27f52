// A first start that died after creating its WAL and before its first Ready
// was durable is picked up the way it began: a founding member bootstraps again,
// a member that was joining a running cluster asks the peers again and adds no
// bootstrap entries of its own (they would conflict with the cluster's log).
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { parseServerConfig } from '../config/parse.js';
import type { ServerConfig } from '../config/types.js';
import type { Logger } from '../log/types.js';
import type { RemoteCluster } from '../peer/cluster-info.js';
import { type BootedStorage, bootStorage, realStorageIo, StartupError } from './bootstrap.js';

const quiet: Logger = {
  debug: () => undefined,
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined,
  fatal: () => undefined,
} as unknown as Logger;

function config(dataDir: string, state: 'new' | 'existing'): ServerConfig {
  return parseServerConfig(
    [
      '--name',
      'c',
      '--data-dir',
      dataDir,
      '--initial-advertise-peer-urls',
      'http://127.0.0.1:3',
      '--initial-cluster',
      'a=http://127.0.0.1:1,b=http://127.0.0.1:2,c=http://127.0.0.1:3',
      '--initial-cluster-state',
      state,
    ],
    {},
  );
}

const cluster = (ids: bigint[]): RemoteCluster => ({
  clusterId: 0xc1c1n,
  members: ids.map((id, i) => ({
    id,
    name: i === ids.length - 1 ? '' : `m${i}`,
    peerUrls: [`http://127.0.0.1:${i + 1}`],
    clientUrls: [],
    isLearner: false,
  })),
});

async function boot(cfg: ServerConfig, remote: () => RemoteCluster): Promise<BootedStorage> {
  return bootStorage(
    cfg,
    quiet,
    { timeoutMs: 100 },
    { ...realStorageIo, clusterFromPeers: async () => remote() },
  );
}

async function close(b: BootedStorage): Promise<void> {
  await b.wal.close();
  await b.backend.close();
}

async function withDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'etcd-ts-bootstrap-'));
  try {
    await fn(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

test('a joining member restarted before its first Ready waits for the leader, bootstrapping nothing', async () => {
  await withDir(async (dir) => {
    const cfg = config(dir, 'existing');
    const first = await boot(cfg, () => cluster([0x11n, 0x22n, 0x33n]));
    assert.equal(first.memberId, 0x33n);
    assert.equal(first.node.hasReady(), false);
    await close(first);
    // Meanwhile a fourth member was added: --initial-cluster no longer matches, the WAL's ids do.
    const again = await boot(cfg, () => cluster([0x11n, 0x22n, 0x44n, 0x33n]));
    assert.equal(again.memberId, 0x33n);
    assert.equal(again.clusterId, 0xc1c1n);
    assert.equal(again.node.hasReady(), false, 'no bootstrap entries of its own');
    assert.deepEqual(
      again.initialPeers.map((m) => m.id),
      [0x11n, 0x22n, 0x44n, 0x33n],
    );
    await close(again);
  });
});

test('a joining member removed before its first Ready was durable is refused on restart', async () => {
  await withDir(async (dir) => {
    const cfg = config(dir, 'existing');
    await close(await boot(cfg, () => cluster([0x11n, 0x22n, 0x33n])));
    await assert.rejects(
      boot(cfg, () => cluster([0x11n, 0x22n])),
      (err: Error) => err instanceof StartupError && /permanently removed/.test(err.message),
    );
    await assert.rejects(
      boot(cfg, () => ({ ...cluster([0x11n, 0x22n, 0x33n]), clusterId: 0x99n })),
      (err: Error) =>
        err instanceof StartupError && /cluster c1c1 but the peers are of cluster 99/.test(err.message),
    );
  });
});

test('a founding member restarted before its first Ready bootstraps again', async () => {
  await withDir(async (dir) => {
    const cfg = config(dir, 'new');
    const first = await boot(cfg, () => assert.fail('a founding member asks nobody'));
    await close(first);
    const again = await boot(cfg, () => assert.fail('a founding member asks nobody'));
    assert.equal(again.memberId, first.memberId);
    assert.equal(again.fresh, true);
    const rd = again.node.ready();
    assert.equal(rd.entries.length, 3, 'one AddNode per founding member');
    await close(again);
  });
});

test('a member joins only as an entry that has not started (a started one is a removed or wiped incarnation)', async () => {
  await withDir(async (dir) => {
    const cfg = config(dir, 'existing');
    const started = (): RemoteCluster => {
      const c = cluster([0x11n, 0x22n, 0x33n]);
      c.members[2] = { ...c.members[2]!, name: 'c', clientUrls: ['http://127.0.0.1:9'] };
      return c;
    };
    await assert.rejects(
      boot(cfg, started),
      (err: Error) =>
        err instanceof StartupError && /member 33 has already been bootstrapped/.test(err.message),
    );
    // Nothing was created: the next attempt (with an up-to-date peer) joins.
    const joined = await boot(cfg, () => cluster([0x11n, 0x22n, 0x44n]));
    assert.equal(joined.memberId, 0x44n);
    await close(joined);
  });
});
