import type { OnnxModel, OnnxTensorInfo } from './onnx-model.js';
import { generatedWeightName, SUPPORTED_OPS } from './importer.js';

/** Where one engine weight comes from in an ONNX model, under the name TensorRT's parser gives it. */
export type WeightSource =
  | { readonly name: string; readonly kind: 'tensor'; readonly tensor: OnnxTensorInfo }
  | { readonly name: string; readonly kind: 'bn-scale' | 'bn-shift'; readonly params: readonly OnnxTensorInfo[]; readonly epsilon: number; readonly node: string };

/**
 * Every weight the importer names, in the importer's traversal order, without reading any data: initializers
 * (by name), Constant-node values (by output name), BatchNormalization folds (by the generated names a replay of
 * the traversal gives), and initializers of subgraphs. The parser refitter walks this list one weight at a time,
 * so a refit can stream external data tensor by tensor.
 */
export function weightSources(model: OnnxModel): WeightSource[] {
  const out: WeightSource[] = [];
  const init = new Map<string, OnnxTensorInfo>();
  const constants = new Map<string, OnnxTensorInfo>();
  for (const t of model.tensors()) {
    if (t.kind === 'sparse_initializer') continue;
    if (t.scope === 'graph') (t.kind === 'initializer' ? init : constants).set(t.name, t);
  }
  const taken = new Set<string>();
  const seen = new Set<string>();
  const direct = (name: string) => {
    if (seen.has(name)) return;
    seen.add(name);
    taken.add(name);
    out.push({ name, kind: 'tensor', tensor: init.get(name)! });
  };
  (model.graph.node ?? []).forEach((node, i) => {
    const op = node.opType ?? '';
    const inputs = node.input ?? [];
    const custom = (node.domain ?? '') !== '' && node.domain !== 'ai.onnx';
    if (custom) return;
    if (op === 'Constant' && SUPPORTED_OPS.has(op)) {
      const c = constants.get(node.output?.[0] ?? '');
      if (c) {
        taken.add(c.name);
        out.push({ name: c.name, kind: 'tensor', tensor: c });
      }
      return;
    }
    if (op === 'BatchNormalization' && inputs.length >= 5 && inputs.slice(1, 5).every((n) => init.has(n))) {
      const eps = (node.attribute ?? []).find((a) => a.name === 'epsilon')?.f ?? 1e-5;
      const params = inputs.slice(1, 5).map((n) => init.get(n)!);
      const nodeName = node.name || `#${i}`;
      out.push({ name: generatedWeightName('tmp_batch_norm_weight', taken), kind: 'bn-scale', params, epsilon: eps, node: nodeName });
      out.push({ name: generatedWeightName('tmp_batch_norm_weight', taken), kind: 'bn-shift', params, epsilon: eps, node: nodeName });
      return;
    }
    for (const n of inputs) if (init.has(n)) direct(n);
  });
  // Initializers of subgraphs (If/Loop/Scan bodies), which TensorRT's refitter also sets by name.
  for (const t of model.tensors()) if (t.scope !== 'graph' && t.kind !== 'sparse_initializer' && !seen.has(t.name)) out.push({ name: t.name, kind: 'tensor', tensor: t });
  return out;
}
