// Writes fixtures/cosconvbn/: a model whose node list starts with a ConstantOfShape, then Conv -> BatchNormalization,
// a DOUBLE initializer (Cast) and a Constant node, all nodes unnamed: every transform a parser refit knows, and the
// names that depend on the TensorRT version (docs/fidelity.md). Reference outputs by onnxruntime.
// Regenerate: pnpm --filter @trt-refit/mock-backend run make-fixture
import { mkdirSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import * as ort from 'onnxruntime-node';
import { writeNpy } from '@trt-refit/core';
import { writeOnnxModel } from '@trt-refit/onnx';

const dir = fileURLToPath(new URL('../../../fixtures/cosconvbn/', import.meta.url));
const f32 = (...v: number[]) => new Uint8Array(new Float32Array(v).buffer);
const wave = (n: number, seed: number) => Array.from({ length: n }, (_, i) => Math.fround(Math.sin(seed * 7 + i * 0.37)));

function model(seed: number): Uint8Array {
  return writeOnnxModel({
    inputs: [{ name: 'x', elemType: 1, dims: [1, 2, 4, 4] }],
    outputs: [{ name: 'out', elemType: 1, dims: [1, 3, 4, 4] }],
    nodes: [
      { opType: 'ConstantOfShape', name: '', inputs: ['shape'], outputs: ['c0'], attributes: { value: { tensor: { name: 'v', dataType: 1, dims: [1], raw: f32(0.25) } } } },
      { opType: 'Add', name: '', inputs: ['x', 'c0'], outputs: ['x1'] },
      { opType: 'Conv', name: '', inputs: ['x1', 'W', 'B'], outputs: ['y'], attributes: { kernel_shape: { ints: [3, 3] }, pads: { ints: [1, 1, 1, 1] } } },
      { opType: 'BatchNormalization', name: '', inputs: ['y', 'g', 'b', 'm', 'v'], outputs: ['z'], attributes: { epsilon: { float: 1e-3 } } },
      { opType: 'Cast', name: '', inputs: ['dscale'], outputs: ['ds32'], attributes: { to: { int: 1 } } },
      { opType: 'Mul', name: '', inputs: ['z', 'ds32'], outputs: ['z2'] },
      { opType: 'Constant', name: '', inputs: [], outputs: ['k'], attributes: { value_float: { float: 0.5 } } },
      { opType: 'Add', name: '', inputs: ['z2', 'k'], outputs: ['out'] },
    ],
    initializers: [
      { name: 'shape', dataType: 7, dims: [4], raw: new Uint8Array(new BigInt64Array([1n, 2n, 4n, 4n]).buffer) },
      { name: 'W', dataType: 1, dims: [3, 2, 3, 3], raw: f32(...wave(54, seed)) },
      { name: 'B', dataType: 1, dims: [3], raw: f32(...wave(3, seed + 1)) },
      { name: 'g', dataType: 1, dims: [3], raw: f32(1, 1.5, 0.5) },
      { name: 'b', dataType: 1, dims: [3], raw: f32(0.1, -0.2, 0.3 * seed) },
      { name: 'm', dataType: 1, dims: [3], raw: f32(0.05, 0.1, -0.1) },
      { name: 'v', dataType: 1, dims: [3], raw: f32(1, 0.5, 2) },
      { name: 'dscale', dataType: 11, dims: [1], raw: new Uint8Array(new Float64Array([1.25]).buffer) },
    ],
  }).model;
}

mkdirSync(dir, { recursive: true });
const input = Float32Array.from(wave(32, 9));
writeFileSync(`${dir}input.npy`, writeNpy({ data: input, dims: [1, 2, 4, 4] }));
for (const [name, seed] of [['a', 1], ['b', 2]] as const) {
  const bytes = model(seed);
  writeFileSync(`${dir}cosconvbn_${name}.onnx`, bytes);
  const session = await ort.InferenceSession.create(bytes);
  const out = (await session.run({ x: new ort.Tensor('float32', input, [1, 2, 4, 4]) })).out!;
  writeFileSync(`${dir}out_${name}.npy`, writeNpy({ data: out.data as Float32Array, dims: [...out.dims] }));
}
console.log(`wrote ${dir}`);
