import { DataType, UnsupportedFeatureError, WeightsRole, hostBytes, type AttributeValue, type NetworkDefinition, type Weights } from '@trt-refit/core';
import { onnxTypeOf } from './onnx-dtype.js';
import { writeOnnxModel, type AttributeSpec, type NodeSpec, type TensorSpec, type ValueSpec } from './onnx-writer.js';

/**
 * ONNX attributes whose type is FLOAT even when the value is integral (`alpha: 1` must stay a float): core's
 * layers keep plain numbers, as TensorRT's own layer API does.
 */
const FLOAT_ATTRIBUTES = new Set(['alpha', 'beta', 'gamma', 'epsilon', 'lambd', 'bias', 'momentum', 'ratio', 'scale', 'spatial_scale', 'extrapolation_value', 'cubic_coeff_a', 'seed', 'min', 'max', 'value_float', 'value_floats']);

/** Options of {@link networkToOnnx}. */
export interface NetworkToOnnxOptions {
  /** Version of the ONNX default domain to declare (default 17). */
  readonly opset?: number;
  /** TensorRT version reported in errors (default: the network's). */
  readonly tensorrtVersion?: string;
}

function unsupported(network: NetworkDefinition, options: NetworkToOnnxOptions, what: string): UnsupportedFeatureError {
  return new UnsupportedFeatureError(`networkToOnnx: ${what}`, 'networkToOnnx', options.tensorrtVersion ?? network.tensorrtVersion);
}

function onnxType(network: NetworkDefinition, options: NetworkToOnnxOptions, type: DataType, what: string): number {
  const t = onnxTypeOf(type);
  if (t === undefined) throw unsupported(network, options, `${what} has type ${type}, which ONNX initializers cannot hold`);
  return t;
}

function attribute(name: string, v: AttributeValue): AttributeSpec {
  if (FLOAT_ATTRIBUTES.has(name)) {
    if (typeof v === 'number') return { float: v };
    if (Array.isArray(v) && v.every((x) => typeof x === 'number')) return { floats: v as number[] };
  }
  return (Array.isArray(v) ? [...v] : v) as AttributeSpec;
}

/**
 * Writes a hand-built network (core's {@link NetworkDefinition}: `addInput`, `addLayer`, `addConstant`,
 * `markOutput`) as an ONNX model that TensorRT's ONNX parser turns back into the same network, with every weight
 * an initializer named exactly as the network names it (`setWeightsName`, or the default `<layer>_<role>`) — so
 * the parser gives TensorRT's weights the same names, and refits, marks and missing sets keep working by name.
 *
 * Layers are ONNX operators already; what is lowered: `Constant` layers become initializers (the tensor they
 * produce is renamed to the weight's name, or forwarded by an `Identity` when it is a network output), Conv and
 * ConvTranspose take their KERNEL and BIAS weights as inputs 1 and 2. Layers TensorRT's parser cannot rebuild
 * with the same weight names (`Scale` from a folded BatchNormalization, weights in other roles) and weight types
 * ONNX cannot hold are refused with UnsupportedFeatureError naming the layer.
 *
 * The model references the weights' bytes only while writing; the result is a new buffer.
 *
 * @example
 * ```ts
 * const net = new NetworkDefinition();
 * net.addInput('x', DataType.FLOAT, ['N', 3, 8, 8]);
 * net.addLayer({ name: 'conv', type: 'Conv', inputs: ['x'], outputs: ['y'], attributes: { kernel_shape: [3, 3] },
 *   weights: [{ role: WeightsRole.KERNEL, weights: kernel, dims: [4, 3, 3, 3] }] });
 * net.markOutput('y');
 * const onnxBytes = networkToOnnx(net); // initializer "conv_kernel"
 * ```
 */
export function networkToOnnx(network: NetworkDefinition, options: NetworkToOnnxOptions = {}): Uint8Array {
  const initializers: TensorSpec[] = [];
  const written = new Set<string>();
  const nameOf = (w: Weights, layer: string): string => {
    const name = network.getWeightsName(w);
    if (name === null) throw unsupported(network, options, `layer ${layer}: a weight has no name in the network`);
    return name;
  };
  const initializer = (w: Weights, dims: readonly number[], layer: string): string => {
    const name = nameOf(w, layer);
    if (!written.has(name)) {
      written.add(name);
      initializers.push({ name, dataType: onnxType(network, options, w.type, `weight ${name} of layer ${layer}`), dims: [...dims], raw: hostBytes(w) });
    }
    return name;
  };

  // Tensors produced by Constant layers are renamed to their weight's name (TensorRT's parser names a constant's
  // weights after the initializer), except network outputs, which keep their names through an Identity.
  const outputs = new Set(network.outputs.map((o) => o.name));
  const rename = new Map<string, string>();
  const nodes: NodeSpec[] = [];
  for (const layer of network.layers) {
    if (layer.type !== 'Constant') continue;
    const w = layer.weights.find((x) => x.role === WeightsRole.CONSTANT);
    if (!w || layer.weights.length !== 1 || layer.outputs.length !== 1) throw unsupported(network, options, `Constant layer ${layer.name} must hold exactly one CONSTANT weight and one output`);
    const name = initializer(w.weights, w.dims, layer.name);
    const out = layer.outputs[0]!;
    if (out === name) continue;
    if (outputs.has(out)) nodes.push({ opType: 'Identity', name: layer.name, inputs: [name], outputs: [out] });
    else rename.set(out, name);
  }
  const tensor = (t: string) => rename.get(t) ?? t;

  for (const layer of network.layers) {
    if (layer.type === 'Constant') continue;
    const attributes: Record<string, AttributeSpec> = {};
    for (const [k, v] of Object.entries(layer.attributes)) attributes[k] = attribute(k, v);
    let inputs = layer.inputs.map(tensor);
    if (layer.type === 'Conv' || layer.type === 'ConvTranspose') {
      const kernel = layer.weights.find((w) => w.role === WeightsRole.KERNEL);
      const bias = layer.weights.find((w) => w.role === WeightsRole.BIAS);
      if (layer.weights.some((w) => w.role !== WeightsRole.KERNEL && w.role !== WeightsRole.BIAS)) throw unsupported(network, options, `${layer.type} layer ${layer.name} has weights in a role other than KERNEL and BIAS`);
      if (kernel) {
        const computedBias = inputs[2];
        inputs = [inputs[0]!, initializer(kernel.weights, kernel.dims, layer.name)];
        if (bias) inputs.push(initializer(bias.weights, bias.dims, layer.name));
        else if (computedBias) inputs.push(computedBias);
      } else if (bias) {
        throw unsupported(network, options, `${layer.type} layer ${layer.name} has a BIAS weight but no KERNEL`);
      }
    } else if (layer.weights.length > 0) {
      throw unsupported(network, options, `layer ${layer.name} (${layer.type}) holds ${layer.weights.map((w) => w.role).join(', ')} weights, which TensorRT's ONNX parser would not rebuild under the same names (write the weights as Constant layers feeding it)`);
    }
    if (layer.type === 'ConstantOfShape' && 'value' in layer.attributes) {
      throw unsupported(network, options, `ConstantOfShape layer ${layer.name}: its value attribute's element type is not kept in the network`);
    }
    nodes.push({ opType: layer.type, name: layer.name, inputs, outputs: layer.outputs.map(tensor), attributes });
  }

  const value = (name: string, dtype: DataType, dims: readonly (number | string)[]): ValueSpec => ({
    name,
    elemType: onnxType(network, options, dtype, `tensor ${name}`),
    dims: dims.map((d, i) => (typeof d === 'number' && d < 0 ? `${name}_dim${i}` : d)),
  });
  const { model } = writeOnnxModel({
    name: 'trt_refit_network',
    opset: options.opset ?? 17,
    nodes,
    initializers,
    inputs: network.inputs.map((i) => value(i.name, i.dtype, i.dims)),
    outputs: network.outputs.map((o) => value(o.name, o.dtype, o.dims)),
  });
  return model;
}
