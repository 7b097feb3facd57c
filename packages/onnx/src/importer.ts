import { DataType, NetworkDefinition, WeightsRole, type AttributeValue, type Dim, type LayerWeights, type ParserError, type Weights } from '@trt-refit/core';
import { batchNormParamType, foldBatchNorm } from './batch-norm.js';
import { conversionProblem, convertedType, toTrtWeights } from './convert-weights.js';
import { describe, type OnnxGraphProto, type OnnxModel, type OnnxNodeProto, type OnnxTensorInfo } from './onnx-model.js';
import { int64ToSafeNumber, type Int64Like } from './int64.js';
import { ONNX_DTYPES } from './onnx-dtype.js';
import { UniqueNames, isOnnxDomain, nodeLayerName } from './parser-names.js';
import { onnxParserRules } from '@trt-refit/core';
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
  /** The TensorRT version whose parser rules apply (default: the network's). */
  readonly tensorrtVersion?: string;
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

const error = (code: string, desc: string, node: number, n?: OnnxNodeProto): ParserError => ({ code, desc, node, nodeName: n?.name ?? '', nodeOperator: n?.opType ?? '' });


/** The numeric values of a small tensor attribute (ConstantOfShape's `value` before 10.14). */
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

const BOOL_OPS = new Set(['Equal', 'Less', 'LessOrEqual', 'Greater', 'GreaterOrEqual', 'Not', 'And', 'Or', 'Xor', 'IsNaN', 'IsInf']);
const INT64_OPS = new Set(['Shape', 'Size', 'ArgMax', 'ArgMin', 'NonZero']);
const FOLD_TYPES = new Set<DataType>([DataType.FLOAT, DataType.HALF, DataType.BF16]);

/**
 * Imports an ONNX model into a network definition the way TensorRT's ONNX parser of the emulated version does
 * (rules in `onnxParserRules`, sources in docs/fidelity.md), so that backends without a parser of their own build
 * the engine TensorRT would name:
 * - one layer per node, visited in the parser's topological order, named as `getNodeName` names it (the node's
 *   name, or `node_of_<first output>`) and made unique as `registerLayer` does;
 * - initializers and Constant values are weights; one becomes a `Constant` layer (named after it, one CONSTANT
 *   weight of that name) where a node needs it as a tensor, except the W (and B) of Conv/ConvTranspose, which are
 *   the layer's KERNEL (and BIAS) weights;
 * - BatchNormalization whose four parameters are weights folds into a `Scale` layer with SCALE and SHIFT weights
 *   under generated names (`tmp_batch_norm_weight`, `_0`, ... up to 10.13; `tmp_refittable_weight`, ... from
 *   10.14), in the type of input and parameters when all five agree, in FLOAT when they differ (10.x), and not at
 *   all when they differ in a strongly typed 11.x network;
 * - from 10.14 each ConstantOfShape's value is a weight named from the same counter;
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
  const rules = onnxParserRules(options.tensorrtVersion ?? network.tensorrtVersion);
  const graph: OnnxGraphProto = model.graph;
  const { initializers: mainTensors, constants: mainConstants } = model.graphTensors(graph);
  // Weights until a layer needs them as a tensor: initializers, and Constant values once their node is imported.
  const weightTensors = new Map<string, OnnxTensorInfo>(mainTensors);
  const converted = new Map<string, Weights>();
  const constantOutputs = new Set<string>();
  // TensorRT's generated names: refittable temporaries (importer's own set and counter), and layer names.
  const tempNames = new UniqueNames();
  const layerNames = new UniqueNames();
  const modelNames = new Set(model.tensors().map((t) => t.name));
  const types = new Map<string, DataType>();
  const layerName = (base: string) => (base ? layerNames.next(base) : undefined);

  const tempName = (node: number, n: OnnxNodeProto): string => {
    const name = tempNames.next(rules.refittableTempBase);
    if (modelNames.has(name)) {
      // generateUniqueName only avoids its own names: the engine would hold two weights of this name.
      errors.push(error('INVALID_GRAPH', `the parser's generated weight name ${name} is also a tensor of the model; TensorRT (${rules.tensorrtVersion}) would give two weights that name (undefined refit behaviour), so the mock refuses the model: rename the tensor`, node, n));
    }
    return name;
  };
  const weightsOf = async (name: string, nodeIndex: number, node: OnnxNodeProto): Promise<Weights | undefined> => {
    const cached = converted.get(name);
    if (cached) return cached;
    const info = weightTensors.get(name)!;
    try {
      const problem = conversionProblem(info, { rules });
      const w = problem ?? toTrtWeights(info, await model.readTensor(info), options.onWarning, { rules });
      if (typeof w === 'string') {
        errors.push(error('UNSUPPORTED_NODE_DATATYPE', w, nodeIndex, node));
        return undefined;
      }
      converted.set(name, w);
      return w;
    } catch (e) {
      errors.push(error('INVALID_VALUE', (e as Error).message, nodeIndex, node));
      return undefined;
    }
  };
  const constantLayer = async (name: string, i: number, node: OnnxNodeProto) => {
    if (constantOutputs.has(name)) return;
    const w = await weightsOf(name, i, node);
    if (!w) return;
    constantOutputs.add(name);
    network.addConstant(name, w, weightTensors.get(name)!.dims, layerName(name));
    network.setWeightsName(w, name);
  };
  const weightInputs = async (inputs: readonly string[], i: number, node: OnnxNodeProto) => {
    for (const inp of inputs) if (weightTensors.has(inp)) await constantLayer(inp, i, node);
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
  const typeOf = (name: string): DataType | undefined => {
    const w = weightTensors.get(name);
    return w ? convertedType(w, { rules }) : types.get(name);
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
    if (trt) types.set(input.name ?? '', trt);
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
    noteTypes(node);
  }
  for (const output of graph.output ?? []) {
    if (weightTensors.has(output.name ?? '')) await constantLayer(output.name ?? '', -1, {});
    const trt = tensorType(output, 'output');
    const dims = safeDims(output);
    if (trt && dims) guarded(() => network.markOutput(output.name ?? '', trt, dims), 'INVALID_GRAPH', -1);
  }
  return { errors };

  function noteTypes(node: OnnxNodeProto): void {
    const op = node.opType ?? '';
    const outs = node.output ?? [];
    if (op === 'Constant' || outs.every((o) => types.has(o))) return;
    let t: DataType | undefined;
    if (op === 'Cast') {
      const to = (node.attribute ?? []).find((a) => a.name === 'to')?.i;
      t = to != null ? tensorDataType(int64ToSafeNumber(to as Int64Like, 'Cast.to')) : undefined;
    } else if (BOOL_OPS.has(op)) t = DataType.BOOL;
    else if (INT64_OPS.has(op)) t = DataType.INT64;
    else t = (node.input ?? []).map((n) => (n ? typeOf(n) : undefined)).find((x) => x !== undefined);
    for (const o of outs) if (o && !types.has(o)) types.set(o, t ?? DataType.FLOAT);
  }

  async function importNode(i: number, node: OnnxNodeProto): Promise<void> {
    const op = node.opType ?? '';
    const inputs = [...(node.input ?? [])];
    const outputs = [...(node.output ?? [])];
    const base = nodeLayerName(node);
    if (!isOnnxDomain(node.domain)) {
      errors.push(error('UNSUPPORTED_NODE', `node ${node.name || `#${i}`} (${node.domain}::${op}) is not supported: custom domain`, i, node));
      await weightInputs(inputs, i, node);
      return;
    }
    if (!SUPPORTED_OPS.has(op)) {
      errors.push(error('UNSUPPORTED_NODE', `node ${node.name || `#${i}`} (${op}) is not supported by the importer`, i, node));
      // its weights stay named and refittable
      await weightInputs(inputs, i, node);
      // TensorRT imports If/Loop/Scan subgraphs here, generating names for their folds: take the same names so
      // that the weights after this node are named as TensorRT names them.
      try {
        for (const g of controlFlowSubgraphs(node)) graphWeightSources(model, g, tempNames, rules);
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
    if (op === 'Constant') {
      const info = mainConstants.get(node);
      if (!info) {
        errors.push(error('UNSUPPORTED_NODE_ATTR', `Constant ${node.name || `#${i}`} has no supported value attribute`, i, node));
        return;
      }
      // A Constant is a weight; it becomes a layer only where a node needs it as a tensor.
      if (outputs[0]) weightTensors.set(outputs[0], info);
      return;
    }
    if ((op === 'Conv' || op === 'ConvTranspose') && inputs[1] && weightTensors.has(inputs[1])) {
      const biasIsWeights = !!inputs[2] && weightTensors.has(inputs[2]);
      const kernel = await weightsOf(inputs[1], i, node);
      const bias = biasIsWeights ? await weightsOf(inputs[2]!, i, node) : undefined;
      if (!kernel || (biasIsWeights && !bias)) return;
      const layerWeights: LayerWeights[] = [{ role: WeightsRole.KERNEL, weights: kernel, dims: weightTensors.get(inputs[1])!.dims }];
      if (bias) layerWeights.push({ role: WeightsRole.BIAS, weights: bias, dims: weightTensors.get(inputs[2]!)!.dims });
      // A bias computed by other layers stays an input, after an empty slot for the (attached) kernel.
      const computedBias = inputs[2] && !biasIsWeights ? ['', inputs[2]] : [];
      network.addLayer({ name: layerName(base), type: op, inputs: [inputs[0]!, ...computedBias], outputs, attributes: attrs, weights: layerWeights });
      network.setWeightsName(kernel, inputs[1]);
      if (bias) network.setWeightsName(bias, inputs[2]!);
      return;
    }
    if (op === 'BatchNormalization' && inputs.length >= 5 && inputs.slice(1, 5).every((n) => weightTensors.has(n))) {
      if (await importBatchNorm(i, node, inputs, outputs, attrs, base)) return;
    }
    await weightInputs(inputs, i, node);
    if (op === 'ConstantOfShape') {
      const v = (node.attribute ?? []).find((a) => a.name === 'value')?.t;
      let info: OnnxTensorInfo | undefined;
      try {
        if (v) info = describe(v, `${node.name || `#${i}`}.value`, 'constant', 'graph');
      } catch (e) {
        errors.push(error('INVALID_VALUE', (e as Error).message, i, node));
        return;
      }
      if (rules.constantOfShapeWeights) {
        // 10.14+: the value is a refittable weight, named before the attribute is read (rule P-CONSTANT-OF-SHAPE).
        const name = tempName(i, node);
        let w: Weights | string = { type: DataType.FLOAT, values: new Float32Array(1), count: 1 };
        if (info) {
          const problem = conversionProblem(info, { rules });
          w = problem ?? toTrtWeights(info, await model.readTensor(info), options.onWarning, { rules });
        }
        if (typeof w === 'string') {
          errors.push(error('UNSUPPORTED_NODE_DATATYPE', w, i, node));
          return;
        }
        network.addConstant(name, w, info?.dims ?? [1], layerName(name));
        network.setWeightsName(w, name);
        types.set(outputs[0] ?? '', w.type);
        delete attrs.value;
        network.addLayer({ name: layerName(base), type: op, inputs: [inputs[0] ?? '', name], outputs, attributes: attrs });
        return;
      }
      if (info) {
        try {
          attrs.value = tensorAttributeValues(info, await model.readTensor(info));
        } catch (e) {
          errors.push(error('INVALID_VALUE', (e as Error).message, i, node));
          return;
        }
      }
    }
    network.addLayer({ name: layerName(base), type: op, inputs, outputs, attributes: attrs });
  }

  /**
   * BatchNormalization with weights for its four parameters (onnxOpImporters.cpp, rule P-BN-STRONG-TYPING): folded
   * into a Scale layer when the input and the parameters have one type (FLOAT, HALF or BF16), in FLOAT when they
   * differ in a weakly typed network; false (the element-wise fallback, no generated names) when they differ in a
   * strongly typed one.
   */
  async function importBatchNorm(i: number, node: OnnxNodeProto, inputs: string[], outputs: string[], attrs: Record<string, AttributeValue>, base: string): Promise<boolean> {
    const params = inputs.slice(1, 5).map((n) => weightTensors.get(n)!);
    const notVector = params.find((p) => p.dims.length !== 1);
    if (notVector) {
      errors.push(error('INVALID_NODE', `BatchNormalization ${node.name || `#${i}`}: parameter ${notVector.name} must be 1-D, it has shape [${notVector.dims.join(', ')}]`, i, node));
      return true;
    }
    const inputType = typeOf(inputs[0]!) ?? DataType.FLOAT;
    const paramTypes = params.map((p) => batchNormParamType(p.dataType));
    let foldType: DataType;
    if (paramTypes.every((t) => t === inputType)) {
      if (!FOLD_TYPES.has(inputType)) {
        errors.push(error('UNSUPPORTED_NODE_DATATYPE', `BatchNormalization ${node.name || `#${i}`}: Invalid data type provided for BatchNormalization (${inputType})`, i, node));
        return true;
      }
      foldType = inputType;
    } else if (rules.stronglyTyped) {
      return false;
    } else {
      foldType = DataType.FLOAT;
    }
    let folded;
    try {
      const read = [];
      for (const p of params) {
        const problem = conversionProblem(p, { rules });
        if (problem) throw new Error(problem);
        read.push({ name: p.name, dataType: p.dataType, count: p.count, bytes: await model.readTensor(p) });
      }
      folded = foldBatchNorm(read, typeof attrs.epsilon === 'number' ? attrs.epsilon : 1e-5, foldType);
    } catch (e) {
      folded = (e as Error).message;
    }
    // Both names are taken before the fold checks its parameters (batchnormWeightHelper), scale first.
    const scaleName = tempName(i, node);
    const shiftName = tempName(i, node);
    if (typeof folded === 'string') {
      errors.push(error('UNSUPPORTED_NODE_DATATYPE', `BatchNormalization ${node.name || `#${i}`}: ${folded}`, i, node));
      return true;
    }
    const c = folded.scale.count;
    network.addLayer({
      name: layerName(base),
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
    types.set(outputs[0] ?? '', foldType);
    return true;
  }
}
