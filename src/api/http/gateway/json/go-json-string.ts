// Strings written the way Go's encoding/json writes them (what jsonpb uses for
// every string it outputs): <, > and & escaped as \u003c \u003e \u0026,
// U+2028/U+2029 escaped, control characters as \n \r \t or \u00XX, and each
// byte of invalid UTF-8 replaced by \ufffd.

const HEX = '0123456789abcdef';

/** Go's json encoding of a string given as UTF-8 bytes (as a protobuf string field holds it). */
export function goJsonStringFromBytes(b: Uint8Array): string {
  let out = '"';
  let start = 0;
  let i = 0;
  const flush = (end: number) => {
    if (end > start) out += Buffer.from(b.buffer, b.byteOffset + start, end - start).toString('utf8');
  };
  while (i < b.length) {
    const c = b[i] as number;
    if (c < 0x80) {
      if (c >= 0x20 && c !== 0x22 && c !== 0x5c && c !== 0x3c && c !== 0x3e && c !== 0x26) {
        i++;
        continue;
      }
      flush(i);
      if (c === 0x22 || c === 0x5c) out += `\\${String.fromCharCode(c)}`;
      else if (c === 0x0a) out += '\\n';
      else if (c === 0x0d) out += '\\r';
      else if (c === 0x09) out += '\\t';
      else out += `\\u00${HEX[c >> 4]}${HEX[c & 0xf]}`;
      i++;
      start = i;
      continue;
    }
    const size = utf8SequenceLength(b, i);
    if (size === 0) {
      flush(i);
      out += '\\ufffd';
      i++;
      start = i;
      continue;
    }
    // U+2028 and U+2029 (E2 80 A8 / E2 80 A9) break JavaScript parsers: Go escapes them.
    if (size === 3 && c === 0xe2 && b[i + 1] === 0x80 && ((b[i + 2] as number) & 0xfe) === 0xa8) {
      flush(i);
      out += b[i + 2] === 0xa8 ? '\\u2028' : '\\u2029';
      i += 3;
      start = i;
      continue;
    }
    i += size;
  }
  flush(i);
  return `${out}"`;
}

/** Go's json encoding of a JS string. */
export function goJsonString(s: string): string {
  return goJsonStringFromBytes(Buffer.from(s, 'utf8'));
}

/** Length of the valid UTF-8 sequence at i, or 0 if the byte there does not start one. */
function utf8SequenceLength(b: Uint8Array, i: number): number {
  const c = b[i] as number;
  const cont = (k: number) => {
    const x = b[i + k];
    return x !== undefined && (x & 0xc0) === 0x80;
  };
  if (c >= 0xc2 && c <= 0xdf) return cont(1) ? 2 : 0;
  if (c >= 0xe0 && c <= 0xef) {
    if (!cont(1) || !cont(2)) return 0;
    const c1 = b[i + 1] as number;
    if (c === 0xe0 && c1 < 0xa0) return 0; // overlong
    if (c === 0xed && c1 >= 0xa0) return 0; // surrogate
    return 3;
  }
  if (c >= 0xf0 && c <= 0xf4) {
    if (!cont(1) || !cont(2) || !cont(3)) return 0;
    const c1 = b[i + 1] as number;
    if (c === 0xf0 && c1 < 0x90) return 0; // overlong
    if (c === 0xf4 && c1 >= 0x90) return 0; // beyond U+10FFFF
    return 4;
  }
  return 0;
}
