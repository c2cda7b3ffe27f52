// The injectable disk: the interface, node's implementation and the simulated one.
export {
  type DiskFaults,
  type DiskOp,
  type DiskOpKind,
  type DiskScheduler,
  type FaultRule,
  immediateDisk,
  noFaults,
  ScriptedFaults,
} from './disk-control.js';
export { mkdirDurable } from './durable-dir.js';
export {
  type FileSystem,
  FsError,
  type FsErrorCode,
  type FsFile,
  type FsStat,
  isNotFound,
  type OpenFlags,
  type OpenOptions,
} from './file-system.js';
export { realFs } from './real-fs.js';
export type { CrashOptions, CrashReport } from './sim-crash.js';
export { SimFs, type SimFsOptions } from './sim-fs.js';
export { SteppedDisk } from './stepped-disk.js';
