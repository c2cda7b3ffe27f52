// Bundles the compiled etcdctl into one file (dist/bundle/etcdctl.mjs) so a
// command starts in about half the time: Node's ESM loader spends most of a
// short command resolving and reading the ~100 small modules one by one
// (docs/decisions/0009-etcdctl-bundle.md). bin/etcdctl prefers the bundle and
// falls back to the module tree when it is missing.
// Packages with native code (LMDB, crc32c) cannot be bundled: they stay imports
// of node_modules, and the snapshot file commands that need them are loaded on
// demand (a chunk under dist/bundle/chunks/), so other commands never load them.
import { rmSync } from 'node:fs';
import { build } from 'esbuild';

rmSync('dist/bundle', { recursive: true, force: true });
await build({
  entryPoints: { etcdctl: 'dist/src/cmd/etcdctl/main.js' },
  bundle: true,
  splitting: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  outdir: 'dist/bundle',
  outExtension: { '.js': '.mjs' },
  chunkNames: 'chunks/[name]-[hash]',
  external: ['lmdb', '@node-rs/*'],
  logLevel: 'warning',
});
