// Record payloads: what each record type carries, encoded with the compact codec.
import type { ConfState, Entry, HardState } from '../raft/types.js';
import {
  BinReader,
  readConfState,
  readEntry,
  readHardState,
  writeConfState,
  writeEntry,
  writeHardState,
} from './codec.js';
import { type BatchEncoder, RecordType } from './record.js';

export interface WalSnapshotRef {
  index: number;
  term: number;
  confState?: ConfState;
}

export function addMetadata(enc: BatchEncoder, metadata: Uint8Array): void {
  enc.begin(RecordType.Metadata).bytes(metadata);
  enc.end();
}

export function addEntry(enc: BatchEncoder, e: Entry): void {
  writeEntry(enc.begin(RecordType.Entry), e);
  enc.end();
}

export function addHardState(enc: BatchEncoder, hs: HardState): void {
  writeHardState(enc.begin(RecordType.HardState), hs);
  enc.end();
}

export function addSnapshot(enc: BatchEncoder, ref: WalSnapshotRef): void {
  const w = enc.begin(RecordType.Snapshot);
  w.u64(ref.index);
  w.u64(ref.term);
  w.u8(ref.confState ? 1 : 0);
  if (ref.confState) writeConfState(w, ref.confState);
  enc.end();
}

export function decodeEntry(payload: Buffer): Entry {
  return readEntry(payload);
}

export function decodeHardState(payload: Buffer): HardState {
  const r = new BinReader(payload);
  const hs = readHardState(r);
  r.end();
  return hs;
}

export function decodeSnapshot(payload: Buffer): WalSnapshotRef {
  const r = new BinReader(payload);
  const index = r.u64();
  const term = r.u64();
  const flag = r.u8();
  if (flag > 1) throw new RangeError(`codec: bad confState flag ${flag}`);
  const ref: WalSnapshotRef = { index, term };
  if (flag === 1) ref.confState = readConfState(r);
  r.end();
  return ref;
}
