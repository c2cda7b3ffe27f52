// etcd 3.4's snapshot file, member/snap/<term>-<index>.snap (etcdserver/api/snap/snapshotter.go):
// snappb.Snapshot{1 crc uint32 = CRC-32C (Castagnoli) of data, 2 data = raftpb.Snapshot}.

import type { Snapshot } from '../../raft/types.js';
import { crc32c } from '../../util/crc32c.js';
import { delimitedSize, ExactWriter, Reader, uintSize, WireError, WireType } from './gogo-wire.js';
import { decodeSnapshot, encodeSnapshot } from './raftpb.js';

export function encodeEtcdSnapFile(s: Snapshot): Uint8Array {
  const data = encodeSnapshot(s);
  const crc = crc32c(data);
  const w = new ExactWriter(1 + uintSize(crc) + 1 + delimitedSize(data.length));
  w.byte(0x08);
  w.uint(crc);
  w.byte(0x12);
  w.bytes(data);
  return w.finish('snap file');
}

/** Throws a WireError when the file is empty, corrupt or fails its checksum (as etcd's Read does). */
export function decodeEtcdSnapFile(b: Uint8Array): Snapshot {
  const r = new Reader(b, 'snappb.Snapshot');
  let crc = 0;
  let data: Uint8Array = new Uint8Array(0);
  while (!r.done()) {
    r.tag();
    if (r.field === 1) {
      r.expect(WireType.Varint, 'Crc');
      crc = Number(r.u64() & 0xffffffffn);
    } else if (r.field === 2) {
      r.expect(WireType.Bytes, 'Data');
      data = r.bytes();
    } else {
      r.skip();
    }
  }
  if (data.length === 0 || crc === 0) throw new WireError('snap file: empty snapshot');
  if (crc32c(data) !== crc) throw new WireError('snap file: crc mismatch');
  return decodeSnapshot(data);
}
