export { NoSnapshotError, Snapshotter } from './snapshotter.js';
