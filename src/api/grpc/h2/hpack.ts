/**
 * HPACK (RFC 7541) for the gRPC HTTP/2 server: a complete decoder (static and
 * dynamic table, integers, literals, Huffman) and the few encoder primitives
 * the server needs for its small, fixed set of response headers.
 */
import { HUFFMAN_CODES, HUFFMAN_LENGTHS, STATIC_TABLE } from './hpack-tables.js';

export class HpackError extends Error {}

/**
 * Huffman decoding tree in one flat array: node n's children are at 2n and
 * 2n+1; a negative entry is a leaf holding -(symbol + 1).
 */
const HUFFMAN_TREE: Int32Array = (() => {
  const tree: number[] = [0, 0];
  let nodes = 1;
  for (let sym = 0; sym < 256; sym++) {
    const code = HUFFMAN_CODES[sym]!;
    const len = HUFFMAN_LENGTHS[sym]!;
    let node = 0;
    for (let bit = len - 1; bit >= 0; bit--) {
      const slot = 2 * node + ((code >>> bit) & 1);
      if (bit === 0) {
        tree[slot] = -(sym + 1);
      } else {
        if (!tree[slot]) {
          tree[slot] = nodes++;
          tree.push(0, 0);
        }
        node = tree[slot]!;
      }
    }
  }
  return Int32Array.from(tree);
})();

function huffmanDecode(buf: Buffer, start: number, end: number): string {
  let out = '';
  let node = 0;
  let depth = 0;
  /** The bits since the last symbol are all ones (so far a prefix of EOS). */
  let ones = true;
  for (let i = start; i < end; i++) {
    const byte = buf[i]!;
    for (let bit = 7; bit >= 0; bit--) {
      const b = (byte >>> bit) & 1;
      const next = HUFFMAN_TREE[2 * node + b]!;
      if (next < 0) {
        out += String.fromCharCode(-next - 1);
        node = 0;
        depth = 0;
        ones = true;
      } else if (next === 0) {
        throw new HpackError('invalid Huffman code');
      } else {
        node = next;
        depth++;
        if (b === 0) ones = false;
      }
    }
  }
  // RFC 7541 §5.2: padding must be a prefix of EOS (all ones) and shorter than a byte.
  if (depth > 7 || (depth > 0 && !ones)) throw new HpackError('invalid Huffman padding');
  return out;
}

const ENTRY_OVERHEAD = 32;

export class HpackDecoder {
  /** Newest entry first. */
  private readonly dynamic: Array<readonly [string, string]> = [];
  private size = 0;
  private maxSize: number;
  private pos = 0;

  /** `limit` is our SETTINGS_HEADER_TABLE_SIZE (4096 unless we advertise otherwise). */
  constructor(
    private readonly limit = 4096,
    /** Bound on decoded name+value bytes of one header block. */
    private readonly maxListBytes = 1 << 20,
  ) {
    this.maxSize = limit;
  }

  /** Decodes one complete header block into `out` (repeated names are joined with ", "). */
  decode(block: Buffer, out: Record<string, string>): void {
    this.pos = 0;
    let listBytes = 0;
    while (this.pos < block.length) {
      const b = block[this.pos]!;
      let field: readonly [string, string];
      if (b & 0x80) {
        field = this.entry(this.int(block, 7));
      } else if (b & 0x40) {
        field = this.literal(block, 6);
        this.insert(field);
      } else if (b & 0x20) {
        const size = this.int(block, 5);
        if (size > this.limit) throw new HpackError('table size update above the advertised limit');
        this.maxSize = size;
        this.evict();
        continue;
      } else {
        field = this.literal(block, 4);
      }
      listBytes += field[0].length + field[1].length + ENTRY_OVERHEAD;
      if (listBytes > this.maxListBytes) throw new HpackError('header list too large');
      const [name, value] = field;
      const previous = out[name];
      out[name] = previous === undefined ? value : `${previous}, ${value}`;
    }
  }

  private literal(block: Buffer, prefix: number): readonly [string, string] {
    const index = this.int(block, prefix);
    const name = index === 0 ? this.str(block) : this.entry(index)[0];
    return [name, this.str(block)];
  }

  private entry(index: number): readonly [string, string] {
    if (index >= 1 && index <= STATIC_TABLE.length) return STATIC_TABLE[index - 1]!;
    const e = this.dynamic[index - STATIC_TABLE.length - 1];
    if (!e) throw new HpackError(`header index ${index} out of range`);
    return e;
  }

  private insert(field: readonly [string, string]): void {
    this.dynamic.unshift(field);
    this.size += field[0].length + field[1].length + ENTRY_OVERHEAD;
    this.evict();
  }

  private evict(): void {
    while (this.size > this.maxSize) {
      const e = this.dynamic.pop()!;
      this.size -= e[0].length + e[1].length + ENTRY_OVERHEAD;
    }
  }

  private int(block: Buffer, prefix: number): number {
    if (this.pos >= block.length) throw new HpackError('truncated header block');
    const mask = (1 << prefix) - 1;
    const value = block[this.pos++]! & mask;
    if (value < mask) return value;
    let extra = 0;
    for (let shift = 0; shift <= 21; shift += 7) {
      if (this.pos >= block.length) throw new HpackError('truncated integer');
      const b = block[this.pos++]!;
      extra += (b & 0x7f) * 2 ** shift;
      if (!(b & 0x80)) return value + extra;
    }
    throw new HpackError('integer too large');
  }

  private str(block: Buffer): string {
    if (this.pos >= block.length) throw new HpackError('truncated header block');
    const huffman = (block[this.pos]! & 0x80) !== 0;
    const len = this.int(block, 7);
    const start = this.pos;
    this.pos += len;
    if (this.pos > block.length) throw new HpackError('string past the end of the header block');
    return huffman ? huffmanDecode(block, start, this.pos) : block.toString('latin1', start, this.pos);
  }
}

/** Appends an HPACK integer with an n-bit prefix whose high bits are `flags`. */
export function encodeInt(out: number[], flags: number, prefix: number, value: number): void {
  const mask = (1 << prefix) - 1;
  if (value < mask) {
    out.push(flags | value);
    return;
  }
  out.push(flags | mask);
  value -= mask;
  while (value >= 0x80) {
    out.push((value % 0x80) | 0x80);
    value = Math.floor(value / 0x80);
  }
  out.push(value);
}

/** Literal header field without indexing, new name, raw (non-Huffman) strings. */
export function encodeLiteral(out: number[], name: string, value: string): void {
  out.push(0x00);
  encodeInt(out, 0, 7, name.length);
  for (let i = 0; i < name.length; i++) out.push(name.charCodeAt(i) & 0xff);
  encodeInt(out, 0, 7, value.length);
  for (let i = 0; i < value.length; i++) out.push(value.charCodeAt(i) & 0xff);
}
