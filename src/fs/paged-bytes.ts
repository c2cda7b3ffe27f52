// File contents for the simulated disk: a size plus 4 KiB pages, where a missing page reads as
// zeros. The WAL preallocates 64 MiB segments by writing zeros; kept sparse, they cost nothing.

export const PAGE_BYTES = 4096;

const ZERO_PAGE = Buffer.alloc(PAGE_BYTES);

function isZero(data: Buffer, from: number, to: number): boolean {
  for (let p = from; p < to; p += PAGE_BYTES) {
    const n = Math.min(PAGE_BYTES, to - p);
    if (!data.subarray(p, p + n).equals(ZERO_PAGE.subarray(0, n))) return false;
  }
  return true;
}

/** True when every byte of `data` is zero. */
export function allZero(data: Buffer): boolean {
  return isZero(data, 0, data.length);
}

export class PagedBytes {
  private sizeBytes = 0;
  private readonly pages = new Map<number, Buffer>();

  get size(): number {
    return this.sizeBytes;
  }

  /** A deep copy (pages are mutable). */
  clone(): PagedBytes {
    const c = new PagedBytes();
    c.sizeBytes = this.sizeBytes;
    for (const [n, page] of this.pages) c.pages.set(n, Buffer.from(page));
    return c;
  }

  /** Writes `data` at `offset`, or `length` zeros when data is undefined; grows the size as needed. */
  write(offset: number, data: Buffer | undefined, length = data?.length ?? 0): void {
    const end = offset + length;
    for (let pos = offset; pos < end; ) {
      const n = Math.floor(pos / PAGE_BYTES);
      const inPage = pos - n * PAGE_BYTES;
      const take = Math.min(PAGE_BYTES - inPage, end - pos);
      const src = pos - offset;
      let page = this.pages.get(n);
      const zeros = data === undefined || isZero(data, src, src + take);
      if (page === undefined && !zeros) {
        page = Buffer.alloc(PAGE_BYTES);
        this.pages.set(n, page);
      }
      if (page !== undefined) {
        if (data === undefined) page.fill(0, inPage, inPage + take);
        else data.copy(page, inPage, src, src + take);
      }
      pos += take;
    }
    if (end > this.sizeBytes) this.sizeBytes = end;
  }

  truncate(length: number): void {
    if (length < this.sizeBytes) {
      const lastPage = Math.floor(length / PAGE_BYTES);
      for (const n of [...this.pages.keys()]) if (n > lastPage) this.pages.delete(n);
      // Bytes past the new end must read as zeros if the file grows again.
      this.pages.get(lastPage)?.fill(0, length - lastPage * PAGE_BYTES);
    }
    this.sizeBytes = length;
  }

  /** Copies bytes from `position` into buf; returns how many (fewer at the end of the file). */
  read(buf: Buffer, position: number): number {
    const n = Math.max(0, Math.min(buf.length, this.sizeBytes - position));
    for (let done = 0; done < n; ) {
      const pos = position + done;
      const pageNo = Math.floor(pos / PAGE_BYTES);
      const inPage = pos - pageNo * PAGE_BYTES;
      const take = Math.min(PAGE_BYTES - inPage, n - done);
      const page = this.pages.get(pageNo);
      if (page === undefined) buf.fill(0, done, done + take);
      else page.copy(buf, done, inPage, inPage + take);
      done += take;
    }
    return n;
  }

  toBuffer(): Buffer {
    const out = Buffer.alloc(this.sizeBytes);
    this.read(out, 0);
    return out;
  }
}
