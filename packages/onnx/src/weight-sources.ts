import type { OnnxGraphProto, OnnxModel, OnnxNodeProto, OnnxTensorInfo } from './onnx-model.js';
import { BATCH_NORM_WEIGHT_BASE, generatedWeightName, isOnnxDomain, modelWeightNames } from './parser-names.js';
import { topologicalOrder } from './topological-order.js';

/** Where one engine weight comes from in an ONNX model, under the name TensorRT's parser gives it. */
export type WeightSource =
  | { readonly name: string; readonly kind: 'tensor'; readonly tensor: OnnxTensorInfo }
  | { readonly name: string; readonly kind: 'bn-scale' | 'bn-shift'; readonly params: readonly OnnxTensorInfo[]; readonly epsilon: number; readonly node: string };

/** The subgraphs TensorRT's parser refitter walks into: If branches, Loop and Scan bodies, in attribute order. */
export function controlFlowSubgraphs(node: OnnxNodeProto): OnnxGraphProto[] {
  if (!isOnnxDomain(node.domain)) return [];
  const names = node.opType === 'If' ? ['then_branch', 'else_branch'] : node.opType === 'Loop' || node.opType === 'Scan' ? ['body'] : [];
  return (node.attribute ?? []).filter((a) => a.g && names.includes(a.name ?? '')).map((a) => a.g!);
}

/**
 * The weights one graph provides, in the order of TensorRT's parser refitter (onnx-tensorrt `ModelRefitter`):
 * first every initializer of the graph, then the nodes in the parser's topological order: Constant values,
 * BatchNormalization folds (generating their names from `taken`), and the subgraphs of If, Loop and Scan,
 * recursively. `taken` is updated, so a caller walking several graphs keeps one name sequence.
 * @throws OnnxModelError for a graph with a cycle.
 */
export function graphWeightSources(model: OnnxModel, graph: OnnxGraphProto, taken: Set<string>, out: WeightSource[] = []): WeightSource[] {
  const { initializers, constants } = model.graphTensors(graph);
  for (const t of initializers.values()) out.push({ name: t.name, kind: 'tensor', tensor: t });
  const nodes = graph.node ?? [];
  for (const i of topologicalOrder(nodes)) {
    const node = nodes[i]!;
    if (!isOnnxDomain(node.domain)) continue;
    const inputs = node.input ?? [];
    switch (node.opType) {
      case 'Constant': {
        const c = constants.get(node);
        if (c) out.push({ name: c.name, kind: 'tensor', tensor: c });
        break;
      }
      case 'BatchNormalization':
        if (inputs.length >= 5 && inputs.slice(1, 5).every((n) => initializers.has(n))) {
          const eps = (node.attribute ?? []).find((a) => a.name === 'epsilon')?.f ?? 1e-5;
          const params = inputs.slice(1, 5).map((n) => initializers.get(n)!);
          const nodeName = node.name || `#${i}`;
          out.push({ name: generatedWeightName(BATCH_NORM_WEIGHT_BASE, taken), kind: 'bn-scale', params, epsilon: eps, node: nodeName });
          out.push({ name: generatedWeightName(BATCH_NORM_WEIGHT_BASE, taken), kind: 'bn-shift', params, epsilon: eps, node: nodeName });
        }
        break;
      default:
        for (const g of controlFlowSubgraphs(node)) graphWeightSources(model, g, taken, out);
    }
  }
  return out;
}

/**
 * Every weight an ONNX model provides under the names TensorRT's parser gives them, without reading any data:
 * initializers (by name) and Constant-node values (by output name) of the main graph and of every If/Loop/Scan
 * subgraph at any depth, and BatchNormalization folds under the generated names that a replay of the parser's
 * traversal gives (the same names {@link importOnnxModel} gives). A name may appear more than once (the same
 * initializer name in two subgraphs); TensorRT's refitter uses the first. The parser refitter walks this list one
 * weight at a time, so a refit can stream external data tensor by tensor.
 * @throws OnnxModelError for a graph with a cycle.
 */
export function weightSources(model: OnnxModel): WeightSource[] {
  return graphWeightSources(model, model.graph, modelWeightNames(model));
}
