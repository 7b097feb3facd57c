import { TrtRefitError, TrtRefitErrorCode } from '@trt-refit/core';

/** A tensor of the CPU executor: float32 values, or integers (int64/int32/bool) held exactly in a Float64Array. */
export interface Tensor {
  readonly kind: 'float' | 'int';
  readonly data: Float32Array | Float64Array;
  readonly dims: readonly number[];
}

/** Largest element count the executor accepts for one tensor (guards against absurd shapes). */
export const MAX_ELEMENTS = 2 ** 31 - 1;

export const execError = (layer: string, message: string) => new TrtRefitError(TrtRefitErrorCode.EXECUTION_FAILED, `layer ${layer}: ${message}`, { layer });

export function sizeOf(dims: readonly number[], layer = '?'): number {
  let n = 1;
  for (const d of dims) {
    if (!Number.isSafeInteger(d) || d < 0) throw execError(layer, `invalid dimension ${d} in [${dims.join(', ')}]`);
    n *= d;
  }
  if (n > MAX_ELEMENTS) throw execError(layer, `shape [${dims.join(', ')}] has more than 2^31 elements`);
  return n;
}

export function floatTensor(dims: readonly number[], data?: Float32Array): Tensor {
  return { kind: 'float', data: data ?? new Float32Array(sizeOf(dims)), dims: [...dims] };
}
export function intTensor(dims: readonly number[], data?: Float64Array): Tensor {
  return { kind: 'int', data: data ?? new Float64Array(sizeOf(dims)), dims: [...dims] };
}
export function like(kind: Tensor['kind'], dims: readonly number[]): Tensor {
  return kind === 'float' ? floatTensor(dims) : intTensor(dims);
}

/** Strides of a C-order shape. */
export function strides(dims: readonly number[]): number[] {
  const s = new Array<number>(dims.length);
  let acc = 1;
  for (let i = dims.length - 1; i >= 0; i--) {
    s[i] = acc;
    acc *= dims[i]!;
  }
  return s;
}

/** Numpy broadcasting of two shapes. */
export function broadcastShape(a: readonly number[], b: readonly number[], layer: string): number[] {
  const n = Math.max(a.length, b.length);
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const x = a[a.length - n + i] ?? 1;
    const y = b[b.length - n + i] ?? 1;
    if (x !== y && x !== 1 && y !== 1) throw execError(layer, `shapes [${a.join(', ')}] and [${b.join(', ')}] do not broadcast`);
    out.push(x === 1 ? y : x);
  }
  return out;
}

/** For each output index, the index into a tensor of shape `from` broadcast to `to`. Linear in the output size. */
export function broadcastIndex(from: readonly number[], to: readonly number[]): Int32Array | null {
  const size = sizeOf(to);
  if (from.length === to.length && from.every((d, i) => d === to[i])) return null;
  const idx = new Int32Array(size);
  const fs = strides(from);
  const off = to.length - from.length;
  const counter = new Array<number>(to.length).fill(0);
  let src = 0;
  for (let i = 0; i < size; i++) {
    idx[i] = src;
    for (let d = to.length - 1; d >= 0; d--) {
      counter[d]!++;
      const fd = d - off;
      const step = fd >= 0 && from[fd] !== 1 ? fs[fd]! : 0;
      if (counter[d]! < to[d]!) {
        src += step;
        break;
      }
      src -= step * (to[d]! - 1);
      counter[d] = 0;
    }
  }
  return idx;
}
