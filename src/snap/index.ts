export { NoSnapshotError, Snapshotter, type SnapshotterOptions } from './snapshotter.js';
