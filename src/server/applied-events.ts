// The applier's events out-port: what the store applied, once per revision,
// in revision order. Watchers and lease attachments listen here. Entries
// replayed after a restart (already in the backend) never pass through it.
import type { Event } from '../mvcc/types.js';

export type AppliedEventsListener = (revision: number, events: readonly Event[]) => void;

export class AppliedEvents {
  private readonly listeners: AppliedEventsListener[] = [];
  private lastRevision = 0;

  subscribe(listener: AppliedEventsListener): void {
    this.listeners.push(listener);
  }

  publish(revision: number, events: readonly Event[]): void {
    if (events.length === 0) return;
    if (revision <= this.lastRevision) {
      throw new Error(`applied events: revision ${revision} after ${this.lastRevision}`);
    }
    this.lastRevision = revision;
    for (const l of this.listeners) l(revision, events);
  }
}
