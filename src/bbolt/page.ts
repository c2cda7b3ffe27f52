// Reading one page (leaf, branch, freelist, or an inline bucket's page image) with every offset
// checked against the bytes we actually have: garbage must give a BoltFormatError, never a
// RangeError or a read outside the page.

import { BoltFormatError } from './errors.js';
import {
  ELEMENT_SIZE,
  FLAG_BRANCH,
  FLAG_FREELIST,
  FLAG_LEAF,
  FREELIST_COUNT_ESCAPE,
  PAGE_HEADER_SIZE,
} from './format.js';

export interface PageView {
  /** Id from the header (0 for inline pages). */
  id: bigint;
  flags: number;
  count: number;
  overflow: number;
  /** The whole page, overflow pages included (or the inline image). */
  buf: Buffer;
  /** For messages: "page 7" or "inline page of bucket x". */
  where: string;
}

export interface LeafElement {
  flags: number;
  key: Buffer;
  value: Buffer;
}

export interface BranchElement {
  key: Buffer;
  pgid: bigint;
}

export function parsePageHeader(buf: Buffer, where: string): PageView {
  if (buf.length < PAGE_HEADER_SIZE) throw new BoltFormatError(`${where}: shorter than a page header`);
  return {
    id: buf.readBigUInt64LE(0),
    flags: buf.readUInt16LE(8),
    count: buf.readUInt16LE(10),
    overflow: buf.readUInt32LE(12),
    buf,
    where,
  };
}

export function isLeaf(p: PageView): boolean {
  return (p.flags & FLAG_LEAF) !== 0;
}

export function isBranch(p: PageView): boolean {
  return (p.flags & FLAG_BRANCH) !== 0;
}

/** Checks that the element array fits; call once per page before reading elements. */
export function checkElementArray(p: PageView): void {
  if (!isLeaf(p) && !isBranch(p)) {
    throw new BoltFormatError(`${p.where}: invalid page type (flags 0x${p.flags.toString(16)})`);
  }
  if (PAGE_HEADER_SIZE + p.count * ELEMENT_SIZE > p.buf.length) {
    throw new BoltFormatError(`${p.where}: ${p.count} elements do not fit in ${p.buf.length} bytes`);
  }
}

function slice(p: PageView, i: number, start: number, len: number, what: string): Buffer {
  if (start < PAGE_HEADER_SIZE || start + len > p.buf.length) {
    throw new BoltFormatError(`${p.where}: element ${i} ${what} [${start}, ${start + len}) outside the page`);
  }
  return p.buf.subarray(start, start + len);
}

export function leafElement(p: PageView, i: number): LeafElement {
  const at = PAGE_HEADER_SIZE + i * ELEMENT_SIZE;
  const b = p.buf;
  const flags = b.readUInt32LE(at);
  const pos = b.readUInt32LE(at + 4);
  const ksize = b.readUInt32LE(at + 8);
  const vsize = b.readUInt32LE(at + 12);
  if (ksize === 0) throw new BoltFormatError(`${p.where}: element ${i} has an empty key`);
  const key = slice(p, i, at + pos, ksize, 'key');
  const value = slice(p, i, at + pos + ksize, vsize, 'value');
  return { flags, key, value };
}

export function branchElement(p: PageView, i: number): BranchElement {
  const at = PAGE_HEADER_SIZE + i * ELEMENT_SIZE;
  const b = p.buf;
  const pos = b.readUInt32LE(at);
  const ksize = b.readUInt32LE(at + 4);
  const pgid = b.readBigUInt64LE(at + 8);
  if (ksize === 0) throw new BoltFormatError(`${p.where}: element ${i} has an empty key`);
  return { key: slice(p, i, at + pos, ksize, 'key'), pgid };
}

/** The page ids listed in a freelist page (bbolt's freelist.read). */
export function freelistIds(p: PageView): bigint[] {
  if ((p.flags & FLAG_FREELIST) === 0) {
    throw new BoltFormatError(`${p.where}: expected a freelist page, flags 0x${p.flags.toString(16)}`);
  }
  let count = p.count;
  let at = PAGE_HEADER_SIZE;
  if (count === FREELIST_COUNT_ESCAPE) {
    if (p.buf.length < at + 8) throw new BoltFormatError(`${p.where}: truncated freelist count`);
    const real = p.buf.readBigUInt64LE(at);
    at += 8;
    if (real > BigInt((p.buf.length - at) / 8)) {
      throw new BoltFormatError(`${p.where}: freelist count ${real} does not fit in the page`);
    }
    count = Number(real);
  }
  if (at + count * 8 > p.buf.length) {
    throw new BoltFormatError(`${p.where}: freelist count ${count} does not fit in the page`);
  }
  const ids: bigint[] = new Array(count);
  for (let i = 0; i < count; i++) ids[i] = p.buf.readBigUInt64LE(at + 8 * i);
  return ids;
}
