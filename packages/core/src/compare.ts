/**
 * Largest relative difference `|a - e| / max(|e|, floor)` between two float arrays, where `floor` is 1% of the
 * largest magnitude in `expected` (at least 1e-6): elements far smaller than the tensor's scale are compared to
 * that scale, so float32 rounding noise on near-zero values does not dominate (as numpy's allclose does with atol).
 * Infinity when the lengths differ or one has a NaN where the other has not. "Outputs equal" means at most 1e-5.
 *
 * @example
 * ```ts
 * maxRelativeError(new Float32Array([1, 2]), new Float32Array([1, 2.00001])); // 5e-6
 * ```
 */
export function maxRelativeError(actual: ArrayLike<number>, expected: ArrayLike<number>): number {
  if (actual.length !== expected.length) return Infinity;
  let scale = 0;
  for (let i = 0; i < expected.length; i++) scale = Math.max(scale, Math.abs(expected[i]!));
  const floor = Math.max(scale * 0.01, 1e-6);
  let worst = 0;
  for (let i = 0; i < expected.length; i++) {
    const e = expected[i]!;
    const a = actual[i]!;
    if (Number.isNaN(a) !== Number.isNaN(e)) return Infinity;
    const err = Math.abs(a - e) / Math.max(Math.abs(e), floor);
    if (err > worst) worst = err;
  }
  return worst;
}
