// bbolt 1.3 file format: a streaming reader and writer (no Go, no mmap). See
// docs/decisions/0011-bbolt.md.
export { checkDb } from './check.js';
export { copyBucket } from './copy.js';
export { BoltFormatError, BoltWriteError } from './errors.js';
export { compareBytes, DEFAULT_PAGE_SIZE, type Meta, NO_FREELIST } from './format.js';
export { BufferSource, FileSource, type PageSource } from './page-source.js';
export { BoltBucket, BoltDb, type BoltEntry } from './reader.js';
export type { BoltOutput } from './sink.js';
export {
  type BoltBuilder,
  type BoltLayout,
  type BoltProducer,
  type BoltWriteOptions,
  type BoltWriteResult,
  measureBolt,
  writeBolt,
  writeMeasuredBolt,
} from './writer.js';
