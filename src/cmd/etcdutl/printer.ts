// etcdutl's output formats for `snapshot status` (etcdutl/etcdutl/printer*.go): like etcdctl's,
// plus a "version" column (the db's storage version, empty before etcd 3.6, so always empty for
// the 3.4 files we read and write).
import type { SnapshotStatus } from '../../etcd-db/snapshot-file.js';
import { Exit, fail } from '../etcdctl/io.js';
import { humanBytes } from '../etcdctl/printer/humanize.js';
import { renderTable } from '../etcdctl/printer/tablewriter.js';

export type DbStatusPrinter = (s: SnapshotStatus) => void;

function statusRows(s: SnapshotStatus): { header: string[]; rows: string[][] } {
  return {
    header: ['hash', 'revision', 'total keys', 'total size', 'version'],
    rows: [[s.hash.toString(16), String(s.revision), String(s.totalKey), humanBytes(s.totalSize), '']],
  };
}

/** The printer for `--write-out`, or a failure with etcdutl's message (exit 4). */
export function dbStatusPrinter(format: string, out: (s: string) => void): DbStatusPrinter {
  switch (format) {
    case 'simple':
      return (s) => {
        for (const row of statusRows(s).rows) out(`${row.join(', ')}\n`);
      };
    case 'json':
      return (s) =>
        out(
          `{"hash":${s.hash},"revision":${s.revision},"totalKey":${s.totalKey},"totalSize":${s.totalSize},"version":""}\n`,
        );
    case 'fields':
      return (s) =>
        out(
          `"Hash" : ${s.hash}\n"Revision" : ${s.revision}\n"Keys" : ${s.totalKey}\n"Size" : ${s.totalSize}\n"Version" : \n`,
        );
    case 'table':
      return (s) => {
        const t = statusRows(s);
        out(renderTable(t.header, t.rows));
      };
    case 'protobuf':
      // Go's %T and %v of the Status struct (its Version is empty).
      return (s) =>
        fail(
          Exit.badFeature,
          `marshal unsupported for type snapshot.Status ({${s.hash} ${s.revision} ${s.totalKey} ${s.totalSize} })`,
        );
    default:
      return fail(Exit.badFeature, 'unsupported output format');
  }
}
