/**
 * A text table in the layout etcdctl prints with `-w table`: +---+ borders,
 * centred upper-case headers, right-aligned cells, cells wider than 30
 * columns wrapped on spaces (minimum-raggedness), extra lines for wrapped
 * cells.
 */
const MAX_CELL_WIDTH = 30;
const WRAP_PENALTY = 1e5;

export function renderTable(header: string[], rows: string[][]): string {
  const widths = new Map<number, number>();
  const fit = (col: number, width: number) => {
    const w = widths.get(col);
    if (w === undefined || w < width || w === 0) widths.set(col, width);
  };
  const headCells = header.map((h, i) => {
    const cell = layoutCell(h);
    fit(i, cell.width);
    return cell.lines;
  });
  const bodyRows = rows.map((row) =>
    row.map((text, i) => {
      const cell = layoutCell(text);
      fit(i, cell.width);
      return cell.lines;
    }),
  );
  const cols = widths.size;
  const width = (i: number) => widths.get(i) ?? 0;
  let out = '';
  const rule = () => {
    let line = '+';
    for (let i = 0; i < cols; i++) line += `${'-'.repeat(width(i) + 2)}+`;
    return `${line}\n`;
  };
  out += rule();
  const headHeight = Math.max(0, ...headCells.map((c) => c.length));
  for (let x = 0; x < headHeight; x++) {
    let line = '|';
    for (let y = 0; y < cols; y++) {
      const text = title(headCells[y]?.[x] ?? '');
      line += ` ${padCenter(text, width(y))} |`;
    }
    out += `${line}\n`;
  }
  out += rule();
  for (const row of bodyRows) {
    const height = Math.max(0, ...row.map((c) => c.length));
    for (let x = 0; x < height; x++) {
      let line = '';
      for (let y = 0; y < row.length; y++) {
        // Short cells are filled with two-space lines, as the Go library does.
        const text = (row[y] as string[])[x] ?? '  ';
        line += `| ${padLeft(text, width(y))} `;
      }
      out += `${line}|\n`;
    }
  }
  out += rule();
  return out;
}

/** A cell's lines and the column width it asks for (its capped natural width or its widest line). */
function layoutCell(text: string): { lines: string[]; width: number } {
  const raw = text.split('\n');
  const capped = Math.min(maxWidth(raw), MAX_CELL_WIDTH);
  // Multi-line cells are re-flowed into one paragraph before wrapping.
  const words = raw.join(' ').split(' ');
  let limit = capped;
  for (const w of words) limit = Math.max(limit, displayWidth(w));
  const lines = wrapWords(words, limit).map((line) => line.join(' '));
  return { lines, width: Math.max(capped, maxWidth(lines)) };
}

/** Splits words into lines of at most `limit` columns minimising the squared slack. */
export function wrapWords(words: string[], limit: number): string[][] {
  const n = words.length;
  const lengths: number[][] = [];
  for (let i = 0; i < n; i++) {
    const row: number[] = new Array(n).fill(0);
    row[i] = displayWidth(words[i] as string);
    for (let j = i + 1; j < n; j++) row[j] = (row[j - 1] as number) + 1 + displayWidth(words[j] as string);
    lengths.push(row);
  }
  const breakAt: number[] = new Array(n).fill(0);
  const cost: number[] = new Array(n).fill(2 ** 31 - 1);
  for (let i = n - 1; i >= 0; i--) {
    const li = lengths[i] as number[];
    if ((li[n - 1] as number) <= limit) {
      cost[i] = 0;
      breakAt[i] = n;
      continue;
    }
    for (let j = i + 1; j < n; j++) {
      const len = li[j - 1] as number;
      const slack = limit - len;
      let c = slack * slack + (cost[j] as number);
      if (len > limit) c += WRAP_PENALTY;
      if (c < (cost[i] as number)) {
        cost[i] = c;
        breakAt[i] = j;
      }
    }
  }
  const lines: string[][] = [];
  for (let i = 0; i < n; ) {
    const next = breakAt[i] as number;
    if (next <= i) throw new Error('wrapWords: a word is wider than the limit');
    lines.push(words.slice(i, next));
    i = next;
  }
  return lines;
}

function maxWidth(lines: string[]): number {
  return Math.max(0, ...lines.map(displayWidth));
}

export function displayWidth(s: string): number {
  let w = 0;
  for (const ch of s) w += isWide(ch.codePointAt(0) as number) ? 2 : 1;
  return w;
}

function isWide(c: number): boolean {
  return (
    (c >= 0x1100 && c <= 0x115f) ||
    (c >= 0x2e80 && c <= 0xa4cf) ||
    (c >= 0xac00 && c <= 0xd7a3) ||
    (c >= 0xf900 && c <= 0xfaff) ||
    (c >= 0xfe30 && c <= 0xfe4f) ||
    (c >= 0xff00 && c <= 0xff60) ||
    (c >= 0xffe0 && c <= 0xffe6) ||
    (c >= 0x1f300 && c <= 0x1faff) ||
    (c >= 0x20000 && c <= 0x3fffd)
  );
}

/** The header text transformation: '_' (and '.' between non-digits) become spaces, then upper case. */
function title(name: string): string {
  const chars = [...name];
  for (let i = 0; i < chars.length; i++) {
    const c = chars[i];
    if (c === '_') chars[i] = ' ';
    else if (c === '.') {
      const before = i !== 0 && !isDigitOrSpace(chars[i - 1] as string);
      const after = i !== chars.length - 1 && !isDigitOrSpace(chars[i + 1] as string);
      if (before || after) chars[i] = ' ';
    }
  }
  let t = chars.join('').trim();
  if (t.length === 0 && name.length > 0) t = ' ';
  return t.toUpperCase();
}

function isDigitOrSpace(c: string): boolean {
  return (c >= '0' && c <= '9') || c === ' ';
}

function padCenter(s: string, width: number): string {
  const gap = width - displayWidth(s);
  if (gap <= 0) return s;
  const left = Math.floor(gap / 2);
  return ' '.repeat(left) + s + ' '.repeat(gap - left);
}

function padLeft(s: string, width: number): string {
  const gap = width - displayWidth(s);
  return gap > 0 ? ' '.repeat(gap) + s : s;
}
