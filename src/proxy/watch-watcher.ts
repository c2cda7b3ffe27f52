// One client watcher behind the proxy: what it asked for, the next revision it
// still needs, and how one upstream response is shaped for it (its id, its
// filters, prev_kv only if asked). Several of these share one upstream watch.
import type { ResponseHeader, WatchCreateRequest, WatchResponse } from '../pb/etcdserverpb/rpc.js';
import { WatchCreateRequest_FilterType } from '../pb/etcdserverpb/rpc.js';
import { type Event, Event_EventType } from '../pb/mvccpb/kv.js';

/** A watched interval in the caller's keys; `id` groups watchers over the same one. */
export interface WatchRange {
  readonly key: Buffer;
  readonly end: Buffer;
  readonly id: string;
}

export function watchRangeOf(c: WatchCreateRequest): WatchRange {
  const key = Buffer.from(c.key);
  const end = Buffer.from(c.rangeEnd);
  return { key, end, id: `${key.toString('hex')}/${end.toString('hex')}` };
}

/** etcd's proxy accepts a single key, a proper range, or "to the end" ("\0"). */
export function validRange(r: WatchRange): boolean {
  return r.end.length === 0 || Buffer.compare(r.end, r.key) > 0 || (r.end.length === 1 && r.end[0] === 0);
}

/** etcd's WatchResponse.IsProgressNotify. */
export function isProgressNotify(r: WatchResponse): boolean {
  return (
    r.events.length === 0 &&
    !r.canceled &&
    !r.created &&
    r.compactRevision === 0 &&
    (r.header?.revision ?? 0) !== 0
  );
}

export class ProxyWatcher {
  /** The lowest revision of an event this watcher has not seen yet; 0 until a current watch learns "now". */
  nextRevision: number;
  /** The created answer went to the client (a reconnect upstream must not send another). */
  createdSent = false;
  lastHeader: ResponseHeader | undefined;
  /** Set by the client's stream: forget this watcher (upstream ended it). */
  onEnded: () => void = () => {};
  private readonly noPut: boolean;
  private readonly noDelete: boolean;
  private readonly progressNotify: boolean;
  private readonly prevKv: boolean;
  private announced: () => void = () => {};
  /** Resolves once the created answer has been posted, or the watcher is gone. */
  readonly created: Promise<void>;

  constructor(
    readonly id: number,
    readonly range: WatchRange,
    request: WatchCreateRequest,
    private readonly post: (r: WatchResponse) => void,
  ) {
    this.nextRevision = request.startRevision;
    this.noPut = request.filters.includes(WatchCreateRequest_FilterType.NOPUT);
    this.noDelete = request.filters.includes(WatchCreateRequest_FilterType.NODELETE);
    this.progressNotify = request.progressNotify;
    this.prevKv = request.prevKv;
    this.created = new Promise((resolve) => {
      this.announced = resolve;
    });
  }

  /** Tells the client its watch exists (from upstream's created answer, or emulated on joining). */
  announce(header: ResponseHeader | undefined): void {
    if (this.createdSent) return;
    this.createdSent = true;
    if (this.nextRevision === 0) this.nextRevision = (header?.revision ?? 0) + 1;
    this.lastHeader = header;
    this.post(response(header, this.id, { created: true }));
    this.announced();
  }

  /** Ends the watcher from upstream (compaction, permission): the client gets the reason. */
  cancel(upstreamAnswer: WatchResponse): void {
    this.createdSent = true;
    this.post(
      response(upstreamAnswer.header, this.id, {
        canceled: true,
        compactRevision: upstreamAnswer.compactRevision,
        cancelReason: upstreamAnswer.cancelReason,
      }),
    );
    this.announced();
    this.onEnded();
  }

  /** Releases anyone waiting for the created answer (the watcher went away first). */
  abandon(): void {
    this.announced();
  }

  /**
   * One upstream answer for this watcher: events it has already seen or
   * filtered out are dropped; returns false when nothing was sent.
   */
  deliver(r: WatchResponse): boolean {
    if (r.created) {
      this.announce(r.header);
      return true;
    }
    if (!this.createdSent) return false;
    const progress = isProgressNotify(r);
    if (progress && !this.progressNotify) return false;
    const events: Event[] = [];
    let last = 0;
    for (const e of r.events) {
      const rev = e.kv?.modRevision ?? 0;
      // A txn's events share a revision: nextRevision moves only after the whole response.
      if (rev < this.nextRevision) continue;
      last = rev;
      if (e.type === Event_EventType.PUT && this.noPut) continue;
      if (e.type === Event_EventType.DELETE && this.noDelete) continue;
      events.push(this.prevKv || e.prevKv === undefined ? e : { type: e.type, kv: e.kv });
    }
    if (last >= this.nextRevision) this.nextRevision = last + 1;
    if (progress && (r.header?.revision ?? 0) >= this.nextRevision)
      this.nextRevision = (r.header?.revision ?? 0) + 1;
    if (!progress && events.length === 0 && r.compactRevision === 0) return false;
    this.lastHeader = r.header;
    this.post(response(r.header, this.id, { events, compactRevision: r.compactRevision }));
    return true;
  }
}

function response(
  header: ResponseHeader | undefined,
  watchId: number,
  fields: Partial<
    Pick<WatchResponse, 'created' | 'canceled' | 'compactRevision' | 'cancelReason' | 'events'>
  >,
): WatchResponse {
  return {
    header,
    watchId,
    created: fields.created ?? false,
    canceled: fields.canceled ?? false,
    compactRevision: fields.compactRevision ?? 0,
    cancelReason: fields.cancelReason ?? '',
    fragment: false,
    events: fields.events ?? [],
  };
}
