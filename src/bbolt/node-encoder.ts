// Serialises leaf and branch nodes the way bbolt's node.write lays them out: header, element
// array, then keys and values packed without padding, each element's pos relative to itself.

import { ELEMENT_SIZE, FLAG_BRANCH, FLAG_LEAF, PAGE_HEADER_SIZE } from './format.js';

export interface LeafItem {
  flags: number;
  key: Uint8Array;
  value: Uint8Array;
}

export interface BranchItem {
  key: Uint8Array;
  pgid: number;
}

export function leafItemSize(key: Uint8Array, value: Uint8Array): number {
  return ELEMENT_SIZE + key.length + value.length;
}

export function branchItemSize(key: Uint8Array): number {
  return ELEMENT_SIZE + key.length;
}

function writeHeader(
  buf: Buffer,
  at: number,
  id: number,
  flags: number,
  count: number,
  overflow: number,
): void {
  buf.writeBigUInt64LE(BigInt(id), at);
  buf.writeUInt16LE(flags, at + 8);
  buf.writeUInt16LE(count, at + 10);
  buf.writeUInt32LE(overflow, at + 12);
}

/** Writes a leaf page image at `buf[at..]` (a page, or an inline bucket's image with id 0). */
export function encodeLeaf(buf: Buffer, at: number, id: number, overflow: number, items: LeafItem[]): void {
  writeHeader(buf, at, id, FLAG_LEAF, items.length, overflow);
  let data = at + PAGE_HEADER_SIZE + items.length * ELEMENT_SIZE;
  for (let i = 0; i < items.length; i++) {
    const it = items[i]!;
    const el = at + PAGE_HEADER_SIZE + i * ELEMENT_SIZE;
    buf.writeUInt32LE(it.flags, el);
    buf.writeUInt32LE(data - el, el + 4);
    buf.writeUInt32LE(it.key.length, el + 8);
    buf.writeUInt32LE(it.value.length, el + 12);
    buf.set(it.key, data);
    data += it.key.length;
    buf.set(it.value, data);
    data += it.value.length;
  }
}

export function encodeBranch(buf: Buffer, id: number, overflow: number, items: BranchItem[]): void {
  writeHeader(buf, 0, id, FLAG_BRANCH, items.length, overflow);
  let data = PAGE_HEADER_SIZE + items.length * ELEMENT_SIZE;
  for (let i = 0; i < items.length; i++) {
    const it = items[i]!;
    const el = PAGE_HEADER_SIZE + i * ELEMENT_SIZE;
    buf.writeUInt32LE(data - el, el);
    buf.writeUInt32LE(it.key.length, el + 4);
    buf.writeBigUInt64LE(BigInt(it.pgid), el + 8);
    buf.set(it.key, data);
    data += it.key.length;
  }
}
