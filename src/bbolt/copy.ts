// Copying one bucket of a database being read into a database being written
// (nested buckets included, in key order as the reader yields them).
import type { BoltBucket } from './reader.js';
import type { BoltBuilder } from './writer.js';

/** Writes every entry of `bucket` into the bucket `b` has open. */
export async function copyBucket(bucket: BoltBucket, b: BoltBuilder): Promise<void> {
  for (const e of bucket.entries()) {
    if (e.isBucket) {
      await b.bucket(e.key);
      await copyBucket(bucket.open(e), b);
      await b.end();
    } else {
      await b.put(e.key, e.value);
    }
  }
}
