import { describe, type OnnxGraphProto, type OnnxModel, type OnnxNodeProto, type OnnxTensorInfo } from './onnx-model.js';
import { UniqueNames, isOnnxDomain } from './parser-names.js';
import { onnxParserRules, type OnnxParserRules } from '@trt-refit/core';
import { topologicalOrder } from './topological-order.js';

/** Where one engine weight comes from in an ONNX model, under the name TensorRT's parser gives it. */
export type WeightSource =
  /** An initializer (by its name) or a Constant node's value (by its output name). */
  | { readonly name: string; readonly kind: 'tensor'; readonly tensor: OnnxTensorInfo }
  /** The folded scale or shift of a BatchNormalization whose four parameters are initializers of its graph. */
  | { readonly name: string; readonly kind: 'bn-scale' | 'bn-shift'; readonly params: readonly OnnxTensorInfo[]; readonly epsilon: number; readonly node: string }
  /** A ConstantOfShape value (10.14+): its `value` attribute, or FLOAT [1] 0 without one. */
  | { readonly name: string; readonly kind: 'constant-of-shape'; readonly value: OnnxTensorInfo | undefined; readonly node: string; readonly output: string }
  /** A node the parser refitter fails on when it reaches it (it stops there). */
  | { readonly name: ''; readonly kind: 'error'; readonly code: string; readonly message: string; readonly node: string };

/** The subgraphs TensorRT's parser refitter walks into: If branches, Loop and Scan bodies, in attribute order. */
export function controlFlowSubgraphs(node: OnnxNodeProto): OnnxGraphProto[] {
  if (!isOnnxDomain(node.domain)) return [];
  const names = node.opType === 'If' ? ['then_branch', 'else_branch'] : node.opType === 'Loop' || node.opType === 'Scan' ? ['body'] : [];
  return (node.attribute ?? []).filter((a) => a.g && names.includes(a.name ?? '')).map((a) => a.g!);
}

/** The FLOAT [1] zero a ConstantOfShape without `value` fills with. */
export const CONSTANT_OF_SHAPE_DEFAULT = Object.freeze({ dataType: 1, dims: [1] as const, bytes: new Uint8Array(4) });

/**
 * The weights one graph provides, in the order of TensorRT's parser refitter (onnx-tensorrt `ModelRefitter`,
 * `refitOnnxGraph`): first every initializer of the graph, then the nodes in the parser's topological order:
 * Constant values, ConstantOfShape values (from 10.14: a generated name for every such node), BatchNormalization
 * folds when all four parameters are initializers of this graph (two generated names), and the subgraphs of If,
 * Loop and Scan, recursively. `names` is the refitter's generated-name set, shared by every graph of one refit
 * (and, as in TensorRT, by later refits on the same parser refitter).
 * @throws OnnxModelError for a graph with a cycle.
 */
export function graphWeightSources(model: OnnxModel, graph: OnnxGraphProto, names: UniqueNames, rules: OnnxParserRules = onnxParserRules(), out: WeightSource[] = []): WeightSource[] {
  const { initializers, constants, scope } = model.graphTensors(graph);
  for (const t of initializers.values()) out.push({ name: t.name, kind: 'tensor', tensor: t });
  const nodes = graph.node ?? [];
  for (const i of topologicalOrder(nodes)) {
    const node = nodes[i]!;
    if (!isOnnxDomain(node.domain)) continue;
    const inputs = node.input ?? [];
    const nodeName = node.name || `#${i}`;
    switch (node.opType) {
      case 'Constant': {
        const c = constants.get(node);
        if (c) out.push({ name: c.name, kind: 'tensor', tensor: c });
        break;
      }
      case 'ConstantOfShape': {
        if (!rules.constantOfShapeWeights) break;
        const name = names.next(rules.refittableTempBase); // taken for every node, before `value` is read
        const attrs = node.attribute ?? [];
        // ModelRefitter reads `value` only when it is the node's one attribute; FLOAT [1] 0 otherwise.
        const v = attrs.length === 1 && attrs[0]!.name === 'value' ? attrs[0]!.t : undefined;
        let value: OnnxTensorInfo | undefined;
        if (v) {
          try {
            value = describe(v, `${nodeName}.value`, 'constant', scope);
          } catch (e) {
            out.push({ name: '', kind: 'error', code: 'UNSUPPORTED_NODE', message: `Failed to import ConstantOfShape node ${nodeName}: ${(e as Error).message}`, node: nodeName });
            break;
          }
        }
        out.push({ name, kind: 'constant-of-shape', value, node: nodeName, output: node.output?.[0] ?? '' });
        break;
      }
      case 'BatchNormalization': {
        if (inputs.length !== 5) {
          out.push({ name: '', kind: 'error', code: 'INVALID_NODE', message: `BatchNormalization ${nodeName}: BatchNorm node does not have five required inputs.`, node: nodeName });
          break;
        }
        const params = inputs.slice(1, 5).flatMap((n) => (initializers.has(n) ? [initializers.get(n)!] : []));
        // Parameters that are not initializers of this graph: no fold here, the weights were set by name.
        if (params.length < 4) break;
        const eps = (node.attribute ?? []).find((a) => a.name === 'epsilon')?.f ?? 1e-5;
        // Both names are taken before the fold checks its parameters (batchnormWeightRefitter).
        const scale = names.next(rules.refittableTempBase);
        const shift = names.next(rules.refittableTempBase);
        out.push({ name: scale, kind: 'bn-scale', params, epsilon: eps, node: nodeName });
        out.push({ name: shift, kind: 'bn-shift', params, epsilon: eps, node: nodeName });
        break;
      }
      default:
        for (const g of controlFlowSubgraphs(node)) graphWeightSources(model, g, names, rules, out);
    }
  }
  return out;
}

/**
 * Every weight an ONNX model provides under the names TensorRT's parser refitter gives them, without reading any
 * data: initializers (by name) and Constant-node values (by output name) of the main graph and of every If/Loop/Scan
 * subgraph at any depth, BatchNormalization folds and (10.14+) ConstantOfShape values under generated names. A name
 * may appear more than once (the same initializer name in two subgraphs); TensorRT's refitter uses the first. The
 * parser refitter walks this list one weight at a time, so a refit can stream external data tensor by tensor.
 * @throws OnnxModelError for a graph with a cycle.
 */
export function weightSources(model: OnnxModel, rules: OnnxParserRules = onnxParserRules(), names: UniqueNames = new UniqueNames()): WeightSource[] {
  return graphWeightSources(model, model.graph, names, rules);
}
