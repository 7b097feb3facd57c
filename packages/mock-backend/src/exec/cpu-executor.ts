import { DataType, type HostTensor, type TensorDesc } from '@trt-refit/core';
import { bf16ToFloat, halfToFloat } from '@trt-refit/onnx';
import { OPS as BASE_OPS, type Op } from './ops.js';
import { MORE_OPS } from './ops-more.js';

/** Every op the CPU executor runs. */
const OPS: Readonly<Record<string, Op>> = { ...BASE_OPS, ...MORE_OPS };
const CONTROL_FLOW = new Set(['If', 'Loop', 'Scan']);
/** Most iterations a Loop may run before the executor gives up (TensorRT has no such limit; a runaway loop here is a bug). */
const MAX_LOOP_ITERATIONS = 1_000_000;
import { execError, floatTensor, intTensor, like, sizeOf, type Tensor } from './tensor.js';

/** Scan outputs of every iteration, stacked along a new first axis. */
function stack(list: Tensor[], layer: string): Tensor {
  if (!list.length) throw execError(layer, 'a scan output of zero iterations has no shape here');
  const first = list[0]!;
  const out = like(first.kind, [list.length, ...first.dims]);
  list.forEach((t, i) => out.data.set(t.data, i * t.data.length));
  return out;
}

/** Element `t` of a tensor's first axis. */
function sliceFirst(x: Tensor, t: number): Tensor {
  const inner = sizeOf(x.dims.slice(1));
  return { kind: x.kind, data: x.data.slice(t * inner, (t + 1) * inner) as Tensor['data'], dims: x.dims.slice(1) };
}

/** A layer as the executor runs it: a network layer whose weights are named, not held. */
export interface ExecLayer {
  readonly name: string;
  readonly type: string;
  readonly inputs: readonly string[];
  readonly outputs: readonly string[];
  readonly attributes: Readonly<Record<string, unknown>>;
  readonly weights: readonly { readonly role: string; readonly name: string }[];
}

/** The engine's current weights: values (zeros while stripped) with their type and shape. */
export type WeightsSource = (name: string) => { bytes: Uint8Array; dtype: DataType; dims: readonly number[] };

/** Layers the executor cannot run. */
export function unsupportedLayers(layers: readonly ExecLayer[]): { name: string; type: string }[] {
  return layers.filter((l) => l.type !== 'Constant' && !CONTROL_FLOW.has(l.type) && !OPS[l.type]).map((l) => ({ name: l.name, type: l.type }));
}

/** FLOAT8E4M3FN (1 sign, 4 exponent bits with bias 7, 3 mantissa bits; no infinities, 0x7f/0xff are NaN). */
function fp8e4m3ToFloat(b: number): number {
  const sign = b & 0x80 ? -1 : 1;
  const e = (b >> 3) & 0xf;
  const m = b & 7;
  if (e === 0xf && m === 7) return NaN;
  return sign * (e === 0 ? (m / 8) * 2 ** -6 : (1 + m / 8) * 2 ** (e - 7));
}

function decode(bytes: Uint8Array, dtype: DataType, dims: readonly number[], name: string): Tensor {
  const n = sizeOf(dims, name);
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  switch (dtype) {
    case DataType.FLOAT:
      return floatTensor(dims, Float32Array.from({ length: n }, (_, i) => dv.getFloat32(4 * i, true)));
    case DataType.INT64:
      return intTensor(dims, Float64Array.from({ length: n }, (_, i) => Number(dv.getBigInt64(8 * i, true))));
    case DataType.INT32:
      return intTensor(dims, Float64Array.from({ length: n }, (_, i) => dv.getInt32(4 * i, true)));
    case DataType.BOOL:
    case DataType.UINT8:
      return intTensor(dims, Float64Array.from(bytes.subarray(0, n)));
    case DataType.INT8:
      return intTensor(dims, Float64Array.from(new Int8Array(bytes.buffer, bytes.byteOffset, n)));
    case DataType.FP8:
      return floatTensor(dims, Float32Array.from(bytes.subarray(0, n), fp8e4m3ToFloat));
    case DataType.INT4:
      return intTensor(dims, Float64Array.from({ length: n }, (_, i) => {
        const nibble = (bytes[i >> 1]! >> ((i & 1) * 4)) & 0xf;
        return nibble >= 8 ? nibble - 16 : nibble;
      }));
    case DataType.HALF:
      return floatTensor(dims, Float32Array.from({ length: n }, (_, i) => halfToFloat(dv.getUint16(2 * i, true))));
    case DataType.BF16:
      return floatTensor(dims, Float32Array.from({ length: n }, (_, i) => bf16ToFloat(dv.getUint16(2 * i, true))));
    default:
      throw execError(name, `weights of type ${dtype} cannot be executed on the CPU`);
  }
}

function fromHost(name: string, t: HostTensor): Tensor {
  if (t.data instanceof Float32Array) return floatTensor(t.dims, t.data);
  if (t.data instanceof BigInt64Array) return intTensor(t.dims, Float64Array.from(t.data, Number));
  return intTensor(t.dims, Float64Array.from(t.data as Int32Array));
}

function toHost(t: Tensor): HostTensor {
  return t.kind === 'float' ? { data: t.data as Float32Array, dims: t.dims } : { data: BigInt64Array.from(t.data, (v) => BigInt(v)), dims: t.dims };
}

/**
 * Runs a network's layers on the CPU (float32 compute, integer shape tensors), reading weights from `weights`
 * so that a refit (or a stripped weight not yet refitted) shows in the outputs.
 */
export function executeLayers(
  layers: readonly ExecLayer[],
  io: { inputs: readonly TensorDesc[]; outputs: readonly TensorDesc[] },
  inputs: Record<string, HostTensor>,
  weights: WeightsSource,
): Record<string, HostTensor> {
  const values = new Map<string, Tensor>();
  for (const d of io.inputs) {
    const t = inputs[d.name];
    if (!t) throw execError('(inputs)', `input ${d.name} is missing`);
    if (t.dims.length !== d.dims.length || t.dims.some((x, i) => typeof d.dims[i] === 'number' && d.dims[i] !== -1 && d.dims[i] !== x)) {
      throw execError('(inputs)', `input ${d.name} has shape [${t.dims.join(', ')}], the engine expects [${d.dims.join(', ')}]`);
    }
    if (t.data.length !== sizeOf(t.dims)) throw execError('(inputs)', `input ${d.name} has ${t.data.length} values for shape [${t.dims.join(', ')}]`);
    values.set(d.name, fromHost(d.name, t));
  }
  // Layers of If branches and Loop/Scan bodies run when their control-flow layer runs them, not in the main flow.
  const scopes = new Map<string, ExecLayer[]>();
  const main: ExecLayer[] = [];
  for (const l of layers) {
    const scope = l.attributes['trt_refit.scope'];
    if (typeof scope === 'string') {
      const list = scopes.get(scope) ?? [];
      list.push(l);
      scopes.set(scope, list);
    } else main.push(l);
  }
  const runLayer = (l: ExecLayer): void => {
    const w: Record<string, Tensor> = {};
    for (const lw of l.weights) {
      const src = weights(lw.name);
      w[lw.role] = decode(src.bytes, src.dtype, src.dims, l.name);
    }
    let outs: Tensor[];
    if (l.type === 'Constant') outs = [w.CONSTANT!];
    else if (CONTROL_FLOW.has(l.type)) outs = controlFlow(l);
    else {
      const op = OPS[l.type];
      if (!op) throw execError(l.name, `op ${l.type} is not supported by the CPU executor`);
      const ins = l.inputs.map((n) => (n ? values.get(n) : undefined));
      outs = op({ layer: l.name, attrs: l.attributes as never, inputs: ins, weights: w });
    }
    l.outputs.forEach((o, i) => {
      if (o && outs[i]) values.set(o, outs[i]!);
    });
  };
  const runScope = (scope: string, outputs: readonly string[], layer: string): Tensor[] => {
    for (const l of scopes.get(scope) ?? []) runLayer(l);
    return outputs.map((o) => {
      const t = values.get(o);
      if (!t) throw execError(layer, `subgraph output ${o} was not computed`);
      return t;
    });
  };
  const strs = (l: ExecLayer, key: string) => (l.attributes[key] as readonly string[] | undefined) ?? [];
  const input = (l: ExecLayer, i: number) => (l.inputs[i] ? values.get(l.inputs[i]!) : undefined);
  const controlFlow = (l: ExecLayer): Tensor[] => {
    if (l.type === 'If') {
      const cond = input(l, 0);
      if (!cond || cond.data.length !== 1) throw execError(l.name, 'the If condition must be one element');
      return cond.data[0] ? runScope(String(l.attributes['trt_refit.then']), strs(l, 'trt_refit.then_outputs'), l.name) : runScope(String(l.attributes['trt_refit.else']), strs(l, 'trt_refit.else_outputs'), l.name);
    }
    const scope = String(l.attributes['trt_refit.body']);
    const bodyIn = strs(l, 'trt_refit.body_inputs');
    const bodyOut = strs(l, 'trt_refit.body_outputs');
    if (l.type === 'Loop') {
      const m = input(l, 0);
      const limit = m ? m.data[0]! : Infinity;
      let cond = input(l, 1) ? input(l, 1)!.data[0] !== 0 : true;
      let state = l.inputs.slice(2).map((_, k) => input(l, 2 + k)!);
      const nScan = bodyOut.length - 1 - state.length;
      const scans: Tensor[][] = Array.from({ length: nScan }, () => []);
      let iter = 0;
      while (iter < limit && cond) {
        if (iter >= MAX_LOOP_ITERATIONS) throw execError(l.name, `the loop ran ${MAX_LOOP_ITERATIONS} iterations without ending`);
        values.set(bodyIn[0]!, intTensor([], Float64Array.of(iter)));
        values.set(bodyIn[1]!, intTensor([], Float64Array.of(cond ? 1 : 0)));
        state.forEach((t, k) => values.set(bodyIn[2 + k]!, t));
        const outs = runScope(scope, bodyOut, l.name);
        cond = outs[0]!.data[0] !== 0;
        state = outs.slice(1, 1 + state.length);
        outs.slice(1 + state.length).forEach((t, k) => scans[k]!.push(t));
        iter++;
      }
      return [...state, ...scans.map((list) => stack(list, l.name))];
    }
    // Scan: state inputs first, then scan inputs (iterated along axis 0, forward only)
    const scan = scanOf(l);
    if (Number(l.attributes['trt_refit.opset'] ?? 9) < 9) {
      // Scan-8: inputs[0] is the (empty) sequence_lens; every input and output has a leading batch axis
      const batched = l.inputs.slice(1).map((_, k) => input(l, 1 + k)!);
      const per = Array.from({ length: batched[0]?.dims[0] ?? 0 }, (_, b) => scan(batched.map((t) => sliceFirst(t, b))));
      return per[0]!.map((_, k) => stack(per.map((outs) => outs[k]!), l.name));
    }
    return scan(l.inputs.map((_, k) => input(l, k)!));
  };
  const scanOf = (l: ExecLayer) => (all: Tensor[]): Tensor[] => {
    const scope = String(l.attributes['trt_refit.body']);
    const bodyIn = strs(l, 'trt_refit.body_inputs');
    const bodyOut = strs(l, 'trt_refit.body_outputs');
    const nScanIn = Number(l.attributes.num_scan_inputs ?? 0);
    const dirs = [...((l.attributes.scan_input_directions as number[] | undefined) ?? []), ...((l.attributes.scan_output_directions as number[] | undefined) ?? [])];
    const axes = [...((l.attributes.scan_input_axes as number[] | undefined) ?? []), ...((l.attributes.scan_output_axes as number[] | undefined) ?? [])];
    if (dirs.some((d) => d !== 0) || axes.some((a) => a !== 0)) throw execError(l.name, 'Scan with reversed directions or axes other than 0 is not run by the CPU executor');
    let state = all.slice(0, all.length - nScanIn);
    const scanIn = all.slice(all.length - nScanIn);
    const steps = scanIn[0]?.dims[0] ?? 0;
    const scans: Tensor[][] = Array.from({ length: bodyOut.length - state.length }, () => []);
    for (let t = 0; t < steps; t++) {
      state.forEach((s, k) => values.set(bodyIn[k]!, s));
      scanIn.forEach((x, k) => values.set(bodyIn[state.length + k]!, sliceFirst(x, t)));
      const outs = runScope(scope, bodyOut, l.name);
      state = outs.slice(0, state.length);
      outs.slice(state.length).forEach((o, k) => scans[k]!.push(o));
    }
    return [...state, ...scans.map((list) => stack(list, l.name))];
  };
  for (const l of main) runLayer(l);
  const result: Record<string, HostTensor> = {};
  for (const o of io.outputs) {
    const t = values.get(o.name);
    if (!t) throw execError('(outputs)', `output ${o.name} was not computed`);
    result[o.name] = toHost(t);
  }
  return result;
}
