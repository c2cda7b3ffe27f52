import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { seededRandom } from '../util/seeded-random.js';
import { immediateDisk } from './disk-control.js';
import { mkdirDurable } from './durable-dir.js';
import type { FileSystem } from './file-system.js';
import { realFs } from './real-fs.js';
import type { CrashOptions } from './sim-crash.js';
import { SimFs } from './sim-fs.js';
import { SteppedDisk } from './stepped-disk.js';

/** Nothing unsynced survives, nothing tears: exactly the durable state. */
const STRICT: CrashOptions = { writes: 'none', tear: 0, dirOps: 'none' };
const rand = () => seededRandom(7);

async function read(fs: FileSystem, path: string): Promise<string | undefined> {
  return (await fs.exists(path)) ? (await fs.readFile(path)).toString() : undefined;
}

async function codeOf(p: Promise<unknown>): Promise<string> {
  try {
    await p;
    return 'ok';
  } catch (err) {
    return String((err as { code?: string }).code);
  }
}

/** Lets every microtask and immediate run (the WAL yields between groups). */
const settle = () => new Promise<void>((r) => setImmediate(r));

describe('SimFs crash model', () => {
  test('synced data survives a power loss, unsynced data does not', async () => {
    const fs = new SimFs();
    await mkdirDurable(fs, '/d');
    const f = await fs.open('/d/a', 'wx+');
    await fs.fsyncDir('/d');
    await f.write(Buffer.from('hello'), 0);
    await f.datasync();
    await f.write(Buffer.from(' world'), 5);
    assert.equal(await read(fs, '/d/a'), 'hello world', 'unsynced data is readable before the crash');
    const after = fs.crash(rand(), STRICT);
    assert.equal(await read(after, '/d/a'), 'hello');
  });

  test('a file is reachable after a crash only once its directory was fsynced', async () => {
    const fs = new SimFs();
    await mkdirDurable(fs, '/d');
    const f = await fs.open('/d/a', 'wx+');
    await f.write(Buffer.from('x'), 0);
    await f.sync();
    assert.deepEqual(await fs.crash(rand(), STRICT).readdir('/d'), []);

    const fs2 = new SimFs();
    await mkdirDurable(fs2, '/d');
    const g = await fs2.open('/d/a', 'wx+');
    await g.write(Buffer.from('x'), 0);
    await g.sync();
    await fs2.fsyncDir('/d');
    assert.equal(await read(fs2.crash(rand(), STRICT), '/d/a'), 'x');
  });

  test('rename and unlink are undone by a crash until the directory is fsynced', async () => {
    const fs = new SimFs();
    await mkdirDurable(fs, '/d');
    for (const name of ['a', 'b']) {
      const f = await fs.open(`/d/${name}`, 'wx+');
      await f.write(Buffer.from(name), 0);
      await f.sync();
    }
    await fs.fsyncDir('/d');
    await fs.rename('/d/a', '/d/c');
    await fs.unlink('/d/b');
    assert.deepEqual(await fs.readdir('/d'), ['c']);
    const lost = fs.crash(rand(), STRICT);
    assert.deepEqual(await lost.readdir('/d'), ['a', 'b']);
    await lost.rename('/d/a', '/d/c');
    await lost.unlink('/d/b');
    await lost.fsyncDir('/d');
    const kept = lost.crash(rand(), STRICT);
    assert.deepEqual(await kept.readdir('/d'), ['c']);
    assert.equal(await read(kept, '/d/c'), 'a');
  });

  test('a directory made with mkdir disappears unless its parent is fsynced', async () => {
    const fs = new SimFs();
    await fs.mkdir('/a/b', { recursive: true });
    await fs.fsyncDir('/a');
    assert.deepEqual(await fs.crash(rand(), STRICT).readdir('/'), []);
    const fs2 = new SimFs();
    await mkdirDurable(fs2, '/a/b');
    assert.deepEqual(await fs2.crash(rand(), STRICT).readdir('/a'), ['b']);
  });

  test('an fsync of one directory also commits the earlier journal entries a rename depends on', async () => {
    const fs = new SimFs();
    await mkdirDurable(fs, '/x');
    await mkdirDurable(fs, '/y');
    const f = await fs.open('/x/a', 'wx+');
    await f.close();
    await fs.rename('/x/a', '/y/a');
    await fs.fsyncDir('/y');
    const after = fs.crash(rand(), STRICT);
    assert.deepEqual(await after.readdir('/x'), []);
    assert.deepEqual(await after.readdir('/y'), ['a']);
  });

  test('after a failed fsync the data stays readable but never becomes durable', async () => {
    const fs = new SimFs();
    await mkdirDurable(fs, '/d');
    const f = await fs.open('/d/a', 'wx+');
    await fs.fsyncDir('/d');
    await f.write(Buffer.from('lost'), 0);
    fs.injectFault({ ops: ['datasync'] });
    assert.equal(await codeOf(f.datasync()), 'EIO');
    assert.equal(await read(fs, '/d/a'), 'lost');
    await f.datasync(); // succeeds, as on Linux, without the forgotten pages
    assert.equal(await read(fs.crash(rand(), STRICT), '/d/a'), '');
  });

  test('a failed write changes nothing', async () => {
    const fs = new SimFs();
    const f = await fs.open('/a', 'wx+');
    fs.injectFault({ ops: ['write'], path: /\/a$/, code: 'ENOSPC' });
    assert.equal(await codeOf(f.write(Buffer.from('x'), 0)), 'ENOSPC');
    assert.equal(await read(fs, '/a'), '');
    await f.write(Buffer.from('y'), 0);
    assert.equal(await read(fs, '/a'), 'y');
  });

  test('a torn write keeps whole sectors of its start, zeros after', async () => {
    const data = Buffer.alloc(4096, 0xab);
    const kept = new Set<number>();
    for (let seed = 1; seed <= 20; seed++) {
      const fs = new SimFs();
      const f = await fs.open('/a', 'wx+');
      await f.write(Buffer.alloc(8192), 0);
      await f.datasync();
      await fs.fsyncDir('/');
      await f.write(data, 1024);
      const after = fs.crash(seededRandom(seed), { writes: 'none', tear: 1 });
      const buf = await after.readFile('/a');
      assert.equal(buf.length, 8192);
      const end = buf.lastIndexOf(0xab) + 1;
      assert.ok(end === 0 || (end > 1024 && end < 1024 + 4096 && end % 512 === 0), `cut at ${end}`);
      assert.ok(buf.subarray(1024, end).every((b) => b === 0xab));
      assert.equal(after.crashReport?.torn.length, 1);
      kept.add(end);
    }
    assert.ok(kept.size > 3, 'different seeds tear at different sectors');
  });

  test('a torn append cuts the file short at a sector boundary; tearUnit 1 cuts at any byte', async () => {
    for (const unit of [512, 1]) {
      const fs = new SimFs();
      const f = await fs.open('/a', 'wx+');
      await fs.fsyncDir('/');
      await f.write(Buffer.alloc(2000, 1), 0);
      const after = fs.crash(seededRandom(3), { writes: 'none', tear: 1, tearUnit: unit });
      const size = (await after.stat('/a')).size;
      assert.ok(size > 0 && size < 2000 && size % unit === 0, `size ${size} (unit ${unit})`);
    }
  });

  test('the same seed gives the same disk', async () => {
    const image = async (seed: number): Promise<string> => {
      const fs = new SimFs();
      const f = await fs.open('/a', 'wx+');
      for (let i = 0; i < 20; i++) await f.write(Buffer.alloc(700, i + 1), i * 700);
      await fs.rename('/a', '/b');
      const after = fs.crash(seededRandom(seed));
      const names = await after.readdir('/');
      return `${names.join(',')}:${names.length > 0 ? (await after.readFile(`/${names[0]}`)).toString('hex') : ''}`;
    };
    assert.equal(await image(5), await image(5));
    const all = new Set<string>();
    for (let s = 1; s <= 10; s++) all.add(await image(s));
    assert.ok(all.size > 3);
  });

  test('a crash during an fsync in flight loses the unsynced data; the dead disk never answers', async () => {
    const disk = new SteppedDisk();
    const fs = new SimFs({ scheduler: disk });
    const opened = fs.open('/a', 'wx+');
    disk.step();
    const f = await opened;
    const dirSync = fs.fsyncDir('/');
    disk.step();
    await dirSync;
    const wrote = f.write(Buffer.from('data'), 0);
    disk.step();
    await wrote;
    let settled = false;
    void f.datasync().finally(() => {
      settled = true;
    });
    await settle();
    assert.equal(disk.pending().length, 1, 'the fdatasync waits for the scheduler');
    const after = fs.crash(rand(), STRICT);
    after.scheduler = immediateDisk;
    disk.step();
    await settle();
    assert.equal(settled, false, 'operations on a crashed disk never complete');
    assert.equal(await read(after, '/a'), '');
    assert.throws(() => fs.readdirSync('/'), { code: 'EIO' });
  });

  test('O_DSYNC writes are durable when they return', async () => {
    const fs = new SimFs();
    await fs.open('/a', 'wx+');
    await fs.fsyncDir('/');
    const f = await fs.open('/a', 'r+', { dsync: true });
    await f.writev([Buffer.from('ab'), Buffer.from('cd')], 0);
    assert.equal(await read(fs.crash(rand(), STRICT), '/a'), 'abcd');
  });

  test('blocking writes are refused unless enabled', async () => {
    const fs = new SimFs();
    const f = await fs.open('/a', 'wx+');
    assert.throws(() => f.writevSync([Buffer.from('x')], 0), /blocking writes are off/);
    const b = new SimFs({ blockingWrites: true });
    const g = await b.open('/a', 'wx+', { dsync: true });
    await b.fsyncDir('/');
    assert.equal(g.writevSync([Buffer.from('xy')], 0), 2);
    assert.equal(await read(b.crash(rand(), STRICT), '/a'), 'xy');
  });

  test('ignoreSyncs: a disk that acknowledges flushes it did not do', async () => {
    const fs = new SimFs({ ignoreSyncs: true });
    const f = await fs.open('/a', 'wx+');
    await f.write(Buffer.from('x'), 0);
    await f.sync();
    await fs.fsyncDir('/');
    assert.deepEqual(await fs.crash(rand(), STRICT).readdir('/'), []);
  });
});

/** The same calls on node's disk and on SimFs must give the same results and error codes. */
async function conformance(fs: FileSystem, root: string): Promise<string[]> {
  const out: string[] = [];
  const p = (name: string) => join(root, name);
  const note = async (what: string, call: Promise<unknown>) => out.push(`${what}: ${await codeOf(call)}`);
  await note('mkdir', fs.mkdir(p('d/e'), { recursive: true }));
  await note('mkdir existing', fs.mkdir(p('d')));
  await note('mkdir no parent', fs.mkdir(p('x/y')));
  await note('open missing r+', fs.open(p('d/none'), 'r+'));
  const f = await fs.open(p('d/f'), 'wx+');
  await note('open wx+ existing', fs.open(p('d/f'), 'wx+'));
  out.push(`writev ${await f.writev([Buffer.from('abc'), Buffer.from('def')], 2)}`);
  await f.append(Buffer.from('!'));
  await f.datasync();
  out.push(`size ${await f.size()}`);
  const buf = Buffer.alloc(10);
  out.push(`read ${await f.read(buf, 0)} ${buf.toString('hex')}`);
  await f.close();
  out.push(`file ${(await fs.readFile(p('d/f'))).toString('hex')}`);
  await fs.truncate(p('d/f'), 4);
  out.push(`truncated ${(await fs.readFile(p('d/f'))).toString('hex')}`);
  const w = await fs.open(p('d/f'), 'w');
  await w.append(Buffer.from('new'));
  await w.sync();
  await w.close();
  out.push(`rewritten ${(await fs.readFile(p('d/f'))).toString()}`);
  out.push(`stat ${JSON.stringify(await fs.stat(p('d/f')))} dir ${(await fs.stat(p('d'))).isDirectory}`);
  await note('rename onto non-empty dir', fs.rename(p('d/e'), p('d')));
  await note('rename dir onto empty dir', fs.rename(p('d/e'), p('e2')));
  await note('rename file', fs.rename(p('d/f'), p('d/g')));
  await note('rename missing', fs.rename(p('d/f'), p('d/h')));
  await note('unlink dir', fs.unlink(p('d')));
  await note('unlink missing', fs.unlink(p('d/f')));
  await note('rm dir not recursive', fs.rm(p('d')));
  await note('rm missing forced', fs.rm(p('nothing'), { force: true }));
  await note('fsyncDir', fs.fsyncDir(p('d')));
  out.push(
    `readdir ${(await fs.readdir(p('d'))).sort().join(',')} / ${fs.readdirSync(root).sort().join(',')}`,
  );
  await note('readdir missing', fs.readdir(p('nothing')));
  out.push(`exists ${await fs.exists(p('d/g'))} ${await fs.exists(p('d/f'))}`);
  await note('rm recursive', fs.rm(p('d'), { recursive: true }));
  out.push(`after rm ${fs.readdirSync(root).sort().join(',')}`);
  return out;
}

describe('SimFs behaves like node:fs', () => {
  test('same results and error codes for the calls the WAL and snapshotter make', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'simfs-conformance-'));
    try {
      const real = await conformance(realFs, dir);
      const sim = new SimFs();
      await sim.mkdir(dir, { recursive: true });
      assert.deepEqual(await conformance(sim, dir), real);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
