// Hand-tuned codecs for the hottest messages: PutRequest (decode), PutResponse
// and RangeResponse (encode, straight into a gRPC frame). Profiling the put
// path showed the generated codecs' growing BinaryWriter (ensureCapacity,
// finish) and its garbage among the largest costs per request
// (docs/decisions/0005-put-path-performance.md). These compute the exact size
// first and write one buffer. They produce the same bytes as the generated
// encoders (fields in order, default values omitted) and fall back to the
// generated codec for any value outside what they handle. The generated types
// stay the API.

import {
  KVDefinition,
  PutRequest,
  PutResponse,
  RangeResponse,
  type ResponseHeader,
} from '../../pb/etcdserverpb/rpc.js';
import type { KeyValue } from '../../pb/mvccpb/kv.js';
import { decodePutRequestFast } from '../../server/put-codec.js';
import {
  delimitedSize,
  fitsVarint,
  fitsVarint64,
  varint64Size,
  varintSize,
  writeVarint,
  writeVarint64,
} from '../../server/wire.js';
import { FRAME_HEADER_BYTES } from '../grpc/framing.js';

// ------------------------------------------------------------ sizes

function headerSize(h: ResponseHeader): number {
  let n = 0;
  if (h.clusterId !== 0n) n += 1 + varint64Size(h.clusterId);
  if (h.memberId !== 0n) n += 1 + varint64Size(h.memberId);
  if (h.revision !== 0) n += 1 + varintSize(h.revision);
  if (h.raftTerm !== 0) n += 1 + varintSize(h.raftTerm);
  return n;
}

function headerFits(h: ResponseHeader): boolean {
  return (
    fitsVarint64(h.clusterId) && fitsVarint64(h.memberId) && fitsVarint(h.revision) && fitsVarint(h.raftTerm)
  );
}

function kvSize(kv: KeyValue): number {
  let n = 0;
  if (kv.key.length !== 0) n += 1 + delimitedSize(kv.key.length);
  if (kv.createRevision !== 0) n += 1 + varintSize(kv.createRevision);
  if (kv.modRevision !== 0) n += 1 + varintSize(kv.modRevision);
  if (kv.version !== 0) n += 1 + varintSize(kv.version);
  if (kv.value.length !== 0) n += 1 + delimitedSize(kv.value.length);
  if (kv.lease !== 0n) n += 1 + varint64Size(kv.lease);
  return n;
}

function kvFits(kv: KeyValue): boolean {
  return (
    fitsVarint(kv.createRevision) &&
    fitsVarint(kv.modRevision) &&
    fitsVarint(kv.version) &&
    fitsVarint64(kv.lease)
  );
}

// ------------------------------------------------------------ writers

function writeHeader(buf: Uint8Array, pos: number, h: ResponseHeader, size: number): number {
  buf[pos++] = 0x0a;
  pos = writeVarint(buf, pos, size);
  if (h.clusterId !== 0n) {
    buf[pos++] = 0x08;
    pos = writeVarint64(buf, pos, h.clusterId);
  }
  if (h.memberId !== 0n) {
    buf[pos++] = 0x10;
    pos = writeVarint64(buf, pos, h.memberId);
  }
  if (h.revision !== 0) {
    buf[pos++] = 0x18;
    pos = writeVarint(buf, pos, h.revision);
  }
  if (h.raftTerm !== 0) {
    buf[pos++] = 0x20;
    pos = writeVarint(buf, pos, h.raftTerm);
  }
  return pos;
}

function writeKv(buf: Buffer, pos: number, tag: number, kv: KeyValue, size: number): number {
  buf[pos++] = tag;
  pos = writeVarint(buf, pos, size);
  if (kv.key.length !== 0) {
    buf[pos++] = 0x0a;
    pos = writeVarint(buf, pos, kv.key.length);
    buf.set(kv.key, pos);
    pos += kv.key.length;
  }
  if (kv.createRevision !== 0) {
    buf[pos++] = 0x10;
    pos = writeVarint(buf, pos, kv.createRevision);
  }
  if (kv.modRevision !== 0) {
    buf[pos++] = 0x18;
    pos = writeVarint(buf, pos, kv.modRevision);
  }
  if (kv.version !== 0) {
    buf[pos++] = 0x20;
    pos = writeVarint(buf, pos, kv.version);
  }
  if (kv.value.length !== 0) {
    buf[pos++] = 0x2a;
    pos = writeVarint(buf, pos, kv.value.length);
    buf.set(kv.value, pos);
    pos += kv.value.length;
  }
  if (kv.lease !== 0n) {
    buf[pos++] = 0x30;
    pos = writeVarint64(buf, pos, kv.lease);
  }
  return pos;
}

function newFrame(payloadBytes: number): Buffer {
  const buf = Buffer.allocUnsafe(FRAME_HEADER_BYTES + payloadBytes);
  buf[0] = 0;
  buf.writeUInt32BE(payloadBytes, 1);
  return buf;
}

function checkEnd(buf: Buffer, pos: number): Buffer {
  if (pos !== buf.length) throw new Error(`fast codec: wrote ${pos} bytes into a ${buf.length}-byte frame`);
  return buf;
}

// ------------------------------------------------------------ PutResponse

/** A whole gRPC frame for `m`, or undefined when a value is outside the fast path. */
export function framePutResponse(m: PutResponse): Buffer | undefined {
  const h = m.header;
  const kv = m.prevKv;
  if ((h !== undefined && !headerFits(h)) || (kv !== undefined && !kvFits(kv))) return undefined;
  const hSize = h === undefined ? 0 : headerSize(h);
  const kvBytes = kv === undefined ? 0 : kvSize(kv);
  const total =
    (h === undefined ? 0 : 1 + delimitedSize(hSize)) + (kv === undefined ? 0 : 1 + delimitedSize(kvBytes));
  const buf = newFrame(total);
  let pos = FRAME_HEADER_BYTES;
  if (h !== undefined) pos = writeHeader(buf, pos, h, hSize);
  if (kv !== undefined) pos = writeKv(buf, pos, 0x12, kv, kvBytes);
  return checkEnd(buf, pos);
}

// ------------------------------------------------------------ RangeResponse

export function frameRangeResponse(m: RangeResponse): Buffer | undefined {
  const h = m.header;
  if ((h !== undefined && !headerFits(h)) || !fitsVarint(m.count)) return undefined;
  const hSize = h === undefined ? 0 : headerSize(h);
  let total = h === undefined ? 0 : 1 + delimitedSize(hSize);
  const sizes = new Array<number>(m.kvs.length);
  for (let i = 0; i < m.kvs.length; i++) {
    const kv = m.kvs[i]!;
    if (!kvFits(kv)) return undefined;
    const s = kvSize(kv);
    sizes[i] = s;
    total += 1 + delimitedSize(s);
  }
  if (m.more) total += 2;
  if (m.count !== 0) total += 1 + varintSize(m.count);
  const buf = newFrame(total);
  let pos = FRAME_HEADER_BYTES;
  if (h !== undefined) pos = writeHeader(buf, pos, h, hSize);
  for (let i = 0; i < m.kvs.length; i++) pos = writeKv(buf, pos, 0x12, m.kvs[i]!, sizes[i]!);
  if (m.more) {
    buf[pos++] = 0x18;
    buf[pos++] = 1;
  }
  if (m.count !== 0) {
    buf[pos++] = 0x20;
    pos = writeVarint(buf, pos, m.count);
  }
  return checkEnd(buf, pos);
}

// ------------------------------------------------------------ codecs and the KV definition

const putRequestCodec: typeof PutRequest = {
  ...PutRequest,
  decode: (input, length) =>
    (input instanceof Uint8Array && length === undefined ? decodePutRequestFast(input) : undefined) ??
    PutRequest.decode(input, length),
};

const putResponseCodec = { ...PutResponse, encodeFramed: framePutResponse };
const rangeResponseCodec = { ...RangeResponse, encodeFramed: frameRangeResponse };

/** etcdserverpb.KV with the hot-path codecs swapped in (same methods, paths and types). */
export const FastKVDefinition: typeof KVDefinition = {
  ...KVDefinition,
  methods: {
    ...KVDefinition.methods,
    range: { ...KVDefinition.methods.range, responseType: rangeResponseCodec },
    put: { ...KVDefinition.methods.put, requestType: putRequestCodec, responseType: putResponseCodec },
  },
};
