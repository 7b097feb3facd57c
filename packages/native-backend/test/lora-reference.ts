/**
 * The LoRA merge's arithmetic in JS, step for step as the fake cuBLAS (`scripts/fake-cublas.c`) and the kernels
 * compute it: per factor, acc = Σₚ fl32(aₚ · bₚ) in the order of p, then fl32(alpha · acc) added in FP32 to the
 * running FP32 value, which starts as W for FLOAT (GEMMs with beta 1 into `out`, a copy of the base) and as 0 for
 * HALF / BF16 (the workspace), added to the base and rounded once at the end (round to nearest even). Used by the fake binding and to
 * check the real addon over the fakes bit for bit.
 */
const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/** FP32 → FP16 bits, round to nearest even (subnormals, infinities and NaN included). */
export function toHalfBits(x: number): number {
  f32[0] = x;
  const u = u32[0]!;
  const sign = (u >>> 16) & 0x8000;
  let e = (u >>> 23) & 0xff;
  let m = u & 0x7fffff;
  if (e === 255) return sign | 0x7c00 | (m ? 0x200 : 0);
  e = e - 127 + 15;
  if (e >= 31) return sign | 0x7c00;
  if (e <= 0) {
    if (e < -10) return sign;
    m |= 0x800000;
    const shift = 14 - e;
    let h = m >>> shift;
    const rem = m & ((1 << shift) - 1);
    const half = 1 << (shift - 1);
    if (rem > half || (rem === half && h & 1)) h++;
    return sign | h;
  }
  let h = (e << 10) | (m >>> 13);
  const rem = m & 0x1fff;
  if (rem > 0x1000 || (rem === 0x1000 && h & 1)) h++;
  return sign | h;
}

/** FP16 bits → number. */
export function fromHalfBits(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const e = (h >>> 10) & 0x1f;
  const m = h & 0x3ff;
  if (e === 0) return sign * m * 2 ** -24;
  if (e === 31) return m ? NaN : sign * Infinity;
  return sign * (1 + m / 1024) * 2 ** (e - 15);
}

/** FP32 → BF16 bits, round to nearest even. */
export function toBf16Bits(x: number): number {
  f32[0] = x;
  const u = u32[0]!;
  if ((u & 0x7fffffff) > 0x7f800000) return ((u >>> 16) | 0x40) & 0xffff;
  return ((u + 0x7fff + ((u >>> 16) & 1)) >>> 16) & 0xffff;
}

/** BF16 bits → number. */
export function fromBf16Bits(h: number): number {
  u32[0] = (h << 16) >>> 0;
  return f32[0]!;
}

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
