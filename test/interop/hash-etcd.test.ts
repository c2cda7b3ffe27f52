// Maintenance.Hash beside the real etcd 3.4: one snapshot saved from a real etcd is restored
// (with the real etcdctl) into two data dirs; the real etcd runs on one, then etcd-ts on the other
// with the very same flags and ports (so the members bucket, which holds the client URLs, is the
// same).
// - Restored into the member identity it was saved from: both answer the same Hash and HashKV at
//   the same revision (every bucket etcd hashes is identical; meta's consistent_index is left out
//   by etcd itself).
// - Restored into another member id: etcd 3.4 keeps the saved cluster's member record in its
//   members bucket (see src/etcd-db/hash.ts), etcd-ts does not; HashKV and every other bucket are
//   still equal, and that stale record is the only difference.
// Skips when etcd/etcdctl are missing.

import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { BoltDb } from '../../src/bbolt/index.js';
import {
  HashKVRequest,
  HashKVResponse,
  HashRequest,
  HashResponse,
  MemberListRequest,
  MemberListResponse,
} from '../../src/pb/etcdserverpb/rpc.js';
import {
  Client,
  eventually,
  MemberProcess,
  type MemberSpec,
  memberSpec,
  removeDir,
  sleep,
  tempDir,
} from '../integration/harness.js';
import { REAL_CTL, REAL_ETCD, runCommand } from './twins.js';

const missing =
  existsSync(REAL_ETCD) && existsSync(REAL_CTL) ? undefined : `needs ${REAL_ETCD} and ${REAL_CTL}`;

class RealEtcdProcess extends MemberProcess {
  override command(): [string, string[]] {
    return [REAL_ETCD, this.args()];
  }
}

interface Hashes {
  hash: number;
  hashRevision: number;
  hashKV: number;
  compactRevision: number;
}

/**
 * Hash and HashKV once the member has published itself and settled the cluster version; with
 * `saveTo`, also a snapshot of that state (via the real etcdctl).
 */
async function settledHashes(member: MemberProcess, saveTo?: string): Promise<Hashes> {
  const c = new Client(member.endpoint);
  try {
    // Published: the member's name and client URLs are in the members bucket.
    await eventually(
      async () => {
        const m = await c.call('/etcdserverpb.Cluster/MemberList', MemberListRequest, MemberListResponse, {});
        assert.equal(m.members[0]?.clientURLs.length, 1);
      },
      20_000,
      100,
    ).catch((err: Error) => {
      throw new Error(`${err.message}\n${member.output}`);
    });
    // The cluster version lands shortly after; the hash is settled once it stops moving.
    let last = -1;
    for (let i = 0; i < 40; i++) {
      const h = await c.call('/etcdserverpb.Maintenance/Hash', HashRequest, HashResponse, {});
      if (h.hash === last && (await clusterVersionSet(member))) {
        const kv = await c.call('/etcdserverpb.Maintenance/HashKV', HashKVRequest, HashKVResponse, {
          revision: 0,
        });
        if (saveTo !== undefined) {
          const r = await runCommand(REAL_CTL, [
            `--endpoints=${member.endpoint}`,
            'snapshot',
            'save',
            saveTo,
          ]);
          assert.equal(r.code, 0, r.stderr);
        }
        return {
          hash: h.hash,
          hashRevision: h.header!.revision,
          hashKV: kv.hash,
          compactRevision: kv.compactRevision,
        };
      }
      last = h.hash;
      await sleep(300);
    }
    throw new Error(`hash never settled\n${member.output}`);
  } finally {
    c.close();
  }
}

async function clusterVersionSet(member: MemberProcess): Promise<boolean> {
  const r = await fetch(`http://${member.endpoint}/version`);
  const v = (await r.json()) as { etcdcluster?: string };
  return v.etcdcluster === '3.4.0';
}

/** Every bucket of a db file as "bucket key=value" lines (hex), consistent_index left out. */
function bucketLines(file: string): string[] {
  const db = BoltDb.openFile(file);
  try {
    const lines: string[] = [];
    const root = db.root();
    for (const top of root.entries()) {
      const name = top.key.toString('latin1');
      for (const e of root.open(top).entries()) {
        if (name === 'meta' && e.key.toString('latin1') === 'consistent_index') continue;
        lines.push(`${name} ${e.key.toString('hex')}=${e.value.toString('hex')}`);
      }
    }
    return lines;
  } finally {
    db.close();
  }
}

describe('Maintenance.Hash beside etcd 3.4 on the same restored snapshot', {
  timeout: 150_000,
  skip: missing,
}, () => {
  const dir = tempDir('hash-interop');
  const snapFile = join(dir, 'real.db');
  let source: MemberSpec;

  before(async () => {
    // A real etcd with history: overwrites, deletes, a compaction, a txn, a lease.
    source = await memberSpec('twin', join(dir, 'source'));
    const etcd = new RealEtcdProcess(source);
    const ctl = (args: string[], input = '') =>
      runCommand(REAL_CTL, [`--endpoints=${etcd.endpoint}`, '--dial-timeout=2s', ...args], input);
    etcd.start();
    try {
      await eventually(async () => assert.equal((await ctl(['put', 'foo', 'bar'])).code, 0), 15_000, 100);
      for (const args of [
        ['put', 'foo', 'bar2'],
        ['put', 'baz', 'q'],
        ['del', 'baz'],
        ['compaction', '3'],
      ]) {
        assert.equal((await ctl(args)).code, 0, args.join(' '));
      }
      assert.equal((await ctl(['txn'], '\nput a 1\nput b 2\n\n\n')).code, 0);
      const grant = await ctl(['lease', 'grant', '600']);
      const lease = /lease ([0-9a-f]+) granted/.exec(grant.stdout)![1]!;
      assert.equal((await ctl(['put', 'leased', 'v', `--lease=${lease}`])).code, 0);
      for (let i = 0; i < 30; i++)
        assert.equal((await ctl(['put', `k/${i % 7}`, 'x'.repeat(i * 10)])).code, 0);
      const saved = await ctl(['snapshot', 'save', snapFile]);
      assert.equal(saved.code, 0, saved.stderr);
    } finally {
      await etcd.stop();
    }
  });
  after(() => removeDir(dir));

  /** Restores the snapshot (real etcdctl) for `spec` twice, runs the real etcd then etcd-ts on it. */
  async function both(spec: MemberSpec, tag: string): Promise<{ real: Hashes; ours: Hashes }> {
    const peer = `http://127.0.0.1:${spec.peerPort}`;
    const restoreInto = async (dataDir: string): Promise<void> => {
      const r = await runCommand(REAL_CTL, [
        'snapshot',
        'restore',
        snapFile,
        `--data-dir=${dataDir}`,
        `--name=${spec.name}`,
        `--initial-cluster=${spec.name}=${peer}`,
        `--initial-advertise-peer-urls=${peer}`,
      ]);
      assert.equal(r.code, 0, r.stderr);
    };
    const realDir = join(dir, `${tag}-real`);
    const oursDir = join(dir, `${tag}-ours`);
    await restoreInto(realDir);
    await restoreInto(oursDir);
    const real = new RealEtcdProcess({ ...spec, dataDir: realDir });
    real.start();
    let realHashes: Hashes;
    try {
      realHashes = await settledHashes(real, `${realDir}.after`);
    } finally {
      await real.stop();
    }
    const ours = new MemberProcess({ ...spec, dataDir: oursDir });
    ours.start();
    try {
      return { real: realHashes, ours: await settledHashes(ours, `${oursDir}.after`) };
    } finally {
      await ours.stop();
    }
  }

  test('restored into the member it was saved from: the same Hash and HashKV', async () => {
    const r = await both(source, 'same');
    assert.deepEqual(r.ours, r.real);
    assert.deepEqual(bucketLines(join(dir, 'same-ours.after')), bucketLines(join(dir, 'same-real.after')));
  });

  test('restored into another member id: only the stale member record etcd keeps differs', async () => {
    const other = await memberSpec('other', join(dir, 'unused'));
    const r = await both(other, 'other');
    assert.equal(r.ours.hashKV, r.real.hashKV);
    assert.equal(r.ours.hashRevision, r.real.hashRevision);
    assert.equal(r.ours.compactRevision, r.real.compactRevision);
    assert.notEqual(r.ours.hash, r.real.hash);
    const real = bucketLines(join(dir, 'other-real.after'));
    const ours = bucketLines(join(dir, 'other-ours.after'));
    const onlyReal = real.filter((l) => !ours.includes(l));
    assert.deepEqual(
      ours.filter((l) => !real.includes(l)),
      [],
    );
    assert.equal(onlyReal.length, 1, onlyReal.join('\n'));
    assert.match(onlyReal[0]!, /^members /);
    assert.match(Buffer.from(onlyReal[0]!.split('=')[1]!, 'hex').toString(), /"name":"twin"/);
  });
});
