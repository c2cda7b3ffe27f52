// Go's package path (Clean, Join, Split), which the v2 store and its HTTP API
// use on every key: "/1/a/../b//c/" names "/1/b/c".

/** Go's path.Clean: the shortest equivalent path ("." for an empty one). */
export function cleanPath(p: string): string {
  if (p === '') return '.';
  const rooted = p.startsWith('/');
  const out: string[] = [];
  for (const seg of p.split('/')) {
    if (seg === '' || seg === '.') continue;
    if (seg === '..') {
      if (out.length > 0 && out[out.length - 1] !== '..') out.pop();
      else if (!rooted) out.push('..');
      continue;
    }
    out.push(seg);
  }
  const joined = out.join('/');
  if (rooted) return `/${joined}`;
  return joined === '' ? '.' : joined;
}

/** Go's path.Join: the non-empty elements joined by "/", cleaned ("" when all are empty). */
export function joinPath(...elems: string[]): string {
  const parts = elems.filter((e) => e !== '');
  return parts.length === 0 ? '' : cleanPath(parts.join('/'));
}

/** Go's path.Split: [everything up to and including the last "/", the rest]. */
export function splitPath(p: string): [string, string] {
  const i = p.lastIndexOf('/');
  return [p.slice(0, i + 1), p.slice(i + 1)];
}

/** The path's components below the root ("/1/a/b" -> ["1", "a", "b"]). */
export function components(p: string): string[] {
  return p.split('/').filter((c) => c !== '');
}
