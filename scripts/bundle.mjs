// Bundles the compiled etcdctl into one file (dist/bundle/etcdctl.mjs) so a
// command starts in about half the time: Node's ESM loader spends most of a
// short command resolving and reading the ~100 small modules one by one
// (docs/decisions/0009-etcdctl-bundle.md). bin/etcdctl prefers the bundle and
// falls back to the module tree when it is missing.
import { build } from 'esbuild';

await build({
  entryPoints: ['dist/src/cmd/etcdctl/main.js'],
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  outfile: 'dist/bundle/etcdctl.mjs',
  logLevel: 'warning',
});
