// Splitting a large watch response into fragments (etcd 3.4 v3rpc/watch.go sendFragments
// semantics), and the protobuf size of a WatchResponse computed without an encoder.

import type { Event, KeyValue } from '../mvcc/types.js';
import type { ResponseSizer, WatchResponse } from './types.js';

/**
 * Splits `resp` into responses whose encoded size stays under `maxBytes`, as etcd does
 * for watchers created with fragment=true: nothing is split when the whole response is
 * under the limit or holds fewer than two events; otherwise parts are filled event by
 * event, a part never drops below one event (so one huge event travels alone, over the
 * limit), and every part but the last carries `fragment: true`. Events are never split.
 *
 * `sizeOf` must be additive over events (true of protobuf's repeated field), so the cost
 * is linear: the sizer is called once per event, not once per candidate part.
 */
export function fragment(resp: WatchResponse, maxBytes: number, sizeOf: ResponseSizer): WatchResponse[] {
  const events = resp.events;
  if (events.length < 2 || sizeOf(resp) < maxBytes) return [resp];
  const emptySize = sizeOf({ ...resp, events: [] });
  const baseSize = sizeOf({ ...resp, fragment: true, events: [] });
  const parts: WatchResponse[] = [];
  let i = 0;
  while (i < events.length) {
    const part: Event[] = [events[i]!];
    let size = baseSize + sizeOf({ ...resp, events: [events[i]!] }) - emptySize;
    i++;
    while (i < events.length) {
      const evSize = sizeOf({ ...resp, events: [events[i]!] }) - emptySize;
      if (size + evSize >= maxBytes) break;
      part.push(events[i]!);
      size += evSize;
      i++;
    }
    const last = i === events.length;
    const out: WatchResponse = { ...resp, events: part };
    if (last) delete out.fragment;
    else out.fragment = true;
    parts.push(out);
  }
  return parts;
}

/** Bytes reserved for the ResponseHeader the shell adds (4 fields at their largest, with tags). */
export const HEADER_ALLOWANCE = 2 + 4 * 11;

/** Protobuf-encoded size of the response (etcdserverpb.WatchResponse) with a full-size header. */
export function watchResponseSize(resp: WatchResponse): number {
  let n = HEADER_ALLOWANCE;
  if (resp.watchId !== 0) n += 1 + varintSize(resp.watchId);
  if (resp.created) n += 2;
  if (resp.canceled) n += 2;
  if (resp.compactRevision) n += 1 + varintSize(resp.compactRevision);
  if (resp.cancelReason) n += 1 + lengthDelimited(Buffer.byteLength(resp.cancelReason));
  if (resp.fragment) n += 2;
  for (const ev of resp.events) n += 1 + lengthDelimited(eventSize(ev));
  return n;
}

/** Encoded size of an mvccpb.Event. */
export function eventSize(ev: Event): number {
  let n = ev.type !== 0 ? 1 + varintSize(ev.type) : 0;
  n += 1 + lengthDelimited(keyValueSize(ev.kv));
  if (ev.prevKv !== undefined) n += 1 + lengthDelimited(keyValueSize(ev.prevKv));
  return n;
}

function keyValueSize(kv: KeyValue): number {
  let n = 0;
  if (kv.key.length > 0) n += 1 + lengthDelimited(kv.key.length);
  if (kv.createRevision !== 0) n += 1 + varintSize(kv.createRevision);
  if (kv.modRevision !== 0) n += 1 + varintSize(kv.modRevision);
  if (kv.version !== 0) n += 1 + varintSize(kv.version);
  if (kv.value.length > 0) n += 1 + lengthDelimited(kv.value.length);
  if (kv.lease !== 0n) n += 1 + varintSize(kv.lease);
  return n;
}

/** A length prefix plus the payload. */
function lengthDelimited(len: number): number {
  return varintSize(len) + len;
}

function varintSize(v: number | bigint): number {
  if (v < 0) return 10; // int64 negatives take all ten bytes
  let n = 1;
  if (typeof v === 'bigint') {
    while (v >= 128n) {
      v >>= 7n;
      n++;
    }
    return n;
  }
  while (v >= 128) {
    v = Math.floor(v / 128);
    n++;
  }
  return n;
}
