// Creating a directory so that it survives a crash: each component made is fsynced into its parent.
import { dirname } from 'node:path';
import type { FileSystem } from './file-system.js';

/** mkdir -p, then fsync of the parent of every directory it created (and of `path` itself). */
export async function mkdirDurable(fs: FileSystem, path: string): Promise<void> {
  const missing: string[] = [];
  for (let p = path; !(await fs.exists(p)); p = dirname(p)) missing.push(p);
  await fs.mkdir(path, { recursive: true });
  for (const dir of missing.reverse()) await fs.fsyncDir(dirname(dir));
  await fs.fsyncDir(path);
}
