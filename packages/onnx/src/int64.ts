import { OnnxModelError } from './errors.js';

/** A protobufjs int64: a number, or a Long-like `{ low, high, unsigned }` (when the `long` package is present). */
export type Int64Like = number | { low: number; high: number; unsigned?: boolean } | string | bigint;

/** Exact value of an int64 as a bigint. */
export function int64ToBigInt(v: Int64Like): bigint {
  if (typeof v === 'bigint') return v;
  if (typeof v === 'number') return BigInt(Math.trunc(v));
  if (typeof v === 'string') return BigInt(v);
  const lo = BigInt(v.low >>> 0);
  const hi = BigInt(v.high >>> 0);
  const u = (hi << 32n) | lo;
  return v.unsigned ? u : BigInt.asIntN(64, u);
}

/** An int64 as a number, refusing (never narrowing) values beyond 2^53. */
export function int64ToSafeNumber(v: Int64Like, what: string): number {
  const b = int64ToBigInt(v);
  if (b > BigInt(Number.MAX_SAFE_INTEGER) || b < BigInt(Number.MIN_SAFE_INTEGER)) {
    throw new OnnxModelError(`${what} is ${b}, beyond what can be handled exactly (2^53)`);
  }
  return Number(b);
}
