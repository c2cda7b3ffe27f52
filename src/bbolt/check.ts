// A consistency check in the spirit of bbolt's tx.Check (v1.3.6), plus what that one leaves out:
// key order, element bounds and bucket headers. Used by tests and by `snapshot status`, which
// refuses files whose check reports errors, as etcdctl does.

import { BoltFormatError } from './errors.js';
import { compareBytes, ELEMENT_BUCKET, NO_FREELIST } from './format.js';
import { branchElement, checkElementArray, isLeaf, leafElement, type PageView } from './page.js';
import type { BoltBucket, BoltDb } from './reader.js';

const MAX_ERRORS = 50;

/** Returns the problems found (empty: the file is consistent). Never throws on bad data. */
export function checkDb(db: BoltDb): string[] {
  const errors: string[] = [];
  const pgid = db.meta.pgid;
  if (pgid > 0x7fff_ffffn) return [`db of ${pgid} pages is too large to check`];
  const n = Number(pgid);
  const reachable = new Uint8Array(n);
  const free = new Uint8Array(n);
  reachable[0] = 1;
  reachable[1] = 1;

  const report = (msg: string): void => {
    if (errors.length < MAX_ERRORS) errors.push(msg);
  };
  const mark = (p: PageView): boolean => {
    const id = Number(p.id);
    for (let i = id; i <= id + p.overflow; i++) {
      if (free[i]) report(`page ${i}: reachable freed`);
      if (reachable[i]) {
        report(`page ${i}: multiple references`);
        return false;
      }
      reachable[i] = 1;
    }
    return true;
  };

  try {
    const ids = db.freelist();
    if (ids !== undefined) {
      for (const id of ids) {
        if (id >= pgid || id < 2n) report(`freelist: page ${id} out of bounds`);
        else if (free[Number(id)]) report(`page ${id}: already freed`);
        else free[Number(id)] = 1;
      }
      mark(db.page(db.meta.freelist));
    }
  } catch (err) {
    report(describe(err));
  }

  const walkTree = (bucket: BoltBucket, page: PageView, depth: number, lo: Buffer | undefined): void => {
    if (depth > 64) throw new BoltFormatError(`${bucket.where}: tree deeper than 64 levels`);
    checkElementArray(page);
    let prev: Buffer | undefined;
    for (let i = 0; i < page.count; i++) {
      if (isLeaf(page)) {
        const e = leafElement(page, i);
        if (prev !== undefined && compareBytes(prev, e.key) >= 0) report(`${page.where}: keys out of order`);
        if (i === 0 && lo !== undefined && compareBytes(lo, e.key) > 0) {
          report(`${page.where}: first key sorts before its branch key`);
        }
        prev = e.key;
        if ((e.flags & ELEMENT_BUCKET) !== 0) walkBucket(bucket.open({ ...e, isBucket: true }));
      } else {
        const e = branchElement(page, i);
        if (prev !== undefined && compareBytes(prev, e.key) >= 0) report(`${page.where}: keys out of order`);
        prev = e.key;
        const child = childPage(e.pgid, page.where);
        if (child !== undefined) walkTree(bucket, child, depth + 1, e.key);
      }
    }
  };

  const childPage = (id: bigint, from: string): PageView | undefined => {
    if (id < 2n || id >= pgid) {
      report(`page ${id}: out of bounds (referenced from ${from})`);
      return undefined;
    }
    const p = db.page(id);
    return mark(p) ? p : undefined;
  };

  const walkBucket = (bucket: BoltBucket): void => {
    if (bucket.isInline) {
      // An inline bucket has no pages; its sub-buckets (never written by bbolt) would.
      for (const e of bucket.entries()) if (e.isBucket) walkBucket(bucket.open(e));
      return;
    }
    const root = childPage(bucket.rootPage, bucket.where);
    if (root !== undefined) walkTree(bucket, root, 0, undefined);
  };

  try {
    walkBucket(db.root());
  } catch (err) {
    report(describe(err));
  }

  const freelistStored = db.meta.freelist !== NO_FREELIST;
  for (let i = 0; i < n && freelistStored; i++) {
    if (!reachable[i] && !free[i]) report(`page ${i}: unreachable unfreed`);
  }
  return errors;
}

function describe(err: unknown): string {
  if (err instanceof BoltFormatError) return err.message;
  throw err;
}
