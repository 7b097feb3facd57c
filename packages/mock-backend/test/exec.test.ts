import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import * as ort from 'onnxruntime-node';
import { BuilderFlag, DataType, TrtRefitErrorCode, WeightsRole, maxRelativeError, readNpy, type Backend, type Weights } from '@trt-refit/core';
import { networkToOnnx, writeOnnxModel } from '@trt-refit/onnx';
import { createMockBackend, erf } from '@trt-refit/mock-backend';

const fixture = (p: string) => fileURLToPath(new URL(`../../../fixtures/${p}`, import.meta.url));
async function engineFrom(backend: Backend, bytes: Uint8Array | string, flags: BuilderFlag[] = [BuilderFlag.REFIT]) {
  const builder = backend.createBuilder();
  const network = builder.createNetwork();
  const parser = backend.createOnnxParser(network);
  const ok = typeof bytes === 'string' ? await parser.parseFromFile(bytes) : await parser.parse(bytes);
  expect(ok, parser.getError(0)?.desc).toBe(true);
  const config = builder.createBuilderConfig();
  config.setFlags(flags);
  return backend.createRuntime().deserializeCudaEngine(await builder.buildSerializedNetwork(network, config));
}

describe('CPU execution', () => {
  it('tinyxf (attention, LayerNorm, GELU, shape ops): A gives logits_a; refitted with B, logits_b', async () => {
    const backend = createMockBackend();
    const engine = await engineFrom(backend, fixture('tinyxf/tinyxf_a.onnx'));
    const ids = readNpy(readFileSync(fixture('tinyxf/ids.npy')));
    const ctx = engine.createExecutionContext();
    const a = Object.values(await ctx.execute({ ids }))[0]!;
    expect(a.dims).toEqual([2, 7, 50]);
    expect(maxRelativeError(a.data as Float32Array, readNpy(readFileSync(fixture('tinyxf/logits_a.npy'))).data as Float32Array)).toBeLessThanOrEqual(1e-5);
    const refitter = backend.createRefitter(engine);
    expect(await backend.createParserRefitter(refitter).refitFromFile(fixture('tinyxf/tinyxf_b.onnx'))).toBe(true);
    expect(await refitter.refitCudaEngine()).toBe(true);
    const b = Object.values(await ctx.execute({ ids }))[0]!;
    expect(maxRelativeError(b.data as Float32Array, readNpy(readFileSync(fixture('tinyxf/logits_b.npy'))).data as Float32Array)).toBeLessThanOrEqual(1e-5);
  });

  it('a hand-built network runs as onnxruntime runs it written with networkToOnnx (what the native backend gives TensorRT)', async () => {
    const values = (n: number, seed: number): Weights => {
      const a = new Float32Array(n);
      for (let i = 0; i < n; i++) a[i] = Math.sin(seed * 13 + i * 0.71);
      return { type: DataType.FLOAT, values: a, count: n };
    };
    const scalar = (v: number): Weights => ({ type: DataType.FLOAT, values: new Float32Array([v]), count: 1 });
    const backend = createMockBackend();
    const builder = backend.createBuilder();
    const network = builder.createNetwork();
    network.addInput('x', DataType.FLOAT, ['N', 3, 7, 7]);
    network.addLayer({ name: 'conv', type: 'Conv', inputs: ['x'], outputs: ['c'], attributes: { kernel_shape: [3, 3], pads: [1, 1, 1, 1], strides: [2, 2] }, weights: [
      { role: WeightsRole.KERNEL, weights: values(5 * 3 * 9, 1), dims: [5, 3, 3, 3] },
      { role: WeightsRole.BIAS, weights: values(5, 2), dims: [5] },
    ] });
    network.addConstant('sqrt2', scalar(Math.SQRT2), []);
    network.addConstant('one', scalar(1), []);
    network.addConstant('half', scalar(0.5), []);
    network.addLayer({ name: 'div', type: 'Div', inputs: ['c', 'sqrt2'], outputs: ['d'] });
    network.addLayer({ name: 'erf', type: 'Erf', inputs: ['d'], outputs: ['e'] });
    network.addLayer({ name: 'add', type: 'Add', inputs: ['e', 'one'], outputs: ['a'] });
    network.addLayer({ name: 'mul', type: 'Mul', inputs: ['c', 'a'], outputs: ['m'] });
    network.addLayer({ name: 'mul_half', type: 'Mul', inputs: ['m', 'half'], outputs: ['g'] });
    network.addLayer({ name: 'hsig', type: 'HardSigmoid', inputs: ['g'], outputs: ['y'], attributes: { alpha: 1, beta: 0 } }); // integral floats stay FLOAT attributes
    network.markOutput('y', DataType.FLOAT, ['N', 5, 4, 4]);
    const x = values(2 * 3 * 7 * 7, 3).values as Float32Array;
    const session = await ort.InferenceSession.create(networkToOnnx(network));
    const expected = (await session.run({ x: new ort.Tensor('float32', x, [2, 3, 7, 7]) })).y!;
    expect(expected.dims).toEqual([2, 5, 4, 4]);
    const config = builder.createBuilderConfig();
    config.setFlags([BuilderFlag.REFIT]);
    const engine = await backend.createRuntime().deserializeCudaEngine(await builder.buildSerializedNetwork(network, config));
    const got = (await engine.createExecutionContext().execute({ x: { data: x, dims: [2, 3, 7, 7] } })).y!;
    expect(maxRelativeError(got.data as Float32Array, expected.data as Float32Array)).toBeLessThanOrEqual(1e-5);
  });

  it('matches onnxruntime on a small CNN with pooling-free ops and dynamic batch', async () => {
    const f32 = (n: number, seed: number) => {
      const a = new Float32Array(n);
      let s = seed;
      for (let i = 0; i < n; i++) {
        s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
        a[i] = s / 2 ** 32 - 0.5;
      }
      return a;
    };
    const raw = (a: Float32Array) => new Uint8Array(a.buffer);
    const { model } = writeOnnxModel({
      inputs: [{ name: 'x', elemType: 1, dims: ['N', 3, 9, 9] }],
      outputs: [{ name: 'y', elemType: 1, dims: ['N', 5] }],
      nodes: [
        { opType: 'Conv', inputs: ['x', 'w1', 'b1'], outputs: ['c1'], attributes: { kernel_shape: [3, 3], strides: [2, 2], pads: [1, 1, 1, 1] } },
        { opType: 'Sigmoid', inputs: ['c1'], outputs: ['s1'] },
        { opType: 'Conv', inputs: ['s1', 'w2'], outputs: ['c2'], attributes: { kernel_shape: [3, 3], group: 2, pads: [1, 1, 1, 1] } },
        { opType: 'HardSwish', inputs: ['c2'], outputs: ['h'] },
        { opType: 'GlobalAveragePool', inputs: ['h'], outputs: ['g'] },
        { opType: 'Flatten', inputs: ['g'], outputs: ['f'] },
        { opType: 'Gemm', inputs: ['f', 'fw', 'fb'], outputs: ['z'], attributes: { transB: 1 } },
        { opType: 'Softmax', inputs: ['z'], outputs: ['y'], attributes: { axis: 1 } },
      ],
      initializers: [
        { name: 'w1', dataType: 1, dims: [4, 3, 3, 3], raw: raw(f32(108, 1)) },
        { name: 'b1', dataType: 1, dims: [4], raw: raw(f32(4, 2)) },
        { name: 'w2', dataType: 1, dims: [6, 2, 3, 3], raw: raw(f32(108, 3)) },
        { name: 'fw', dataType: 1, dims: [5, 6], raw: raw(f32(30, 4)) },
        { name: 'fb', dataType: 1, dims: [5], raw: raw(f32(5, 5)) },
      ],
    });
    const x = f32(3 * 3 * 9 * 9, 9);
    const session = await ort.InferenceSession.create(model);
    const expected = (await session.run({ x: new ort.Tensor('float32', x, [3, 3, 9, 9]) })).y!.data as Float32Array;
    const engine = await engineFrom(createMockBackend(), model);
    const got = Object.values(await engine.createExecutionContext().execute({ x: { data: x, dims: [3, 3, 9, 9] } }))[0]!;
    expect(maxRelativeError(got.data as Float32Array, expected)).toBeLessThanOrEqual(1e-5);
  });

  it.each([
    ['MaxPool 3x3 stride 2 pad 1', 'MaxPool', { kernel_shape: [3, 3], strides: [2, 2], pads: [1, 1, 1, 1] }],
    ['MaxPool 2x2 ceil_mode', 'MaxPool', { kernel_shape: [2, 2], strides: [2, 2], ceil_mode: 1 }],
    ['AveragePool 3x3 pad 1', 'AveragePool', { kernel_shape: [3, 3], strides: [2, 2], pads: [1, 1, 1, 1] }],
    ['AveragePool 3x3 pad 1 count_include_pad', 'AveragePool', { kernel_shape: [3, 3], strides: [1, 1], pads: [1, 1, 1, 1], count_include_pad: 1 }],
    ['AveragePool 2x2 ceil_mode', 'AveragePool', { kernel_shape: [2, 2], strides: [2, 2], ceil_mode: 1 }],
  ] as const)('%s matches onnxruntime', async (_l, op, attributes) => {
    const { model } = writeOnnxModel({
      inputs: [{ name: 'x', elemType: 1, dims: [2, 3, 7, 7] }],
      outputs: [{ name: 'y', elemType: 1, dims: ['N', 'C', 'H', 'W'] }],
      nodes: [{ opType: op, inputs: ['x'], outputs: ['y'], attributes: attributes as Record<string, number[] | number> }],
      opset: 19,
    });
    const x = Float32Array.from({ length: 2 * 3 * 49 }, (_, i) => Math.sin(i * 1.7) * 3);
    const session = await ort.InferenceSession.create(model);
    const expected = (await session.run({ x: new ort.Tensor('float32', x, [2, 3, 7, 7]) })).y!;
    const engine = await engineFrom(createMockBackend(), model);
    const got = Object.values(await engine.createExecutionContext().execute({ x: { data: x, dims: [2, 3, 7, 7] } }))[0]!;
    expect(got.dims).toEqual(expected.dims);
    expect(maxRelativeError(got.data as Float32Array, expected.data as Float32Array)).toBeLessThanOrEqual(1e-5);
  });

  it('unsupported ops fail the build naming every node; bad inputs are typed errors', async () => {
    const { model } = writeOnnxModel({ outputs: [{ name: 'y', elemType: 1, dims: [1] }], nodes: [{ opType: 'Relu', inputs: ['x'], outputs: ['y'] }], inputs: [{ name: 'x', elemType: 1, dims: [2] }] });
    const engine = await engineFrom(createMockBackend(), model);
    const ctx = engine.createExecutionContext();
    await expect(ctx.execute({})).rejects.toMatchObject({ code: TrtRefitErrorCode.EXECUTION_FAILED, message: expect.stringMatching(/input x is missing/) });
    await expect(ctx.execute({ x: { data: new Float32Array(3), dims: [3] } })).rejects.toThrow(/has shape \[3\], the engine expects \[2\]/);
    await expect(ctx.execute({ x: { data: new Float32Array(1), dims: [2] } })).rejects.toThrow(/1 values for shape \[2\]/);
    expect(Array.from((await ctx.execute({ x: { data: new Float32Array([-1, 2]), dims: [2] } })).y!.data)).toEqual([0, 2]);
  });

  it('erf is accurate to float32 across its range', () => {
    for (const [x, v] of [[0.5, 0.5204998778130465], [1, 0.8427007929497149], [2.5, 0.9995930479825550], [3.5, 0.9999992569016276], [-1.2, -0.9103139782296353]] as const) {
      expect(Math.abs(erf(x) - v)).toBeLessThan(1e-12);
    }
  });
});
