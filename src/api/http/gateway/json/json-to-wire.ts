// JSON request bodies to protobuf bytes, as etcd 3.4's gateway reads them
// (golang/protobuf 1.3 jsonpb with unknown fields allowed, on Go's
// encoding/json): field names as in the .proto or in lowerCamelCase, 64-bit
// integers as strings or numbers, bytes as standard base64, enums by name or
// number, null for "not set". Errors carry Go's wording, which etcd returns.
import { BinaryWriter, WireType } from '@bufbuild/protobuf/wire';
import type { FieldSchema, MessageSchema, ScalarKind, Schema } from '../schema/types.js';
import { Base64Error, decodeStdBase64 } from './go-base64.js';
import { type GoJson, goKindOf, goQuoteBytes, parseWhole } from './go-json.js';

/** A body that does not fit the message; the message is Go's. */
export class JsonpbError extends Error {
  override readonly name = 'JsonpbError';
}

function typeError(what: string, goType: string): JsonpbError {
  return new JsonpbError(`json: cannot unmarshal ${what} into Go value of type ${goType}`);
}

const GO_TYPES: Record<ScalarKind, string> = {
  int64: 'int64',
  uint64: 'uint64',
  int32: 'int32',
  uint32: 'uint32',
  bool: 'bool',
  string: 'string',
  bytes: '[]uint8',
};

const INT_RANGES = {
  int64: [-(2n ** 63n), 2n ** 63n - 1n],
  uint64: [0n, 2n ** 64n - 1n],
  int32: [-(2n ** 31n), 2n ** 31n - 1n],
  uint32: [0n, 2n ** 32n - 1n],
} as const;

type IntKind = keyof typeof INT_RANGES;

const utf8 = new TextEncoder();

/** A decoded scalar; undefined = JSON null (Go leaves the field as it was). */
type Scalar = bigint | boolean | string | Uint8Array | undefined;

export class JsonToWire {
  constructor(private readonly schema: Schema) {}

  /** The protobuf encoding of `value` as message `type` (null = the empty message). */
  encode(type: string, value: GoJson): Uint8Array {
    const w = new BinaryWriter();
    this.message(this.messageSchema(type), value, w);
    return w.finish();
  }

  private messageSchema(type: string): MessageSchema {
    const m = this.schema.messages[type];
    if (m === undefined) throw new Error(`gateway schema has no message ${type}`);
    return m;
  }

  private message(m: MessageSchema, value: GoJson, w: BinaryWriter): void {
    if (value.t === 'null') return;
    if (value.t !== 'object') throw typeError(goKindOf(value), 'map[string]json.RawMessage');
    // Go reads the object into a map: the last of repeated keys wins.
    const fields = new Map<string, GoJson>();
    for (const [k, v] of value.entries) fields.set(k, v);
    const consume = (f: FieldSchema): GoJson | undefined => {
      const orig = fields.get(f.name);
      const camel = fields.get(f.json);
      fields.delete(f.name);
      fields.delete(f.json);
      // Both given: the lowerCamelCase one wins, as in jsonpb.
      return camel ?? orig;
    };
    // Plain fields first, in declaration order; oneof members after them.
    for (const f of m.fields) {
      if (f.oneof !== undefined) continue;
      const v = consume(f);
      if (v !== undefined) this.field(f, v, w, false);
    }
    const chosen = new Map<string, BinaryWriter>();
    for (const f of m.fields) {
      if (f.oneof === undefined) continue;
      const v = consume(f);
      if (v === undefined) continue;
      // Each member given replaces the one before it (a oneof holds one value).
      const member = new BinaryWriter();
      this.field(f, v, member, true);
      chosen.set(f.oneof, member);
    }
    for (const member of chosen.values()) w.raw(member.finish());
  }

  private field(f: FieldSchema, v: GoJson, w: BinaryWriter, inOneof: boolean): void {
    if (f.repeated === true) {
      this.repeated(f, v, w);
      return;
    }
    if (f.kind === 'message') {
      if (v.t === 'null') return;
      w.tag(f.no, WireType.LengthDelimited).fork();
      this.message(this.messageSchema(f.ref as string), v, w);
      w.join();
      return;
    }
    const s = this.single(f, v);
    if (s === undefined) {
      // A oneof member given as null is still chosen, holding its zero value
      // (Go's wrapper is set; only a nil []byte is left off the wire).
      if (inOneof && f.kind !== 'bytes') writeScalar(w, f, zeroOf(f));
      return;
    }
    if (!inOneof && isZero(s)) return;
    writeScalar(w, f, s);
  }

  private repeated(f: FieldSchema, v: GoJson, w: BinaryWriter): void {
    if (v.t === 'null') return;
    if (v.t !== 'array') throw typeError(goKindOf(v), '[]json.RawMessage');
    if (f.kind === 'message') {
      const type = this.messageSchema(f.ref as string);
      for (const item of v.items) {
        w.tag(f.no, WireType.LengthDelimited).fork();
        this.message(type, item, w);
        w.join();
      }
      return;
    }
    const values = v.items.map((item) => this.single(f, item) ?? zeroOf(f));
    if (f.kind === 'string' || f.kind === 'bytes') {
      for (const s of values) writeScalar(w, f, s);
      return;
    }
    // Numbers, bools and enums are packed (proto3).
    if (values.length === 0) return;
    w.tag(f.no, WireType.LengthDelimited).fork();
    for (const s of values) writeVarintValue(w, f, s);
    w.join();
  }

  /** One scalar or enum value. */
  private single(f: FieldSchema, v: GoJson): Scalar {
    if (f.kind === 'enum') return this.enumValue(f, v);
    const kind = f.kind as ScalarKind;
    switch (kind) {
      case 'int64':
      case 'uint64':
      case 'int32':
      case 'uint32':
        return integer(v, kind, GO_TYPES[kind]);
      case 'bool':
        if (v.t === 'null') return undefined;
        if (v.t !== 'bool') throw typeError(goKindOf(v), 'bool');
        return v.value;
      case 'string':
        if (v.t === 'null') return undefined;
        if (v.t !== 'string') throw typeError(goKindOf(v), 'string');
        return v.value;
      case 'bytes':
        return bytesValue(v);
    }
  }

  private enumValue(f: FieldSchema, v: GoJson): Scalar {
    const e = this.schema.enums[f.ref as string];
    if (e === undefined) throw new Error(`gateway schema has no enum ${f.ref}`);
    if (v.t === 'string') {
      // jsonpb looks the name up as written between the quotes (no unescaping).
      const inner = v.raw.subarray(1, v.raw.length - 1);
      const name = Buffer.from(inner).toString('latin1');
      const found = e.values.find(([n]) => n === name);
      if (found === undefined) {
        throw new JsonpbError(`unknown value ${goQuoteBytes(inner)} for enum ${e.go}`);
      }
      return BigInt(found[1]);
    }
    return integerLiteral(v, 'int32', e.go);
  }
}

/** An integer field: jsonpb strips the quotes of a quoted one and lets encoding/json read what is left. */
function integer(v: GoJson, kind: IntKind, goType: string): Scalar {
  if (v.t === 'string') return integerLiteral(parseWhole(v.raw.subarray(1, v.raw.length - 1)), kind, goType);
  return integerLiteral(v, kind, goType);
}

function integerLiteral(v: GoJson, kind: IntKind, goType: string): Scalar {
  if (v.t === 'null') return undefined;
  if (v.t !== 'number') throw typeError(goKindOf(v), goType);
  // Go parses integers with strconv: no fraction, no exponent, within range.
  if (!/^-?\d+$/.test(v.text)) throw typeError(`number ${v.text}`, goType);
  const n = BigInt(v.text);
  const [min, max] = INT_RANGES[kind];
  if (n < min || n > max) throw typeError(`number ${v.text}`, goType);
  return n;
}

function bytesValue(v: GoJson): Scalar {
  switch (v.t) {
    case 'null':
      return undefined;
    case 'string':
      try {
        return decodeStdBase64(utf8.encode(v.value));
      } catch (err) {
        if (err instanceof Base64Error) throw new JsonpbError(err.message);
        throw err;
      }
    case 'array': {
      // encoding/json also fills a []byte from an array of numbers.
      const out = new Uint8Array(v.items.length);
      v.items.forEach((item, i) => {
        const n = integerLiteral(item, 'uint32', 'uint8');
        if (typeof n === 'bigint' && n > 255n)
          throw typeError(`number ${(item as { text: string }).text}`, 'uint8');
        out[i] = Number(n ?? 0n);
      });
      return out;
    }
    default:
      throw typeError(goKindOf(v), '[]uint8');
  }
}

function zeroOf(f: FieldSchema): Exclude<Scalar, undefined> {
  switch (f.kind) {
    case 'bool':
      return false;
    case 'string':
      return '';
    case 'bytes':
      return new Uint8Array(0);
    default:
      return 0n;
  }
}

function isZero(s: Exclude<Scalar, undefined>): boolean {
  if (typeof s === 'bigint') return s === 0n;
  if (typeof s === 'boolean') return !s;
  return s.length === 0;
}

function writeScalar(w: BinaryWriter, f: FieldSchema, s: Exclude<Scalar, undefined>): void {
  if (typeof s === 'string') {
    w.tag(f.no, WireType.LengthDelimited).string(s);
    return;
  }
  if (s instanceof Uint8Array) {
    w.tag(f.no, WireType.LengthDelimited).bytes(s);
    return;
  }
  w.tag(f.no, WireType.Varint);
  writeVarintValue(w, f, s);
}

function writeVarintValue(w: BinaryWriter, f: FieldSchema, s: Exclude<Scalar, undefined>): void {
  if (typeof s === 'boolean') {
    w.bool(s);
    return;
  }
  if (typeof s !== 'bigint') throw new Error(`${f.name}: not a varint value`);
  switch (f.kind) {
    case 'uint64':
      w.uint64(s);
      return;
    case 'uint32':
      w.uint32(Number(s));
      return;
    case 'int32':
    case 'enum':
      w.int32(Number(s));
      return;
    default:
      w.int64(s);
  }
}
