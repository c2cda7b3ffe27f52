// A member's data dir in etcd 3.4's file formats, both ways: `snapshot restore` writes one (as the
// real etcdctl does, so etcd 3.4 starts from it too), and etcd-ts converts such a dir into its
// own formats once, at start-up (docs/decisions/0016-etcd-format-backups.md).
export {
  type ConversionLayout,
  type ConversionReport,
  convertEtcd34DataDir,
  MigrationError,
} from './convert.js';
export { isBoltFile, isEtcd34DataDir, readEtcd34Member } from './etcd-data-dir.js';
export {
  EtcdWalEncoder,
  type EtcdWalRecord,
  type EtcdWalSnapshot,
  EtcdWalType,
  encodeWalSnapshot,
} from './etcd-wal-codec.js';
export {
  EtcdWalError,
  etcdWalName,
  listEtcdWalFiles,
  readEtcdWal,
  validSnapshotRecords,
} from './etcd-wal-reader.js';
export { writeNativeRaftState } from './native-dir.js';
export {
  goPathError,
  type RestoreConfig,
  RestoreError,
  type RestoreEvent,
  type RestoreResult,
  restoreSnapshot,
} from './restore.js';
export { type RestoredDb, writeRestoredDb } from './restored-db.js';
