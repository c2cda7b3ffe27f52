// Child process for the kill -9 test: appends synced saves forever, printing each acknowledged index.
import { Wal } from './index.js';

const [dir, mode] = process.argv.slice(2);
if (!dir || (mode !== 'create' && mode !== 'open')) throw new Error('usage: crash-child <dir> create|open');
const opts = { segmentBytes: 8 * 1024 };
const wal =
  mode === 'create'
    ? await Wal.create(dir, new Uint8Array([7]), undefined, opts)
    : (await Wal.open(dir, { index: 0, term: 0 }, undefined, opts)).wal;
const data = new Uint8Array(100).fill(5);
for (let i = wal.lastIndex() + 1; ; i += 3) {
  const entries = [0, 1, 2].map((k) => ({ term: 1, index: i + k, type: 0 as const, data }));
  await wal.save({ term: 1, vote: 1n, commit: i }, entries, true);
  process.stdout.write(`${i + 2}\n`);
}
