// etcd 3.4's backend file (a bbolt db with etcd's buckets) and its snapshot file, to and from
// etcd-ts's store. See docs/decisions/0011-bbolt.md.
export {
  BUCKET,
  decodeMember,
  EtcdDbError,
  type EtcdMember,
  encodeMember,
} from './codecs.js';
export { type EtcdDbExtra, type ExportOptions, exportEtcdDb } from './export.js';
export { ETCD_HASH_IGNORES, type HashIgnore, type HashOptions, hashEtcdDb } from './hash.js';
export { type ImportedEtcdDb, importEtcdDb, importEtcdDbInto } from './import.js';
export {
  copySnapshotDb,
  hasSha256Trailer,
  type SnapshotCheck,
  type SnapshotStatus,
  snapshotStatus,
  verifySnapshotFile,
} from './snapshot-file.js';
