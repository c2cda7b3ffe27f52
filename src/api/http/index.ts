// Public surface of the plain-HTTP endpoints (/version, /health, access control).
export { type AccessPolicy, applyAccessControl } from './access.js';
export {
  type ActiveAlarm,
  checkHealth,
  excludedAlarmsOf,
  type HealthSource,
  handleHealth,
} from './health.js';
export type { HttpRequestLike, HttpResponseLike } from './types.js';
export { handleVersion, type VersionSource, versionBody } from './version.js';
