/** Key-range helpers shared by get, del, watch and txn. */

/** The smallest key greater than every key with this prefix; "\0" (all keys) when none exists. */
export function prefixRangeEnd(prefix: Buffer): Buffer {
  const end = Buffer.from(prefix);
  for (let i = end.length - 1; i >= 0; i--) {
    if ((end[i] as number) < 0xff) {
      end[i] = (end[i] as number) + 1;
      return end.subarray(0, i + 1);
    }
  }
  return Buffer.from([0]);
}

export const FROM_KEY_END = Buffer.from([0]);

export function bytes(s: string): Buffer {
  return Buffer.from(s, 'utf8');
}
