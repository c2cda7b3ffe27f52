// --experimental-auto-disarm-nospace (beyond etcd; docs/decisions/0018-nospace-auto-disarm.md):
// NOSPACE is disarmed by itself once space is back, instead of waiting for `etcdctl alarm disarm`.
//
// The rule: a NOSPACE alarm is disarmed once the backend size the quota compares against (the db
// file's size, etcd's dbSize) is below DISARM_FRACTION of the quota. That figure, not the size in
// use, because the quota refuses writes by it: with in-use bytes down (compaction) but the file
// still as big, the next write would raise the alarm again. A defragment brings the file down to
// the size in use, so in practice: compact + defrag, and the alarm goes. The 20% headroom keeps a
// cluster writing at the edge from flapping between armed and disarmed.
//
// Each member disarms its own alarm (only it knows its own size); the leader also disarms alarms
// of ids that are not members (memberID 0 as clients send it, removed members) by its own size.
// Disarming is an Alarm DEACTIVATE proposed through raft, so every member applies the same change.
// Checked periodically through the member's Clock.

import type { AlarmMember } from '../pb/etcdserverpb/rpc.js';
import type { Clock, Timer } from '../runtime/clock.js';

/** Below this fraction of the quota, a NOSPACE alarm is disarmed. */
export const DISARM_FRACTION = 0.8;
/** How often the size is looked at. */
export const DISARM_CHECK_INTERVAL_MS = 1000;

export interface NoSpaceAutoDisarmDeps {
  clock: Clock;
  memberId: bigint;
  quotaBytes: number;
  /** The size the quota checks (the backend file's size). */
  backendSizeBytes(): number;
  /** The raised NOSPACE alarms. */
  noSpaceAlarms(): AlarmMember[];
  isLeader(): boolean;
  isMember(id: bigint): boolean;
  /** Proposes Alarm DEACTIVATE for `alarm` through raft; resolves once applied. */
  deactivate(alarm: AlarmMember): Promise<unknown>;
  info(msg: string, fields: Record<string, string | number>): void;
  warn(msg: string, fields: Record<string, string | number>): void;
  intervalMs?: number;
  fraction?: number;
}

export class NoSpaceAutoDisarm {
  private timer: Timer | undefined;
  private running: Promise<void> | undefined;

  constructor(private readonly d: NoSpaceAutoDisarmDeps) {}

  get thresholdBytes(): number {
    return Math.floor(this.d.quotaBytes * (this.d.fraction ?? DISARM_FRACTION));
  }

  start(): void {
    if (this.timer !== undefined) return;
    this.timer = this.d.clock.every(this.d.intervalMs ?? DISARM_CHECK_INTERVAL_MS, () => void this.check(), {
      unref: true,
    });
  }

  stop(): void {
    this.timer?.cancel();
    this.timer = undefined;
  }

  /** One look; a look still waiting for its proposals makes this a no-op. */
  check(): Promise<void> {
    if (this.running !== undefined) return this.running;
    this.running = this.disarmWhatIsDue().finally(() => {
      this.running = undefined;
    });
    return this.running;
  }

  /** The alarms this member may disarm now. */
  due(): AlarmMember[] {
    const size = this.d.backendSizeBytes();
    if (size >= this.thresholdBytes) return [];
    return this.d
      .noSpaceAlarms()
      .filter((a) => a.memberID === this.d.memberId || (this.d.isLeader() && !this.d.isMember(a.memberID)));
  }

  private async disarmWhatIsDue(): Promise<void> {
    for (const alarm of this.due()) {
      const fields = {
        'alarm-member-id': alarm.memberID.toString(16),
        'backend-size-bytes': this.d.backendSizeBytes(),
        'threshold-bytes': this.thresholdBytes,
        'quota-size-bytes': this.d.quotaBytes,
      };
      try {
        await this.d.deactivate(alarm);
        this.d.info('disarmed NOSPACE alarm: backend size is below the threshold', fields);
      } catch (err) {
        // No leader, a timeout, stopping: the next look tries again.
        this.d.warn(`failed to disarm NOSPACE alarm: ${(err as Error).message}`, fields);
      }
    }
  }
}
