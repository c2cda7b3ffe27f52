/** Reading Go-quoted strings ("..." with escapes, or `raw`) as fmt's %q verb scans them. */

export interface Scanned {
  value: string;
  /** Index just after the closing quote. */
  end: number;
}

/** Scans a quoted string starting at `pos` (leading spaces skipped); undefined if there is none. */
export function scanGoQuoted(s: string, pos: number): Scanned | undefined {
  let i = pos;
  while (s[i] === ' ' || s[i] === '\t') i++;
  const q = s[i];
  if (q === '`') {
    const close = s.indexOf('`', i + 1);
    return close < 0 ? undefined : { value: s.slice(i + 1, close), end: close + 1 };
  }
  if (q !== '"') return undefined;
  const bytes: number[] = [];
  const pushText = (t: string) => bytes.push(...Buffer.from(t, 'utf8'));
  i++;
  while (i < s.length) {
    const c = s[i] as string;
    if (c === '"') return { value: Buffer.from(bytes).toString('utf8'), end: i + 1 };
    if (c !== '\\') {
      pushText(c);
      i++;
      continue;
    }
    const e = s[i + 1];
    const simple: Record<string, number> = {
      a: 7,
      b: 8,
      f: 12,
      n: 10,
      r: 13,
      t: 9,
      v: 11,
      '\\': 92,
      '"': 34,
      "'": 39,
    };
    if (e !== undefined && simple[e] !== undefined) {
      bytes.push(simple[e] as number);
      i += 2;
    } else if (e === 'x' && /^[0-9a-fA-F]{2}$/.test(s.slice(i + 2, i + 4))) {
      bytes.push(Number.parseInt(s.slice(i + 2, i + 4), 16));
      i += 4;
    } else if (e === 'u' && /^[0-9a-fA-F]{4}$/.test(s.slice(i + 2, i + 6))) {
      pushText(String.fromCodePoint(Number.parseInt(s.slice(i + 2, i + 6), 16)));
      i += 6;
    } else if (e === 'U' && /^[0-9a-fA-F]{8}$/.test(s.slice(i + 2, i + 10))) {
      pushText(String.fromCodePoint(Number.parseInt(s.slice(i + 2, i + 10), 16)));
      i += 10;
    } else if (e !== undefined && /^[0-7]{3}$/.test(s.slice(i + 1, i + 4))) {
      bytes.push(Number.parseInt(s.slice(i + 1, i + 4), 8) & 0xff);
      i += 4;
    } else return undefined;
  }
  return undefined;
}

/**
 * Splits a txn request line into arguments as etcdctl does: "double-quoted"
 * (Go-unquoted), 'single-quoted', or bare words.
 */
export function argify(line: string): string[] {
  const re = /"(?:[^"\\]|\\.)*"|'[^']*'|[^'"\s]\S*[^'"\s]?/g;
  const found = line.match(re) ?? [];
  return found.map((arg) => {
    if (arg.startsWith("'")) {
      // etcdctl slices by the number of arguments here (a quirk kept for identical results).
      const end = found.length - 1;
      if (end < 1 || end > arg.length) throw new Error(`slice bounds out of range [1:${end}]`);
      return arg.slice(1, end);
    }
    if (arg.startsWith('"')) {
      const scanned = scanGoQuoted(arg, 0);
      if (scanned === undefined) throw new Error('invalid syntax');
      return scanned.value;
    }
    return arg;
  });
}
