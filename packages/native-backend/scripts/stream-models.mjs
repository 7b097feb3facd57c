// The synthetic models of stream-check.mjs and stream-bench.mjs: n FLOAT tensors of 32 MiB in an Add chain, the
// weights embedded or as external data, each tensor a deterministic pattern the checks compare the device against.
import { saveOnnxModel } from '@trt-refit/onnx';

export const TENSOR = 32 << 20;

/** A deterministic FLOAT pattern for tensor i (every 1024th element set). */
export function tensorBytes(i) {
  const f = new Float32Array(TENSOR / 4);
  for (let k = 0; k < f.length; k += 1024) f[k] = i + k / f.length;
  return new Uint8Array(f.buffer);
}

/** Writes the model of `n` tensors to `path` (with external data when `external`). */
export async function writeStreamModel(path, n, external) {
  const initializers = [];
  const nodes = [];
  for (let i = 0; i < n; i++) {
    initializers.push({ name: `w${i}`, dataType: 1, dims: [TENSOR / 4], raw: tensorBytes(i), external: !!external });
    nodes.push({ opType: 'Add', inputs: [i === 0 ? 'x' : `y${i - 1}`, `w${i}`], outputs: [`y${i}`] });
  }
  await saveOnnxModel(path, { nodes, initializers, inputs: [{ name: 'x', elemType: 1, dims: [TENSOR / 4] }], outputs: [{ name: `y${n - 1}`, elemType: 1, dims: [TENSOR / 4] }] });
}
