// Txn guards (etcd 3.4 semantics): a Compare holds when every key of its range
// satisfies it. With no key in the range, VALUE compares fail outright (an
// absent value cannot be told from an empty one) and the other targets compare
// against zero (version, create and mod revision 0, lease 0).

import {
  type Compare,
  CompareResult,
  CompareTarget,
  EMPTY_KV,
  type Int64Like,
  type KeyValue,
} from './types.js';

type Operand = { kind: 'int'; value: bigint } | { kind: 'bytes'; value: Uint8Array };

function toBigInt(v: Int64Like | undefined): bigint {
  if (v === undefined) return 0n;
  return typeof v === 'bigint' ? v : BigInt(v);
}

/** The operand the compare carries for its target; a missing or mismatched one counts as zero/empty. */
function operandOf(c: Compare): Operand {
  const u = c.targetUnion;
  switch (c.target) {
    case CompareTarget.VALUE: {
      const v = u !== undefined ? (u.$case === 'value' ? u.value : undefined) : c.value;
      return { kind: 'bytes', value: v ?? new Uint8Array(0) };
    }
    case CompareTarget.CREATE:
      return {
        kind: 'int',
        value: toBigInt(u ? (u.$case === 'createRevision' ? u.createRevision : 0) : c.createRevision),
      };
    case CompareTarget.MOD:
      return {
        kind: 'int',
        value: toBigInt(u ? (u.$case === 'modRevision' ? u.modRevision : 0) : c.modRevision),
      };
    case CompareTarget.LEASE:
      return { kind: 'int', value: toBigInt(u ? (u.$case === 'lease' ? u.lease : 0) : c.lease) };
    default:
      return { kind: 'int', value: toBigInt(u ? (u.$case === 'version' ? u.version : 0) : c.version) };
  }
}

function fieldOf(target: number, kv: KeyValue): bigint {
  switch (target) {
    case CompareTarget.CREATE:
      return BigInt(kv.createRevision);
    case CompareTarget.MOD:
      return BigInt(kv.modRevision);
    case CompareTarget.LEASE:
      return kv.lease;
    default:
      return BigInt(kv.version);
  }
}

function sign(a: bigint, b: bigint): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function compareOne(c: Compare, operand: Operand, kv: KeyValue): boolean {
  const order =
    operand.kind === 'bytes'
      ? Math.sign(Buffer.compare(Buffer.from(kv.value), Buffer.from(operand.value)))
      : sign(fieldOf(c.target, kv), operand.value);
  switch (c.result) {
    case CompareResult.EQUAL:
      return order === 0;
    case CompareResult.NOT_EQUAL:
      return order !== 0;
    case CompareResult.GREATER:
      return order > 0;
    case CompareResult.LESS:
      return order < 0;
    default:
      // etcd treats an unknown result as satisfied.
      return true;
  }
}

/** Evaluates `c` over the key-values currently in its range. */
export function evaluateCompare(c: Compare, kvsInRange: KeyValue[]): boolean {
  const operand = operandOf(c);
  if (kvsInRange.length === 0) {
    if (c.target === CompareTarget.VALUE) return false;
    return compareOne(c, operand, EMPTY_KV);
  }
  return kvsInRange.every((kv) => compareOne(c, operand, kv));
}
