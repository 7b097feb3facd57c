// Every op of the CPU executor against onnxruntime: a one-node model per case (each opset form where ONNX moved an
// attribute to an input), run by onnxruntime-node and by the mock (parse -> build -> execute); outputs must agree
// within |a - b| <= 1e-3 * max(1, |b|) (issue 14's bound), integer outputs exactly.
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import type { HostTensor } from '@trt-refit/core';
import { writeOnnxModel, type AttributeSpec, type TensorSpec } from '@trt-refit/onnx';
import { createMockBackend } from '@trt-refit/mock-backend';

type Kind = 'f' | 'i64' | 'b';
interface In {
  name: string;
  dims: number[];
  kind?: Kind;
  data?: number[];
  /** an initializer (a build-time constant) rather than a graph input */
  init?: boolean;
  /** ONNX element type of an initializer when not FLOAT/INT64/BOOL (e.g. 3 for INT8) */
  elem?: number;
  /** the initializer's bytes as stored (packed sub-byte types) */
  raw?: Uint8Array;
}
interface Case {
  op: string;
  opset?: number;
  inputs: In[];
  attrs?: Record<string, AttributeSpec>;
  /** output element types (default one FLOAT) */
  outs?: number[];
  label?: string;
}

const ELEM: Record<Kind, number> = { f: 1, i64: 7, b: 9 };
const wave = (n: number, seed = 1, scale = 2) => Array.from({ length: n }, (_, i) => Math.fround(scale * Math.sin(seed * 1.7 + i * 0.61)));
const count = (dims: number[]) => dims.reduce((a, b) => a * b, 1);
const f = (name: string, dims: number[], seed = 1, extra: Partial<In> = {}): In => ({ name, dims, kind: 'f', data: wave(count(dims), seed), ...extra });
const i64 = (name: string, data: number[], dims = [data.length]): In => ({ name, dims, kind: 'i64', data, init: true });
const pos = (name: string, dims: number[], seed = 1): In => f(name, dims, seed, { data: wave(count(dims), seed).map((v) => Math.abs(v) + 0.1) });

function bytesOf(x: In): Uint8Array {
  if (x.raw) return x.raw;
  const kind = x.kind ?? 'f';
  const d = x.data ?? wave(count(x.dims));
  if (x.elem === 3) return new Uint8Array(Int8Array.from(d).buffer);
  if (kind === 'f') return new Uint8Array(Float32Array.from(d).buffer);
  if (kind === 'i64') return new Uint8Array(BigInt64Array.from(d, (v) => BigInt(v)).buffer);
  return Uint8Array.from(d);
}

const cases: Case[] = [
  ...['Abs', 'Floor', 'Ceil', 'Round', 'Sign', 'Sin', 'Cos', 'Tan', 'Atan', 'Sinh', 'Cosh', 'Asinh', 'Softplus', 'Softsign', 'Neg', 'Exp', 'Sigmoid', 'Tanh', 'Erf', 'Relu'].map((op) => ({ op, inputs: [f('x', [2, 3, 4])] })),
  ...['Asin', 'Acos', 'Atanh'].map((op) => ({ op, inputs: [f('x', [2, 5], 3, { data: wave(10, 3, 0.9) })] })),
  ...['Sqrt', 'Log', 'Reciprocal', 'Acosh'].map((op) => ({ op, inputs: [f('x', [2, 5], 2, { data: wave(10, 2).map((v) => Math.abs(v) + 1.1) })] })),
  { op: 'Mish', opset: 18, inputs: [f('x', [2, 6])] },
  { op: 'Elu', inputs: [f('x', [3, 4])], attrs: { alpha: { float: 0.7 } } },
  { op: 'Celu', inputs: [f('x', [3, 4])], attrs: { alpha: { float: 1.3 } } },
  { op: 'Selu', inputs: [f('x', [3, 4])] },
  { op: 'LeakyRelu', inputs: [f('x', [3, 4])], attrs: { alpha: { float: 0.2 } } },
  { op: 'ThresholdedRelu', inputs: [f('x', [3, 4])], attrs: { alpha: { float: 0.5 } } },
  { op: 'Shrink', inputs: [f('x', [3, 4])], attrs: { lambd: { float: 0.6 }, bias: { float: 0.2 } } },
  { op: 'HardSigmoid', inputs: [f('x', [3, 4])], attrs: { alpha: { float: 0.3 }, beta: { float: 0.4 } } },
  { op: 'HardSwish', inputs: [f('x', [3, 4])] },
  { op: 'PRelu', inputs: [f('x', [2, 3, 4]), f('slope', [3, 1], 5, { init: true })] },
  { op: 'Max', inputs: [f('a', [2, 3]), f('b', [3], 2), f('c', [1, 3], 3)] },
  { op: 'Min', inputs: [f('a', [2, 3]), f('b', [3], 2)] },
  { op: 'Sum', inputs: [f('a', [2, 3]), f('b', [2, 3], 2), f('c', [3], 3)] },
  { op: 'Mean', inputs: [f('a', [2, 3]), f('b', [2, 3], 2)] },
  ...['Less', 'LessOrEqual', 'Greater', 'GreaterOrEqual', 'Equal'].map((op) => ({ op, inputs: [f('a', [2, 3]), f('b', [3], 2)], outs: [9] })),
  ...['And', 'Or', 'Xor'].map((op) => ({ op, inputs: [{ name: 'a', dims: [2, 3], kind: 'b' as Kind, data: [1, 0, 1, 1, 0, 0] }, { name: 'b', dims: [3], kind: 'b' as Kind, data: [1, 1, 0] }], outs: [9] })),
  { op: 'Not', inputs: [{ name: 'a', dims: [4], kind: 'b', data: [1, 0, 1, 0] }], outs: [9] },
  { op: 'Pow', inputs: [pos('a', [2, 3]), f('b', [3], 2)] },
  { op: 'Mod', inputs: [f('a', [2, 3]), pos('b', [3], 2)], attrs: { fmod: { int: 1 } } },
  ...['ReduceSum', 'ReduceMax', 'ReduceMin', 'ReduceProd', 'ReduceL1', 'ReduceL2', 'ReduceSumSquare', 'ReduceMean'].flatMap((op): Case[] => [
    { op, opset: 18, inputs: [f('x', [2, 3, 4]), i64('axes', [1])], label: 'axes input (opset 18)' },
    { op, opset: 17, inputs: [f('x', [2, 3, 4])], attrs: op === 'ReduceSum' ? { keepdims: { int: 0 } } : { axes: { ints: [0, 2] }, keepdims: { int: 0 } }, label: 'axes attribute (opset < 18)' },
  ]),
  { op: 'ReduceSum', opset: 13, inputs: [f('x', [2, 3, 4]), i64('axes', [-1])], label: 'axes input (opset 13)' },
  { op: 'ReduceLogSum', opset: 18, inputs: [pos('x', [2, 3, 4]), i64('axes', [2])] },
  { op: 'ReduceLogSumExp', opset: 18, inputs: [f('x', [2, 3, 4]), i64('axes', [0, 1])] },
  { op: 'ArgMax', inputs: [f('x', [3, 4])], attrs: { axis: { int: 1 } }, outs: [7] },
  { op: 'ArgMin', inputs: [f('x', [3, 4])], attrs: { axis: { int: 0 }, keepdims: { int: 0 } }, outs: [7] },
  { op: 'Softmax', opset: 13, inputs: [f('x', [2, 3, 4])], attrs: { axis: { int: 1 } } },
  { op: 'Softmax', opset: 11, inputs: [f('x', [2, 3, 4])], label: 'opset 11: 2-D coercion at axis 1' },
  { op: 'LogSoftmax', opset: 13, inputs: [f('x', [2, 3, 4])] },
  { op: 'LogSoftmax', opset: 11, inputs: [f('x', [2, 3, 4])], attrs: { axis: { int: 2 } }, label: 'opset 11' },
  { op: 'Hardmax', opset: 13, inputs: [f('x', [2, 3, 4])] },
  { op: 'Pad', opset: 13, inputs: [f('x', [2, 3]), i64('pads', [1, 0, 0, 2])], label: 'constant, pads input' },
  { op: 'Pad', opset: 13, inputs: [f('x', [2, 3]), i64('pads', [0, 2, 1, 1])], attrs: { mode: 'reflect' }, label: 'reflect' },
  { op: 'Pad', opset: 13, inputs: [f('x', [2, 3]), i64('pads', [1, 1, 1, 1])], attrs: { mode: 'edge' }, label: 'edge' },
  { op: 'Pad', opset: 2, inputs: [f('x', [2, 3])], attrs: { pads: { ints: [0, 1, 1, 0] }, value: { float: 1.5 } }, label: 'opset 2: attributes' },
  { op: 'Clip', opset: 13, inputs: [f('x', [2, 5]), f('lo', [], 1, { data: [-0.5], init: true }), f('hi', [], 1, { data: [0.7], init: true })], label: 'min/max inputs' },
  { op: 'Clip', opset: 6, inputs: [f('x', [2, 5])], attrs: { min: { float: -0.3 }, max: { float: 0.4 } }, label: 'opset 6: attributes' },
  { op: 'Slice', opset: 13, inputs: [f('x', [4, 5]), i64('starts', [1, 0]), i64('ends', [3, 5]), i64('axes', [0, 1]), i64('steps', [1, 2])] },
  { op: 'Slice', opset: 9, inputs: [f('x', [4, 5])], attrs: { starts: { ints: [0, 1] }, ends: { ints: [2, 4] } }, label: 'opset 9: attributes' },
  { op: 'Split', opset: 13, inputs: [f('x', [6, 2]), i64('split', [2, 4])], outs: [1, 1], label: 'split input' },
  { op: 'Split', opset: 11, inputs: [f('x', [6, 2])], attrs: { split: { ints: [1, 5] } }, outs: [1, 1], label: 'opset 11: attribute' },
  { op: 'Split', opset: 18, inputs: [f('x', [2, 6])], attrs: { axis: { int: 1 }, num_outputs: { int: 3 } }, outs: [1, 1, 1], label: 'opset 18: num_outputs' },
  { op: 'Squeeze', opset: 11, inputs: [f('x', [1, 3, 1])], attrs: { axes: { ints: [0] } }, label: 'opset 11: attribute' },
  { op: 'Squeeze', opset: 13, inputs: [f('x', [1, 3, 1]), i64('axes', [2])] },
  { op: 'Unsqueeze', opset: 11, inputs: [f('x', [3])], attrs: { axes: { ints: [0, 2] } }, label: 'opset 11: attribute' },
  { op: 'Unsqueeze', opset: 13, inputs: [f('x', [3]), i64('axes', [1])] },
  { op: 'Tile', inputs: [f('x', [2, 3]), i64('repeats', [2, 2])] },
  { op: 'GatherElements', inputs: [f('x', [3, 3]), i64('idx', [0, 2, 1, 1, 0, 2], [2, 3])], attrs: { axis: { int: 0 } } },
  { op: 'CumSum', inputs: [f('x', [2, 4]), i64('axis', [1], [])] },
  { op: 'CumSum', inputs: [f('x', [2, 4]), i64('axis', [1], [])], attrs: { exclusive: { int: 1 }, reverse: { int: 1 } }, label: 'exclusive reverse' },
  { op: 'Trilu', inputs: [f('x', [3, 4]), i64('k', [1], [])], attrs: { upper: { int: 0 } } },
  { op: 'DepthToSpace', inputs: [f('x', [1, 8, 2, 3])], attrs: { blocksize: { int: 2 } } },
  { op: 'DepthToSpace', inputs: [f('x', [1, 8, 2, 3])], attrs: { blocksize: { int: 2 }, mode: 'CRD' }, label: 'CRD' },
  { op: 'SpaceToDepth', inputs: [f('x', [1, 2, 4, 6])], attrs: { blocksize: { int: 2 } } },
  { op: 'TopK', inputs: [f('x', [3, 5]), i64('k', [2])], outs: [1, 7] },
  { op: 'Size', inputs: [f('x', [3, 5])], outs: [7] },
  { op: 'InstanceNormalization', inputs: [f('x', [2, 3, 4, 4]), f('s', [3], 2, { init: true }), f('b', [3], 3, { init: true })] },
  { op: 'GroupNormalization', opset: 21, inputs: [f('x', [2, 4, 3, 3]), f('s', [4], 2, { init: true }), f('b', [4], 3, { init: true })], attrs: { num_groups: { int: 2 } } },
  { op: 'LRN', inputs: [f('x', [1, 5, 3, 3])], attrs: { size: { int: 3 }, alpha: { float: 0.01 } } },
  { op: 'GlobalMaxPool', inputs: [f('x', [2, 3, 4, 4])] },
  { op: 'ConvTranspose', inputs: [f('x', [1, 2, 3, 3]), f('w', [2, 3, 3, 3], 4, { init: true }), f('b', [3], 5, { init: true })], attrs: { strides: { ints: [2, 2] }, pads: { ints: [1, 1, 0, 0] }, output_padding: { ints: [1, 1] } } },
  { op: 'ConvTranspose', inputs: [f('x', [1, 4, 3, 3]), f('w', [4, 1, 2, 2], 4, { init: true })], attrs: { group: { int: 2 } }, label: 'grouped' },
  { op: 'Resize', opset: 13, inputs: [f('x', [1, 2, 3, 4]), f('roi', [0], 1, { data: [], init: true }), f('scales', [4], 1, { data: [1, 1, 2, 2], init: true })], attrs: { mode: 'nearest' }, label: 'nearest, scales' },
  { op: 'Resize', opset: 13, inputs: [f('x', [1, 2, 3, 4]), f('roi', [0], 1, { data: [], init: true }), f('scales', [4], 1, { data: [1, 1, 2, 1.5], init: true })], attrs: { mode: 'linear' }, label: 'linear, half_pixel' },
  { op: 'Resize', opset: 13, inputs: [f('x', [1, 2, 3, 4]), f('roi', [0], 1, { data: [], init: true }), f('scales', [0], 1, { data: [], init: true }), i64('sizes', [1, 2, 5, 7])], attrs: { mode: 'linear', coordinate_transformation_mode: 'align_corners' }, label: 'linear, align_corners, sizes' },
  { op: 'Resize', opset: 10, inputs: [f('x', [1, 1, 2, 3]), f('scales', [4], 1, { data: [1, 1, 2, 2], init: true })], label: 'opset 10' },
  { op: 'Upsample', opset: 9, inputs: [f('x', [1, 1, 2, 3]), f('scales', [4], 1, { data: [1, 1, 2, 3], init: true })] },
  { op: 'Where', inputs: [{ name: 'c', dims: [3], kind: 'b', data: [1, 0, 1] }, f('a', [2, 3]), f('b', [3], 2)] },
  { op: 'IsNaN', inputs: [f('x', [4], 1, { data: [1, NaN, 0, NaN] })], outs: [9] },
  { op: 'IsInf', inputs: [f('x', [4], 1, { data: [1, Infinity, -Infinity, 0] })], outs: [9] },
  { op: 'DequantizeLinear', inputs: [{ name: 'q', dims: [2, 3], kind: 'f', elem: 3, data: [-128, -3, 0, 5, 100, 127], init: true }, f('s', [], 1, { data: [0.05], init: true })], label: 'INT8 per tensor' },
  { op: 'DequantizeLinear', inputs: [{ name: 'q', dims: [3, 2], kind: 'f', elem: 3, data: [-8, 3, 0, 5, 10, 12], init: true }, f('s', [3], 1, { data: [0.1, 0.2, 0.5], init: true })], attrs: { axis: { int: 0 } }, label: 'INT8 per channel' },
  { op: 'DequantizeLinear', opset: 21, inputs: [{ name: 'q', dims: [2, 3], kind: 'f', elem: 22, raw: Uint8Array.of(0x71, 0x8f, 0x3c), init: true }, f('s', [2], 1, { data: [0.25, 0.5], init: true })], attrs: { axis: { int: 0 } }, label: 'INT4 per channel (opset 21)' },
  { op: 'DequantizeLinear', opset: 19, inputs: [{ name: 'q', dims: [6], kind: 'f', elem: 17, raw: Uint8Array.of(0x00, 0x38, 0xb8, 0x41, 0x7e, 0x0a), init: true }, f('s', [], 1, { data: [0.5], init: true })], label: 'FP8 E4M3FN (opset 19)' },
  { op: 'DequantizeLinear', opset: 21, inputs: [{ name: 'q', dims: [2, 4], kind: 'f', elem: 3, data: [1, 2, 3, 4, -1, -2, -3, -4], init: true }, f('s', [2, 2], 1, { data: [0.1, 0.2, 0.3, 0.4], init: true })], attrs: { axis: { int: 1 }, block_size: { int: 2 } }, label: 'INT8 blocked (opset 21)' },
];

async function runOrt(model: Uint8Array, feeds: Record<string, ort.Tensor>, outs: string[]) {
  const session = await ort.InferenceSession.create(model);
  const r = await session.run(feeds);
  return outs.map((o) => Array.from(r[o]!.data as ArrayLike<number | bigint>, Number));
}

describe('CPU executor against onnxruntime, op by op', () => {
  it.each(cases.map((c) => [`${c.op}${c.label ? ` (${c.label})` : ''}`, c] as const))('%s', async (_name, c) => {
    const outNames = (c.outs ?? [1]).map((_, i) => `y${i}`);
    const inits: TensorSpec[] = c.inputs.filter((x) => x.init).map((x) => ({ name: x.name, dataType: x.elem ?? ELEM[x.kind ?? 'f'], dims: x.dims, raw: bytesOf(x) }));
    const graphInputs = c.inputs.filter((x) => !x.init);
    const { model } = writeOnnxModel({
      opset: c.opset ?? 17,
      inputs: graphInputs.map((x) => ({ name: x.name, elemType: ELEM[x.kind ?? 'f'], dims: x.dims })),
      outputs: outNames.map((o, i) => ({ name: o, elemType: c.outs?.[i] ?? 1, dims: [] })),
      nodes: [{ opType: c.op, name: 'node', inputs: c.inputs.map((x) => x.name), outputs: outNames, attributes: c.attrs ?? {} }],
      initializers: inits,
    });
    const feeds: Record<string, ort.Tensor> = {};
    const host: Record<string, HostTensor> = {};
    for (const x of graphInputs) {
      const d = x.data ?? wave(count(x.dims));
      const kind = x.kind ?? 'f';
      if (kind === 'f') {
        feeds[x.name] = new ort.Tensor('float32', Float32Array.from(d), x.dims);
        host[x.name] = { data: Float32Array.from(d), dims: x.dims };
      } else if (kind === 'i64') {
        feeds[x.name] = new ort.Tensor('int64', BigInt64Array.from(d, (v) => BigInt(v)), x.dims);
        host[x.name] = { data: BigInt64Array.from(d, (v) => BigInt(v)), dims: x.dims };
      } else {
        feeds[x.name] = new ort.Tensor('bool', Uint8Array.from(d), x.dims);
        host[x.name] = { data: BigInt64Array.from(d, (v) => BigInt(v)), dims: x.dims };
      }
    }
    const expected = await runOrt(model, feeds, outNames);
    const backend = createMockBackend();
    const builder = backend.createBuilder();
    const network = builder.createNetwork();
    const parser = backend.createOnnxParser(network);
    expect(await parser.parse(model), parser.getError(0)?.desc).toBe(true);
    const plan = await builder.buildSerializedNetwork(network, builder.createBuilderConfig());
    const engine = await backend.createRuntime().deserializeCudaEngine(plan);
    const got = await engine.createExecutionContext().execute(host);
    outNames.forEach((o, i) => {
      const actual = Array.from(got[o]!.data as ArrayLike<number | bigint>, Number);
      const want = expected[i]!;
      expect(actual.length, `${o} length`).toBe(want.length);
      for (let k = 0; k < want.length; k++) {
        const [a, b] = [actual[k]!, want[k]!];
        if (Number.isNaN(b)) expect(a, `${o}[${k}]`).toBeNaN();
        else expect(Math.abs(a - b), `${o}[${k}]: ${a} vs ${b}`).toBeLessThanOrEqual(1e-3 * Math.max(1, Math.abs(b)));
      }
    });
  });
});
