import { DataType, NetworkDefinition, WeightsRole, type AttributeValue, type Dim, type LayerWeights, type ParserError, type Weights } from '@trt-refit/core';
import { describe, type OnnxGraphProto, type OnnxModel, type OnnxNodeProto, type OnnxTensorInfo } from './onnx-model.js';
import { int64ToSafeNumber, type Int64Like } from './int64.js';
import { ONNX_DTYPES } from './onnx-dtype.js';

/**
 * Ops the importer turns into layers that the backends build: the ops of the fixtures and of common CNN and
 * transformer exports. Anything else is reported, node by node, as UNSUPPORTED_NODE (weights stay readable).
 */
export const SUPPORTED_OPS: ReadonlySet<string> = new Set([
  'Conv', 'ConvTranspose', 'BatchNormalization', 'Relu', 'Erf', 'Gelu', 'ReduceMean', 'Gemm', 'MatMul', 'LayerNormalization',
  'Softmax', 'Gather', 'Reshape', 'Transpose', 'Concat', 'Slice', 'Shape', 'Unsqueeze', 'Squeeze', 'Cast', 'Sqrt', 'Div', 'Mul',
  'Add', 'Sub', 'Pow', 'Mod', 'Identity', 'Constant', 'MaxPool', 'AveragePool', 'GlobalAveragePool', 'Flatten', 'HardSigmoid',
  'HardSwish', 'Sigmoid', 'Tanh', 'Clip', 'Where', 'Equal', 'Expand', 'ConstantOfShape', 'Range', 'Neg', 'Exp', 'Log', 'Dropout',
]);

/** Result of {@link importOnnxModel}: every problem found, not just the first. */
export interface ImportResult {
  readonly errors: ParserError[];
}

/** Options of the importer. */
export interface ImportOptions {
  /** Called for each warning (e.g. a DOUBLE initializer clamped to FLOAT). */
  readonly onWarning?: (message: string) => void;
}

/**
 * Name of the i-th parser-generated weight (`generateUniqueName` of onnx-tensorrt: the base name, then
 * `<base>_<n>`). Only a replay of the same traversal of the same model gives the same names.
 */
export function generatedWeightName(base: string, taken: Set<string>): string {
  let name = base;
  for (let n = 1; taken.has(name); n++) name = `${base}_${n}`;
  taken.add(name);
  return name;
}

/** Converted weights of a tensor as TensorRT's parser converts them (DOUBLE → FLOAT clamped, UINT8 → INT32). */
export function toTrtWeights(info: OnnxTensorInfo, bytes: Uint8Array, warn?: (m: string) => void): Weights | string {
  const dtype = ONNX_DTYPES[info.dataType];
  if (!dtype?.trt) return `tensor ${info.name} has element type ${info.dtypeName}, which TensorRT does not support`;
  if (info.dataType === 11) {
    const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const out = new Float32Array(info.count);
    let clamped = 0;
    for (let i = 0; i < info.count; i++) {
      const v = dv.getFloat64(8 * i, true);
      const c = Math.max(-3.4028234663852886e38, Math.min(3.4028234663852886e38, v));
      if (c !== v && !Number.isNaN(v)) clamped++;
      out[i] = c;
    }
    if (clamped) warn?.(`tensor ${info.name}: ${clamped} DOUBLE value(s) clamped to the FLOAT range`);
    return { type: DataType.FLOAT, values: out, count: info.count };
  }
  if (info.dataType === 2) return { type: DataType.INT32, values: Int32Array.from(bytes), count: info.count };
  return { type: dtype.trt, values: bytes, count: info.count };
}

function dimsOf(v: { type?: { tensorType?: { shape?: { dim?: { dimValue?: unknown; dimParam?: string | null }[] | null } | null } | null } | null }): Dim[] {
  return (v.type?.tensorType?.shape?.dim ?? []).map((d) => (d.dimParam ? d.dimParam : d.dimValue != null ? int64ToSafeNumber(d.dimValue as Int64Like, 'dim') : -1));
}

function attributes(node: OnnxNodeProto): Record<string, AttributeValue> {
  const out: Record<string, AttributeValue> = {};
  for (const a of node.attribute ?? []) {
    const name = a.name ?? '';
    switch (a.type) {
      case 1: out[name] = a.f ?? 0; break;
      case 2: out[name] = int64ToSafeNumber((a.i ?? 0) as Int64Like, `attribute ${name} of ${node.name ?? ''}`); break;
      case 3: out[name] = new TextDecoder().decode(a.s ?? new Uint8Array()); break;
      case 6: out[name] = [...(a.floats ?? [])]; break;
      case 7: out[name] = (a.ints ?? []).map((i) => int64ToSafeNumber(i as Int64Like, `attribute ${name} of ${node.name ?? ''}`)); break;
      case 8: out[name] = (a.strings ?? []).map((s) => new TextDecoder().decode(s)); break;
      default: break; // tensors and graphs are handled by the op that needs them
    }
  }
  return out;
}

/** The single numeric value list of a small tensor attribute (e.g. ConstantOfShape's `value`). */
function tensorAttributeValues(info: OnnxTensorInfo, bytes: Uint8Array): number[] {
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const w = ONNX_DTYPES[info.dataType]!.bits / 8;
  return Array.from({ length: info.count }, (_, i) => {
    switch (info.dataType) {
      case 1: return dv.getFloat32(4 * i, true);
      case 11: return dv.getFloat64(8 * i, true);
      case 7: return Number(dv.getBigInt64(8 * i, true));
      case 6: return dv.getInt32(4 * i, true);
      default: return w === 1 ? dv.getUint8(i) : NaN;
    }
  });
}

const error = (code: string, desc: string, node: number, n?: OnnxNodeProto): ParserError => ({ code, desc, node, nodeName: n?.name ?? '', nodeOperator: n?.opType ?? '' });

/**
 * Imports an ONNX model into a network definition the way TensorRT's ONNX parser does: weights are named by their
 * initializer or Constant-output names; BatchNormalization with four initializer parameters becomes a `Scale`
 * layer with folded weights under parser-generated names; DOUBLE becomes FLOAT and UINT8 INT32. One layer per
 * node (type = ONNX op). Unsupported ops are all reported; the rest of the network is still filled.
 *
 * @example
 * ```ts
 * const network = builder.createNetwork();
 * const { errors } = await importOnnxModel(await openOnnxModel('model.onnx'), network);
 * ```
 */
export async function importOnnxModel(model: OnnxModel, network: NetworkDefinition, options: ImportOptions = {}): Promise<ImportResult> {
  const errors: ParserError[] = [];
  const graph: OnnxGraphProto = model.graph;
  const mainTensors = new Map<string, OnnxTensorInfo>();
  const mainConstants = new Map<string, OnnxTensorInfo>();
  for (const t of model.tensors()) {
    if (t.scope !== 'graph') continue;
    if (t.kind === 'initializer') mainTensors.set(t.name, t);
    else if (t.kind === 'constant') mainConstants.set(t.name, t);
  }
  const constants = new Map<string, Weights>(); // initializer name → its (shared) weights
  const taken = new Set<string>();
  const constantOutputs = new Set<string>();
  const weightsOf = async (name: string, nodeIndex: number, node: OnnxNodeProto): Promise<Weights | undefined> => {
    const cached = constants.get(name);
    if (cached) return cached;
    const info = mainTensors.get(name)!;
    try {
      const w = toTrtWeights(info, await model.readTensor(info), options.onWarning);
      if (typeof w === 'string') {
        errors.push(error('UNSUPPORTED_NODE_DATATYPE', w, nodeIndex, node));
        return undefined;
      }
      constants.set(name, w);
      return w;
    } catch (e) {
      errors.push(error('INVALID_VALUE', (e as Error).message, nodeIndex, node));
      return undefined;
    }
  };
  const name = (w: Weights, n: string) => {
    network.setWeightsName(w, n);
    taken.add(n);
  };
  const constantLayer = async (init: string, i: number, node: OnnxNodeProto) => {
    if (constantOutputs.has(init)) return;
    const w = await weightsOf(init, i, node);
    if (!w) return;
    constantOutputs.add(init);
    network.addConstant(init, w, mainTensors.get(init)!.dims, init);
    name(w, init);
  };

  for (const input of graph.input ?? []) {
    if (mainTensors.has(input.name ?? '')) continue;
    const elem = input.type?.tensorType?.elemType ?? 1;
    const trt = ONNX_DTYPES[elem]?.trt ?? DataType.FLOAT;
    network.addInput(input.name ?? '', trt, dimsOf(input));
  }

  const nodes = graph.node ?? [];
  for (let i = 0; i < nodes.length; i++) {
    const node = nodes[i]!;
    const op = node.opType ?? '';
    const inputs = [...(node.input ?? [])];
    const outputs = [...(node.output ?? [])];
    let attrs: Record<string, AttributeValue>;
    try {
      attrs = attributes(node);
    } catch (e) {
      errors.push(error('UNSUPPORTED_NODE_ATTR', (e as Error).message, i, node));
      continue;
    }
    if ((node.domain ?? '') !== '' && node.domain !== 'ai.onnx') {
      errors.push(error('UNSUPPORTED_NODE', `node ${node.name ?? i} (${node.domain}::${op}) is not supported: custom domain`, i, node));
      continue;
    }
    if (!SUPPORTED_OPS.has(op)) {
      errors.push(error('UNSUPPORTED_NODE', `node ${node.name || `#${i}`} (${op}) is not supported by the importer`, i, node));
      // its initializers stay named and refittable
      for (const inp of inputs) if (mainTensors.has(inp)) await constantLayer(inp, i, node);
      continue;
    }
    const layerName = node.name || undefined;
    if (op === 'Constant') {
      const info = mainConstants.get(outputs[0] ?? '');
      if (!info) {
        errors.push(error('UNSUPPORTED_NODE_ATTR', `Constant ${node.name ?? i} has no supported value attribute`, i, node));
        continue;
      }
      try {
        const w = toTrtWeights(info, await model.readTensor(info), options.onWarning);
        if (typeof w === 'string') {
          errors.push(error('UNSUPPORTED_NODE_DATATYPE', w, i, node));
          continue;
        }
        network.addConstant(outputs[0]!, w, info.dims, layerName);
        name(w, outputs[0]!);
      } catch (e) {
        errors.push(error('INVALID_VALUE', (e as Error).message, i, node));
      }
      continue;
    }
    if ((op === 'Conv' || op === 'ConvTranspose') && inputs[1] && mainTensors.has(inputs[1])) {
      const kernel = await weightsOf(inputs[1], i, node);
      const bias = inputs[2] && mainTensors.has(inputs[2]) ? await weightsOf(inputs[2], i, node) : undefined;
      if (!kernel || (inputs[2] && mainTensors.has(inputs[2]) && !bias)) continue;
      const layerWeights: LayerWeights[] = [{ role: WeightsRole.KERNEL, weights: kernel, dims: mainTensors.get(inputs[1])!.dims }];
      if (bias) layerWeights.push({ role: WeightsRole.BIAS, weights: bias, dims: mainTensors.get(inputs[2]!)!.dims });
      const extra = inputs[2] && !mainTensors.has(inputs[2]) ? [inputs[2]] : [];
      network.addLayer({ name: layerName, type: op, inputs: [inputs[0]!, ...(extra.length ? ['', ...extra] : [])], outputs, attributes: attrs, weights: layerWeights });
      name(kernel, inputs[1]);
      if (bias) name(bias, inputs[2]!);
      continue;
    }
    if (op === 'BatchNormalization' && inputs.length >= 5 && inputs.slice(1, 5).every((n) => mainTensors.has(n))) {
      const folded = await foldBatchNorm(model, inputs.slice(1, 5).map((n) => mainTensors.get(n)!), typeof attrs.epsilon === 'number' ? attrs.epsilon : 1e-5);
      if (typeof folded === 'string') {
        errors.push(error('UNSUPPORTED_NODE_DATATYPE', `BatchNormalization ${node.name ?? i}: ${folded}`, i, node));
        continue;
      }
      const c = folded.scale.count;
      network.addLayer({
        name: layerName,
        type: 'Scale',
        inputs: [inputs[0]!],
        outputs: outputs.slice(0, 1),
        attributes: { mode: 'channel' },
        weights: [
          { role: WeightsRole.SCALE, weights: folded.scale, dims: [c] },
          { role: WeightsRole.SHIFT, weights: folded.shift, dims: [c] },
        ],
      });
      name(folded.scale, generatedWeightName('tmp_batch_norm_weight', taken));
      name(folded.shift, generatedWeightName('tmp_batch_norm_weight', taken));
      continue;
    }
    for (const inp of inputs) if (mainTensors.has(inp)) await constantLayer(inp, i, node);
    if (op === 'ConstantOfShape') {
      const v = (node.attribute ?? []).find((a) => a.name === 'value')?.t;
      if (v) {
        const info = describe(v, `${node.name ?? i}.value`, 'constant', 'graph');
        attrs.value = tensorAttributeValues(info, await model.readTensor(info));
      }
    }
    network.addLayer({ name: layerName, type: op, inputs, outputs, attributes: attrs });
  }
  for (const output of graph.output ?? []) {
    const elem = output.type?.tensorType?.elemType ?? 1;
    network.markOutput(output.name ?? '', ONNX_DTYPES[elem]?.trt ?? DataType.FLOAT, dimsOf(output));
  }
  return { errors };
}

/**
 * Folds BatchNormalization's scale, bias, mean and variance into the per-channel scale and shift of a `Scale`
 * layer, as TensorRT's parser does: scale = gamma / sqrt(var + eps), shift = beta - mean * scale (in FLOAT).
 */
export async function foldBatchNorm(model: OnnxModel, params: OnnxTensorInfo[], epsilon: number): Promise<{ scale: Weights; shift: Weights } | string> {
  const floats: Float32Array[] = [];
  for (const p of params) {
    if (p.dataType !== 1 && p.dataType !== 10) return `parameter ${p.name} is ${p.dtypeName}; only FLOAT and FLOAT16 are folded`;
    const bytes = await model.readTensor(p);
    const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    floats.push(Float32Array.from({ length: p.count }, (_, i) => (p.dataType === 1 ? dv.getFloat32(4 * i, true) : halfToFloat(dv.getUint16(2 * i, true)))));
  }
  const [gamma, beta, mean, variance] = floats as [Float32Array, Float32Array, Float32Array, Float32Array];
  const c = gamma.length;
  if (![beta, mean, variance].every((a) => a.length === c)) return 'its four parameters have different lengths';
  const scale = new Float32Array(c);
  const shift = new Float32Array(c);
  for (let k = 0; k < c; k++) {
    scale[k] = gamma[k]! / Math.sqrt(variance[k]! + epsilon);
    shift[k] = beta[k]! - mean[k]! * scale[k]!;
  }
  return { scale: { type: DataType.FLOAT, values: scale, count: c }, shift: { type: DataType.FLOAT, values: shift, count: c } };
}

function halfToFloat(h: number): number {
  const s = h & 0x8000 ? -1 : 1;
  const e = (h >> 10) & 0x1f;
  const m = h & 0x3ff;
  if (e === 0) return s * m * 2 ** -24;
  if (e === 31) return m ? NaN : s * Infinity;
  return s * (1 + m / 1024) * 2 ** (e - 15);
}

