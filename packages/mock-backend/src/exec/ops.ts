import type { AttributeValue } from '@trt-refit/core';
import { broadcastIndex, broadcastShape, execError, floatTensor, intTensor, like, sizeOf, strides, type Tensor } from './tensor.js';

/** What an op sees: its layer's name and attributes, its input tensors, and its weights by role. */
export interface OpContext {
  readonly layer: string;
  readonly attrs: Readonly<Record<string, AttributeValue>>;
  readonly inputs: readonly (Tensor | undefined)[];
  readonly weights: Readonly<Record<string, Tensor>>;
}
/** A CPU implementation of one ONNX operator: output tensors from the layer's inputs, weights and attributes. */
export type Op = (c: OpContext) => Tensor[];

/** @internal helpers shared with ops-more.ts */
export const num = (c: OpContext, name: string, dflt: number) => (typeof c.attrs[name] === 'number' ? (c.attrs[name] as number) : dflt);
export const ints = (c: OpContext, name: string): number[] | undefined => (Array.isArray(c.attrs[name]) ? (c.attrs[name] as number[]) : undefined);
export const need = (c: OpContext, i: number): Tensor => {
  const t = c.inputs[i];
  if (!t) throw execError(c.layer, `input ${i} is missing`);
  return t;
};
export const values = (t: Tensor | undefined): number[] | undefined => (t ? Array.from(t.data) : undefined);
export const axis = (a: number, rank: number) => (a < 0 ? a + rank : a);

/** erf in double precision (series below 3, continued fraction above): matches onnxruntime to float32 rounding. */
export function erf(x: number): number {
  const ax = Math.abs(x);
  if (ax < 3) {
    let term = x;
    let sum = x;
    const x2 = x * x;
    for (let n = 1; n < 100; n++) {
      term *= -x2 / n;
      const t = term / (2 * n + 1);
      sum += t;
      if (Math.abs(t) < 1e-17 * Math.abs(sum)) break;
    }
    return (2 / Math.sqrt(Math.PI)) * sum;
  }
  let t = ax;
  for (let k = 60; k >= 1; k--) t = ax + k / 2 / t;
  return Math.sign(x) * (1 - Math.exp(-ax * ax) / Math.sqrt(Math.PI) / t);
}

export function unary(f: (x: number) => number): Op {
  return (c) => {
    const x = need(c, 0);
    const out = like(x.kind, x.dims);
    for (let i = 0; i < x.data.length; i++) out.data[i] = f(x.data[i]!);
    return [out];
  };
}

export function binary(f: (a: number, b: number) => number, intF?: (a: number, b: number) => number): Op {
  return (c) => {
    const a = need(c, 0);
    const b = need(c, 1);
    const dims = broadcastShape(a.dims, b.dims, c.layer);
    const kind = a.kind === 'float' || b.kind === 'float' ? 'float' : 'int';
    const out = like(kind, dims);
    const ia = broadcastIndex(a.dims, dims);
    const ib = broadcastIndex(b.dims, dims);
    const g = kind === 'int' && intF ? intF : f;
    for (let i = 0; i < out.data.length; i++) out.data[i] = g(a.data[ia ? ia[i]! : i]!, b.data[ib ? ib[i]! : i]!);
    return [out];
  };
}

export function conv(c: OpContext): Tensor[] {
  const x = need(c, 0);
  const w = c.weights.KERNEL ?? need(c, 1);
  const bias = c.weights.BIAS ?? c.inputs[2];
  if (x.dims.length !== 4 || w.dims.length !== 4) throw execError(c.layer, `a ${x.dims.length - 2}-D convolution is not run by the CPU executor (2-D only)`);
  const [n, ch, h, wd] = x.dims as [number, number, number, number];
  const [m, cg, kh, kw] = w.dims as [number, number, number, number];
  const group = num(c, 'group', 1);
  if (cg * group !== ch) throw execError(c.layer, `input has ${ch} channels, kernel expects ${cg * group}`);
  const [sh, sw] = ints(c, 'strides') ?? [1, 1];
  const [dh, dw] = ints(c, 'dilations') ?? [1, 1];
  let [pt, pl, pb, pr] = ints(c, 'pads') ?? [0, 0, 0, 0];
  const autoPad = c.attrs.auto_pad;
  if (autoPad === 'SAME_UPPER' || autoPad === 'SAME_LOWER') {
    const padFor = (size: number, k: number, s: number, d: number) => Math.max(0, (Math.ceil(size / s) - 1) * s + (k - 1) * d + 1 - size);
    const ph = padFor(h, kh, sh!, dh!);
    const pw = padFor(wd, kw, sw!, dw!);
    [pt, pb] = autoPad === 'SAME_UPPER' ? [ph >> 1, ph - (ph >> 1)] : [ph - (ph >> 1), ph >> 1];
    [pl, pr] = autoPad === 'SAME_UPPER' ? [pw >> 1, pw - (pw >> 1)] : [pw - (pw >> 1), pw >> 1];
  }
  const oh = Math.floor((h + pt! + pb! - dh! * (kh - 1) - 1) / sh!) + 1;
  const ow = Math.floor((wd + pl! + pr! - dw! * (kw - 1) - 1) / sw!) + 1;
  const out = floatTensor([n, m, oh, ow]);
  const X = x.data;
  const W = w.data;
  const O = out.data;
  const mPerG = m / group;
  const P = oh * ow;
  const K = cg * kh * kw;
  // im2col: one column per output position, K rows (input channel, kernel row, kernel column); then each output
  // channel is K axpy passes over contiguous rows, accumulated in float64 and rounded once.
  const col = new Float32Array(K * P);
  const acc = new Float64Array(P);
  for (let b = 0; b < n; b++)
    for (let g = 0; g < group; g++) {
      for (let ci = 0; ci < cg; ci++) {
        const xc = (b * ch + g * cg + ci) * h * wd;
        for (let ki = 0; ki < kh; ki++)
          for (let kj = 0; kj < kw; kj++) {
            const rowBase = ((ci * kh + ki) * kw + kj) * P;
            for (let y = 0; y < oh; y++) {
              const iy = y * sh! - pt! + ki * dh!;
              const dst = rowBase + y * ow;
              if (iy < 0 || iy >= h) {
                col.fill(0, dst, dst + ow);
                continue;
              }
              const row = xc + iy * wd;
              for (let xx = 0; xx < ow; xx++) {
                const ix = xx * sw! - pl! + kj * dw!;
                col[dst + xx] = ix >= 0 && ix < wd ? X[row + ix]! : 0;
              }
            }
          }
      }
      for (let om = 0; om < mPerG; om++) {
        const o = g * mPerG + om;
        acc.fill(bias ? bias.data[o]! : 0);
        const wBase = o * K;
        let k = 0;
        // four kernel taps per pass: a quarter of the accumulator traffic
        for (; k + 4 <= K; k += 4) {
          const [w0, w1, w2, w3] = [W[wBase + k]!, W[wBase + k + 1]!, W[wBase + k + 2]!, W[wBase + k + 3]!];
          const [r0, r1, r2, r3] = [k * P, (k + 1) * P, (k + 2) * P, (k + 3) * P];
          for (let p = 0; p < P; p++) acc[p] = acc[p]! + w0 * col[r0 + p]! + w1 * col[r1 + p]! + w2 * col[r2 + p]! + w3 * col[r3 + p]!;
        }
        for (; k < K; k++) {
          const wv = W[wBase + k]!;
          const r = k * P;
          for (let p = 0; p < P; p++) acc[p] = acc[p]! + wv * col[r + p]!;
        }
        O.set(acc, (b * m + o) * P);
      }
    }
  return [out];
}

function channelAffine(x: Tensor, scale: ArrayLike<number>, shift: ArrayLike<number>, layer: string): Tensor {
  const c = x.dims[1] ?? 1;
  if (scale.length !== c) throw execError(layer, `scale has ${scale.length} channels, input has ${c}`);
  const inner = sizeOf(x.dims.slice(2), layer);
  const out = floatTensor(x.dims);
  for (let i = 0; i < x.data.length; i++) {
    const ch = Math.floor(i / inner) % c;
    out.data[i] = x.data[i]! * scale[ch]! + shift[ch]!;
  }
  return out;
}

export function matmul(a: Tensor, b: Tensor, layer: string): Tensor {
  const ad = a.dims.length === 1 ? [1, a.dims[0]!] : [...a.dims];
  const bd = b.dims.length === 1 ? [b.dims[0]!, 1] : [...b.dims];
  const [m, k] = ad.slice(-2) as [number, number];
  const [k2, n] = bd.slice(-2) as [number, number];
  if (k !== k2) throw execError(layer, `MatMul of [${a.dims.join(', ')}] and [${b.dims.join(', ')}]`);
  const batch = broadcastShape(ad.slice(0, -2), bd.slice(0, -2), layer);
  const out = floatTensor([...batch, m, n]);
  const ia = broadcastIndex(ad.slice(0, -2), batch);
  const ib = broadcastIndex(bd.slice(0, -2), batch);
  const nb = sizeOf(batch, layer);
  for (let t = 0; t < nb; t++) {
    const ao = (ia ? ia[t]! : t) * m * k;
    const bo = (ib ? ib[t]! : t) * k * n;
    const oo = t * m * n;
    // Accumulate each output row in double precision (cache-friendly i-p-j order), round once to float32.
    const acc = new Float64Array(n);
    for (let i = 0; i < m; i++) {
      acc.fill(0);
      for (let p = 0; p < k; p++) {
        const av = a.data[ao + i * k + p]!;
        if (av === 0) continue;
        const row = bo + p * n;
        for (let j = 0; j < n; j++) acc[j] = acc[j]! + av * b.data[row + j]!;
      }
      out.data.set(acc, oo + i * n);
    }
  }
  let dims = out.dims;
  if (a.dims.length === 1) dims = [...dims.slice(0, -2), dims[dims.length - 1]!];
  if (b.dims.length === 1) dims = dims.slice(0, -1);
  return { ...out, dims };
}

export function transpose(x: Tensor, perm: number[]): Tensor {
  const dims = perm.map((p) => x.dims[p]!);
  const out = like(x.kind, dims);
  const xs = strides(x.dims);
  const counter = new Array<number>(dims.length).fill(0);
  for (let i = 0; i < out.data.length; i++) {
    let src = 0;
    for (let d = 0; d < dims.length; d++) src += counter[d]! * xs[perm[d]!]!;
    out.data[i] = x.data[src]!;
    for (let d = dims.length - 1; d >= 0; d--) {
      if (++counter[d]! < dims[d]!) break;
      counter[d] = 0;
    }
  }
  return out;
}

function reduceMean(c: OpContext): Tensor[] {
  const x = need(c, 0);
  const rank = x.dims.length;
  const axes = (ints(c, 'axes') ?? values(c.inputs[1]) ?? [...x.dims.keys()]).map((a) => axis(a, rank));
  const keep = num(c, 'keepdims', 1) === 1;
  const outDims = x.dims.map((d, i) => (axes.includes(i) ? 1 : d));
  const out = floatTensor(outDims);
  const idx = broadcastIndex(outDims, x.dims)!;
  for (let i = 0; i < x.data.length; i++) {
    const o = idx ? idx[i]! : i;
    out.data[o] = out.data[o]! + x.data[i]!;
  }
  const count = axes.reduce((s, a) => s * x.dims[a]!, 1);
  for (let i = 0; i < out.data.length; i++) out.data[i] = out.data[i]! / count;
  return [{ ...out, dims: keep ? outDims : x.dims.filter((_, i) => !axes.includes(i)) }];
}

function softmax(c: OpContext): Tensor[] {
  const x = need(c, 0);
  const ax = axis(num(c, 'axis', -1), x.dims.length);
  const n = x.dims[ax]!;
  const inner = sizeOf(x.dims.slice(ax + 1));
  const outer = sizeOf(x.dims.slice(0, ax));
  const out = floatTensor(x.dims);
  for (let o = 0; o < outer; o++)
    for (let i = 0; i < inner; i++) {
      let mx = -Infinity;
      for (let k = 0; k < n; k++) mx = Math.max(mx, x.data[(o * n + k) * inner + i]!);
      let s = 0;
      for (let k = 0; k < n; k++) s += Math.exp(x.data[(o * n + k) * inner + i]! - mx);
      for (let k = 0; k < n; k++) out.data[(o * n + k) * inner + i] = Math.exp(x.data[(o * n + k) * inner + i]! - mx) / s;
    }
  return [out];
}

function layerNorm(c: OpContext): Tensor[] {
  const x = need(c, 0);
  const scale = need(c, 1);
  const bias = c.inputs[2];
  const ax = axis(num(c, 'axis', -1), x.dims.length);
  const eps = num(c, 'epsilon', 1e-5);
  const inner = sizeOf(x.dims.slice(ax));
  const out = floatTensor(x.dims);
  for (let o = 0; o < x.data.length / inner; o++) {
    let mean = 0;
    for (let i = 0; i < inner; i++) mean += x.data[o * inner + i]!;
    mean /= inner;
    let v = 0;
    for (let i = 0; i < inner; i++) v += (x.data[o * inner + i]! - mean) ** 2;
    const inv = 1 / Math.sqrt(v / inner + eps);
    for (let i = 0; i < inner; i++) out.data[o * inner + i] = (x.data[o * inner + i]! - mean) * inv * scale.data[i % scale.data.length]! + (bias ? bias.data[i % bias.data.length]! : 0);
  }
  return [out];
}

function gather(c: OpContext): Tensor[] {
  const data = need(c, 0);
  const idx = need(c, 1);
  const ax = axis(num(c, 'axis', 0), data.dims.length);
  const dims = [...data.dims.slice(0, ax), ...idx.dims, ...data.dims.slice(ax + 1)];
  const out = like(data.kind, dims);
  const inner = sizeOf(data.dims.slice(ax + 1));
  const outer = sizeOf(data.dims.slice(0, ax));
  const n = data.dims[ax]!;
  for (let o = 0; o < outer; o++)
    for (let j = 0; j < idx.data.length; j++) {
      let k = idx.data[j]!;
      if (k < 0) k += n;
      if (k < 0 || k >= n) throw execError(c.layer, `index ${idx.data[j]} is out of range for a dimension of ${n}`);
      out.data.set(data.data.subarray((o * n + k) * inner, (o * n + k + 1) * inner), (o * idx.data.length + j) * inner);
    }
  return [out];
}

function reshape(c: OpContext): Tensor[] {
  const x = need(c, 0);
  const shape = values(need(c, 1))!;
  const allowzero = num(c, 'allowzero', 0) === 1;
  const dims = shape.map((d, i) => (d === 0 && !allowzero ? x.dims[i]! : d));
  const known = dims.reduce((s, d) => (d === -1 ? s : s * d), 1);
  const out = dims.map((d) => (d === -1 ? x.data.length / known : d));
  if (sizeOf(out, c.layer) !== x.data.length) throw execError(c.layer, `cannot reshape [${x.dims.join(', ')}] to [${shape.join(', ')}]`);
  return [{ ...x, dims: out }];
}

function slice(c: OpContext): Tensor[] {
  const x = need(c, 0);
  const rank = x.dims.length;
  // opset < 10: starts, ends and axes are attributes
  const starts = values(c.inputs[1]) ?? ints(c, 'starts');
  const ends = values(c.inputs[2]) ?? ints(c, 'ends');
  if (!starts || !ends) throw execError(c.layer, 'Slice needs starts and ends');
  const axes = (values(c.inputs[3]) ?? ints(c, 'axes') ?? starts.map((_, i) => i)).map((a) => axis(a, rank));
  const steps = values(c.inputs[4]) ?? starts.map(() => 1);
  const begin = x.dims.map(() => 0);
  const step = x.dims.map(() => 1);
  const dims = [...x.dims];
  axes.forEach((a, i) => {
    const n = x.dims[a]!;
    const s = steps[i]!;
    const clamp = (v: number, lo: number, hi: number) => Math.min(Math.max(v < 0 ? v + n : v, lo), hi);
    const st = s > 0 ? clamp(starts[i]!, 0, n) : clamp(starts[i]!, -1, n - 1);
    const en = s > 0 ? clamp(ends[i]!, 0, n) : clamp(ends[i]!, -1, n - 1);
    begin[a] = st;
    step[a] = s;
    dims[a] = Math.max(0, Math.ceil((en - st) / s));
  });
  const out = like(x.kind, dims);
  const xs = strides(x.dims);
  const counter = dims.map(() => 0);
  for (let i = 0; i < out.data.length; i++) {
    let src = 0;
    for (let d = 0; d < rank; d++) src += (begin[d]! + counter[d]! * step[d]!) * xs[d]!;
    out.data[i] = x.data[src]!;
    for (let d = rank - 1; d >= 0; d--) {
      if (++counter[d]! < dims[d]!) break;
      counter[d] = 0;
    }
  }
  return [out];
}

function concat(c: OpContext): Tensor[] {
  const xs = c.inputs.filter((t): t is Tensor => !!t);
  const rank = xs[0]!.dims.length;
  const ax = axis(num(c, 'axis', 0), rank);
  const dims = [...xs[0]!.dims];
  dims[ax] = xs.reduce((s, t) => s + t.dims[ax]!, 0);
  const kind = xs.some((t) => t.kind === 'float') ? 'float' : 'int';
  const out = like(kind, dims);
  const outer = sizeOf(dims.slice(0, ax));
  let offset = 0;
  for (const t of xs) {
    const chunk = sizeOf(t.dims.slice(ax));
    const outChunk = sizeOf(dims.slice(ax));
    for (let o = 0; o < outer; o++) out.data.set(t.data.subarray(o * chunk, (o + 1) * chunk), o * outChunk + offset);
    offset += sizeOf(t.dims.slice(ax + 1)) * t.dims[ax]!;
  }
  return [out];
}

function unsqueeze(c: OpContext): Tensor[] {
  const x = need(c, 0);
  const axesIn = ints(c, 'axes') ?? values(need(c, 1))!;
  const rank = x.dims.length + axesIn.length;
  const axes = axesIn.map((a) => axis(a, rank)).sort((a, b) => a - b);
  const dims = [...x.dims];
  for (const a of axes) dims.splice(a, 0, 1);
  return [{ ...x, dims }];
}

function squeeze(c: OpContext): Tensor[] {
  const x = need(c, 0);
  const axesIn = ints(c, 'axes') ?? values(c.inputs[1]);
  const axes = axesIn?.map((a) => axis(a, x.dims.length));
  return [{ ...x, dims: x.dims.filter((d, i) => (axes ? !axes.includes(i) : d !== 1)) }];
}

function gemm(c: OpContext): Tensor[] {
  let a = need(c, 0);
  let b = need(c, 1);
  if (num(c, 'transA', 0)) a = transpose(a, [1, 0]);
  if (num(c, 'transB', 0)) b = transpose(b, [1, 0]);
  const y = matmul(a, b, c.layer);
  const alpha = num(c, 'alpha', 1);
  const beta = num(c, 'beta', 1);
  const bias = c.inputs[2];
  const ib = bias ? broadcastIndex(bias.dims, y.dims) : null;
  for (let i = 0; i < y.data.length; i++) y.data[i] = alpha * y.data[i]! + (bias ? beta * bias.data[ib ? ib[i]! : i]! : 0);
  return [y];
}

function pool(kind: 'max' | 'avg'): Op {
  return (c) => {
    const x = need(c, 0);
    if (x.dims.length !== 4) throw execError(c.layer, 'only 2-D pooling is supported');
    const [n, ch, h, w] = x.dims as [number, number, number, number];
    const [kh, kw] = ints(c, 'kernel_shape') ?? [1, 1];
    const [sh, sw] = ints(c, 'strides') ?? [1, 1];
    const [dh, dw] = ints(c, 'dilations') ?? [1, 1];
    const [pt, pl, pb, pr] = ints(c, 'pads') ?? [0, 0, 0, 0];
    const ceil = num(c, 'ceil_mode', 0) === 1;
    const countPad = num(c, 'count_include_pad', 0) === 1;
    if (c.attrs.auto_pad !== undefined && c.attrs.auto_pad !== 'NOTSET') throw execError(c.layer, `auto_pad ${String(c.attrs.auto_pad)} is not supported for pooling`);
    const outSize = (size: number, k: number, s: number, d: number, p0: number, p1: number) => {
      const span = size + p0 + p1 - d * (k - 1) - 1;
      let o = (ceil ? Math.ceil(span / s) : Math.floor(span / s)) + 1;
      if (ceil && (o - 1) * s >= size + p0) o--; // the last window must start inside the input or left padding
      return o;
    };
    const oh = outSize(h, kh!, sh!, dh!, pt!, pb!);
    const ow = outSize(w, kw!, sw!, dw!, pl!, pr!);
    const out = floatTensor([n, ch, oh, ow]);
    for (let b = 0; b < n * ch; b++)
      for (let y = 0; y < oh; y++)
        for (let xx = 0; xx < ow; xx++) {
          let acc = kind === 'max' ? -Infinity : 0;
          let count = 0;
          for (let i = 0; i < kh!; i++) {
            const iy = y * sh! - pt! + i * dh!;
            for (let j = 0; j < kw!; j++) {
              const ix = xx * sw! - pl! + j * dw!;
              const inside = iy >= 0 && iy < h && ix >= 0 && ix < w;
              if (countPad && kind === 'avg' && iy < h + pb! && ix < w + pr!) count++;
              if (!inside) continue;
              const v = x.data[(b * h + iy) * w + ix]!;
              if (kind === 'max') acc = Math.max(acc, v);
              else {
                acc += v;
                if (!countPad) count++;
              }
            }
          }
          out.data[(b * oh + y) * ow + xx] = kind === 'max' ? acc : acc / Math.max(count, 1);
        }
    return [out];
  };
}

const ONNX_FLOAT_TYPES = new Set([1, 10, 11, 16]);

/** The ops the CPU executor runs (ONNX semantics), plus `Scale` for a folded BatchNormalization. */
export const OPS: Readonly<Record<string, Op>> = {
  Conv: conv,
  Scale: (c) => [channelAffine(need(c, 0), c.weights.SCALE!.data, c.weights.SHIFT!.data, c.layer)],
  BatchNormalization: (c) => {
    const [g, b, m, v] = [1, 2, 3, 4].map((i) => need(c, i).data);
    const eps = num(c, 'epsilon', 1e-5);
    const scale = Array.from(g!, (x, i) => x / Math.sqrt(v![i]! + eps));
    return [channelAffine(need(c, 0), scale, Array.from(b!, (x, i) => x - m![i]! * scale[i]!), c.layer)];
  },
  Relu: unary((x) => (x > 0 ? x : 0)),
  Erf: unary(erf),
  Gelu: unary((x) => 0.5 * x * (1 + erf(x / Math.SQRT2))),
  Sigmoid: unary((x) => 1 / (1 + Math.exp(-x))),
  Tanh: unary(Math.tanh),
  Sqrt: unary(Math.sqrt),
  Neg: unary((x) => -x),
  Exp: unary(Math.exp),
  Log: unary(Math.log),
  Identity: (c) => [need(c, 0)],
  // inference: the input as is, and a mask of ones (every element kept)
  Dropout: (c) => [need(c, 0), intTensor(need(c, 0).dims, new Float64Array(need(c, 0).data.length).fill(1))],
  Add: binary((a, b) => a + b),
  Sub: binary((a, b) => a - b),
  Mul: binary((a, b) => a * b),
  Div: binary((a, b) => a / b, (a, b) => Math.trunc(a / b)),
  Pow: binary((a, b) => Math.pow(a, b)),
  Mod: (c) => binary(num(c, 'fmod', 0) ? (a, b) => a % b : (a, b) => a - Math.floor(a / b) * b)(c),
  Equal: (c) => {
    const [r] = binary((a, b) => (a === b ? 1 : 0))(c);
    return [intTensor(r!.dims, Float64Array.from(r!.data))];
  },
  Where: (c) => {
    const cond = need(c, 0);
    const a = need(c, 1);
    const b = need(c, 2);
    const dims = broadcastShape(broadcastShape(cond.dims, a.dims, c.layer), b.dims, c.layer);
    const out = like(a.kind, dims);
    const [ic, ia, ib] = [cond, a, b].map((t) => broadcastIndex(t.dims, dims));
    for (let i = 0; i < out.data.length; i++) out.data[i] = cond.data[ic ? ic[i]! : i] ? a.data[ia ? ia[i]! : i]! : b.data[ib ? ib[i]! : i]!;
    return [out];
  },
  ReduceMean: reduceMean,
  Gemm: gemm,
  MatMul: (c) => [matmul(need(c, 0), need(c, 1), c.layer)],
  Softmax: softmax,
  LayerNormalization: layerNorm,
  Gather: gather,
  Reshape: reshape,
  Flatten: (c) => {
    const x = need(c, 0);
    const ax = axis(num(c, 'axis', 1), x.dims.length);
    return [{ ...x, dims: [sizeOf(x.dims.slice(0, ax)), sizeOf(x.dims.slice(ax))] }];
  },
  Transpose: (c) => {
    const x = need(c, 0);
    return [transpose(x, ints(c, 'perm') ?? [...x.dims.keys()].reverse())];
  },
  Slice: slice,
  Concat: concat,
  Shape: (c) => {
    const x = need(c, 0);
    const r = x.dims.length;
    const start = axis(num(c, 'start', 0), r);
    const end = c.attrs.end === undefined ? r : axis(num(c, 'end', r), r);
    return [intTensor([Math.max(0, end - start)], Float64Array.from(x.dims.slice(start, end)))];
  },
  Unsqueeze: unsqueeze,
  Squeeze: squeeze,
  Cast: (c) => {
    const x = need(c, 0);
    const to = num(c, 'to', 1);
    return [ONNX_FLOAT_TYPES.has(to) ? floatTensor(x.dims, Float32Array.from(x.data)) : intTensor(x.dims, Float64Array.from(x.data, (v) => (to === 9 ? (v ? 1 : 0) : Math.trunc(v))))];
  },
  Expand: (c) => {
    const x = need(c, 0);
    const dims = broadcastShape(x.dims, values(need(c, 1))!, c.layer);
    const out = like(x.kind, dims);
    const ix = broadcastIndex(x.dims, dims);
    for (let i = 0; i < out.data.length; i++) out.data[i] = x.data[ix ? ix[i]! : i]!;
    return [out];
  },
  ConstantOfShape: (c) => {
    const dims = values(need(c, 0))!;
    // From 10.14 the fill value is a (refittable) weight, input 1; before, the `value` attribute.
    const value = c.inputs[1];
    const v = value ? (value.data[0] ?? 0) : ((c.attrs.value as number[] | undefined)?.[0] ?? 0);
    const out = value ? like(value.kind, dims) : floatTensor(dims);
    out.data.fill(v);
    return [out];
  },
  Range: (c) => {
    const [s, l, d] = [0, 1, 2].map((i) => need(c, i).data[0]!);
    const n = Math.max(0, Math.ceil((l! - s!) / d!));
    const kind = need(c, 0).kind;
    const out = like(kind, [n]);
    for (let i = 0; i < n; i++) out.data[i] = s! + i * d!;
    return [out];
  },
  Clip: (c) => {
    const lo = c.inputs[1]?.data[0] ?? num(c, 'min', -Infinity);
    const hi = c.inputs[2]?.data[0] ?? num(c, 'max', Infinity);
    return unary((x) => Math.min(Math.max(x, lo), hi))(c);
  },
  HardSigmoid: (c) => unary((x) => Math.max(0, Math.min(1, num(c, 'alpha', 0.2) * x + num(c, 'beta', 0.5))))(c),
  HardSwish: unary((x) => x * Math.max(0, Math.min(1, x / 6 + 0.5))),
  MaxPool: pool('max'),
  AveragePool: pool('avg'),
  GlobalAveragePool: (c) => {
    const x = need(c, 0);
    return reduceMean({ ...c, attrs: { axes: [...x.dims.keys()].slice(2), keepdims: 1 } });
  },
};
