// The write journal of an online defragmentation. While a compacted copy of the backend is
// being made from a read snapshot, every write transaction the backend commits is also
// recorded here, in commit order, as blind puts and deletes per sub-database. Replaying the
// journal onto the copy brings it to the backend's state: because every operation is a blind
// write (no read-modify-write), replaying all of it onto a copy taken at ANY commit boundary
// after journaling started ends in the same state, so it does not matter exactly which commit
// the snapshot saw.

/** One write of a committed transaction: `value` null deletes `key`. */
export interface JournalOp {
  /** The sub-database (LMDB named db): "key", "meta" or "aux_<bucket>". */
  db: string;
  key: Buffer;
  value: Buffer | null;
}

/** Operations recorded since the last take(). */
export class DefragJournal {
  private ops: JournalOp[] = [];
  private bytes = 0;

  record(db: string, key: Buffer, value: Buffer | null): void {
    this.ops.push({ db, key, value });
    this.bytes += key.length + (value?.length ?? 0);
  }

  get length(): number {
    return this.ops.length;
  }

  /** Bytes of keys and values waiting (how much replay work is left). */
  get pendingBytes(): number {
    return this.bytes;
  }

  /** Everything recorded so far, oldest first; the journal starts empty again. */
  take(): JournalOp[] {
    const out = this.ops;
    this.ops = [];
    this.bytes = 0;
    return out;
  }
}

/** Splits `ops` into runs of at most `size`, so each replays as one bounded transaction. */
export function* chunks<T>(ops: T[], size: number): Generator<T[]> {
  for (let i = 0; i < ops.length; i += size) yield ops.slice(i, i + size);
}
