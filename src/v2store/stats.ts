// The v2 store's operation counters (/v2/stats/store and the snapshot's "Stats").

export const STATS_FIELDS = [
  'getsSuccess',
  'getsFail',
  'setsSuccess',
  'setsFail',
  'deleteSuccess',
  'deleteFail',
  'updateSuccess',
  'updateFail',
  'createSuccess',
  'createFail',
  'compareAndSwapSuccess',
  'compareAndSwapFail',
  'compareAndDeleteSuccess',
  'compareAndDeleteFail',
  'expireCount',
  'watchers',
] as const;
export type StatsField = (typeof STATS_FIELDS)[number];

export type V2Stats = Record<StatsField, number>;

export function newStats(): V2Stats {
  return Object.fromEntries(STATS_FIELDS.map((f) => [f, 0])) as V2Stats;
}

/** etcd's Stats JSON, fields in its order. */
export function statsJson(s: V2Stats): string {
  return `{${STATS_FIELDS.map((f) => `"${f}":${s[f]}`).join(',')}}`;
}
