// Cheap change detection for certificate files: one stat per file. A file
// replaced by rename (new inode), rewritten in place (size/mtime) or touched
// (ctime) gets a new signature; so does a file that appears or disappears.
import { statSync } from 'node:fs';

export function filesSignature(paths: readonly string[]): string {
  return paths
    .map((p) => {
      try {
        const s = statSync(p, { bigint: true });
        return `${s.ino}:${s.size}:${s.mtimeNs}:${s.ctimeNs}`;
      } catch (e) {
        return `missing:${(e as NodeJS.ErrnoException).code ?? ''}`;
      }
    })
    .join('|');
}
