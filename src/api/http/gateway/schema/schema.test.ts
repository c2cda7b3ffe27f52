// The checked-in table must say what proto/ says (regenerate with generate.ts),
// and the gateway's routes must all name methods it knows.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { GATEWAY_ROUTES } from '../routes.js';
import { ETCD_SCHEMA } from './etcd-schema.gen.js';
import { buildSchema } from './generate.js';

/** The checkout this compiled test belongs to: the nearest directory above with proto/ and package.json. */
function findRepo(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!(existsSync(join(dir, 'proto')) && existsSync(join(dir, 'package.json')))) {
    const up = resolve(dir, '..');
    if (up === dir) throw new Error('proto/ not found above this test');
    dir = up;
  }
  return dir;
}

function hasProtoc(): boolean {
  try {
    execFileSync('protoc', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

test('etcd-schema.gen.ts is what generate.ts makes of proto/', {
  skip: !hasProtoc() && 'protoc not installed',
}, () => {
  const fresh = buildSchema(join(findRepo(), 'proto'));
  assert.deepEqual(JSON.parse(JSON.stringify(ETCD_SCHEMA)), JSON.parse(JSON.stringify(fresh)));
});

test('every gateway route names a method of the table, and every message it uses is known', () => {
  for (const [path, method] of Object.entries(GATEWAY_ROUTES)) {
    const m = ETCD_SCHEMA.methods[method];
    assert.ok(m, `${path} -> ${method}`);
    assert.ok(ETCD_SCHEMA.messages[m.in], m.in);
    assert.ok(ETCD_SCHEMA.messages[m.out], m.out);
  }
  for (const m of Object.values(ETCD_SCHEMA.messages)) {
    for (const f of m.fields) {
      if (f.kind === 'message') assert.ok(ETCD_SCHEMA.messages[f.ref ?? ''], `${m.go}.${f.name}`);
      if (f.kind === 'enum') assert.ok(ETCD_SCHEMA.enums[f.ref ?? ''], `${m.go}.${f.name}`);
    }
  }
});
