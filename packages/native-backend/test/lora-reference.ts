/**
 * The LoRA merge's arithmetic in JS, step for step as the fake cuBLAS (`scripts/fake-cublas.c`) and the kernels
 * compute it: per factor, acc = Σₚ fl32(aₚ · bₚ) in the order of p, then fl32(alpha · acc) added in FP32 to the
 * running FP32 value, which starts as W for FLOAT (GEMMs with beta 1 into `out`, a copy of the base) and as 0 for
 * HALF / BF16 (the workspace), added to the base and rounded once at the end (round to nearest even). Used by the fake binding and to
 * check the real addon over the fakes bit for bit.
 */
// The 16-bit conversions are @trt-refit/onnx's (round to nearest even, subnormals, infinities and NaN included).
export { floatToHalf as toHalfBits, halfToFloat as fromHalfBits, floatToBf16 as toBf16Bits, bf16ToFloat as fromBf16Bits } from '@trt-refit/onnx';
import { floatToBf16 as toBf16Bits, floatToHalf as toHalfBits, bf16ToFloat as fromBf16Bits, halfToFloat as fromHalfBits } from '@trt-refit/onnx';

export interface ReferenceFactor {
  readonly a: Float32Array;
  readonly b: Float32Array;
  readonly rank: number;
  readonly alpha: number;
}

/** The merged weight's bytes, in the stored layout. `type` 0 FLOAT, 1 HALF, 2 BF16; `base` the stored bytes. */
export function referenceMerge(base: Uint8Array, type: number, rows: number, cols: number, transposed: boolean, factors: readonly ReferenceFactor[]): Uint8Array {
  const n = rows * cols;
  const es = type === 0 ? 4 : 2;
  const bytes = base.slice(0, n * es);
  const live = factors.filter((f) => f.rank > 0);
  if (live.length === 0 || n === 0) return bytes;
  const float = type === 0;
  const acc32 = float ? new Float32Array(bytes.buffer, bytes.byteOffset, n) : new Float32Array(n);
  live.forEach((f, fi) => {
    const alpha = Math.fround(f.alpha);
    for (let i = 0; i < rows; i++) {
      for (let j = 0; j < cols; j++) {
        let acc = 0;
        for (let p = 0; p < f.rank; p++) acc = Math.fround(acc + Math.fround(f.a[p * cols + j]! * f.b[i * f.rank + p]!));
        const at = transposed ? j * rows + i : i * cols + j;
        acc32[at] = fi === 0 && !float ? Math.fround(alpha * acc) : Math.fround(Math.fround(alpha * acc) + acc32[at]!);
      }
    }
  });
  if (float) return bytes;
  const w = new Uint16Array(bytes.buffer, bytes.byteOffset, n);
  for (let i = 0; i < n; i++) {
    w[i] = type === 1 ? toHalfBits(Math.fround(fromHalfBits(w[i]!) + acc32[i]!)) : toBf16Bits(Math.fround(fromBf16Bits(w[i]!) + acc32[i]!));
  }
  return bytes;
}

/** `n` values uniform in [-scale, scale) from a fixed LCG: the same test data on every run. */
export function rand(n: number, seed: number, scale = 1): Float32Array {
  let s = seed >>> 0;
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = ((s / 2 ** 32) * 2 - 1) * scale;
  }
  return out;
}
