import { Exit, fail } from '../io.js';
import type { Printer } from './types.js';

/** Every method fails with etcdctl's "<format> not supported as output format" (exit 4). */
export function unsupportedPrinter(format: string): Printer {
  const no = (): never => fail(Exit.badFeature, `${format} not supported as output format`);
  return {
    get: no,
    put: no,
    del: no,
    txn: no,
    watch: no,
    grant: no,
    revoke: no,
    keepAlive: no,
    timeToLive: no,
    leases: no,
    memberAdd: no,
    memberRemove: no,
    memberUpdate: no,
    memberPromote: no,
    memberList: no,
    endpointHealth: no,
    endpointStatus: no,
    endpointHashKV: no,
    moveLeader: no,
    alarm: no,
    dbStatus: no,
  };
}
