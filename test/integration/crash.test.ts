// Crash safety: a client writes continuously while the member is killed with
// SIGKILL at random moments. After every restart, each acknowledged put must be
// there with the revision it was acknowledged at, and the store's revisions
// must be gap-free (every key is written once, so revisions 2..current are
// exactly the keys' mod revisions).
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { eventually, MemberProcess, memberSpec, removeDir, sleep, tempDir } from './harness.js';
import { KvClient } from './kv-client.js';

const CYCLES = 20;
const IN_FLIGHT = 16;

/** Deterministic per run, printed on failure so a run can be repeated. */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s ^ (s >>> 15), 0x2c1b3c6d) + 0x9e3779b9) >>> 0;
    return s / 2 ** 32;
  };
}

async function writeUntilKilled(
  kv: KvClient,
  cycle: number,
  acked: Map<string, number>,
  stop: () => boolean,
) {
  let n = 0;
  const worker = async (): Promise<void> => {
    while (!stop()) {
      const key = `c${cycle}-${n++}`;
      try {
        const r = await kv.put(key, key, {}, 3000);
        acked.set(key, r.header?.revision ?? -1);
      } catch {
        return; // the member died under us
      }
    }
  };
  await Promise.all(Array.from({ length: IN_FLIGHT }, worker));
}

async function verify(
  kv: KvClient,
  acked: Map<string, number>,
  seed: number,
  cycle: number,
): Promise<number> {
  const all = await eventually(() => kv.all({}), 15_000);
  const rev = all.header?.revision ?? 0;
  const byKey = new Map(all.kvs.map((x) => [Buffer.from(x.key).toString(), x]));
  for (const [key, ackRev] of acked) {
    const kv0 = byKey.get(key);
    assert.ok(kv0 !== undefined, `seed ${seed} cycle ${cycle}: acknowledged ${key}@${ackRev} is missing`);
    assert.equal(kv0.modRevision, ackRev, `seed ${seed} cycle ${cycle}: ${key} has the wrong revision`);
    assert.equal(Buffer.from(kv0.value).toString(), key);
  }
  const revs = all.kvs.map((x) => x.modRevision).sort((a, b) => a - b);
  assert.equal(revs.length, rev - 1, `seed ${seed} cycle ${cycle}: ${revs.length} keys at revision ${rev}`);
  revs.forEach((r, i) => {
    assert.equal(r, i + 2, `seed ${seed} cycle ${cycle}: revision gap before ${r}`);
  });
  return rev;
}

test(`acknowledged writes survive ${CYCLES} SIGKILLs`, { timeout: 120_000 }, async (t) => {
  const seed = Number(process.env.CRASH_SEED ?? Date.now() % 1_000_000);
  const random = rng(seed);
  const dir = tempDir('crash');
  const member = new MemberProcess(await memberSpec('crash', `${dir}/data`, ['--snapshot-count=300']));
  const acked = new Map<string, number>();
  let lastRev = 1;
  try {
    for (let cycle = 0; cycle < CYCLES; cycle++) {
      member.start();
      const kv = new KvClient(member.endpoint);
      try {
        lastRev = Math.max(lastRev, await verify(kv, acked, seed, cycle));
        let killed = false;
        const writing = writeUntilKilled(kv, cycle, acked, () => killed);
        await sleep(50 + random() * 400);
        await member.kill();
        killed = true;
        await writing;
      } finally {
        kv.close();
      }
    }
    member.start();
    const kv = new KvClient(member.endpoint);
    try {
      const finalRev = await verify(kv, acked, seed, CYCLES);
      assert.ok(finalRev >= lastRev, `seed ${seed}: revision went back ${finalRev} < ${lastRev}`);
      assert.ok(acked.size > CYCLES * 10, `seed ${seed}: only ${acked.size} writes acknowledged`);
      const p = await kv.put('after', 'crashes');
      assert.equal(p.header?.revision, finalRev + 1);
      // Enough writes went through that restarts also started from raft snapshots.
      const snaps = readdirSync(join(dir, 'data', 'member', 'snap')).filter((f) => f.endsWith('.snap'));
      t.diagnostic(
        `seed ${seed}: ${acked.size} acknowledged writes, revision ${finalRev}, ${snaps.length} snapshot files`,
      );
      assert.ok(snaps.length > 0, 'no raft snapshot was taken');
    } finally {
      kv.close();
    }
  } catch (err) {
    process.stderr.write(
      `crash test failed (CRASH_SEED=${seed}); member log tail:\n${member.output.slice(-3000)}\n`,
    );
    throw err;
  } finally {
    await member.kill();
    removeDir(dir);
  }
});
