// The last 1000 events, for watches that start in the past (waitIndex).
// A ring of slots exactly as etcd's eventQueue (Front, Back, Size), because
// the raft snapshot JSON carries it slot by slot and etcd reads it back so.
import { V2Error, V2ErrorCode } from './errors.js';
import { eventIndex, V2Action, type V2Event } from './event.js';
import { cleanPath } from './path.js';

export const EVENT_HISTORY_CAPACITY = 1000;

export class EventHistory {
  slots: Array<V2Event | null>;
  size = 0;
  front = 0;
  back = 0;
  startIndex = 0;
  lastIndex = 0;

  constructor(readonly capacity = EVENT_HISTORY_CAPACITY) {
    this.slots = new Array<V2Event | null>(capacity).fill(null);
  }

  add(e: V2Event): void {
    this.slots[this.back] = e;
    this.back = (this.back + 1) % this.capacity;
    if (this.size === this.capacity) this.front = (this.front + 1) % this.capacity;
    else this.size++;
    this.lastIndex = eventIndex(e);
    this.startIndex = eventIndex(this.slots[this.front]!);
  }

  /**
   * The first event at or after `index` that concerns `key` (below it when
   * recursive; a deleted or expired directory above it too); undefined when
   * none has happened yet. Throws EventIndexCleared when `index` is older
   * than the history.
   */
  scan(key: string, recursive: boolean, index: number): V2Event | undefined {
    if (index < this.startIndex) {
      throw new V2Error(
        V2ErrorCode.EventIndexCleared,
        `the requested history has been cleared [${this.startIndex}/${index}]`,
        0,
      );
    }
    if (index > this.lastIndex) return undefined;
    let prefix = cleanPath(key);
    if (!prefix.endsWith('/')) prefix += '/';
    let i = (this.front + (index - this.startIndex)) % this.capacity;
    for (;;) {
      const e = this.slots[i];
      if (e === null || e === undefined) return undefined;
      if (e.refresh !== true) {
        let ok = e.node.key === key || (recursive && e.node.key.startsWith(prefix));
        const removal = e.action === V2Action.Delete || e.action === V2Action.Expire;
        if (removal && e.prevNode?.dir === true && key.startsWith(e.prevNode.key)) ok = true;
        if (ok) return e;
      }
      i = (i + 1) % this.capacity;
      if (i === this.back) return undefined;
    }
  }

  clone(): EventHistory {
    const h = new EventHistory(this.capacity);
    h.slots = [...this.slots];
    h.size = this.size;
    h.front = this.front;
    h.back = this.back;
    h.startIndex = this.startIndex;
    h.lastIndex = this.lastIndex;
    return h;
  }
}
