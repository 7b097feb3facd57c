import { DataType, type HostTensor, type TensorDesc } from '@trt-refit/core';
import { OPS } from './ops.js';
import { execError, floatTensor, intTensor, sizeOf, type Tensor } from './tensor.js';

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
  return layers.filter((l) => l.type !== 'Constant' && !OPS[l.type]).map((l) => ({ name: l.name, type: l.type }));
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
  for (const l of layers) {
    const w: Record<string, Tensor> = {};
    for (const lw of l.weights) {
      const src = weights(lw.name);
      w[lw.role] = decode(src.bytes, src.dtype, src.dims, l.name);
    }
    let outs: Tensor[];
    if (l.type === 'Constant') outs = [w.CONSTANT!];
    else {
      const op = OPS[l.type];
      if (!op) throw execError(l.name, `op ${l.type} is not supported by the CPU executor`);
      const ins = l.inputs.map((n) => (n ? values.get(n) : undefined));
      outs = op({ layer: l.name, attrs: l.attributes as never, inputs: ins, weights: w });
    }
    l.outputs.forEach((o, i) => {
      if (o && outs[i]) values.set(o, outs[i]!);
    });
  }
  const result: Record<string, HostTensor> = {};
  for (const o of io.outputs) {
    const t = values.get(o.name);
    if (!t) throw execError('(outputs)', `output ${o.name} was not computed`);
    result[o.name] = toHost(t);
  }
  return result;
}
