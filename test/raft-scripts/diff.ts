// A small line-based unified diff (LCS), enough for golden transcripts of a few thousand lines.

export function unifiedDiff(expected: string, actual: string, name: string, context = 3): string {
  const a = expected.split('\n');
  const b = actual.split('\n');
  const ops = diffOps(a, b);
  const out = [`--- ${name} (golden)`, `+++ ${name} (actual)`];
  let i = 0;
  while (i < ops.length) {
    if (ops[i].kind === ' ') {
      i++;
      continue;
    }
    // Grow a hunk around this change, merging changes closer than 2*context lines.
    const start = Math.max(0, i - context);
    let end = i;
    let lastChange = i;
    while (end < ops.length && end - lastChange <= 2 * context) {
      if (ops[end].kind !== ' ') lastChange = end;
      end++;
    }
    end = Math.min(ops.length, lastChange + context + 1);
    const hunk = ops.slice(start, end);
    const aStart = hunk.find((o) => o.kind !== '+')?.ai ?? 0;
    const bStart = hunk.find((o) => o.kind !== '-')?.bi ?? 0;
    const aLen = hunk.filter((o) => o.kind !== '+').length;
    const bLen = hunk.filter((o) => o.kind !== '-').length;
    out.push(`@@ -${aStart + 1},${aLen} +${bStart + 1},${bLen} @@`);
    for (const o of hunk) out.push(`${o.kind}${o.text}`);
    i = end;
  }
  return out.join('\n');
}

interface Op {
  kind: ' ' | '-' | '+';
  text: string;
  ai: number;
  bi: number;
}

function diffOps(a: string[], b: string[]): Op[] {
  const n = a.length;
  const m = b.length;
  // lcs[i][j] = length of the LCS of a[i..] and b[j..].
  const lcs: Uint32Array[] = Array.from({ length: n + 1 }, () => new Uint32Array(m + 1));
  for (let i = n - 1; i >= 0; i--)
    for (let j = m - 1; j >= 0; j--)
      lcs[i][j] = a[i] === b[j] ? lcs[i + 1][j + 1] + 1 : Math.max(lcs[i + 1][j], lcs[i][j + 1]);
  const ops: Op[] = [];
  let i = 0;
  let j = 0;
  while (i < n || j < m) {
    if (i < n && j < m && a[i] === b[j]) {
      ops.push({ kind: ' ', text: a[i], ai: i++, bi: j++ });
    } else if (i < n && (j >= m || lcs[i + 1][j] >= lcs[i][j + 1])) {
      ops.push({ kind: '-', text: a[i], ai: i++, bi: j });
    } else {
      ops.push({ kind: '+', text: b[j], ai: i, bi: j++ });
    }
  }
  return ops;
}
