// Raised alarms (NOSPACE, CORRUPT), per member. Changed only by applying
// committed Alarm requests, stored in the backend's "alarm" side bucket in the
// same batch as the entry's consistent index, so they survive restarts exactly
// as far as the backend does.
import type { MvccStore } from '../mvcc/index.js';
import { type AlarmMember, AlarmRequest_AlarmAction, AlarmType } from '../pb/etcdserverpb/rpc.js';

const BUCKET = 'alarm';

function keyOf(a: AlarmMember): Uint8Array {
  const k = Buffer.alloc(12);
  k.writeBigUInt64BE(a.memberID, 0);
  k.writeUInt32BE(a.alarm, 8);
  return k;
}

function fromKey(k: Uint8Array): AlarmMember {
  const b = Buffer.from(k.buffer, k.byteOffset, k.byteLength);
  if (b.length !== 12) throw new Error(`alarm store: bad key of ${b.length} bytes`);
  return { memberID: b.readBigUInt64BE(0), alarm: b.readUInt32BE(8) as AlarmType };
}

function id(a: AlarmMember): string {
  return `${a.memberID}:${a.alarm}`;
}

/** etcd's text form of an AlarmMember, as Status.errors and etcdctl print it. */
export function alarmText(a: AlarmMember): string {
  return `memberID:${a.memberID} alarm:${AlarmType[a.alarm] ?? a.alarm} `;
}

export class AlarmStore {
  private readonly active = new Map<string, AlarmMember>();

  constructor(private readonly backend: MvccStore) {
    this.reload();
  }

  /** Re-reads the alarms from the backend (after it was replaced by a snapshot's). */
  reload(): void {
    this.active.clear();
    for (const [k] of this.backend.scanAux(BUCKET)) {
      const a = fromKey(k);
      this.active.set(id(a), a);
    }
  }

  list(type: AlarmType = AlarmType.NONE): AlarmMember[] {
    const all = [...this.active.values()];
    return type === AlarmType.NONE ? all : all.filter((a) => a.alarm === type);
  }

  /** Asked for every applied write: no array is built (it showed in allocation profiles). */
  has(type: AlarmType): boolean {
    if (this.active.size === 0) return false;
    for (const a of this.active.values()) if (a.alarm === type) return true;
    return false;
  }

  /** Applies a committed ACTIVATE/DEACTIVATE; returns the alarms it changed (etcd's response). */
  apply(action: AlarmRequest_AlarmAction, a: AlarmMember): AlarmMember[] {
    if (a.alarm === AlarmType.NONE || a.alarm === AlarmType.UNRECOGNIZED) return [];
    const k = id(a);
    if (action === AlarmRequest_AlarmAction.ACTIVATE) {
      if (!this.active.has(k)) {
        this.active.set(k, { memberID: a.memberID, alarm: a.alarm });
        this.backend.putAux(BUCKET, keyOf(a), new Uint8Array());
      }
      return [a];
    }
    if (action === AlarmRequest_AlarmAction.DEACTIVATE) {
      if (!this.active.delete(k)) return [];
      this.backend.deleteAux(BUCKET, keyOf(a));
      return [a];
    }
    return [];
  }
}

/** The alarm store as the applier uses it. */
export interface AlarmApplier {
  apply(action: AlarmRequest_AlarmAction, a: AlarmMember): AlarmMember[];
  has(type: AlarmType): boolean;
}
