// Protobuf bytes to JSON, as etcd 3.4's gateway writes responses (jsonpb with
// OrigName, defaults left out): fields in declaration order under their .proto
// names, 64-bit integers as strings, bytes as standard base64, enums by name.
// What is present on the wire is what Go would hold after decoding it, so a
// oneof member or a bytes field that is present is written even when empty,
// while a plain scalar equal to its zero value is not.
import type { FieldSchema, MessageSchema, Schema } from '../schema/types.js';
import { encodeStdBase64 } from './go-base64.js';
import { goJsonStringFromBytes } from './go-json-string.js';

const VARINT = 0;
const FIXED64 = 1;
const LEN = 2;
const FIXED32 = 5;

/** What one field number holds on the wire: varints as bigint, length-delimited as bytes. */
type WireValue = bigint | Uint8Array;

class WireReader {
  pos = 0;
  constructor(private readonly buf: Uint8Array) {}

  get done(): boolean {
    return this.pos >= this.buf.length;
  }

  varint(): bigint {
    let result = 0n;
    let shift = 0n;
    for (;;) {
      if (this.pos >= this.buf.length) throw new Error('truncated varint');
      const b = this.buf[this.pos++] as number;
      result |= BigInt(b & 0x7f) << shift;
      if ((b & 0x80) === 0) return result;
      shift += 7n;
      if (shift > 63n) throw new Error('varint too long');
    }
  }

  take(n: number): Uint8Array {
    if (this.pos + n > this.buf.length) throw new Error('truncated field');
    const out = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return out;
  }
}

interface WireFields {
  /** Values by field number, in order of appearance. */
  readonly values: Map<number, WireValue[]>;
  /** Where each field number was seen last (its position among all fields). */
  readonly lastSeen: Map<number, number>;
}

function readFields(buf: Uint8Array): WireFields {
  const out = new Map<number, WireValue[]>();
  const lastSeen = new Map<number, number>();
  const r = new WireReader(buf);
  for (let seq = 0; !r.done; seq++) {
    const tag = Number(r.varint());
    const no = tag >>> 3;
    let v: WireValue | undefined;
    switch (tag & 7) {
      case VARINT:
        v = r.varint();
        break;
      case LEN:
        v = r.take(Number(r.varint()));
        break;
      case FIXED64:
        r.take(8);
        break;
      case FIXED32:
        r.take(4);
        break;
      default:
        throw new Error(`unsupported wire type ${tag & 7}`);
    }
    if (v === undefined) continue;
    lastSeen.set(no, seq);
    const list = out.get(no);
    if (list === undefined) out.set(no, [v]);
    else list.push(v);
  }
  return { values: out, lastSeen };
}

export class WireToJson {
  constructor(private readonly schema: Schema) {}

  /** The JSON text of message `type` encoded in `bytes`. */
  toJson(type: string, bytes: Uint8Array): string {
    return this.message(this.messageSchema(type), bytes);
  }

  private messageSchema(type: string): MessageSchema {
    const m = this.schema.messages[type];
    if (m === undefined) throw new Error(`gateway schema has no message ${type}`);
    return m;
  }

  private message(m: MessageSchema, bytes: Uint8Array): string {
    const wire = readFields(bytes);
    const parts: string[] = [];
    const oneofsDone = new Set<string>();
    for (const f of m.fields) {
      if (f.oneof !== undefined) {
        // The Go struct holds a oneof at the place of its first member.
        if (oneofsDone.has(f.oneof)) continue;
        oneofsDone.add(f.oneof);
        const member = this.oneofMember(m, f.oneof, wire);
        if (member !== undefined) {
          const json = this.singular(member.field, member.values, true);
          if (json !== undefined) parts.push(`"${member.field.name}":${json}`);
        }
        continue;
      }
      const values = wire.values.get(f.no);
      if (values === undefined) continue;
      const json = f.repeated === true ? this.repeated(f, values) : this.singular(f, values, false);
      if (json !== undefined) parts.push(`"${f.name}":${json}`);
    }
    return `{${parts.join(',')}}`;
  }

  /** The member of a oneof that is set: the last one on the wire. */
  private oneofMember(
    m: MessageSchema,
    oneof: string,
    wire: WireFields,
  ): { field: FieldSchema; values: WireValue[] } | undefined {
    let best: { field: FieldSchema; values: WireValue[] } | undefined;
    let bestIndex = -1;
    for (const f of m.fields) {
      if (f.oneof !== oneof) continue;
      const values = wire.values.get(f.no);
      const index = wire.lastSeen.get(f.no);
      if (values === undefined || index === undefined) continue;
      if (index > bestIndex) {
        best = { field: f, values };
        bestIndex = index;
      }
    }
    return best;
  }

  /** A non-repeated field, or undefined when jsonpb leaves it out. */
  private singular(f: FieldSchema, values: WireValue[], inOneof: boolean): string | undefined {
    if (f.kind === 'message') {
      // Repeated occurrences of a message field merge: their encodings concatenate.
      const chunks = values.filter((v): v is Uint8Array => v instanceof Uint8Array);
      return this.message(this.messageSchema(f.ref as string), Buffer.concat(chunks));
    }
    const v = values[values.length - 1] as WireValue;
    if (f.kind === 'bytes') return v instanceof Uint8Array ? `"${encodeStdBase64(v)}"` : undefined;
    if (!inOneof && isZeroWire(v)) return undefined;
    return this.scalar(f, v);
  }

  private repeated(f: FieldSchema, values: WireValue[]): string {
    const items: string[] = [];
    for (const v of values) {
      if (f.kind === 'message') {
        if (v instanceof Uint8Array) items.push(this.message(this.messageSchema(f.ref as string), v));
      } else if (f.kind === 'string' || f.kind === 'bytes') {
        if (v instanceof Uint8Array) items.push(this.scalar(f, v));
      } else if (v instanceof Uint8Array) {
        // Packed numbers.
        const r = new WireReader(v);
        while (!r.done) items.push(this.scalar(f, r.varint()));
      } else {
        items.push(this.scalar(f, v));
      }
    }
    return `[${items.join(',')}]`;
  }

  private scalar(f: FieldSchema, v: WireValue): string {
    if (v instanceof Uint8Array) {
      if (f.kind === 'bytes') return `"${encodeStdBase64(v)}"`;
      if (f.kind === 'string') return goJsonStringFromBytes(v);
      throw new Error(`${f.name}: length-delimited value for a ${f.kind} field`);
    }
    switch (f.kind) {
      case 'int64':
        return `"${BigInt.asIntN(64, v)}"`;
      case 'uint64':
        return `"${BigInt.asUintN(64, v)}"`;
      case 'int32':
        return String(BigInt.asIntN(32, v));
      case 'uint32':
        return String(BigInt.asUintN(32, v));
      case 'bool':
        return v !== 0n ? 'true' : 'false';
      case 'enum': {
        const n = Number(BigInt.asIntN(32, v));
        const e = this.schema.enums[f.ref as string];
        const name = e?.values.find(([, value]) => value === n)?.[0];
        // An unknown value is written as its number, unquoted (as jsonpb does).
        return name === undefined ? String(n) : `"${name}"`;
      }
      default:
        throw new Error(`${f.name}: varint value for a ${f.kind} field`);
    }
  }
}

function isZeroWire(v: WireValue): boolean {
  return v instanceof Uint8Array ? v.length === 0 : v === 0n;
}
