/**
 * Fuzzing of the project's readers (ONNX, safetensors, mock plans) with fast-check over mutated seed files.
 *
 * Each input is a seed with 1 to 8 mutations (bit flips, interesting bytes, forged 32/64-bit lengths and varints,
 * truncations, insertions, deletions, duplicated ranges). A reader passes an input when it either returns — and
 * everything it returned stays within a small multiple of the input's size — or throws one of the project's typed
 * errors (`isTrtRefitError`); any other exception, an input slower than the time limit, or an oversized result
 * fails the property, and fast-check shrinks it to a minimal reproducer.
 *
 * Used by the 30-second smoke tests in `pnpm test` and by `pnpm fuzz` (long runs with figures).
 */
import { getHeapStatistics } from 'node:v8';
import fc from 'fast-check';
import { isTrtRefitError } from '@trt-refit/core';

/** One way of damaging a file. Positions are taken modulo the input's length. */
export type Mutation =
  | { kind: 'flip'; at: number; bit: number }
  | { kind: 'set'; at: number; value: number }
  | { kind: 'word'; at: number; bytes: readonly number[] }
  | { kind: 'truncate'; at: number }
  | { kind: 'insert'; at: number; bytes: Uint8Array }
  | { kind: 'delete'; at: number; length: number }
  | { kind: 'duplicate'; from: number; length: number; to: number };

const le = (v: bigint, n: number) => Array.from({ length: n }, (_, i) => Number((v >> BigInt(8 * i)) & 0xffn));
/** Byte patterns that forge sizes: 32/64-bit maxima and near-maxima, 2^31, 2^53, 10-byte varints, negative int64s. */
const WORDS: readonly (readonly number[])[] = [
  le(0xffffffffn, 4),
  le(0x7fffffffn, 4),
  le(0x80000000n, 4),
  le(0xffffffffffffffffn, 8),
  le(0x7fffffffffffffffn, 8),
  le(1n << 53n, 8),
  le(100_000_001n, 8),
  [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01],
  [0x80, 0x80, 0x80, 0x80, 0x08],
  [0xff, 0xff, 0xff, 0xff, 0x0f],
  [0xfe, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01],
];

/** An arbitrary mutation. */
export const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  { weight: 4, arbitrary: fc.record({ kind: fc.constant('flip' as const), at: fc.nat(), bit: fc.nat(7) }) },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('set' as const), at: fc.nat(), value: fc.oneof(fc.constantFrom(0, 1, 0x7f, 0x80, 0xff), fc.nat(255)) }) },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('word' as const), at: fc.nat(), bytes: fc.constantFrom(...WORDS) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('truncate' as const), at: fc.nat() }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('insert' as const), at: fc.nat(), bytes: fc.uint8Array({ minLength: 1, maxLength: 16 }) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('delete' as const), at: fc.nat(), length: fc.integer({ min: 1, max: 64 }) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('duplicate' as const), from: fc.nat(), length: fc.integer({ min: 1, max: 256 }), to: fc.nat() }) },
);

/** `seed` with `mutations` applied, in order (a new array; the seed is not changed). */
export function mutate(seed: Uint8Array, mutations: readonly Mutation[]): Uint8Array {
  let b = seed.slice();
  for (const m of mutations) {
    const n = b.length;
    if (n === 0) break;
    switch (m.kind) {
      case 'flip':
        b[m.at % n] = b[m.at % n]! ^ (1 << m.bit);
        break;
      case 'set':
        b[m.at % n] = m.value;
        break;
      case 'word':
        for (let i = 0; i < m.bytes.length && (m.at % n) + i < n; i++) b[(m.at % n) + i] = m.bytes[i]!;
        break;
      case 'truncate':
        b = b.slice(0, m.at % n);
        break;
      case 'insert': {
        const at = m.at % (n + 1);
        const out = new Uint8Array(n + m.bytes.length);
        out.set(b.subarray(0, at), 0);
        out.set(m.bytes, at);
        out.set(b.subarray(at), at + m.bytes.length);
        b = out;
        break;
      }
      case 'delete': {
        const at = m.at % n;
        const out = new Uint8Array(n - Math.min(m.length, n - at));
        out.set(b.subarray(0, at), 0);
        out.set(b.subarray(at + m.length), at);
        b = out;
        break;
      }
      case 'duplicate': {
        const from = m.from % n;
        const piece = b.slice(from, Math.min(n, from + m.length));
        const to = m.to % (n + 1);
        const out = new Uint8Array(n + piece.length);
        out.set(b.subarray(0, to), 0);
        out.set(piece, to);
        out.set(b.subarray(to), to + piece.length);
        b = out;
        break;
      }
    }
  }
  return b;
}

/** A seed and 1 to 8 mutations of it (mostly one, so that many inputs still parse and reach the deeper checks). */
export function mutatedInput(seeds: readonly Uint8Array[]): fc.Arbitrary<Uint8Array> {
  const mutations = fc.oneof({ weight: 3, arbitrary: fc.array(mutation, { minLength: 1, maxLength: 1 }) }, { weight: 1, arbitrary: fc.array(mutation, { minLength: 2, maxLength: 8 }) });
  return fc.record({ seed: fc.nat(seeds.length - 1), mutations }).map(({ seed, mutations }) => mutate(seeds[seed]!, mutations));
}

/**
 * A reader under test: reads `bytes` the way a user would (parse, then read every tensor) and returns how many
 * bytes of results it produced that are not views of the input (allocations), for the size bound.
 */
export type Reader = (bytes: Uint8Array) => Promise<number> | number;

/** Limits every input must meet. */
export interface FuzzLimits {
  /** Milliseconds one input may take (default 1000). */
  readonly maxMs?: number;
  /** Allocated result bytes allowed per input byte (default 16), plus `slackBytes`. */
  readonly maxBytesPerInputByte?: number;
  readonly slackBytes?: number;
}

/** Heap growth tolerated beyond the bound (decoded objects, closures, strings: proportional, but not in bytes). */
const HEAP_SLACK = 16 * 2 ** 20;

/** What a run saw. */
export interface FuzzStats {
  inputs: number;
  accepted: number;
  refused: number;
  /** Refusals by error code. */
  codes: Record<string, number>;
  maxMs: number;
  /** Largest allocated result relative to its input. */
  maxBytesRatio: number;
  /** Most memory an input's read left allocated (V8 heap + external buffers, not yet collected), in bytes. */
  maxAllocatedBytes: number;
  seconds: number;
}

export function newStats(): FuzzStats {
  return { inputs: 0, accepted: 0, refused: 0, codes: {}, maxMs: 0, maxBytesRatio: 0, maxAllocatedBytes: 0, seconds: 0 };
}

/**
 * Runs `reader` on one input and checks the limits; throws (failing the property) for an untyped exception, a
 * slow input or an oversized result. Records what happened in `stats`.
 */
export async function checkInput(reader: Reader, bytes: Uint8Array, stats: FuzzStats, limits: FuzzLimits = {}): Promise<void> {
  const maxMs = limits.maxMs ?? 1000;
  const before = getHeapStatistics();
  const t0 = performance.now();
  let produced = 0;
  let error: unknown;
  try {
    produced = await reader(bytes);
  } catch (e) {
    error = e;
  }
  const ms = performance.now() - t0;
  // What the read allocated and had not been collected yet (a lower bound of its peak; a forged size that made
  // it allocate gigabytes shows here), against the same bound as results.
  const after = getHeapStatistics();
  const allocated = Math.max(0, after.external_memory - before.external_memory) + Math.max(0, after.used_heap_size - before.used_heap_size);
  stats.maxAllocatedBytes = Math.max(stats.maxAllocatedBytes, allocated);
  const allocationBound = (limits.maxBytesPerInputByte ?? 16) * bytes.length + (limits.slackBytes ?? 1 << 16) + HEAP_SLACK;
  stats.inputs++;
  stats.maxMs = Math.max(stats.maxMs, ms);
  if (error !== undefined) {
    if (!isTrtRefitError(error)) throw new Error(`an untyped exception escaped: ${error instanceof Error ? `${error.name}: ${error.message}` : String(error)}`);
    stats.refused++;
    stats.codes[error.code] = (stats.codes[error.code] ?? 0) + 1;
  } else {
    stats.accepted++;
    const bound = (limits.maxBytesPerInputByte ?? 16) * bytes.length + (limits.slackBytes ?? 1 << 16);
    if (produced > bound) throw new Error(`the reader allocated ${produced} bytes for a ${bytes.length}-byte input (bound ${bound})`);
    stats.maxBytesRatio = Math.max(stats.maxBytesRatio, produced / Math.max(1, bytes.length));
  }
  if (ms > maxMs) throw new Error(`one input took ${ms.toFixed(0)} ms (limit ${maxMs} ms)`);
  if (allocated > allocationBound) throw new Error(`reading a ${bytes.length}-byte input allocated ${allocated} bytes (bound ${allocationBound})`);
}

/**
 * Fuzzes `reader` for `seconds` (or `inputs` inputs, whichever comes first) over mutations of `seeds` and, with
 * `generated`, files generated well-formed with forged contents; fails with fast-check's minimal counterexample.
 * Resolves to the statistics.
 */
export async function fuzz(reader: Reader, seeds: readonly Uint8Array[], options: { seconds?: number; inputs?: number; seed?: number; limits?: FuzzLimits; generated?: fc.Arbitrary<Uint8Array> } = {}): Promise<FuzzStats> {
  const stats = newStats();
  const t0 = performance.now();
  // Mutated seeds, and (where given) well-formed files with forged contents, half and half.
  const inputs = options.generated ? fc.oneof(mutatedInput(seeds), options.generated) : mutatedInput(seeds);
  await fc.assert(
    fc.asyncProperty(inputs, async (bytes) => checkInput(reader, bytes, stats, options.limits)),
    // Stops after `seconds` without failing (interrupted runs pass); a failure is shrunk as usual.
    { numRuns: options.inputs ?? 1_000_000_000, ...(options.seed !== undefined ? { seed: options.seed } : {}), interruptAfterTimeLimit: (options.seconds ?? 10) * 1000, markInterruptAsFailure: false },
  );
  stats.seconds = (performance.now() - t0) / 1000;
  return stats;
}

/** Bytes of `view` that are not a view of `input` (a fresh allocation), for the size bound. */
export function allocatedBytes(view: ArrayBufferView, input: Uint8Array): number {
  return view.buffer === input.buffer ? 0 : view.byteLength;
}
