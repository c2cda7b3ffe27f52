/**
 * Go's strconv.Quote (what fmt's %q prints) for a byte string: printable
 * UTF-8 kept, the usual escapes, invalid bytes as \x.., other runes as \u/\U.
 */
export function goQuote(input: string | Uint8Array): string {
  const bytes = typeof input === 'string' ? Buffer.from(input, 'utf8') : Buffer.from(input);
  let out = '"';
  let i = 0;
  while (i < bytes.length) {
    const { rune, size } = decodeRune(bytes, i);
    if (rune < 0) {
      out += `\\x${(bytes[i] as number).toString(16).padStart(2, '0')}`;
      i++;
      continue;
    }
    i += size;
    out += quoteRune(rune);
  }
  return `${out}"`;
}

function quoteRune(r: number): string {
  switch (r) {
    case 0x07:
      return '\\a';
    case 0x08:
      return '\\b';
    case 0x0c:
      return '\\f';
    case 0x0a:
      return '\\n';
    case 0x0d:
      return '\\r';
    case 0x09:
      return '\\t';
    case 0x0b:
      return '\\v';
    case 0x22:
      return '\\"';
    case 0x5c:
      return '\\\\';
  }
  if (isPrintable(r)) return String.fromCodePoint(r);
  if (r < 0x20 || r === 0x7f) return `\\x${r.toString(16).padStart(2, '0')}`;
  if (r < 0x10000) return `\\u${r.toString(16).padStart(4, '0')}`;
  return `\\U${r.toString(16).padStart(8, '0')}`;
}

function isPrintable(r: number): boolean {
  if (r < 0x20 || r === 0x7f) return false;
  if (r >= 0x80 && r < 0xa0) return false;
  return /[\p{L}\p{M}\p{N}\p{P}\p{S}\u0020]/u.test(String.fromCodePoint(r));
}

/** One UTF-8 sequence at i; rune -1 for an invalid byte. */
function decodeRune(b: Buffer, i: number): { rune: number; size: number } {
  const c0 = b[i] as number;
  if (c0 < 0x80) return { rune: c0, size: 1 };
  let need: number;
  if (c0 >= 0xc2 && c0 <= 0xdf) need = 1;
  else if (c0 >= 0xe0 && c0 <= 0xef) need = 2;
  else if (c0 >= 0xf0 && c0 <= 0xf4) need = 3;
  else return { rune: -1, size: 1 };
  // The sequence must fit: bytes i+1 .. i+need must exist.
  if (i + need > b.length - 1) return { rune: -1, size: 1 };
  let rune = c0 & (need === 1 ? 0x1f : need === 2 ? 0x0f : 0x07);
  for (let k = 1; k <= need; k++) {
    const c = b[i + k] as number;
    if ((c & 0xc0) !== 0x80) return { rune: -1, size: 1 };
    rune = (rune << 6) | (c & 0x3f);
  }
  const min = need === 1 ? 0x80 : need === 2 ? 0x800 : 0x10000;
  if (rune < min || rune > 0x10ffff || (rune >= 0xd800 && rune <= 0xdfff)) return { rune: -1, size: 1 };
  return { rune, size: need + 1 };
}
