import type { MemberListResponse } from '../../../pb/etcdserverpb/rpc.js';
import type { CliIo } from '../io.js';
import {
  dbStatusRows,
  endpointHashKVRows,
  endpointHealthRows,
  endpointStatusRows,
  memberListRows,
  type Rows,
} from './rows.js';
import { renderTable } from './tablewriter.js';
import type { DbStatus, EpHashKV, EpHealth, EpStatus, Printer } from './types.js';
import { unsupportedPrinter } from './unsupported.js';

/** `-w table`: only member and endpoint listings and snapshot status have a table form. */
export function tablePrinter(io: CliIo): Printer {
  const print = (r: Rows) => io.out(renderTable(r.header, r.rows));
  return {
    ...unsupportedPrinter('table'),
    memberList: (r: MemberListResponse) => print(memberListRows(r)),
    endpointHealth: (l: EpHealth[]) => print(endpointHealthRows(l)),
    endpointStatus: (l: EpStatus[]) => print(endpointStatusRows(l)),
    endpointHashKV: (l: EpHashKV[]) => print(endpointHashKVRows(l)),
    dbStatus: (s: DbStatus) => print(dbStatusRows(s)),
  };
}
