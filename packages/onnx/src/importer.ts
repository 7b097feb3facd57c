import { DataType, NetworkDefinition, WeightsRole, type AttributeValue, type Dim, type LayerWeights, type ParserError, type Weights, hostBytes } from '@trt-refit/core';
import { batchNormParamType, foldBatchNorm } from './batch-norm.js';
import { conversionProblem, convertedType, toTrtWeights } from './convert-weights.js';
import { describe, type OnnxGraphProto, type OnnxModel, type OnnxNodeProto, type OnnxTensorInfo } from './onnx-model.js';
import { int64ToSafeNumber, type Int64Like } from './int64.js';
import { ONNX_DTYPES } from './onnx-dtype.js';
import { UniqueNames, isOnnxDomain, nodeLayerName } from './parser-names.js';
import { onnxParserRules } from '@trt-refit/core';
import { topologicalOrder } from './topological-order.js';
import { tensorrtOpSupport, TENSORRT_ONNX_OPS } from './operator-matrix.js';

/**
 * The ops the importer turns into layers: TensorRT's ONNX operator matrix (`TENSORRT_ONNX_OPS`, onnx-tensorrt
 * `docs/operators.md`). Ops marked unsupported there, custom-domain ops and unknown ops are refused node by node with
 * TensorRT's reason, while the weights they use stay named and refittable.
 */
export const SUPPORTED_OPS: ReadonlySet<string> = TENSORRT_ONNX_OPS;

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

  const mainOpset = model.opsets.find((o) => isOnnxDomain(o.domain))?.version ?? 1;
  for (const t of model.tensors()) {
    if (t.kind === 'sparse_initializer') errors.push(error('UNSUPPORTED_GRAPH', `sparse initializer ${t.name}: sparse tensors are not supported (TensorRT's parser imports dense initializers only)`, -1));
  }
  if (!(await importGraph(graph, mainConstants, undefined))) return { errors };
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

  /**
   * Imports the nodes of one graph in topological order: the main graph, a taken If branch (inline), or an If branch,
   * Loop or Scan body whose layers carry `trt_refit.scope` (run by their control-flow layer, not in the main flow).
   * The graph's initializers become weights (an outer weight of the same name is kept: the first wins).
   */
  async function importGraph(g: OnnxGraphProto, graphConstants: ReadonlyMap<OnnxNodeProto, OnnxTensorInfo>, scope: string | undefined): Promise<boolean> {
    if (g !== graph) {
      for (const [n, t] of model.graphTensors(g).initializers) {
        if (!weightTensors.has(n)) weightTensors.set(n, t);
        else if (weightTensors.get(n) !== t) options.onWarning?.(`initializer ${n} of a subgraph has the name of another weight; the first is used (TensorRT's refitter sets it once)`);
      }
    }
    const nodes = g.node ?? [];
    let order: number[];
    try {
      order = topologicalOrder(nodes);
    } catch (e) {
      errors.push(error('INVALID_GRAPH', (e as Error).message, -1));
      return false;
    }
    for (const i of order) {
      const node = nodes[i]!;
      try {
        await importNode(i, node, graphConstants, scope);
      } catch (e) {
        errors.push(error('INVALID_NODE', (e as Error).message, i, node));
      }
      noteTypes(node);
    }
    // A subgraph output that is a weight (a Constant, an initializer) needs its layer for the branch to produce it.
    if (g !== graph) for (const o of g.output ?? []) if (weightTensors.has(o.name ?? '')) await constantLayer(o.name ?? '', -1, {});
    return true;
  }

  async function importNode(i: number, node: OnnxNodeProto, graphConstants: ReadonlyMap<OnnxNodeProto, OnnxTensorInfo>, scope: string | undefined): Promise<void> {
    const op = node.opType ?? '';
    const inputs = [...(node.input ?? [])];
    const outputs = [...(node.output ?? [])];
    const base = nodeLayerName(node);
    const scoped: Record<string, AttributeValue> = scope ? { 'trt_refit.scope': scope } : {};
    const support = isOnnxDomain(node.domain) ? tensorrtOpSupport(op, rules.tensorrtVersion) : 'plugin';
    if (support !== 'supported') {
      // TensorRT's reasons: ops its matrix marks unsupported fail their static check (kUNSUPPORTED_NODE); other ops,
      // custom domains included, are looked up as plugins, and no plugin exists here (kINVALID_NODE).
      const what = `node ${node.name || `#${i}`} (${node.domain ? `${node.domain}::` : ''}${op})`;
      errors.push(
        support === 'unsupported'
          ? error('UNSUPPORTED_NODE', `${what}: TensorRT ${rules.tensorrtVersion}'s ONNX parser does not support ${op} (onnx-tensorrt docs/operators.md)`, i, node)
          : error('INVALID_NODE', `${what}: Plugin not found, are the plugin name, version, and namespace correct? (TensorRT's parser has no importer for ${op}; trt-refit has no plugins)`, i, node),
      );
      // its weights stay named and refittable
      await weightInputs(inputs, i, node);
      return;
    }
    let attrs: Record<string, AttributeValue>;
    try {
      attrs = attributes(node);
    } catch (e) {
      errors.push(error('UNSUPPORTED_NODE_ATTR', (e as Error).message, i, node));
      return;
    }
    Object.assign(attrs, scoped);
    if (op === 'If' || op === 'Loop' || op === 'Scan') {
      await importControlFlow(i, node, op, inputs, outputs, attrs, base, scope);
      return;
    }
    // inference only (onnx-tensorrt docs/operators.md: Dropout, BatchNormalization)
    if (op === 'Dropout' && inputs[2]) {
      const t = weightTensors.get(inputs[2]);
      if (!t || (await model.readTensor(t)).some((b) => b !== 0)) {
        errors.push(error('UNSUPPORTED_NODE', `Dropout ${node.name || `#${i}`}: training_mode ("is_training") must be an initializer and evaluate to False`, i, node));
        return;
      }
    }
    if (op === 'BatchNormalization' && attrs.training_mode === 1) {
      errors.push(error('UNSUPPORTED_NODE', `BatchNormalization ${node.name || `#${i}`}: training_mode must be 0`, i, node));
      return;
    }
    if (op === 'Constant') {
      const info = graphConstants.get(node);
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
    // What the executor needs of the opset form (ONNX changed these ops' semantics or outputs).
    if ((op === 'Softmax' || op === 'LogSoftmax' || op === 'Hardmax') && mainOpset < 13) attrs['trt_refit.opset'] = mainOpset;
    if (op === 'Split') attrs['trt_refit.outputs'] = outputs.length;
    if (op === 'QuantizeLinear' || op === 'DequantizeLinear') {
      const problem = await quantizationProblem(inputs, attrs);
      if (problem) {
        errors.push(error('INVALID_NODE', `${op} ${node.name || `#${i}`}: ${problem}`, i, node));
        return;
      }
    }
    network.addLayer({ name: layerName(base), type: op, inputs, outputs, attributes: attrs });
  }

  /**
   * Q/DQ as TensorRT's `QuantDequantLinearHelper` checks them: constant scales all positive; a constant non-FP8 zero
   * point all zeros ("Non-zero zero point is not supported"); the quantized type from the zero point (INT8, FP8,
   * INT4, FP4; UINT8 only with the DLA flag, which trt-refit does not set).
   */
  async function quantizationProblem(inputs: readonly string[], attrs: Record<string, AttributeValue>): Promise<string | undefined> {
    const scale = weightTensors.get(inputs[1] ?? '');
    if (scale) {
      const w = toTrtWeights(scale, await model.readTensor(scale), undefined, { rules });
      if (typeof w !== 'string' && w.type === DataType.FLOAT) {
        const v = new Float32Array(hostBytes(w).slice().buffer);
        if (v.length === 0 || v.some((x) => !(x > 0))) return 'Scale coefficients must all be positive';
      }
    }
    const zp = weightTensors.get(inputs[2] ?? '');
    if (zp) {
      attrs['trt_refit.zero_point_type'] = zp.dataType;
      if (zp.dataType === 2) return 'UINT8 quantization needs the parser flag kENABLE_UINT8_AND_ASYMMETRIC_QUANTIZATION_DLA, which trt-refit does not set';
      if (zp.dataType !== 17 && (await model.readTensor(zp)).some((b) => b !== 0)) return 'Non-zero zero point is not supported';
    }
    return undefined;
  }

  /**
   * If, Loop and Scan as TensorRT's parser imports them: an If whose condition is a one-element weight imports only
   * the taken branch, inline; otherwise the branches (or the body) are imported as scoped layers that the
   * control-flow layer runs, so their weights are named and refittable as TensorRT names them.
   */
  async function importControlFlow(i: number, node: OnnxNodeProto, op: string, inputs: string[], outputs: string[], attrs: Record<string, AttributeValue>, base: string, scope: string | undefined): Promise<void> {
    const sub = (name: string) => (node.attribute ?? []).find((a) => a.name === name)?.g ?? undefined;
    const constantsOf = (g: OnnxGraphProto) => model.graphTensors(g).constants;
    const outNames = (g: OnnxGraphProto) => (g.output ?? []).map((o) => o.name ?? '');
    const inNames = (g: OnnxGraphProto) => (g.input ?? []).map((o) => o.name ?? '');
    const scoped: Record<string, AttributeValue> = scope ? { 'trt_refit.scope': scope } : {};
    if (op === 'If') {
      const [thenG, elseG] = [sub('then_branch'), sub('else_branch')];
      if (!thenG || !elseG) {
        errors.push(error('INVALID_NODE', `If ${node.name || `#${i}`} needs then_branch and else_branch`, i, node));
        return;
      }
      const cond = weightTensors.get(inputs[0] ?? '');
      if (cond && cond.count === 1) {
        // a build-time constant condition: only the taken branch, inline (onnxOpImporters.cpp If)
        const taken = (await model.readTensor(cond))[0] === 1 ? thenG : elseG;
        if (!(await importGraph(taken, constantsOf(taken), scope))) return;
        outNames(taken).forEach((o, k) => {
          if (outputs[k]) network.addLayer({ name: layerName(base), type: 'Identity', inputs: [o], outputs: [outputs[k]!], attributes: { ...scoped } });
        });
        return;
      }
      const name = layerName(base)!;
      await importGraph(thenG, constantsOf(thenG), `${name}/then`);
      await importGraph(elseG, constantsOf(elseG), `${name}/else`);
      await weightInputs(inputs, i, node);
      network.addLayer({ name, type: 'If', inputs, outputs, attributes: { ...attrs, 'trt_refit.then': `${name}/then`, 'trt_refit.then_outputs': outNames(thenG), 'trt_refit.else': `${name}/else`, 'trt_refit.else_outputs': outNames(elseG) } });
      return;
    }
    const body = sub('body');
    if (!body) {
      errors.push(error('INVALID_NODE', `${op} ${node.name || `#${i}`} needs a body`, i, node));
      return;
    }
    const name = layerName(base)!;
    if (op === 'Scan' && mainOpset < 9) {
      // Scan-8: sequence_lens first (TensorRT refuses a non-empty one) and a batch axis on every input
      if (inputs[0]) {
        errors.push(error('UNSUPPORTED_NODE', `Scan ${node.name || `#${i}`}: the opset-8 sequence_lens input is not supported`, i, node));
        return;
      }
      attrs['trt_refit.opset'] = mainOpset;
    }
    await importGraph(body, constantsOf(body), `${name}/body`);
    await weightInputs(inputs, i, node);
    network.addLayer({ name, type: op, inputs, outputs, attributes: { ...attrs, 'trt_refit.body': `${name}/body`, 'trt_refit.body_inputs': inNames(body), 'trt_refit.body_outputs': outNames(body) } });
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
      attributes: { mode: 'channel', ...(attrs['trt_refit.scope'] !== undefined ? { 'trt_refit.scope': attrs['trt_refit.scope'] } : {}) },
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
