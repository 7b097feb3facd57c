import type { OnnxModel } from './onnx-model.js';

/** Base of the names the parser generates for folded BatchNormalization weights. */
export const BATCH_NORM_WEIGHT_BASE = 'tmp_batch_norm_weight';

/**
 * Name of the next parser-generated weight (`generateUniqueName` of onnx-tensorrt: the base name, then
 * `<base>_<n>` for the first free n). Only a replay of the same traversal of the same model gives the same names.
 */
export function generatedWeightName(base: string, taken: Set<string>): string {
  let name = base;
  for (let n = 1; taken.has(name); n++) name = `${base}_${n}`;
  taken.add(name);
  return name;
}

/**
 * The names a model already uses for weights (initializers and Constant outputs of every graph). Generated names
 * skip them, the same way in the importer and in the parser refitter, whatever order each visits tensors in.
 */
export function modelWeightNames(model: OnnxModel): Set<string> {
  return new Set(model.tensors().map((t) => t.name));
}

/** True for the default ONNX domain (the only one whose ops the importer and the refitter know). */
export function isOnnxDomain(domain: string | null | undefined): boolean {
  return (domain ?? '') === '' || domain === 'ai.onnx';
}
