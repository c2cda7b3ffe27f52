// The generated protobuf code in src/pb is checked in; this regenerates it from
// proto/ into a temp dir and fails if anything differs, so the two never drift.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

const repo = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');

function listFiles(root: string, dir = root): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) out.push(...listFiles(root, path));
    else out.push(relative(root, path));
  }
  return out.sort();
}

test('src/pb is exactly what scripts/gen-proto.sh generates from proto/', () => {
  const out = mkdtempSync(join(tmpdir(), 'pb-'));
  try {
    execFileSync('bash', ['scripts/gen-proto.sh'], {
      cwd: repo,
      env: { ...process.env, PB_OUT: out },
      stdio: 'pipe',
    });
    const checkedIn = join(repo, 'src', 'pb');
    const files = listFiles(checkedIn);
    assert.deepEqual(listFiles(out), files);
    for (const f of files) {
      assert.equal(readFileSync(join(out, f), 'utf8'), readFileSync(join(checkedIn, f), 'utf8'), f);
    }
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
});
