// More ONNX operators for the CPU executor: element-wise math, comparisons, reductions, normalizations, shape and
// index ops, Resize/Pad/ConvTranspose, quantization. ONNX semantics, every opset form the importer passes on
// (attributes before inputs where older opsets had them); each is checked against onnxruntime (ops-oracle.test.ts).
import { axis, binary, conv, ints, need, num, transpose, unary, values, type Op, type OpContext } from './ops.js';
import { broadcastIndex, broadcastShape, execError, floatTensor, intTensor, like, sizeOf, strides, type Tensor } from './tensor.js';

const bool = (t: Tensor): Tensor => intTensor(t.dims, Float64Array.from(t.data, (v) => (v ? 1 : 0)));
const compare = (f: (a: number, b: number) => boolean): Op => (c) => [bool(binary((a, b) => (f(a, b) ? 1 : 0))(c)[0]!)];
const roundHalfEven = (x: number) => {
  const r = Math.round(x);
  return Math.abs(x % 1) === 0.5 ? 2 * Math.round(x / 2) : r;
};

/** Max, Min, Sum, Mean over any number of broadcast inputs. */
function variadic(f: (a: number, b: number) => number, mean = false): Op {
  return (c) => {
    const xs = c.inputs.filter((t): t is Tensor => !!t);
    if (!xs.length) throw execError(c.layer, 'needs at least one input');
    let acc = xs[0]!;
    for (const x of xs.slice(1)) acc = binary(f)({ ...c, inputs: [acc, x] })[0]!;
    if (mean) acc = { ...acc, data: acc.data.map((v) => v / xs.length) as typeof acc.data };
    return [xs.length === 1 ? { ...acc, data: acc.data.slice() as typeof acc.data } : acc];
  };
}

/** The axes a reduction runs over: the `axes` input (opset 13/18+) or attribute, or all; noop_with_empty_axes. */
function reduceAxes(c: OpContext, x: Tensor): number[] | undefined {
  const given = values(c.inputs[1]) ?? ints(c, 'axes');
  if (!given || given.length === 0) return num(c, 'noop_with_empty_axes', 0) ? undefined : [...x.dims.keys()];
  return given.map((a) => axis(a, x.dims.length));
}

function reduce(init: number, step: (acc: number, v: number) => number, finish: (acc: number, n: number) => number = (a) => a, intResult = false): Op {
  return (c) => {
    const x = need(c, 0);
    const axes = reduceAxes(c, x);
    if (!axes) return [x];
    const keep = num(c, 'keepdims', 1) === 1;
    const outDims = x.dims.map((d, i) => (axes.includes(i) ? 1 : d));
    const out = like(intResult || x.kind === 'int' ? 'int' : 'float', outDims);
    const acc = new Float64Array(out.data.length).fill(init);
    const idx = broadcastIndex(outDims, x.dims);
    for (let i = 0; i < x.data.length; i++) {
      const o = idx ? idx[i]! : i;
      acc[o] = step(acc[o]!, x.data[i]!);
    }
    const n = axes.reduce((s, a) => s * x.dims[a]!, 1);
    for (let i = 0; i < acc.length; i++) out.data[i] = finish(acc[i]!, n);
    return [{ ...out, dims: keep ? outDims : x.dims.filter((_, i) => !axes.includes(i)) }];
  };
}

function argReduce(max: boolean): Op {
  return (c) => {
    const x = need(c, 0);
    const ax = axis(num(c, 'axis', 0), x.dims.length);
    const keep = num(c, 'keepdims', 1) === 1;
    const last = num(c, 'select_last_index', 0) === 1;
    const n = x.dims[ax]!;
    const inner = sizeOf(x.dims.slice(ax + 1));
    const outer = sizeOf(x.dims.slice(0, ax));
    const outDims = x.dims.map((d, i) => (i === ax ? 1 : d));
    const out = intTensor(outDims);
    for (let o = 0; o < outer; o++)
      for (let i = 0; i < inner; i++) {
        let best = 0;
        for (let k = 1; k < n; k++) {
          const v = x.data[(o * n + k) * inner + i]!;
          const b = x.data[(o * n + best) * inner + i]!;
          if (max ? v > b || (last && v === b) : v < b || (last && v === b)) best = k;
        }
        out.data[o * inner + i] = best;
      }
    return [{ ...out, dims: keep ? outDims : x.dims.filter((_, i) => i !== ax) }];
  };
}

/** Softmax, LogSoftmax, Hardmax: per axis from opset 13, over the 2-D coercion at `axis` (default 1) before. */
function softmaxLike(kind: 'soft' | 'log' | 'hard'): Op {
  return (c) => {
    const x = need(c, 0);
    const legacy = num(c, 'trt_refit.opset', 13) < 13;
    const ax = axis(num(c, 'axis', legacy ? 1 : -1), x.dims.length);
    const n = legacy ? sizeOf(x.dims.slice(ax)) : x.dims[ax]!;
    const inner = legacy ? 1 : sizeOf(x.dims.slice(ax + 1));
    const outer = sizeOf(x.dims.slice(0, ax));
    const out = floatTensor(x.dims);
    for (let o = 0; o < outer; o++)
      for (let i = 0; i < inner; i++) {
        const at = (k: number) => (o * n + k) * inner + i;
        let mx = -Infinity;
        let arg = 0;
        for (let k = 0; k < n; k++) if (x.data[at(k)]! > mx) (mx = x.data[at(k)]!), (arg = k);
        let s = 0;
        for (let k = 0; k < n; k++) s += Math.exp(x.data[at(k)]! - mx);
        for (let k = 0; k < n; k++) {
          const v = x.data[at(k)]! - mx;
          out.data[at(k)] = kind === 'soft' ? Math.exp(v) / s : kind === 'log' ? v - Math.log(s) : k === arg ? 1 : 0;
        }
      }
    return [out];
  };
}

function pad(c: OpContext): Tensor[] {
  const x = need(c, 0);
  const rank = x.dims.length;
  let pads = values(c.inputs[1]) ?? ints(c, 'pads') ?? ints(c, 'paddings');
  if (!pads) throw execError(c.layer, 'Pad needs pads');
  const value = c.inputs[2]?.data[0] ?? num(c, 'value', 0);
  const mode = (c.attrs.mode as string | undefined) ?? 'constant';
  const axesIn = values(c.inputs[3]);
  if (axesIn) {
    const full = new Array<number>(2 * rank).fill(0);
    axesIn.forEach((a, i) => {
      const ax = axis(a, rank);
      full[ax] = pads![i]!;
      full[ax + rank] = pads![i + axesIn.length]!;
    });
    pads = full;
  }
  const dims = x.dims.map((d, i) => d + pads![i]! + pads![i + rank]!);
  const out = like(x.kind, dims);
  const xs = strides(x.dims);
  const counter = dims.map(() => 0);
  for (let o = 0; o < out.data.length; o++) {
    let src = 0;
    let outside = false;
    for (let d = 0; d < rank; d++) {
      let i = counter[d]! - pads[d]!;
      const n = x.dims[d]!;
      if (i < 0 || i >= n) {
        if (mode === 'constant') outside = true;
        else if (mode === 'edge') i = i < 0 ? 0 : n - 1;
        else if (mode === 'reflect') {
          const period = 2 * (n - 1) || 1;
          i = ((i % period) + period) % period;
          if (i >= n) i = period - i;
        } else if (mode === 'wrap') i = ((i % n) + n) % n;
        else throw execError(c.layer, `Pad mode ${mode} is not supported`);
      }
      src += i * xs[d]!;
    }
    out.data[o] = outside ? value : x.data[src]!;
    for (let d = rank - 1; d >= 0; d--) {
      if (++counter[d]! < dims[d]!) break;
      counter[d] = 0;
    }
  }
  return [out];
}

/** Resize (opsets 10 to 19) and Upsample: nearest and (bi)linear, the usual coordinate transformations. */
function resize(c: OpContext, upsample = false): Tensor[] {
  const x = need(c, 0);
  const rank = x.dims.length;
  const opset10 = !upsample && c.inputs.length === 2;
  const scalesIn = upsample || opset10 ? (values(c.inputs[1]) ?? (c.attrs.scales as number[] | undefined)) : values(c.inputs[2]);
  const sizesIn = upsample || opset10 ? undefined : values(c.inputs[3]);
  let scales: number[];
  let dims: number[];
  if (sizesIn && sizesIn.length) {
    dims = sizesIn;
    scales = dims.map((d, i) => d / x.dims[i]!);
  } else if (scalesIn && scalesIn.length) {
    scales = scalesIn;
    dims = x.dims.map((d, i) => Math.floor(d * scales[i]!));
  } else throw execError(c.layer, 'Resize needs scales or sizes');
  const mode = (c.attrs.mode as string | undefined) ?? 'nearest';
  const ctm = upsample || opset10 ? 'asymmetric' : ((c.attrs.coordinate_transformation_mode as string | undefined) ?? 'half_pixel');
  const nearestMode = upsample || opset10 ? 'floor' : ((c.attrs.nearest_mode as string | undefined) ?? 'round_prefer_floor');
  const source = (o: number, d: number) => {
    const s = scales[d]!;
    const inN = x.dims[d]!;
    const outN = dims[d]!;
    switch (ctm) {
      case 'asymmetric': return o / s;
      case 'align_corners': return outN === 1 ? 0 : (o * (inN - 1)) / (outN - 1);
      case 'pytorch_half_pixel': return outN > 1 ? (o + 0.5) / s - 0.5 : 0;
      case 'half_pixel': return (o + 0.5) / s - 0.5;
      default: throw execError(c.layer, `coordinate_transformation_mode ${ctm} is not supported`);
    }
  };
  const pickNearest = (v: number) => {
    switch (nearestMode) {
      case 'floor': return Math.floor(v);
      case 'ceil': return Math.ceil(v);
      case 'round_prefer_ceil': return Math.floor(v + 0.5);
      default: return v % 1 === 0.5 ? Math.floor(v) : Math.round(v); // round_prefer_floor
    }
  };
  const out = like(x.kind, dims);
  const xs = strides(x.dims);
  const counter = dims.map(() => 0);
  const linear = mode === 'linear' || mode === 'bilinear';
  if (!linear && mode !== 'nearest') throw execError(c.layer, `Resize mode ${mode} is not supported`);
  for (let o = 0; o < out.data.length; o++) {
    if (!linear) {
      let src = 0;
      for (let d = 0; d < rank; d++) src += Math.min(Math.max(pickNearest(source(counter[d]!, d)), 0), x.dims[d]! - 1) * xs[d]!;
      out.data[o] = x.data[src]!;
    } else {
      // multilinear over the dimensions whose scale is not 1
      let corners: { off: number; w: number }[] = [{ off: 0, w: 1 }];
      for (let d = 0; d < rank; d++) {
        const n = x.dims[d]!;
        if (scales[d] === 1 && dims[d] === n) {
          corners = corners.map((k) => ({ off: k.off + counter[d]! * xs[d]!, w: k.w }));
          continue;
        }
        const v = Math.min(Math.max(source(counter[d]!, d), 0), n - 1);
        const lo = Math.floor(v);
        const hi = Math.min(lo + 1, n - 1);
        const f = v - lo;
        corners = corners.flatMap((k) => [{ off: k.off + lo * xs[d]!, w: k.w * (1 - f) }, { off: k.off + hi * xs[d]!, w: k.w * f }]);
      }
      let acc = 0;
      for (const k of corners) acc += k.w * x.data[k.off]!;
      out.data[o] = acc;
    }
    for (let d = rank - 1; d >= 0; d--) {
      if (++counter[d]! < dims[d]!) break;
      counter[d] = 0;
    }
  }
  return [out];
}

function convTranspose(c: OpContext): Tensor[] {
  const x = need(c, 0);
  const w = c.weights.KERNEL ?? need(c, 1);
  const bias = c.weights.BIAS ?? c.inputs[2];
  if (x.dims.length !== 4 || w.dims.length !== 4) throw execError(c.layer, 'only 2-D transposed convolutions are supported');
  const [n, ch, h, wd] = x.dims as [number, number, number, number];
  const [wc, mg, kh, kw] = w.dims as [number, number, number, number];
  const group = num(c, 'group', 1);
  if (wc !== ch) throw execError(c.layer, `input has ${ch} channels, kernel expects ${wc}`);
  const m = mg * group;
  const [sh, sw] = ints(c, 'strides') ?? [1, 1];
  const [dh, dw] = ints(c, 'dilations') ?? [1, 1];
  const [oph, opw] = ints(c, 'output_padding') ?? [0, 0];
  let [pt, pl, pb, pr] = ints(c, 'pads') ?? [0, 0, 0, 0];
  const outShape = ints(c, 'output_shape');
  const full = (size: number, k: number, s: number, d: number, op: number) => s * (size - 1) + op + (k - 1) * d + 1;
  if (outShape || (c.attrs.auto_pad && c.attrs.auto_pad !== 'NOTSET')) {
    const [oh0, ow0] = outShape?.slice(-2) ?? [h * sh!, wd * sw!];
    const th = full(h, kh, sh!, dh!, oph!) - oh0!;
    const tw = full(wd, kw, sw!, dw!, opw!) - ow0!;
    const upper = c.attrs.auto_pad !== 'SAME_LOWER';
    [pt, pb] = upper ? [th >> 1, th - (th >> 1)] : [th - (th >> 1), th >> 1];
    [pl, pr] = upper ? [tw >> 1, tw - (tw >> 1)] : [tw - (tw >> 1), tw >> 1];
  }
  const oh = full(h, kh, sh!, dh!, oph!) - pt! - pb!;
  const ow = full(wd, kw, sw!, dw!, opw!) - pl! - pr!;
  const out = floatTensor([n, m, oh, ow]);
  const cPerG = ch / group;
  for (let b = 0; b < n; b++)
    for (let o = 0; o < m; o++) {
      const base = (b * m + o) * oh * ow;
      if (bias) out.data.fill(bias.data[o]!, base, base + oh * ow);
      const g = Math.floor(o / mg);
      const om = o % mg;
      for (let ci = 0; ci < cPerG; ci++) {
        const cin = g * cPerG + ci;
        for (let iy = 0; iy < h; iy++)
          for (let ix = 0; ix < wd; ix++) {
            const xv = x.data[((b * ch + cin) * h + iy) * wd + ix]!;
            if (xv === 0) continue;
            for (let ki = 0; ki < kh; ki++) {
              const y = iy * sh! + ki * dh! - pt!;
              if (y < 0 || y >= oh) continue;
              for (let kj = 0; kj < kw; kj++) {
                const xx = ix * sw! + kj * dw! - pl!;
                if (xx < 0 || xx >= ow) continue;
                out.data[base + y * ow + xx] = out.data[base + y * ow + xx]! + xv * w.data[((cin * mg + om) * kh + ki) * kw + kj]!;
              }
            }
          }
      }
    }
  return [out];
}

/** InstanceNormalization and GroupNormalization: normalize over groups of channels and the spatial dimensions. */
function groupNorm(c: OpContext, instance: boolean): Tensor[] {
  const x = need(c, 0);
  const scale = need(c, 1);
  const bias = need(c, 2);
  const eps = num(c, 'epsilon', 1e-5);
  const [n, ch] = [x.dims[0]!, x.dims[1]!];
  const groups = instance ? ch : num(c, 'num_groups', 1);
  const spatial = sizeOf(x.dims.slice(2));
  const per = (ch / groups) * spatial;
  const out = floatTensor(x.dims);
  // GroupNormalization-18 has one scale per group, -21 one per channel.
  const perChannel = scale.data.length === ch;
  for (let b = 0; b < n; b++)
    for (let g = 0; g < groups; g++) {
      const off = (b * groups + g) * per;
      let mean = 0;
      for (let i = 0; i < per; i++) mean += x.data[off + i]!;
      mean /= per;
      let v = 0;
      for (let i = 0; i < per; i++) v += (x.data[off + i]! - mean) ** 2;
      const inv = 1 / Math.sqrt(v / per + eps);
      for (let i = 0; i < per; i++) {
        const chn = g * (ch / groups) + Math.floor(i / spatial);
        const k = perChannel ? chn : g;
        out.data[off + i] = (x.data[off + i]! - mean) * inv * scale.data[k]! + bias.data[k]!;
      }
    }
  return [out];
}

function lrn(c: OpContext): Tensor[] {
  const x = need(c, 0);
  const size = num(c, 'size', 1);
  const [alpha, beta, bias] = [num(c, 'alpha', 1e-4), num(c, 'beta', 0.75), num(c, 'bias', 1)];
  const [n, ch] = [x.dims[0]!, x.dims[1]!];
  const inner = sizeOf(x.dims.slice(2));
  const out = floatTensor(x.dims);
  const lo = Math.floor((size - 1) / 2);
  const hi = Math.ceil((size - 1) / 2);
  for (let b = 0; b < n; b++)
    for (let k = 0; k < ch; k++)
      for (let i = 0; i < inner; i++) {
        let s = 0;
        for (let j = Math.max(0, k - lo); j <= Math.min(ch - 1, k + hi); j++) s += x.data[(b * ch + j) * inner + i]! ** 2;
        out.data[(b * ch + k) * inner + i] = x.data[(b * ch + k) * inner + i]! / (bias + (alpha / size) * s) ** beta;
      }
  return [out];
}

function split(c: OpContext, outputs: number): Tensor[] {
  const x = need(c, 0);
  const ax = axis(num(c, 'axis', 0), x.dims.length);
  const n = x.dims[ax]!;
  let parts = values(c.inputs[1]) ?? ints(c, 'split');
  if (!parts || parts.length === 0) {
    const k = num(c, 'num_outputs', outputs);
    const each = Math.ceil(n / k);
    parts = Array.from({ length: k }, (_, i) => Math.max(0, Math.min(each, n - i * each)));
  }
  const inner = sizeOf(x.dims.slice(ax + 1));
  const outer = sizeOf(x.dims.slice(0, ax));
  let start = 0;
  return parts.map((p) => {
    const dims = x.dims.map((d, i) => (i === ax ? p : d));
    const out = like(x.kind, dims);
    for (let o = 0; o < outer; o++) out.data.set(x.data.subarray((o * n + start) * inner, (o * n + start + p) * inner), o * p * inner);
    start += p;
    return out;
  });
}

function tile(c: OpContext): Tensor[] {
  const x = need(c, 0);
  const reps = values(need(c, 1))!;
  const dims = x.dims.map((d, i) => d * reps[i]!);
  const out = like(x.kind, dims);
  const xs = strides(x.dims);
  const counter = dims.map(() => 0);
  for (let o = 0; o < out.data.length; o++) {
    let src = 0;
    for (let d = 0; d < dims.length; d++) src += (counter[d]! % x.dims[d]!) * xs[d]!;
    out.data[o] = x.data[src]!;
    for (let d = dims.length - 1; d >= 0; d--) {
      if (++counter[d]! < dims[d]!) break;
      counter[d] = 0;
    }
  }
  return [out];
}

function gatherElements(c: OpContext): Tensor[] {
  const x = need(c, 0);
  const idx = need(c, 1);
  const ax = axis(num(c, 'axis', 0), x.dims.length);
  const out = like(x.kind, idx.dims);
  const xs = strides(x.dims);
  const is = strides(idx.dims);
  for (let o = 0; o < idx.data.length; o++) {
    let src = 0;
    for (let d = 0; d < idx.dims.length; d++) {
      let k = Math.floor(o / is[d]!) % idx.dims[d]!;
      if (d === ax) {
        k = idx.data[o]!;
        if (k < 0) k += x.dims[ax]!;
        if (k < 0 || k >= x.dims[ax]!) throw execError(c.layer, `index ${idx.data[o]} out of range`);
      }
      src += k * xs[d]!;
    }
    out.data[o] = x.data[src]!;
  }
  return [out];
}

function cumSum(c: OpContext): Tensor[] {
  const x = need(c, 0);
  const ax = axis(need(c, 1).data[0]!, x.dims.length);
  const exclusive = num(c, 'exclusive', 0) === 1;
  const reverse = num(c, 'reverse', 0) === 1;
  const n = x.dims[ax]!;
  const inner = sizeOf(x.dims.slice(ax + 1));
  const outer = sizeOf(x.dims.slice(0, ax));
  const out = like(x.kind, x.dims);
  for (let o = 0; o < outer; o++)
    for (let i = 0; i < inner; i++) {
      let s = 0;
      for (let t = 0; t < n; t++) {
        const k = reverse ? n - 1 - t : t;
        const at = (o * n + k) * inner + i;
        if (exclusive) {
          out.data[at] = s;
          s += x.data[at]!;
        } else {
          s += x.data[at]!;
          out.data[at] = s;
        }
      }
    }
  return [out];
}

function trilu(c: OpContext): Tensor[] {
  const x = need(c, 0);
  const k = c.inputs[1]?.data[0] ?? 0;
  const upper = num(c, 'upper', 1) === 1;
  const [r, cols] = x.dims.slice(-2) as [number, number];
  const out = like(x.kind, x.dims);
  for (let i = 0; i < x.data.length; i++) {
    const j = i % cols;
    const row = Math.floor(i / cols) % r;
    out.data[i] = (upper ? j - row >= k : j - row <= k) ? x.data[i]! : 0;
  }
  return [out];
}

function depthSpace(c: OpContext, toSpace: boolean): Tensor[] {
  const x = need(c, 0);
  const b = num(c, 'blocksize', 1);
  const [n, ch, h, w] = x.dims as [number, number, number, number];
  const dcr = (c.attrs.mode as string | undefined) !== 'CRD';
  if (toSpace) {
    const oc = ch / (b * b);
    const r = { ...x, dims: dcr ? [n, b, b, oc, h, w] : [n, oc, b, b, h, w] };
    const t = transpose(r, dcr ? [0, 3, 4, 1, 5, 2] : [0, 1, 4, 2, 5, 3]);
    return [{ ...t, dims: [n, oc, h * b, w * b] }];
  }
  const r = { ...x, dims: [n, ch, h / b, b, w / b, b] };
  const t = transpose(r, [0, 3, 5, 1, 2, 4]);
  return [{ ...t, dims: [n, ch * b * b, h / b, w / b] }];
}

function topK(c: OpContext): Tensor[] {
  const x = need(c, 0);
  const k = c.inputs[1]?.data[0] ?? num(c, 'k', 1);
  const ax = axis(num(c, 'axis', -1), x.dims.length);
  const largest = num(c, 'largest', 1) === 1;
  const n = x.dims[ax]!;
  const inner = sizeOf(x.dims.slice(ax + 1));
  const outer = sizeOf(x.dims.slice(0, ax));
  const dims = x.dims.map((d, i) => (i === ax ? k : d));
  const vals = like(x.kind, dims);
  const idx = intTensor(dims);
  for (let o = 0; o < outer; o++)
    for (let i = 0; i < inner; i++) {
      const order = Array.from({ length: n }, (_, j) => j).sort((a, b) => {
        const va = x.data[(o * n + a) * inner + i]!;
        const vb = x.data[(o * n + b) * inner + i]!;
        return va === vb ? a - b : largest ? vb - va : va - vb;
      });
      for (let j = 0; j < k; j++) {
        vals.data[(o * k + j) * inner + i] = x.data[(o * n + order[j]!) * inner + i]!;
        idx.data[(o * k + j) * inner + i] = order[j]!;
      }
    }
  return [vals, idx];
}

/** Per-tensor, per-axis or blocked scale (and zero point) index of each element of `x`. */
function quantIndex(c: OpContext, x: Tensor, scale: Tensor): (i: number) => number {
  if (scale.data.length === 1) return () => 0;
  const ax = axis(num(c, 'axis', 1), x.dims.length);
  const block = num(c, 'block_size', 0);
  const inner = sizeOf(x.dims.slice(ax + 1));
  const n = x.dims[ax]!;
  if (!block) return (i) => Math.floor(i / inner) % n;
  // blocked: scale has x's shape with dimension `ax` divided by the block size (rounded up)
  const sn = scale.dims[ax]!;
  return (i) => {
    const outer = Math.floor(i / (n * inner));
    const k = Math.floor(i / inner) % n;
    return (outer * sn + Math.floor(k / block)) * inner + (i % inner);
  };
}

const QRANGE: Record<number, [number, number]> = { 2: [0, 255], 3: [-128, 127], 21: [0, 15], 22: [-8, 7], 4: [0, 65535], 5: [-32768, 32767] };

const sigmoid = (x: number) => 1 / (1 + Math.exp(-x));

/**
 * LSTM (gates i, o, f, c), GRU (z, r, h; linear_before_reset) and RNN, layout 0, default activations, forward,
 * reverse or bidirectional, optional initial states, LSTM peepholes; sequence_lens only when it is the full length.
 */
function recurrent(kind: 'LSTM' | 'GRU' | 'RNN'): Op {
  return (c) => {
    const x = need(c, 0);
    const W = need(c, 1);
    const R = need(c, 2);
    const B = c.inputs[3];
    const seqLens = c.inputs[4];
    const h0 = c.inputs[5];
    const c0 = kind === 'LSTM' ? c.inputs[6] : undefined;
    const P = kind === 'LSTM' ? c.inputs[7] : undefined;
    if (num(c, 'layout', 0) !== 0) throw execError(c.layer, `${kind} layout 1 is not run by the CPU executor`);
    if (c.attrs.activations !== undefined) throw execError(c.layer, `${kind} with explicit activations is not run by the CPU executor`);
    if (c.attrs.clip !== undefined) throw execError(c.layer, `${kind} with clip is not run by the CPU executor`);
    const [T, N, I] = x.dims as [number, number, number];
    const dirs = W.dims[0]!;
    const G = kind === 'LSTM' ? 4 : kind === 'GRU' ? 3 : 1;
    const H = W.dims[1]! / G;
    if (seqLens && Array.from(seqLens.data).some((v) => v !== T)) throw execError(c.layer, `${kind} with sequence_lens shorter than the input is not run by the CPU executor`);
    const lbr = num(c, 'linear_before_reset', 0) === 1;
    const direction = (c.attrs.direction as string | undefined) ?? 'forward';
    const Y = floatTensor([T, dirs, N, H]);
    const Yh = floatTensor([dirs, N, H]);
    const Yc = floatTensor([dirs, N, H]);
    for (let d = 0; d < dirs; d++) {
      const reverse = direction === 'reverse' || (direction === 'bidirectional' && d === 1);
      const w = (g: number, j: number, k: number) => W.data[((d * G + g) * H + j) * I + k]!;
      const r = (g: number, j: number, k: number) => R.data[((d * G + g) * H + j) * H + k]!;
      const wb = (g: number, j: number) => (B ? B.data[d * 2 * G * H + g * H + j]! : 0);
      const rb = (g: number, j: number) => (B ? B.data[d * 2 * G * H + G * H + g * H + j]! : 0);
      for (let n = 0; n < N; n++) {
        let h = Float64Array.from({ length: H }, (_, j) => (h0 ? h0.data[(d * N + n) * H + j]! : 0));
        let cell = Float64Array.from({ length: H }, (_, j) => (c0 ? c0.data[(d * N + n) * H + j]! : 0));
        for (let step = 0; step < T; step++) {
          const t = reverse ? T - 1 - step : step;
          const xin = (g: number, j: number) => {
            let s = wb(g, j);
            for (let k = 0; k < I; k++) s += x.data[(t * N + n) * I + k]! * w(g, j, k);
            return s;
          };
          const hin = (g: number, j: number, hv: ArrayLike<number>) => {
            let s = 0;
            for (let k = 0; k < H; k++) s += hv[k]! * r(g, j, k);
            return s;
          };
          const next = new Float64Array(H);
          if (kind === 'RNN') {
            for (let j = 0; j < H; j++) next[j] = Math.tanh(xin(0, j) + hin(0, j, h) + rb(0, j));
          } else if (kind === 'GRU') {
            for (let j = 0; j < H; j++) {
              const z = sigmoid(xin(0, j) + hin(0, j, h) + rb(0, j));
              const rr = sigmoid(xin(1, j) + hin(1, j, h) + rb(1, j));
              const hh = lbr ? Math.tanh(xin(2, j) + rr * (hin(2, j, h) + rb(2, j))) : Math.tanh(xin(2, j) + hin(2, j, Float64Array.from(h, (v, k) => v * sigmoid(xin(1, k) + hin(1, k, h) + rb(1, k)))) + rb(2, j));
              next[j] = (1 - z) * hh + z * h[j]!;
            }
          } else {
            const nc = new Float64Array(H);
            const p = (g: number, j: number) => (P ? P.data[d * 3 * H + g * H + j]! : 0);
            for (let j = 0; j < H; j++) {
              const i = sigmoid(xin(0, j) + hin(0, j, h) + rb(0, j) + p(0, j) * cell[j]!);
              const f = sigmoid(xin(2, j) + hin(2, j, h) + rb(2, j) + p(2, j) * cell[j]!);
              const cc = Math.tanh(xin(3, j) + hin(3, j, h) + rb(3, j));
              nc[j] = f * cell[j]! + i * cc;
              const o = sigmoid(xin(1, j) + hin(1, j, h) + rb(1, j) + p(1, j) * nc[j]!);
              next[j] = o * Math.tanh(nc[j]!);
            }
            cell = nc;
          }
          h = next;
          for (let j = 0; j < H; j++) Y.data[((t * dirs + d) * N + n) * H + j] = h[j]!;
        }
        for (let j = 0; j < H; j++) {
          Yh.data[(d * N + n) * H + j] = h[j]!;
          Yc.data[(d * N + n) * H + j] = cell[j]!;
        }
      }
    }
    return kind === 'LSTM' ? [Y, Yh, Yc] : [Y, Yh];
  };
}

/** The OPS the executor adds to ops.ts's. */
export const MORE_OPS: Readonly<Record<string, Op>> = {
  Abs: unary(Math.abs),
  Reciprocal: unary((x) => 1 / x),
  Floor: unary(Math.floor),
  Ceil: unary(Math.ceil),
  Round: unary(roundHalfEven),
  Sign: unary(Math.sign),
  Sin: unary(Math.sin),
  Cos: unary(Math.cos),
  Tan: unary(Math.tan),
  Asin: unary(Math.asin),
  Acos: unary(Math.acos),
  Atan: unary(Math.atan),
  Sinh: unary(Math.sinh),
  Cosh: unary(Math.cosh),
  Asinh: unary(Math.asinh),
  Acosh: unary(Math.acosh),
  Atanh: unary(Math.atanh),
  Softplus: unary((x) => (x > 20 ? x : Math.log1p(Math.exp(x)))),
  Softsign: unary((x) => x / (1 + Math.abs(x))),
  Mish: unary((x) => x * Math.tanh(x > 20 ? x : Math.log1p(Math.exp(x)))),
  Elu: (c) => unary((x) => (x >= 0 ? x : num(c, 'alpha', 1) * Math.expm1(x)))(c),
  Celu: (c) => unary((x) => Math.max(0, x) + Math.min(0, num(c, 'alpha', 1) * Math.expm1(x / num(c, 'alpha', 1))))(c),
  Selu: (c) => unary((x) => num(c, 'gamma', 1.0507009873554805) * (x > 0 ? x : num(c, 'alpha', 1.6732632423543772) * Math.expm1(x)))(c),
  LeakyRelu: (c) => unary((x) => (x >= 0 ? x : num(c, 'alpha', 0.01) * x))(c),
  ThresholdedRelu: (c) => unary((x) => (x > num(c, 'alpha', 1) ? x : 0))(c),
  Shrink: (c) => unary((x) => (x < -num(c, 'lambd', 0.5) ? x + num(c, 'bias', 0) : x > num(c, 'lambd', 0.5) ? x - num(c, 'bias', 0) : 0))(c),
  PRelu: binary((x, s) => (x >= 0 ? x : x * s)),
  Not: (c) => [bool(unary((x) => (x ? 0 : 1))(c)[0]!)],
  IsNaN: (c) => [bool(unary((x) => (Number.isNaN(x) ? 1 : 0))(c)[0]!)],
  IsInf: (c) => [bool(unary((x) => (x === Infinity ? num(c, 'detect_positive', 1) : x === -Infinity ? num(c, 'detect_negative', 1) : 0))(c)[0]!)],
  Max: variadic(Math.max),
  Min: variadic(Math.min),
  Sum: variadic((a, b) => a + b),
  Mean: variadic((a, b) => a + b, true),
  Less: compare((a, b) => a < b),
  LessOrEqual: compare((a, b) => a <= b),
  Greater: compare((a, b) => a > b),
  GreaterOrEqual: compare((a, b) => a >= b),
  And: compare((a, b) => !!a && !!b),
  Or: compare((a, b) => !!a || !!b),
  Xor: compare((a, b) => !!a !== !!b),
  ReduceSum: reduce(0, (a, v) => a + v),
  ReduceMax: reduce(-Infinity, Math.max),
  ReduceMin: reduce(Infinity, Math.min),
  ReduceProd: reduce(1, (a, v) => a * v),
  ReduceL1: reduce(0, (a, v) => a + Math.abs(v)),
  ReduceL2: reduce(0, (a, v) => a + v * v, (a) => Math.sqrt(a)),
  ReduceSumSquare: reduce(0, (a, v) => a + v * v),
  ReduceLogSum: reduce(0, (a, v) => a + v, (a) => Math.log(a)),
  ReduceLogSumExp: reduce(0, (a, v) => a + Math.exp(v), (a) => Math.log(a)),
  ArgMax: argReduce(true),
  ArgMin: argReduce(false),
  LogSoftmax: softmaxLike('log'),
  Hardmax: softmaxLike('hard'),
  Pad: pad,
  Resize: (c) => resize(c),
  Upsample: (c) => resize(c, true),
  ConvTranspose: convTranspose,
  InstanceNormalization: (c) => groupNorm(c, true),
  GroupNormalization: (c) => groupNorm(c, false),
  LRN: lrn,
  Split: (c) => split(c, Number(c.attrs['trt_refit.outputs'] ?? 2)),
  Tile: tile,
  GatherElements: gatherElements,
  CumSum: cumSum,
  Trilu: trilu,
  DepthToSpace: (c) => depthSpace(c, true),
  SpaceToDepth: (c) => depthSpace(c, false),
  TopK: topK,
  LSTM: recurrent('LSTM'),
  GRU: recurrent('GRU'),
  RNN: recurrent('RNN'),
  Size: (c) => [intTensor([], Float64Array.of(need(c, 0).data.length))],
  GlobalMaxPool: (c) => reduce(-Infinity, Math.max)({ ...c, attrs: { axes: [...need(c, 0).dims.keys()].slice(2), keepdims: 1 }, inputs: [need(c, 0)] }),
  Softmax: softmaxLike('soft'),
  DequantizeLinear: (c) => {
    const x = need(c, 0);
    const scale = need(c, 1);
    const zp = c.inputs[2];
    const at = quantIndex(c, x, scale);
    const out = floatTensor(x.dims);
    for (let i = 0; i < x.data.length; i++) out.data[i] = (x.data[i]! - (zp ? zp.data[at(i)]! : 0)) * scale.data[at(i)]!;
    return [out];
  },
  QuantizeLinear: (c) => {
    const x = need(c, 0);
    const scale = need(c, 1);
    const zp = c.inputs[2];
    const at = quantIndex(c, x, scale);
    const [lo, hi] = QRANGE[Number(c.attrs['trt_refit.output_type'] ?? (zp ? c.attrs['trt_refit.zero_point_type'] : 2) ?? 2)] ?? [0, 255];
    const out = intTensor(x.dims);
    for (let i = 0; i < x.data.length; i++) out.data[i] = Math.min(hi, Math.max(lo, roundHalfEven(x.data[i]! / scale.data[at(i)]!) + (zp ? zp.data[at(i)]! : 0)));
    return [out];
  },
};
