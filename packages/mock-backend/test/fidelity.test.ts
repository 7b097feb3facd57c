// The TensorRT behaviours docs/fidelity.md lists, each pinned on the mock backend through the public API. Test
// names start with the row id of docs/fidelity.md.
import { readFileSync } from 'node:fs';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import {
  BuilderFlag,
  DataType,
  MemoryLogger,
  RefitTransformKind,
  TrtRefitErrorCode,
  maxRelativeError,
  parseRecipe,
  readNpy,
  recipeToJson,
  type Backend,
  type CudaEngine,
  type NetworkDefinition,
  type RefitRecord,
} from '@trt-refit/core';
import { OnnxParserRefitter, applyRecipe, openOnnxModel, openSafetensors, parseOnnxModel, refitRecipe, safetensorsWeightsSource, writeOnnxModel, writeRecipeWeights } from '@trt-refit/onnx';
import { createMockBackend } from '@trt-refit/mock-backend';

const fixture = (p: string) => fileURLToPath(new URL(`../../../fixtures/${p}`, import.meta.url));
const tmp = () => mkdtempSync(join(tmpdir(), 'trt-refit-fidelity-'));
const f32 = (...v: number[]) => new Uint8Array(new Float32Array(v).buffer);
const wave = (n: number, seed: number) => Array.from({ length: n }, (_, i) => Math.sin(seed * 7 + i * 0.37));

/**
 * fixtures/cosconvbn (scripts/make-cosconvbn-fixture.ts): ConstantOfShape first, then Conv -> BatchNormalization, a
 * DOUBLE scale and a Constant: every transform a parser refit has; nodes unnamed (layers are `node_of_<output>`).
 */
const cosConvBn = (seed: 1 | 2 = 1): Uint8Array => new Uint8Array(readFileSync(fixture(`cosconvbn/cosconvbn_${seed === 1 ? 'a' : 'b'}.onnx`)));

async function build(backend: Backend, model: Uint8Array | string, flags: BuilderFlag[], logger?: MemoryLogger, prepare?: (n: NetworkDefinition) => void): Promise<Uint8Array> {
  const builder = backend.createBuilder(logger);
  const network = builder.createNetwork();
  const parser = backend.createOnnxParser(network);
  const ok = typeof model === 'string' ? await parser.parseFromFile(model) : await parser.parse(model);
  expect(ok, parser.getError(0)?.desc).toBe(true);
  prepare?.(network);
  const config = builder.createBuilderConfig();
  config.setFlags(flags);
  return builder.buildSerializedNetwork(network, config);
}
const engineOf = async (backend: Backend, plan: Uint8Array) => backend.createRuntime().deserializeCudaEngine(plan);
const input = Float32Array.from(wave(32, 9));
const run = async (engine: CudaEngine) => (await engine.createExecutionContext().execute({ x: { data: input, dims: [1, 2, 4, 4] } })).out!.data as Float32Array;
async function onnxruntime(model: Uint8Array): Promise<Float32Array> {
  const session = await ort.InferenceSession.create(model);
  const out = await session.run({ x: new ort.Tensor('float32', input, [1, 2, 4, 4]) });
  return out.out!.data as Float32Array;
}
const errorsOf = (p: { getNbErrors(): number; getError(i: number): { desc: string } | undefined }) => Array.from({ length: p.getNbErrors() }, (_, i) => p.getError(i)!.desc).join('\n');

describe('generated names, version by version (P-TEMP-BASE, P-CONSTANT-OF-SHAPE, F-LAYER-NAMES)', () => {
  it('F-GENERATED-NAMES: convbn folds are tmp_batch_norm_weight, _0, _1, _2 up to 10.13 and tmp_refittable_weight, _0, _1, _2 from 10.14', async () => {
    for (const [v, base] of [['10.0', 'tmp_batch_norm_weight'], ['10.13', 'tmp_batch_norm_weight'], ['10.14', 'tmp_refittable_weight'], ['11.3', 'tmp_refittable_weight']] as const) {
      const backend = createMockBackend({ tensorrtVersion: v });
      const refitter = backend.createRefitter(await engineOf(backend, await build(backend, fixture('convbn/convbn_a.onnx'), [BuilderFlag.REFIT])));
      expect(refitter.getAllWeights().filter((n) => n.startsWith('tmp_')), v).toEqual([base, `${base}_0`, `${base}_1`, `${base}_2`]);
    }
  });

  it('P-CONSTANT-OF-SHAPE: a leading ConstantOfShape takes tmp_refittable_weight from 10.14, so the folds are _0 and _1; at 10.13 they are tmp_batch_norm_weight and _0, and there is no ConstantOfShape weight', async () => {
    const at = async (v: string) => {
      const backend = createMockBackend({ tensorrtVersion: v });
      const engine = await engineOf(backend, await build(backend, cosConvBn(), [BuilderFlag.REFIT]));
      return { names: backend.createRefitter(engine).getAllWeights(), layers: engine.getLayers() };
    };
    const v16 = await at('10.16');
    expect(v16.names.filter((n) => n.startsWith('tmp_'))).toEqual(['tmp_refittable_weight', 'tmp_refittable_weight_0', 'tmp_refittable_weight_1']);
    const v13 = await at('10.13');
    expect(v13.names.filter((n) => n.startsWith('tmp_'))).toEqual(['tmp_batch_norm_weight', 'tmp_batch_norm_weight_0']);
    // F-LAYER-NAMES: unnamed nodes give node_of_<first output>
    const fused = v13.layers.flatMap((l) => l.fusedFrom ?? [l.name]);
    for (const n of ['node_of_c0', 'node_of_x1', 'node_of_y', 'node_of_z', 'node_of_out']) expect(fused).toContain(n);
  });

  it('the mock executes the 10.16 engine (ConstantOfShape value as a weight) like onnxruntime runs the model', async () => {
    const backend = createMockBackend({ tensorrtVersion: '10.16' });
    const engine = await engineOf(backend, await build(backend, cosConvBn(), [BuilderFlag.REFIT]));
    expect(maxRelativeError(await run(engine), await onnxruntime(cosConvBn()))).toBeLessThanOrEqual(1e-5);
  });
});

describe('assumptions the mock pins', () => {
  it('A-INT-CONSTANTS: with REFIT, integer constants (shape tensors) are not refittable in the mock, INT8 quantized weights are; marked ones are with REFIT_INDIVIDUAL', async () => {
    const backend = createMockBackend();
    const refitter = backend.createRefitter(await engineOf(backend, await build(backend, cosConvBn(), [BuilderFlag.REFIT])));
    expect(refitter.getAllWeights()).not.toContain('shape');
    expect(refitter.getWeightsPrototype('shape').count).toBe(-1);
    const marked = backend.createRefitter(await engineOf(backend, await build(backend, cosConvBn(), [BuilderFlag.REFIT_INDIVIDUAL], undefined, (n) => expect(n.markWeightsRefittable('shape')).toBe(true))));
    expect(marked.getAllWeights()).toEqual(['shape']);
    const qdq = backend.createRefitter(await engineOf(backend, await build(backend, fixture('models/qdqconv.onnx'), [BuilderFlag.REFIT])));
    expect(qdq.getWeightsPrototype('conv1.weight_q')).toEqual({ type: DataType.INT8, count: 216 });
  });
});

describe('the parser refitter as TensorRT has it', () => {
  it('P-ONE-MODEL: a second refitFromFile on one parser refitter returns false with "A model was previously parsed!" (10.2+); 10.1 takes it, with its name counter where it was', async () => {
    const backend = createMockBackend();
    const engine = await engineOf(backend, await build(backend, fixture('convbn/convbn_a.onnx'), [BuilderFlag.STRIP_PLAN]));
    const logger = new MemoryLogger();
    const refitter = backend.createRefitter(engine);
    const p = backend.createParserRefitter(refitter, logger);
    expect(await p.refitFromFile(fixture('convbn/convbn_a.onnx'))).toBe(true);
    expect(await p.refitFromFile(fixture('convbn/convbn_a.onnx'))).toBe(false);
    expect(p.getError(0)).toMatchObject({ code: 'MODEL_DESERIALIZE_FAILED', desc: expect.stringMatching(/^A model was previously parsed!/) });
    expect(logger.errors().join()).toMatch(/A model was previously parsed!/);
    await expect(p.loadModelProto(readFileSync(fixture('convbn/convbn_a.onnx')))).resolves.toBe(false);
    // 10.1 (onnx-tensorrt 96e7811): no check, but the generated-name set is never reset, so BN folds get new names
    const old = createMockBackend({ tensorrtVersion: '10.1' });
    const r = old.createRefitter(await engineOf(old, await build(old, fixture('convbn/convbn_a.onnx'), [BuilderFlag.STRIP_PLAN])));
    const q = old.createParserRefitter(r);
    expect(await q.refitFromFile(fixture('convbn/convbn_a.onnx'))).toBe(true);
    expect(await q.refitFromFile(fixture('convbn/convbn_a.onnx'))).toBe(false);
    expect(errorsOf(q)).toMatch(/Only successfully refitted \d+ weights out of \d+; not in the model: tmp_batch_norm_weight/);
  });

  it('F-STOP-AT-FIRST: the parser refitter stops at the first weight that fails; the ones before stay set', async () => {
    const backend = createMockBackend();
    const refitter = backend.createRefitter(await engineOf(backend, await build(backend, cosConvBn(), [BuilderFlag.STRIP_PLAN, BuilderFlag.REFIT])));
    const p = backend.createParserRefitter(refitter);
    // the same graph with a Conv kernel of another shape: W is refused, B and later weights are never reached
    const other = writeOnnxModel({ nodes: [{ opType: 'Conv', inputs: ['x', 'W', 'B'], outputs: ['y'] }], initializers: [{ name: 'shape', dataType: 7, dims: [4], raw: new Uint8Array(32) }, { name: 'W', dataType: 1, dims: [1], raw: f32(1) }, { name: 'B', dataType: 1, dims: [3], raw: f32(1, 2, 3) }] }).model;
    expect(await p.refitFromBytes(other)).toBe(false);
    expect(p.getNbErrors()).toBe(1);
    expect(errorsOf(p)).toMatch(/W: the model has FLOAT\[1\] but the engine was built with FLOAT\[54\]/);
    expect(refitter.getNamedWeights('B').values).toBeNull();
  });

  it('F-LOAD-INITIALIZER: loadInitializer finds main-graph initializers only', async () => {
    const backend = createMockBackend();
    const model = writeOnnxModel({
      nodes: [
        { opType: 'Relu', inputs: ['x'], outputs: ['r'] },
        { opType: 'If', inputs: ['c'], outputs: ['y'], attributes: { then_branch: { graph: { nodes: [], initializers: [{ name: 'sub_w', dataType: 1, dims: [1], raw: f32(1) }] } }, else_branch: { graph: { nodes: [] } } } },
      ],
      initializers: [{ name: 'main_w', dataType: 1, dims: [1], raw: f32(2) }],
    }).model;
    const engine = await engineOf(backend, await build(backend, fixture('convbn/convbn_a.onnx'), [BuilderFlag.REFIT]));
    const p = backend.createParserRefitter(backend.createRefitter(engine));
    expect(await p.loadModelProto(model)).toBe(true);
    expect(p.loadInitializer('main_w', f32(3))).toBe(true);
    expect(p.loadInitializer('sub_w', f32(3))).toBe(false);
    expect(errorsOf(p)).toMatch(/Cannot find initializer name: sub_w in model!/);
  });

  it('P-UINT8-REFIT and P-EXTERNAL-DOUBLE: conversions by version', async () => {
    const u8 = writeOnnxModel({ inputs: [{ name: 'x', elemType: 6, dims: [2] }], outputs: [{ name: 'y', elemType: 6, dims: [2] }], nodes: [{ opType: 'Add', inputs: ['x', 'u'], outputs: ['y'] }], initializers: [{ name: 'u', dataType: 2, dims: [2], raw: new Uint8Array([7, 255]) }] }).model;
    // An INT32 weight is refittable in the mock only when marked (REFIT_INDIVIDUAL, 10.2+; docs/fidelity.md A-INT-CONSTANTS)
    const backend = createMockBackend({ tensorrtVersion: '10.16' });
    const refitter = backend.createRefitter(await engineOf(backend, await build(backend, u8, [BuilderFlag.REFIT_INDIVIDUAL], undefined, (n) => expect(n.markWeightsRefittable('u')).toBe(true))));
    expect(refitter.getWeightsPrototype('u')).toEqual({ type: DataType.INT32, count: 2 }); // the importer widens UINT8
    const p = backend.createParserRefitter(refitter);
    expect(await p.refitFromBytes(u8)).toBe(false);
    expect(errorsOf(p)).toMatch(/u: the model has UINT8\[2\] but the engine was built with INT32\[2\]/);
    // 10.1 converted in the refitter too (onnx-tensorrt 96e7811): the same refit sets INT32 values
    const set: unknown[] = [];
    const fake = { getAllWeights: () => ['u'], getWeightsPrototype: () => ({ type: DataType.INT32, count: 2 }), setNamedWeights: (_n: string, w: { values: unknown }) => (set.push(w.values), true) };
    expect(await new OnnxParserRefitter(fake as never, undefined, { tensorrtVersion: '10.1' }).refitFromBytes(u8)).toBe(true);
    expect(set).toEqual([Int32Array.from([7, 255])]);
    const dir = tmp();
    const { model, externalData } = writeOnnxModel({
      externalDataFile: 'd.bin',
      nodes: [{ opType: 'Add', inputs: ['x', 'd'], outputs: ['y'] }],
      initializers: [{ name: 'd', dataType: 11, dims: [2], raw: new Uint8Array(new Float64Array([1, 2]).buffer), external: true }],
    });
    writeFileSync(join(dir, 'm.onnx'), model);
    writeFileSync(join(dir, 'd.bin'), externalData!);
    const parseAt = async (v: string) => {
      const parser = createMockBackend({ tensorrtVersion: v }).createOnnxParser(createMockBackend({ tensorrtVersion: v }).createBuilder().createNetwork());
      return { ok: await parser.parseFromFile(join(dir, 'm.onnx')), errors: errorsOf(parser) };
    };
    expect((await parseAt('10.1')).ok).toBe(true);
    expect(await parseAt('10.16')).toMatchObject({ ok: false, errors: expect.stringMatching(/Unexpected size for the external weights! Expected size: 8 bytes/) });
  });

  it('F-EXTERNAL-NO-LENGTH: external data without a length must be the whole file from offset 0', async () => {
    const dir = tmp();
    const { model } = writeOnnxModel({ nodes: [{ opType: 'Add', inputs: ['x', 'w'], outputs: ['y'] }], initializers: [{ name: 'w', dataType: 1, dims: [2], externalData: [{ key: 'location', value: 'w.bin' }] }] });
    const externalData = f32(1, 2);
    writeFileSync(join(dir, 'm.onnx'), model);
    writeFileSync(join(dir, 'w.bin'), externalData);
    const m = await openOnnxModel(join(dir, 'm.onnx'));
    const w = m.tensors()[0]!;
    expect(w.external).toMatchObject({ offset: 0, length: undefined });
    expect(Array.from(new Float32Array((await m.readTensor(w)).slice().buffer))).toEqual([1, 2]); // the file is exactly the tensor
    writeFileSync(join(dir, 'w.bin'), Buffer.concat([Buffer.from(externalData), Buffer.alloc(8)]));
    await expect(m.readTensor(w)).rejects.toThrow(/has no length, so TensorRT reads the whole file \(16 bytes\)/);
  });
});

describe('what TensorRT leaves undefined, the mock refuses loudly', () => {
  it('F-REFIT-PARTIAL: after a failed refit the weights it was given are undefined: execute and serialize refuse until a refit sets them', async () => {
    const backend = createMockBackend();
    const engine = await engineOf(backend, await build(backend, fixture('convbn/convbn_a.onnx'), [BuilderFlag.REFIT]));
    const refitter = backend.createRefitter(engine);
    const p = refitter.getWeightsPrototype('fc.weight');
    expect(refitter.setNamedWeights('fc.weight', { type: DataType.FLOAT, values: new Float32Array(p.count), count: p.count })).toBe(true);
    expect(await refitter.refitCudaEngine()).toBe(false); // fc.bias missing: "a subset of weights may have been refitted"
    const ctx = engine.createExecutionContext();
    const inputNpy = readNpy(readFileSync(fixture('convbn/input.npy')));
    await expect(ctx.execute({ input: inputNpy })).rejects.toMatchObject({ code: TrtRefitErrorCode.UNDEFINED_BEHAVIOR, message: expect.stringMatching(/fc\.weight.*a subset of weights may have been refitted/s) });
    expect(() => engine.serialize()).toThrow(expect.objectContaining({ code: TrtRefitErrorCode.UNDEFINED_BEHAVIOR }));
    const q = refitter.getWeightsPrototype('fc.bias');
    expect(refitter.setNamedWeights('fc.bias', { type: DataType.FLOAT, values: new Float32Array(q.count), count: q.count })).toBe(true);
    expect(await refitter.refitCudaEngine()).toBe(true);
    expect((await ctx.execute({ input: inputNpy })).logits!.dims).toEqual([2, 10]);
  });

  it('F-IDENTICAL: refitting a REFIT_IDENTICAL engine with other weights is refused, saying TensorRT would accept it silently', async () => {
    const backend = createMockBackend();
    const engine = await engineOf(backend, await build(backend, fixture('convbn/convbn_a.onnx'), [BuilderFlag.STRIP_PLAN]));
    const logger = new MemoryLogger();
    const refitter = backend.createRefitter(engine, logger);
    expect(await backend.createParserRefitter(refitter).refitFromFile(fixture('convbn/convbn_b.onnx'))).toBe(true);
    expect(await refitter.refitCudaEngine()).toBe(false);
    expect(logger.errors().join('\n')).toMatch(/REFIT_IDENTICAL.*c1\.weight.*TensorRT would not check this and would accept the refit silently, with undefined results/s);
  });

  it('F-SERIALIZE-STRIPPED: serialize() of a stripped engine refuses before every stripped weight is refitted, and writes the full (not refittable) engine after', async () => {
    const backend = createMockBackend();
    const engine = await engineOf(backend, await build(backend, fixture('convbn/convbn_a.onnx'), [BuilderFlag.STRIP_PLAN]));
    expect(() => engine.serialize()).toThrow(expect.objectContaining({ code: TrtRefitErrorCode.UNDEFINED_BEHAVIOR }));
    const refitter = backend.createRefitter(engine);
    expect(await backend.createParserRefitter(refitter).refitFromFile(fixture('convbn/convbn_a.onnx'))).toBe(true);
    expect(await refitter.refitCudaEngine()).toBe(true);
    const full = await engineOf(backend, engine.serialize());
    expect(full.isRefittable()).toBe(false);
    const input = readNpy(readFileSync(fixture('convbn/input.npy')));
    const out = (await full.createExecutionContext().execute({ input })).logits!.data as Float32Array;
    expect(maxRelativeError(out, readNpy(readFileSync(fixture('convbn/logits_a.npy'))).data as Float32Array)).toBeLessThanOrEqual(1e-5);
    // the default serialization config still excludes the weights (TensorRT's sample clears EXCLUDE_WEIGHTS itself)
    expect(engine.createSerializationConfig().getFlags()).toContain('EXCLUDE_WEIGHTS');
  });

  it('P-GEMM-BIAS-11.3: building with REFIT on 11.3 warns that a GEMM bias may be dropped; 11.2, 11.4 and REFIT_IDENTICAL do not', async () => {
    const warned = async (v: string, flags: BuilderFlag[]) => {
      const logger = new MemoryLogger();
      const backend = createMockBackend({ tensorrtVersion: v });
      await build(backend, fixture('convbn/convbn_a.onnx'), flags, logger);
      return logger.messages.some((m) => /GEMM bias can be dropped/.test(m.message));
    };
    expect(await warned('11.3', [BuilderFlag.REFIT])).toBe(true);
    expect(await warned('11.2', [BuilderFlag.REFIT])).toBe(false);
    expect(await warned('11.4', [BuilderFlag.REFIT])).toBe(false);
    expect(await warned('11.3', [BuilderFlag.REFIT_IDENTICAL])).toBe(false);
  });
});

describe('refit records and recipes (IRefitterObserver, 11.2+; recipes for every version)', () => {
  it('P-REFIT-OBSERVER: on 11.2 the parser refitter reports a RefitRecord per weight it sets, the same records refitRecipe computes; before 11.2 setRefitObserver does not exist', async () => {
    const backend = createMockBackend({ tensorrtVersion: '11.2' });
    const engine = await engineOf(backend, await build(backend, cosConvBn(), [BuilderFlag.STRIP_PLAN, BuilderFlag.REFIT]));
    const refitter = backend.createRefitter(engine);
    const p = backend.createParserRefitter(refitter);
    const records: RefitRecord[] = [];
    p.setRefitObserver({ onRefittableWeight: (r) => records.push(r) });
    expect(await p.refitFromBytes(cosConvBn())).toBe(true);
    expect(records.map((r) => r.trtName).sort()).toEqual(refitter.getAllWeights().sort());
    const recipe = await refitRecipe(parseOnnxModel(cosConvBn()), { tensorrtVersion: '11.2', refittable: refitter.getAllWeights() });
    expect(records).toEqual(recipe.records);
    const kinds = new Set(records.map((r) => r.kind));
    for (const k of Object.values(RefitTransformKind)) expect(kinds, k).toContain(k);
    expect(records.find((r) => r.kind === RefitTransformKind.BATCH_NORM_FOLD_SCALE)).toMatchObject({ sourceOnnxNames: ['g', 'b', 'm', 'v'], epsilon: Math.fround(1e-3), trtDtype: DataType.FLOAT, count: 3 });
    expect(records.find((r) => r.kind === RefitTransformKind.DOUBLE_TO_FLOAT)).toMatchObject({ trtName: 'dscale', onnxDtype: 11, trtDtype: DataType.FLOAT });
    const older = createMockBackend({ tensorrtVersion: '11.1' });
    const r2 = older.createRefitter(await engineOf(older, await build(older, cosConvBn(), [BuilderFlag.REFIT])));
    expect(() => older.createParserRefitter(r2).setRefitObserver(null)).toThrow(expect.objectContaining({ code: TrtRefitErrorCode.UNSUPPORTED_FEATURE }));
  });

  it('F-RECIPE: recipe + safetensors of the initializers refit a stripped engine with no ONNX model; outputs equal onnxruntime\'s', async () => {
    for (const v of ['10.13', '10.16']) {
      const dir = tmp();
      const modelBytes = cosConvBn(2);
      writeFileSync(join(dir, 'model.onnx'), modelBytes);
      const backend = createMockBackend({ tensorrtVersion: v });
      const plan = await build(backend, modelBytes, [BuilderFlag.STRIP_PLAN, BuilderFlag.REFIT]);
      // build machine: the recipe and the weights file
      const model = await openOnnxModel(join(dir, 'model.onnx'));
      const recipe = await refitRecipe(model, { tensorrtVersion: v });
      writeFileSync(join(dir, 'recipe.json'), recipeToJson(recipe));
      await writeRecipeWeights(model, recipe, join(dir, 'weights.safetensors'));
      // client: the stripped plan, the recipe, the weights; no ONNX
      const client = createMockBackend({ tensorrtVersion: v });
      const engine = await engineOf(client, plan);
      const refitter = client.createRefitter(engine);
      const report = await applyRecipe(refitter, parseRecipe(readFileSync(join(dir, 'recipe.json'), 'utf8')), safetensorsWeightsSource(await openSafetensors(join(dir, 'weights.safetensors'))));
      expect(report, v).toMatchObject({ ok: true, errors: [], notInRecipe: [] });
      expect(report.set.length).toBe(refitter.getAllWeights().length);
      expect(await refitter.refitCudaEngine()).toBe(true);
      expect(maxRelativeError(await run(engine), await onnxruntime(modelBytes)), v).toBeLessThanOrEqual(1e-5);
    }
  });

  it('F-RECIPE: a weights file that does not fit the recipe is reported record by record, nothing refitted', async () => {
    const dir = tmp();
    const backend = createMockBackend();
    const engine = await engineOf(backend, await build(backend, cosConvBn(), [BuilderFlag.STRIP_PLAN, BuilderFlag.REFIT]));
    const recipe = await refitRecipe(parseOnnxModel(cosConvBn()));
    // weights of another model: tinyxf's initializers, none of the names
    const other = await openOnnxModel(fixture('tinyxf/tinyxf_a.onnx'));
    await writeRecipeWeights(other, await refitRecipe(other), join(dir, 'w.safetensors'));
    const refitter = backend.createRefitter(engine);
    const report = await applyRecipe(refitter, recipe, safetensorsWeightsSource(await openSafetensors(join(dir, 'w.safetensors'))));
    expect(report.ok).toBe(false);
    expect(report.errors.join('\n')).toMatch(/W: source W is not in the weights file/);
    expect(report.unusedSources.length).toBeGreaterThan(0);
    expect(await refitter.refitCudaEngine()).toBe(false);
  });
});
