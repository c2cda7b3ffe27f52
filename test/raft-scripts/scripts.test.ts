// Golden-transcript tests: each *.txt scenario here is run and must reproduce itself exactly.
// UPDATE_GOLDEN=1 rewrites the files with the actual transcripts (review the git diff!).
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { unifiedDiff } from './diff.js';
import { runScript } from './run-script.js';

/** The .txt files live next to the .ts sources, not in the build output: find them via the source map. */
function scriptsDir(): string {
  const here = fileURLToPath(import.meta.url);
  const candidates: string[] = [];
  if (process.env.RAFT_SCRIPTS_DIR) candidates.push(process.env.RAFT_SCRIPTS_DIR);
  const map = `${here}.map`;
  if (existsSync(map)) {
    const sources = (JSON.parse(readFileSync(map, 'utf8')) as { sources?: string[] }).sources ?? [];
    if (sources[0] !== undefined) candidates.push(dirname(resolve(dirname(map), sources[0])));
  }
  candidates.push(resolve(process.cwd(), 'test/raft-scripts'), dirname(here));
  const found = candidates.find((d) => existsSync(d) && readdirSync(d).some((f) => f.endsWith('.txt')));
  if (found === undefined) throw new Error(`no scenario .txt files in ${candidates.join(', ')}`);
  return found;
}

const dir = scriptsDir();
const files = readdirSync(dir)
  .filter((f) => f.endsWith('.txt'))
  .sort();

test('scenario files are present', () => {
  assert.ok(files.length >= 11, `expected at least 11 scenarios in ${dir}, found ${files.length}`);
});

for (const file of files) {
  test(`raft script ${file}`, () => {
    const path = join(dir, file);
    const golden = readFileSync(path, 'utf8');
    const actual = runScript(golden);
    if (actual === golden) return;
    if (process.env.UPDATE_GOLDEN === '1') {
      writeFileSync(path, actual);
      return;
    }
    assert.fail(
      `transcript differs from ${path} (UPDATE_GOLDEN=1 to rewrite)\n${unifiedDiff(golden, actual, file)}`,
    );
  });
}
