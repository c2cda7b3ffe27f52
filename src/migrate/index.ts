// Data in etcd 3.4's file formats, both ways, for a member's data dir: `snapshot restore` into
// etcd-ts's formats, and converting a data dir made by real etcd 3.4 (or its etcdctl) at start-up.
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
