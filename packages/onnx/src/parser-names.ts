/**
 * onnx-tensorrt's `generateUniqueName` (weightUtils.cpp): the base name if it is free in this set, else
 * `<base>_<counter>`, where one counter per set starts at 0 and grows with every try, taken or not. The set holds
 * only the names this generator gave: the model's own tensor names are not in it (for refittable temporaries
 * TensorRT keeps such a set in the importer, and another, never reset, in each parser refitter).
 *
 * @example
 * ```ts
 * const names = new UniqueNames();
 * names.next('tmp_refittable_weight'); // 'tmp_refittable_weight'
 * names.next('tmp_refittable_weight'); // 'tmp_refittable_weight_0'
 * names.next('tmp_refittable_weight'); // 'tmp_refittable_weight_1'
 * ```
 */
export class UniqueNames {
  private readonly names = new Set<string>();
  private counter = 0;

  /** The next unique name for `base`, now taken. */
  next(base: string): string {
    let candidate = base;
    while (this.names.has(candidate)) candidate = `${base}_${this.counter++}`;
    this.names.add(candidate);
    return candidate;
  }

  /** True when this generator gave `name`. */
  has(name: string): boolean {
    return this.names.has(name);
  }
}

/** The layer name TensorRT's parser gives a node (importerUtils.cpp `getNodeName`): its name, or `node_of_<output 0>`. */
export function nodeLayerName(node: { readonly name?: string | null; readonly output?: readonly string[] | null }): string {
  const outputs = node.output ?? [];
  return !node.name && outputs.length ? `node_of_${outputs[0]}` : (node.name ?? '');
}

/** True for the default ONNX domain (the only one whose ops the importer and the refitter know). */
export function isOnnxDomain(domain: string | null | undefined): boolean {
  return (domain ?? '') === '' || domain === 'ai.onnx';
}
