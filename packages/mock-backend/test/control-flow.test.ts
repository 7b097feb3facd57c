// If, Loop and Scan: imported as TensorRT's parser imports them (a constant If condition imports the taken branch
// only), their subgraph weights named and refittable, executed like onnxruntime runs them. And building is not
// executing: an op the CPU executor lacks still builds, refits and serializes; only execute refuses, naming it.
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { BuilderFlag, TrtRefitErrorCode, type Backend, type HostTensor } from '@trt-refit/core';
import { writeOnnxModel, type GraphSpec, type TensorSpec } from '@trt-refit/onnx';
import { createMockBackend } from '@trt-refit/mock-backend';

const f32 = (...v: number[]) => new Uint8Array(new Float32Array(v).buffer);
const init = (name: string, dims: number[], ...v: number[]): TensorSpec => ({ name, dataType: 1, dims, raw: f32(...v) });
const bn = (p: string): TensorSpec[] => [init(`${p}.g`, [2], 1.5, 0.5), init(`${p}.b`, [2], 0.1, -0.2), init(`${p}.m`, [2], 0.2, 0.3), init(`${p}.v`, [2], 1, 2)];
const x = Float32Array.from([0.5, -1, 2, 0.25, -0.75, 1.5]);

async function engineOf(backend: Backend, model: Uint8Array, flags: BuilderFlag[] = [BuilderFlag.REFIT]) {
  const builder = backend.createBuilder();
  const network = builder.createNetwork();
  const parser = backend.createOnnxParser(network);
  expect(await parser.parse(model), parser.getError(0)?.desc).toBe(true);
  const config = builder.createBuilderConfig();
  config.setFlags(flags);
  return { engine: await backend.createRuntime().deserializeCudaEngine(await builder.buildSerializedNetwork(network, config)), network };
}
async function both(model: Uint8Array, feeds: Record<string, HostTensor>, flags?: BuilderFlag[]) {
  const session = await ort.InferenceSession.create(model);
  const ortFeeds: Record<string, ort.Tensor> = {};
  for (const [k, v] of Object.entries(feeds)) ortFeeds[k] = v.data instanceof Float32Array ? new ort.Tensor('float32', v.data, v.dims) : v.data instanceof BigInt64Array ? new ort.Tensor('int64', v.data, v.dims) : new ort.Tensor('bool', v.data as unknown as Uint8Array, v.dims);
  const want = await session.run(ortFeeds);
  const backend = createMockBackend();
  const { engine } = await engineOf(backend, model, flags);
  const got = await engine.createExecutionContext().execute(feeds);
  for (const name of Object.keys(want)) {
    const a = Array.from(got[name]!.data as ArrayLike<number | bigint>, Number);
    const b = Array.from(want[name]!.data as ArrayLike<number | bigint>, Number);
    expect(a.length, name).toBe(b.length);
    a.forEach((v, i) => expect(Math.abs(v - b[i]!), `${name}[${i}]`).toBeLessThanOrEqual(1e-4 * Math.max(1, Math.abs(b[i]!))));
  }
  return { backend, engine };
}

const branch = (p: string, k: number): GraphSpec => ({
  nodes: [
    { opType: 'BatchNormalization', name: `bn_${p}`, inputs: ['x4', `${p}.g`, `${p}.b`, `${p}.m`, `${p}.v`], outputs: [`${p}.y`] },
    { opType: 'Mul', name: `mul_${p}`, inputs: [`${p}.y`, `${p}.k`], outputs: [`${p}.out`] },
  ],
  initializers: [...bn(p), init(`${p}.k`, [1], k)],
  outputs: [{ name: `${p}.out`, elemType: 1, dims: [1, 2, 3, 1] }],
});
const ifModel = (cond: { input: boolean } | { constant: boolean }) =>
  writeOnnxModel({
    inputs: [{ name: 'x', elemType: 1, dims: [1, 2, 3, 1] }, ...('input' in cond ? [{ name: 'c', elemType: 9, dims: [] }] : [])],
    outputs: [{ name: 'y', elemType: 1, dims: [1, 2, 3, 1] }],
    nodes: [
      { opType: 'Identity', name: 'id', inputs: ['x'], outputs: ['x4'] },
      { opType: 'If', name: 'if0', inputs: ['c'], outputs: ['y'], attributes: { then_branch: { graph: branch('t', 2) }, else_branch: { graph: branch('e', -3) } } },
    ],
    initializers: 'constant' in cond ? [{ name: 'c', dataType: 9, dims: [], raw: Uint8Array.of(cond.constant ? 1 : 0) }] : [],
  }).model;

describe('control flow (F-CONTROL-FLOW)', () => {
  it('If with a constant condition imports only the taken branch: its weights alone, folded and named as TensorRT names them', async () => {
    for (const taken of [true, false]) {
      const { backend, engine } = await both(ifModel({ constant: taken }), { x: { data: x, dims: [1, 2, 3, 1] } });
      const names = backend.createRefitter(engine).getAllWeights();
      const p = taken ? 't' : 'e';
      expect(names.sort()).toEqual([`${p}.k`, 'tmp_refittable_weight', 'tmp_refittable_weight_0'].sort());
      expect(engine.getLayers().every((l) => l.type !== 'If')).toBe(true);
    }
  });

  it('If with a runtime condition: both branches built and refittable, the taken one executed', async () => {
    for (const c of [1n, 0n]) {
      const { backend, engine } = await both(ifModel({ input: true }), { x: { data: x, dims: [1, 2, 3, 1] }, c: { data: Uint8Array.of(Number(c)) as unknown as BigInt64Array, dims: [] } });
      // then-branch folds first (the importer's order), then else-branch's
      expect(backend.createRefitter(engine).getAllWeights().filter((n) => n.startsWith('tmp_'))).toEqual(['tmp_refittable_weight', 'tmp_refittable_weight_0', 'tmp_refittable_weight_1', 'tmp_refittable_weight_2']);
    }
  });

  it('a refit from the same model sets the subgraph weights, and a refit with another k changes the output', async () => {
    const backend = createMockBackend();
    const { engine } = await engineOf(backend, ifModel({ input: true }), [BuilderFlag.STRIP_PLAN, BuilderFlag.REFIT]);
    const refitter = backend.createRefitter(engine);
    const p = backend.createParserRefitter(refitter);
    expect(await p.refitFromBytes(ifModel({ input: true })), p.getError(0)?.desc).toBe(true);
    expect(await refitter.refitCudaEngine()).toBe(true);
    const run = async () => Array.from((await engine.createExecutionContext().execute({ x: { data: x, dims: [1, 2, 3, 1] }, c: { data: BigInt64Array.of(1n), dims: [] } })).y!.data as Float32Array);
    const before = await run();
    refitter.setNamedWeights('t.k', { type: 'FLOAT', values: new Float32Array([4]), count: 1 });
    expect(await refitter.refitCudaEngine()).toBe(true);
    expect((await run()).map((v, i) => v / before[i]!).every((r) => Math.abs(r - 2) < 1e-6)).toBe(true);
  });

  it('Loop with a trip count, loop-carried state and a scan output runs like onnxruntime', async () => {
    const body: GraphSpec = {
      inputs: [{ name: 'i', elemType: 7, dims: [] }, { name: 'cin', elemType: 9, dims: [] }, { name: 's', elemType: 1, dims: [3] }],
      outputs: [{ name: 'cout', elemType: 9, dims: [] }, { name: 's2', elemType: 1, dims: [3] }, { name: 'scan', elemType: 1, dims: [3] }],
      nodes: [
        { opType: 'Identity', name: 'keep', inputs: ['cin'], outputs: ['cout'] },
        { opType: 'Mul', name: 'step', inputs: ['s', 'w'], outputs: ['sw'] },
        { opType: 'Add', name: 'acc', inputs: ['sw', 'b'], outputs: ['s2'] },
        { opType: 'Identity', name: 'emit', inputs: ['s2'], outputs: ['scan'] },
      ],
      initializers: [init('w', [3], 0.5, 1.5, -1), init('b', [3], 0.1, 0.2, 0.3)],
    };
    const model = writeOnnxModel({
      inputs: [{ name: 's0', elemType: 1, dims: [3] }],
      outputs: [{ name: 'final', elemType: 1, dims: [3] }, { name: 'all', elemType: 1, dims: [4, 3] }],
      nodes: [{ opType: 'Loop', name: 'loop0', inputs: ['M', '', 's0'], outputs: ['final', 'all'], attributes: { body: { graph: body } } }],
      initializers: [{ name: 'M', dataType: 7, dims: [], raw: new Uint8Array(new BigInt64Array([4n]).buffer) }],
    }).model;
    const { backend, engine } = await both(model, { s0: { data: Float32Array.from([1, 2, 3]), dims: [3] } });
    expect(backend.createRefitter(engine).getAllWeights().sort()).toEqual(['b', 'w']);
  });

  it('Scan over the first axis with a state runs like onnxruntime', async () => {
    const body: GraphSpec = {
      inputs: [{ name: 'acc', elemType: 1, dims: [2] }, { name: 'row', elemType: 1, dims: [2] }],
      outputs: [{ name: 'acc2', elemType: 1, dims: [2] }, { name: 'out', elemType: 1, dims: [2] }],
      nodes: [
        { opType: 'Add', name: 'add', inputs: ['acc', 'row'], outputs: ['acc2'] },
        { opType: 'Mul', name: 'mul', inputs: ['acc2', 'g'], outputs: ['out'] },
      ],
      initializers: [init('g', [2], 2, -1)],
    };
    const model = writeOnnxModel({
      inputs: [{ name: 'init', elemType: 1, dims: [2] }, { name: 'seq', elemType: 1, dims: [3, 2] }],
      outputs: [{ name: 'last', elemType: 1, dims: [2] }, { name: 'ys', elemType: 1, dims: [3, 2] }],
      nodes: [{ opType: 'Scan', name: 'scan0', inputs: ['init', 'seq'], outputs: ['last', 'ys'], attributes: { body: { graph: body }, num_scan_inputs: { int: 1 } } }],
    }).model;
    await both(model, { init: { data: Float32Array.from([0, 1]), dims: [2] }, seq: { data: Float32Array.from([1, 2, 3, 4, 5, 6]), dims: [3, 2] } });
  });

  it('building is not executing: an op the CPU executor lacks builds, strips, refits and serializes; execute refuses naming op and layer', async () => {
    const model = writeOnnxModel({
      inputs: [{ name: 'a', elemType: 1, dims: [2, 3] }, { name: 'b', elemType: 1, dims: [3, 2] }],
      outputs: [{ name: 'y', elemType: 1, dims: [2, 2] }],
      nodes: [
        { opType: 'Mul', name: 'scale', inputs: ['a', 'w'], outputs: ['aw'] },
        { opType: 'Einsum', name: 'contract', inputs: ['aw', 'b'], outputs: ['y'], attributes: { equation: 'ij,jk->ik' } },
      ],
      initializers: [init('w', [3], 1, 2, 3)],
    }).model;
    const backend = createMockBackend();
    const { engine } = await engineOf(backend, model, [BuilderFlag.STRIP_PLAN, BuilderFlag.REFIT]);
    const refitter = backend.createRefitter(engine);
    expect(await backend.createParserRefitter(refitter).refitFromBytes(model)).toBe(true);
    expect(await refitter.refitCudaEngine()).toBe(true);
    expect(engine.serialize().byteLength).toBeGreaterThan(0);
    await expect(engine.createExecutionContext().execute({ a: { data: new Float32Array(6), dims: [2, 3] }, b: { data: new Float32Array(6), dims: [3, 2] } })).rejects.toMatchObject({
      code: TrtRefitErrorCode.EXECUTION_FAILED,
      message: expect.stringMatching(/layer contract \(op Einsum\)/),
    });
  });
});
