// Keys inside the hub are latin1 strings: one UTF-16 code unit per byte (0..255), so
// JavaScript's string comparison orders them exactly like bytes.Compare, and they can
// be Map keys. A range end of "+infinity" (etcd's "\0" from-key end) is a one-char
// string above every byte (U+0100), so all comparisons stay plain `<`.

/** Greater than every latin1-encoded key. */
export const KEY_INFINITY = '\u0100';

export function toKeyString(key: Uint8Array): string {
  if (key.length <= 16) {
    let s = '';
    for (let i = 0; i < key.length; i++) s += String.fromCharCode(key[i]!);
    return s;
  }
  return Buffer.from(key.buffer, key.byteOffset, key.byteLength).toString('latin1');
}

export function fromKeyString(key: string): Uint8Array {
  return Buffer.from(key, 'latin1');
}

/** A watched key range in key-string form. `end` undefined: the single key `start`. */
export interface KeyRange {
  start: string;
  end: string | undefined;
}

/**
 * The range a create request asks for, with etcd's conventions: an empty key is "\0";
 * an empty range end watches the single key; a range end of "\0" watches every key >=
 * key. Returns undefined for a range that holds no key (end <= key), which etcd rejects.
 */
export function requestRange(key: Uint8Array, rangeEnd: Uint8Array | undefined): KeyRange | undefined {
  const start = key.length === 0 ? '\0' : toKeyString(key);
  if (rangeEnd === undefined || rangeEnd.length === 0) return { start, end: undefined };
  if (rangeEnd.length === 1 && rangeEnd[0] === 0) return { start, end: KEY_INFINITY };
  const end = toKeyString(rangeEnd);
  return start < end ? { start, end } : undefined;
}

export function rangeContains(r: KeyRange, key: string): boolean {
  return r.end === undefined ? key === r.start : r.start <= key && key < r.end;
}
