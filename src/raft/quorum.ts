// Majority arithmetic over a set of voters. Learners are never passed in here.
import type { NodeId } from './types.js';

export const VoteResult = { Pending: 0, Lost: 1, Won: 2 } as const;
export type VoteResult = (typeof VoteResult)[keyof typeof VoteResult];

export function majority(n: number): number {
  return Math.floor(n / 2) + 1;
}

/**
 * The highest index acknowledged by a majority of voters. With no voters it is unbounded
 * (Infinity), so that an empty configuration never blocks a comparison by accident.
 */
export function committedIndex(voters: Iterable<NodeId>, matchOf: (id: NodeId) => number): number {
  // A leader asks this after every acknowledgement and proposal: insertion-sort the few
  // match indexes (descending) into a reused array instead of allocating and sorting a new one.
  const matches = scratch;
  let n = 0;
  for (const id of voters) {
    const m = matchOf(id);
    let i = n++;
    while (i > 0 && matches[i - 1]! < m) {
      matches[i] = matches[i - 1]!;
      i--;
    }
    matches[i] = m;
  }
  if (n === 0) return Number.POSITIVE_INFINITY;
  return matches[majority(n) - 1]!;
}

/** committedIndex's working array (the core is single-threaded and the function does not re-enter). */
const scratch: number[] = [];

/** Won once a majority granted, Lost once a majority can no longer grant, Pending otherwise. */
export function voteResult(voters: ReadonlySet<NodeId>, votes: ReadonlyMap<NodeId, boolean>): VoteResult {
  if (voters.size === 0) return VoteResult.Won;
  let granted = 0;
  let missing = 0;
  for (const id of voters) {
    const v = votes.get(id);
    if (v === undefined) missing++;
    else if (v) granted++;
  }
  const q = majority(voters.size);
  if (granted >= q) return VoteResult.Won;
  if (granted + missing >= q) return VoteResult.Pending;
  return VoteResult.Lost;
}
