// Applying one membership change to the tracker. Every change is idempotent, because the
// application re-applies committed conf changes after a restart and after bootstrap.
import type { ProgressTracker } from './tracker.js';
import { type ConfChange, ConfChangeType } from './types.js';

/** `next` is where a brand-new member's replication starts (the leader probes back from there). */
export function applyConfChangeTo(tracker: ProgressTracker, cc: ConfChange, next: number): void {
  switch (cc.type) {
    case ConfChangeType.AddNode:
      // Adds a voter, or promotes a learner (which keeps its progress).
      tracker.setRole(cc.nodeId, false, next);
      return;
    case ConfChangeType.AddLearnerNode:
      tracker.setRole(cc.nodeId, true, next);
      return;
    case ConfChangeType.RemoveNode:
      tracker.remove(cc.nodeId);
      return;
    case ConfChangeType.UpdateNode:
      // Only the application's view of the member (name, URLs) changes.
      return;
  }
}
