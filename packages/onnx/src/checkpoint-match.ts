import { createHash } from 'node:crypto';
import type { OnnxModel, OnnxTensorInfo } from './onnx-model.js';
import type { Safetensors } from './safetensors.js';
import { ONNX_DTYPES } from './onnx-dtype.js';

/** How a checkpoint tensor was matched to a model initializer. */
export type MatchKind = 'name' | 'map' | 'content' | 'content-transposed' | 'shape' | 'shape-transposed';

/** One checkpoint tensor matched to one initializer; `transpose` when its 2-D data must be transposed first. */
export interface CheckpointMatch {
  readonly checkpoint: string;
  readonly initializer: string;
  readonly how: MatchKind;
  readonly transpose: boolean;
}

/** The derived name map, and what stayed unmatched on each side. */
export interface CheckpointMatching {
  readonly matches: CheckpointMatch[];
  readonly unmatchedCheckpoint: string[];
  readonly unmatchedModel: string[];
}

const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

/** A 2-D tensor's bytes transposed (element size `size`). */
export function transpose2d(bytes: Uint8Array, rows: number, cols: number, size: number): Uint8Array {
  const out = new Uint8Array(bytes.length);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out.set(bytes.subarray((r * cols + c) * size, (r * cols + c + 1) * size), (c * rows + r) * size);
  return out;
}

/**
 * Derives the map from checkpoint names to the model's initializer names when they differ: exact names, then an
 * explicit `map`, then identical content (also transposed, for 2-D weights stored the other way round), then a
 * shape that only one unmatched tensor on each side has (also transposed). Reports what stays unmatched both ways.
 */
export async function matchCheckpoint(model: OnnxModel, checkpoint: Safetensors, map: Readonly<Record<string, string>> = {}): Promise<CheckpointMatching> {
  const inits = model.tensors().filter((t) => t.kind === 'initializer' && !t.unsupported);
  const byName = new Map(inits.map((t) => [t.name, t]));
  const freeModel = new Map(inits.map((t) => [t.name, t]));
  const freeCkpt = new Map(checkpoint.tensors.map((t) => [t.name, t]));
  const matches: CheckpointMatch[] = [];
  const take = (ck: string, init: string, how: MatchKind, transpose = false) => {
    matches.push({ checkpoint: ck, initializer: init, how, transpose });
    freeCkpt.delete(ck);
    freeModel.delete(init);
  };
  const compatible = (t: OnnxTensorInfo, dtype: string) => ONNX_DTYPES[t.dataType]?.safetensors === dtype;
  for (const ck of [...freeCkpt.values()]) {
    const t = byName.get(ck.name);
    if (t && freeModel.has(t.name) && compatible(t, ck.dtype) && t.dims.join() === ck.shape.join()) take(ck.name, t.name, 'name');
  }
  for (const [ckName, initName] of Object.entries(map)) {
    const ck = freeCkpt.get(ckName);
    const t = freeModel.get(initName);
    if (ck && t && compatible(t, ck.dtype)) {
      const same = t.dims.join() === ck.shape.join();
      const tr = t.dims.length === 2 && ck.shape.length === 2 && t.dims[0] === ck.shape[1] && t.dims[1] === ck.shape[0];
      if (same || tr) take(ckName, initName, 'map', !same);
    }
  }
  // Content: hash every remaining model initializer (and its transpose when 2-D) once.
  const hashes = new Map<string, { init: string; transpose: boolean }>();
  for (const t of freeModel.values()) {
    const bytes = await model.readTensor(t);
    hashes.set(`${t.dims.join('x')}:${sha(bytes)}`, { init: t.name, transpose: false });
    if (t.dims.length === 2) {
      const size = bytes.length / (t.count || 1);
      hashes.set(`${t.dims[1]}x${t.dims[0]}:${sha(transpose2d(bytes, t.dims[0]!, t.dims[1]!, size))}`, { init: t.name, transpose: true });
    }
  }
  for (const ck of [...freeCkpt.values()]) {
    const hit = hashes.get(`${ck.shape.join('x')}:${sha(await checkpoint.read(ck.name))}`);
    if (hit && freeModel.has(hit.init)) take(ck.name, hit.init, hit.transpose ? 'content-transposed' : 'content', hit.transpose);
  }
  // Shape: only when exactly one tensor on each side has it, so the match cannot be ambiguous.
  const key = (dims: readonly number[]) => dims.join('x');
  for (const transposed of [false, true]) {
    const modelByShape = new Map<string, string[]>();
    for (const t of freeModel.values()) {
      if (transposed && t.dims.length !== 2) continue;
      const k = key(transposed ? [t.dims[1]!, t.dims[0]!] : t.dims);
      modelByShape.set(k, [...(modelByShape.get(k) ?? []), t.name]);
    }
    const ckByShape = new Map<string, string[]>();
    for (const c of freeCkpt.values()) ckByShape.set(key(c.shape), [...(ckByShape.get(key(c.shape)) ?? []), c.name]);
    for (const [k, names] of ckByShape) {
      const m = modelByShape.get(k);
      if (names.length === 1 && m?.length === 1 && compatible(freeModel.get(m[0]!)!, freeCkpt.get(names[0]!)!.dtype)) take(names[0]!, m[0]!, transposed ? 'shape-transposed' : 'shape', transposed);
    }
  }
  return { matches, unmatchedCheckpoint: [...freeCkpt.keys()], unmatchedModel: [...freeModel.keys()] };
}
