// What one store operation did (etcd's v2store.Event): the action, the node
// after it, the node before it, and the store index it left behind.
import { cloneExtern, type NodeExtern } from './node.js';

export const V2Action = {
  Get: 'get',
  Create: 'create',
  Set: 'set',
  Update: 'update',
  Delete: 'delete',
  CompareAndSwap: 'compareAndSwap',
  CompareAndDelete: 'compareAndDelete',
  Expire: 'expire',
} as const;
export type V2Action = (typeof V2Action)[keyof typeof V2Action];

export interface V2Event {
  action: V2Action;
  node: NodeExtern;
  prevNode?: NodeExtern;
  /** The store index when the event was produced (X-Etcd-Index); not part of the JSON. */
  etcdIndex: number;
  /** A TTL refresh: kept in the history, never sent to watchers. */
  refresh?: boolean;
}

export function newEvent(
  action: V2Action,
  key: string,
  modifiedIndex: number,
  createdIndex: number,
): V2Event {
  return { action, node: { key, modifiedIndex, createdIndex }, etcdIndex: 0 };
}

/** The event's index: its node's modified index. */
export function eventIndex(e: V2Event): number {
  return e.node.modifiedIndex;
}

/** etcd's IsCreated: a create, or a set that replaced nothing (the API answers 201). */
export function isCreated(e: V2Event): boolean {
  return e.action === V2Action.Create || (e.action === V2Action.Set && e.prevNode === undefined);
}

export function cloneEvent(e: V2Event): V2Event {
  const out: V2Event = { action: e.action, node: cloneExtern(e.node), etcdIndex: e.etcdIndex };
  if (e.prevNode !== undefined) out.prevNode = cloneExtern(e.prevNode);
  if (e.refresh === true) out.refresh = true;
  return out;
}
