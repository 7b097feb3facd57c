/**
 * Largest relative difference `|a - e| / max(|e|, 1e-3)` between two float arrays; Infinity when their lengths
 * differ or one has a NaN where the other has not. "Outputs equal" in trt-refit's checks means at most 1e-5.
 *
 * @example
 * ```ts
 * maxRelativeError(new Float32Array([1, 2]), new Float32Array([1, 2.00001])); // 5e-6
 * ```
 */
export function maxRelativeError(actual: ArrayLike<number>, expected: ArrayLike<number>): number {
  if (actual.length !== expected.length) return Infinity;
  let worst = 0;
  for (let i = 0; i < expected.length; i++) {
    const e = expected[i]!;
    const a = actual[i]!;
    if (Number.isNaN(a) !== Number.isNaN(e)) return Infinity;
    const err = Math.abs(a - e) / Math.max(Math.abs(e), 1e-3);
    if (err > worst) worst = err;
  }
  return worst;
}
