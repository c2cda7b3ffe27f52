// No ambient nondeterminism in a member (issue 8): the modules that run inside
// a member under the whole-server simulator read the time, arm timers, draw
// random numbers and touch the disk only through the injected interfaces
// (runtime/clock.ts Clock, fs/ FileSystem, StorageIo.random, the
// NetworkFactory). A direct call would make a seed stop replaying, or escape
// the simulated faults. The files that ARE the real implementations are listed
// below, each with how many uses it may have and why; a new use anywhere fails.
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { ALLOWED, findAmbient, SCANNED_DIRS } from './ambient-rules.js';

/** The repository root: the nearest ancestor holding package.json and src/server (works from dist/ and .build/). */
function repoRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (existsSync(join(dir, 'package.json')) && existsSync(join(dir, 'src', 'server'))) return dir;
    const up = dirname(dir);
    if (up === dir) throw new Error('repository root not found');
    dir = up;
  }
}

function sourceFiles(dir: string): string[] {
  const out: string[] = [];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...sourceFiles(p));
    else if (e.name.endsWith('.ts') && !e.name.endsWith('.test.ts') && !e.name.endsWith('.d.ts')) out.push(p);
  }
  return out.sort();
}

describe('no ambient nondeterminism in a member', () => {
  test('the scanner finds each kind of ambient call and ignores comments, strings and methods', () => {
    const code = [
      "import { readFile } from 'node:fs/promises';",
      "import * as fs from 'fs';",
      "import { setTimeout as sleep } from 'node:timers/promises';",
      'const a = Date.now();',
      'const b = new Date();',
      'const c = new Date(5); // fine: a given time',
      'setTimeout(() => 1, 5); setInterval(f, 1); setImmediate(f);',
      'const d = performance.now() + process.hrtime.bigint() + Math.random();',
      "const e = randomBytes(4); const f2 = require('fs');",
      '// Date.now() in a comment, setTimeout too',
      "const s = 'Math.random() in a string';",
      'socket.setTimeout(0); this.setImmediate(x); clock.now();',
    ].join('\n');
    const kinds = findAmbient(code).map((f) => f.what);
    assert.deepEqual(kinds.sort(), [
      'Date.now',
      'Math.random',
      'crypto random',
      'new Date()',
      'node:fs',
      'node:fs',
      'node:fs',
      'node:timers',
      'performance.now',
      'process.hrtime',
      'setImmediate',
      'setInterval',
      'setTimeout',
    ]);
  });

  test(`${SCANNED_DIRS.join(', ')} use time, randomness and the disk only through the injected interfaces`, () => {
    const root = repoRoot();
    const found = new Map<string, Map<string, number>>();
    for (const dir of SCANNED_DIRS) {
      for (const file of sourceFiles(join(root, dir))) {
        const rel = relative(root, file).split('\\').join('/');
        for (const f of findAmbient(readFileSync(file, 'utf8'))) {
          const perFile = found.get(rel) ?? new Map<string, number>();
          perFile.set(f.what, (perFile.get(f.what) ?? 0) + 1);
          found.set(rel, perFile);
        }
      }
    }
    const problems: string[] = [];
    for (const [file, uses] of found) {
      for (const [what, n] of uses) {
        const allowed = ALLOWED.find((a) => a.file === file && (a.what === what || a.what === '*'));
        if (allowed === undefined)
          problems.push(`${file}: ${n} × ${what} (use the injected Clock/FileSystem/random)`);
        else if (allowed.count !== undefined && n > allowed.count)
          problems.push(`${file}: ${n} × ${what}, the allow-list says ${allowed.count}`);
      }
    }
    // A stale entry hides the next real violation: keep the list exact.
    for (const a of ALLOWED) {
      const n = a.what === '*' ? (found.has(a.file) ? 1 : 0) : (found.get(a.file)?.get(a.what) ?? 0);
      if (n < (a.count ?? 1))
        problems.push(
          `allow-list entry ${a.file} ${a.what} × ${a.count ?? 'any'} is stale (found ${n}): lower or remove it`,
        );
    }
    assert.deepEqual(problems, []);
  });
});
