// Base64 as Go's encoding/json reads and writes []byte: the standard alphabet
// with padding (base64.StdEncoding). Decoding reports the offset Go reports
// ("illegal base64 data at input byte N"), since etcd's gateway passes that
// text on to the client.

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
const PAD = 0x3d; // '='
const CR = 0x0d;
const LF = 0x0a;

const DECODE = new Int16Array(256).fill(-1);
for (let i = 0; i < ALPHABET.length; i++) DECODE[ALPHABET.charCodeAt(i)] = i;

export class Base64Error extends Error {
  override readonly name = 'Base64Error';
  constructor(readonly offset: number) {
    super(`illegal base64 data at input byte ${offset}`);
  }
}

export function encodeStdBase64(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64');
}

/**
 * Decodes like Go's base64.StdEncoding.Decode: quanta of four symbols, CR and
 * LF ignored anywhere, padding required, nothing after the padding. The
 * offsets of errors follow Go's rules (a short last quantum is reported at
 * its start).
 */
export function decodeStdBase64(src: Uint8Array): Uint8Array {
  const out = new Uint8Array(Math.floor(src.length / 4) * 3 + 3);
  let n = 0;
  let si = 0;
  const q = [0, 0, 0, 0];
  while (si < src.length) {
    let len = 4;
    let end = false;
    for (let j = 0; j < 4; j++) {
      if (si === src.length) {
        if (j === 0) return out.subarray(0, n);
        // Input ended inside a quantum: padding was required.
        throw new Base64Error(si - j);
      }
      const c = src[si] as number;
      si++;
      const v = DECODE[c] as number;
      if (v >= 0) {
        q[j] = v;
        continue;
      }
      if (c === LF || c === CR) {
        j--;
        continue;
      }
      if (c !== PAD) throw new Base64Error(si - 1);
      // Padding: valid only as the third or fourth symbol of the last quantum.
      if (j < 2) throw new Base64Error(si - 1);
      if (j === 2) {
        while (si < src.length && (src[si] === LF || src[si] === CR)) si++;
        if (si === src.length) throw new Base64Error(src.length);
        if (src[si] !== PAD) throw new Base64Error(si - 1);
        si++;
      }
      while (si < src.length && (src[si] === LF || src[si] === CR)) si++;
      if (si < src.length) throw new Base64Error(si);
      len = j;
      end = true;
      break;
    }
    const val =
      ((q[0] as number) << 18) | ((q[1] as number) << 12) | ((q[2] as number) << 6) | (q[3] as number);
    if (len === 4) {
      out[n++] = (val >> 16) & 0xff;
      out[n++] = (val >> 8) & 0xff;
      out[n++] = val & 0xff;
    } else if (len === 3) {
      out[n++] = (val >> 16) & 0xff;
      out[n++] = (val >> 8) & 0xff;
    } else {
      out[n++] = (val >> 16) & 0xff;
    }
    if (end) break;
    q[0] = q[1] = q[2] = q[3] = 0;
  }
  return out.subarray(0, n);
}
