import { DataType, NetworkDefinition, WeightsRole, type AttributeValue, type Dim, type LayerWeights, type ParserError, type Weights } from '@trt-refit/core';
import { foldBatchNorm } from './batch-norm.js';
import { describe, type OnnxGraphProto, type OnnxModel, type OnnxNodeProto, type OnnxTensorInfo } from './onnx-model.js';
import { int64ToSafeNumber, type Int64Like } from './int64.js';
import { ONNX_DTYPES } from './onnx-dtype.js';
import { BATCH_NORM_WEIGHT_BASE, generatedWeightName, isOnnxDomain, modelWeightNames } from './parser-names.js';
import { topologicalOrder } from './topological-order.js';
import { controlFlowSubgraphs, graphWeightSources } from './weight-sources.js';

/**
 * Ops the importer turns into layers: the ops of the fixtures and of common CNN and transformer exports (all of
 * which TensorRT's parser imports). Anything else, and every op of a custom domain, is reported node by node as
 * UNSUPPORTED_NODE, while the weights it uses stay named and refittable. If, Loop and Scan are not built (their
 * subgraph weights are still read and refitted by the parser refitter).
 */
export const SUPPORTED_OPS: ReadonlySet<string> = new Set([
  // the fixtures
  'Conv', 'BatchNormalization', 'Relu', 'Erf', 'Gelu', 'ReduceMean', 'Gemm', 'MatMul', 'LayerNormalization', 'Softmax',
  'Gather', 'Reshape', 'Transpose', 'Concat', 'Slice', 'Shape', 'Unsqueeze', 'Squeeze', 'Cast', 'Sqrt', 'Div', 'Mul',
  'Add', 'Sub', 'Pow', 'Mod', 'Identity', 'Constant',
  // CNNs
  'ConvTranspose', 'MaxPool', 'AveragePool', 'GlobalAveragePool', 'GlobalMaxPool', 'Flatten', 'HardSigmoid',
  'HardSwish', 'Sigmoid', 'Tanh', 'Clip', 'LeakyRelu', 'PRelu', 'Elu', 'Selu', 'Celu', 'Softplus', 'Softsign', 'Mish',
  'ThresholdedRelu', 'InstanceNormalization', 'GroupNormalization', 'LRN', 'Pad', 'Resize', 'Upsample', 'DepthToSpace',
  'SpaceToDepth', 'Dropout',
  // transformers and shape arithmetic
  'Where', 'Equal', 'Less', 'LessOrEqual', 'Greater', 'GreaterOrEqual', 'Not', 'And', 'Or', 'Xor', 'Expand',
  'ConstantOfShape', 'Range', 'Neg', 'Exp', 'Log', 'Abs', 'Reciprocal', 'Floor', 'Ceil', 'Round', 'Sign', 'Sin', 'Cos',
  'Max', 'Min', 'Sum', 'Mean', 'ReduceSum', 'ReduceMax', 'ReduceMin', 'ReduceProd', 'ReduceL1', 'ReduceL2',
  'ReduceSumSquare', 'ReduceLogSumExp', 'ArgMax', 'ArgMin', 'TopK', 'LogSoftmax', 'Split', 'Tile', 'Trilu', 'CumSum',
  'GatherElements', 'GatherND', 'ScatterND', 'ScatterElements', 'Einsum', 'Size', 'OneHot', 'IsNaN', 'IsInf',
  'QuantizeLinear', 'DequantizeLinear',
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

const FLT_MAX = 3.4028234663852886e38;

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
      const c = Math.max(-FLT_MAX, Math.min(FLT_MAX, v));
      if (c !== v && !Number.isNaN(v)) clamped++;
      out[i] = c;
    }
    if (clamped) warn?.(`tensor ${info.name}: ${clamped} DOUBLE value(s) clamped to the FLOAT range`);
    return { type: DataType.FLOAT, values: out, count: info.count };
  }
  if (info.dataType === 2) return { type: DataType.INT32, values: Int32Array.from(bytes), count: info.count };
  // No conversion: the weights are a view of the model's bytes (or of the one buffer read for external data).
  return { type: dtype.trt, values: bytes, count: info.count };
}

/** TensorRT's type for a network input or output of ONNX element type `elem` (onnx-tensorrt `convertDtype`). */
export function tensorDataType(elem: number): DataType | undefined {
  switch (elem) {
    case 1: case 11: return DataType.FLOAT; // DOUBLE tensors run as FLOAT
    case 2: return DataType.UINT8;
    case 3: return DataType.INT8;
    case 6: return DataType.INT32;
    case 7: return DataType.INT64;
    case 9: return DataType.BOOL;
    case 10: return DataType.HALF;
    case 16: return DataType.BF16;
    case 17: return DataType.FP8;
    case 22: return DataType.INT4;
    case 23: return DataType.FP4;
    default: return undefined;
  }
}

type ValueInfo = { name?: string | null; type?: { tensorType?: { elemType?: number | null; shape?: { dim?: { dimValue?: unknown; dimParam?: string | null }[] | null } | null } | null } | null };

function dimsOf(v: ValueInfo): Dim[] {
  return (v.type?.tensorType?.shape?.dim ?? []).map((d, i) => (d.dimParam ? d.dimParam : d.dimValue != null ? int64ToSafeNumber(d.dimValue as Int64Like, `dim ${i} of ${v.name ?? ''}`) : -1));
}

function attributes(node: OnnxNodeProto): Record<string, AttributeValue> {
  const out: Record<string, AttributeValue> = {};
  const what = (name: string) => `attribute ${name} of node ${node.name || node.opType || ''}`;
  for (const a of node.attribute ?? []) {
    const name = a.name ?? '';
    switch (a.type) {
      case 1: out[name] = a.f ?? 0; break;
      case 2: out[name] = int64ToSafeNumber((a.i ?? 0) as Int64Like, what(name)); break;
      case 3: out[name] = new TextDecoder().decode(a.s ?? new Uint8Array()); break;
      case 6: out[name] = [...(a.floats ?? [])]; break;
      case 7: out[name] = (a.ints ?? []).map((i) => int64ToSafeNumber(i as Int64Like, what(name))); break;
      case 8: out[name] = (a.strings ?? []).map((s) => new TextDecoder().decode(s)); break;
      default: break; // tensors and graphs are handled by the op that needs them
    }
  }
  return out;
}

/** The numeric values of a small tensor attribute (e.g. ConstantOfShape's `value`). */
function tensorAttributeValues(info: OnnxTensorInfo, bytes: Uint8Array): number[] {
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return Array.from({ length: info.count }, (_, i) => {
    switch (info.dataType) {
      case 1: return dv.getFloat32(4 * i, true);
      case 11: return dv.getFloat64(8 * i, true);
      case 7: return Number(dv.getBigInt64(8 * i, true));
      case 6: return dv.getInt32(4 * i, true);
      case 10: return dv.getUint16(2 * i, true); // bit pattern; FLOAT16 fill values are rare
      case 2: case 9: return dv.getUint8(i);
      case 3: return dv.getInt8(i);
      default: return NaN;
    }
  });
}

const error = (code: string, desc: string, node: number, n?: OnnxNodeProto): ParserError => ({ code, desc, node, nodeName: n?.name ?? '', nodeOperator: n?.opType ?? '' });

/**
 * Imports an ONNX model into a network definition the way TensorRT's ONNX parser does, so that backends without a
 * parser of their own build the engine TensorRT would name:
 * - one layer per node (type = ONNX op, name = node name or a generated unique one), visited in the parser's
 *   topological order; inputs and outputs are ONNX tensor names (`''` for an omitted optional input);
 * - every initializer a node uses becomes a `Constant` layer with one CONSTANT weight named after it, except the
 *   W (and B) initializers of Conv/ConvTranspose, which become the layer's KERNEL (and BIAS) weights;
 * - a Constant node becomes a `Constant` layer whose weight is named by its output;
 * - BatchNormalization with four initializer parameters becomes a `Scale` layer with folded SCALE and SHIFT weights
 *   under parser-generated names (`tmp_batch_norm_weight`, `_1`, ...);
 * - DOUBLE weights become FLOAT (clamped), UINT8 INT32; other weights are views of the model's bytes.
 * Unsupported ops are all reported; the rest of the network is still filled.
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
  const { initializers: mainTensors, constants: mainConstants } = model.graphTensors(graph);
  const constants = new Map<string, Weights>(); // initializer name → its (shared) weights
  const taken = modelWeightNames(model);
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
  const constantLayer = async (init: string, i: number, node: OnnxNodeProto) => {
    if (constantOutputs.has(init)) return;
    const w = await weightsOf(init, i, node);
    if (!w) return;
    constantOutputs.add(init);
    network.addConstant(init, w, mainTensors.get(init)!.dims, init);
    network.setWeightsName(w, init);
  };
  const tensorType = (v: ValueInfo, what: string): DataType | undefined => {
    // An undefined element type (0) is left to the builder's inference, as FLOAT, like the importer always did.
    const elem = v.type?.tensorType?.elemType || 1;
    const trt = tensorDataType(elem);
    if (!trt) errors.push(error('UNSUPPORTED_GRAPH', `${what} ${v.name ?? ''} has element type ${ONNX_DTYPES[elem]?.name ?? elem}, which TensorRT networks do not support`, -1));
    return trt;
  };
  const safeDims = (v: ValueInfo): Dim[] | undefined => {
    try {
      return dimsOf(v);
    } catch (e) {
      errors.push(error('INVALID_GRAPH', (e as Error).message, -1));
      return undefined;
    }
  };

  // The network refuses malformed calls (empty names, say) by throwing: report those as parser errors.
  const guarded = (what: () => void, code: string, node: number, n?: OnnxNodeProto) => {
    try {
      what();
    } catch (e) {
      errors.push(error(code, (e as Error).message, node, n));
    }
  };
  for (const input of graph.input ?? []) {
    if (mainTensors.has(input.name ?? '')) continue; // an initializer listed as an input (IR < 4): a weight
    const trt = tensorType(input, 'input');
    const dims = safeDims(input);
    if (trt && dims) guarded(() => network.addInput(input.name ?? '', trt, dims), 'INVALID_GRAPH', -1);
  }

  const nodes = graph.node ?? [];
  let order: number[];
  try {
    order = topologicalOrder(nodes);
  } catch (e) {
    return { errors: [...errors, error('INVALID_GRAPH', (e as Error).message, -1)] };
  }
  for (const i of order) {
    const node = nodes[i]!;
    try {
      await importNode(i, node);
    } catch (e) {
      errors.push(error('INVALID_NODE', (e as Error).message, i, node));
    }
  }
  for (const output of graph.output ?? []) {
    const trt = tensorType(output, 'output');
    const dims = safeDims(output);
    if (trt && dims) guarded(() => network.markOutput(output.name ?? '', trt, dims), 'INVALID_GRAPH', -1);
  }
  return { errors };

  async function importNode(i: number, node: OnnxNodeProto): Promise<void> {
    const op = node.opType ?? '';
    const inputs = [...(node.input ?? [])];
    const outputs = [...(node.output ?? [])];
    if (!isOnnxDomain(node.domain)) {
      errors.push(error('UNSUPPORTED_NODE', `node ${node.name || `#${i}`} (${node.domain}::${op}) is not supported: custom domain`, i, node));
      for (const inp of inputs) if (mainTensors.has(inp)) await constantLayer(inp, i, node);
      return;
    }
    if (!SUPPORTED_OPS.has(op)) {
      errors.push(error('UNSUPPORTED_NODE', `node ${node.name || `#${i}`} (${op}) is not supported by the importer`, i, node));
      // its initializers stay named and refittable
      for (const inp of inputs) if (mainTensors.has(inp)) await constantLayer(inp, i, node);
      // TensorRT imports If/Loop/Scan subgraphs here, generating names for their folds: take the same names so
      // that the weights after this node are named as TensorRT (and the parser refitter's replay) names them.
      try {
        for (const g of controlFlowSubgraphs(node)) graphWeightSources(model, g, taken);
      } catch (e) {
        errors.push(error('INVALID_GRAPH', (e as Error).message, i, node));
      }
      return;
    }
    let attrs: Record<string, AttributeValue>;
    try {
      attrs = attributes(node);
    } catch (e) {
      errors.push(error('UNSUPPORTED_NODE_ATTR', (e as Error).message, i, node));
      return;
    }
    const layerName = node.name || undefined;
    if (op === 'Constant') {
      const info = mainConstants.get(node);
      if (!info) {
        errors.push(error('UNSUPPORTED_NODE_ATTR', `Constant ${node.name || `#${i}`} has no supported value attribute`, i, node));
        return;
      }
      try {
        const w = toTrtWeights(info, await model.readTensor(info), options.onWarning);
        if (typeof w === 'string') {
          errors.push(error('UNSUPPORTED_NODE_DATATYPE', w, i, node));
          return;
        }
        network.addConstant(outputs[0]!, w, info.dims, layerName);
        network.setWeightsName(w, outputs[0]!);
      } catch (e) {
        errors.push(error('INVALID_VALUE', (e as Error).message, i, node));
      }
      return;
    }
    if ((op === 'Conv' || op === 'ConvTranspose') && inputs[1] && mainTensors.has(inputs[1])) {
      const biasInit = !!inputs[2] && mainTensors.has(inputs[2]);
      const kernel = await weightsOf(inputs[1], i, node);
      const bias = biasInit ? await weightsOf(inputs[2]!, i, node) : undefined;
      if (!kernel || (biasInit && !bias)) return;
      const layerWeights: LayerWeights[] = [{ role: WeightsRole.KERNEL, weights: kernel, dims: mainTensors.get(inputs[1])!.dims }];
      if (bias) layerWeights.push({ role: WeightsRole.BIAS, weights: bias, dims: mainTensors.get(inputs[2]!)!.dims });
      // A bias computed by other layers stays an input, after an empty slot for the (attached) kernel.
      const computedBias = inputs[2] && !biasInit ? ['', inputs[2]] : [];
      network.addLayer({ name: layerName, type: op, inputs: [inputs[0]!, ...computedBias], outputs, attributes: attrs, weights: layerWeights });
      network.setWeightsName(kernel, inputs[1]);
      if (bias) network.setWeightsName(bias, inputs[2]!);
      return;
    }
    if (op === 'BatchNormalization' && inputs.length >= 5 && inputs.slice(1, 5).every((n) => mainTensors.has(n))) {
      const epsilon = typeof attrs.epsilon === 'number' ? attrs.epsilon : 1e-5;
      let folded;
      try {
        folded = await foldBatchNorm(model, inputs.slice(1, 5).map((n) => mainTensors.get(n)!), epsilon);
      } catch (e) {
        folded = (e as Error).message;
      }
      // The names are taken whether or not the fold works, as the parser refitter's replay takes them.
      const scaleName = generatedWeightName(BATCH_NORM_WEIGHT_BASE, taken);
      const shiftName = generatedWeightName(BATCH_NORM_WEIGHT_BASE, taken);
      if (typeof folded === 'string') {
        errors.push(error('UNSUPPORTED_NODE_DATATYPE', `BatchNormalization ${node.name || `#${i}`}: ${folded}`, i, node));
        return;
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
      network.setWeightsName(folded.scale, scaleName);
      network.setWeightsName(folded.shift, shiftName);
      return;
    }
    for (const inp of inputs) if (mainTensors.has(inp)) await constantLayer(inp, i, node);
    if (op === 'ConstantOfShape') {
      const v = (node.attribute ?? []).find((a) => a.name === 'value')?.t;
      if (v) {
        try {
          const info = describe(v, `${node.name || `#${i}`}.value`, 'constant', 'graph');
          attrs.value = tensorAttributeValues(info, await model.readTensor(info));
        } catch (e) {
          errors.push(error('INVALID_VALUE', (e as Error).message, i, node));
          return;
        }
      }
    }
    network.addLayer({ name: layerName, type: op, inputs, outputs, attributes: attrs });
  }
}
