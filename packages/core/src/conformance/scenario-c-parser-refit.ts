import { readFile } from 'node:fs/promises';
import { expect, it } from 'vitest';
import { BuilderFlag } from '../enums.js';
import { hasFeature } from '../version.js';
import { buildFromOnnx, deserialize, expectLogits, refitterWithLogs, runConvbn, skipTest, type ConformanceContext } from './context.js';

export function parserRefitScenarios(ctx: ConformanceContext): void {
  const a = () => ctx.fixtures.path('convbn', 'convbn_a.onnx');
  const strippedA = async () => {
    const backend = await ctx.factory();
    const engine = await deserialize(backend, await buildFromOnnx(backend, a(), [BuilderFlag.STRIP_PLAN]));
    const { refitter, logger } = refitterWithLogs(backend, engine);
    return { backend, engine, refitter, logger, parserRefitter: backend.createParserRefitter(refitter) };
  };
  const errorsOf = (p: { getNbErrors(): number; getError(i: number): { desc: string } | undefined }) =>
    Array.from({ length: p.getNbErrors() }, (_, i) => p.getError(i)?.desc ?? '').join('\n');

  for (const file of ['convbn_a.onnx', 'convbn_a_ext.onnx']) {
    it(`C1: refitFromFile(${file}) sets every stripped weight; refitCudaEngine then gives the original outputs`, async () => {
      const { engine, refitter, parserRefitter } = await strippedA();
      const done: string[] = [];
      parserRefitter.onProgress = (e) => done.push(e.name);
      expect(await parserRefitter.refitFromFile(ctx.fixtures.path('convbn', file)), errorsOf(parserRefitter)).toBe(true);
      expect(parserRefitter.getNbErrors()).toBe(0);
      expect(refitter.getMissingWeights()).toEqual([]);
      expect(new Set(done)).toEqual(new Set(refitter.getAllWeights()));
      // The parser refitter only sets weights: the engine is refitted by the caller.
      if (ctx.caps.execution) expect(Array.from(await runConvbn(ctx, engine)).every((v) => v === 0)).toBe(true);
      expect(await refitter.refitCudaEngine()).toBe(true);
      if (ctx.caps.execution) await expectLogits(ctx, await runConvbn(ctx, engine), 'convbn', 'logits_a.npy');
    });
  }

  it('C2: refitFromBytes(bytes, modelPath) resolves external data from modelPath', async () => {
    const { engine, refitter, parserRefitter } = await strippedA();
    const path = ctx.fixtures.path('convbn', 'convbn_a_ext.onnx');
    const bytes = new Uint8Array(await readFile(path));
    expect(await parserRefitter.refitFromBytes(bytes, path), errorsOf(parserRefitter)).toBe(true);
    expect(await refitter.refitCudaEngine()).toBe(true);
    if (ctx.caps.execution) await expectLogits(ctx, await runConvbn(ctx, engine), 'convbn', 'logits_a.npy');
  });

  it('C2: refitFromBytes of an external-data model without modelPath fails, naming the missing data', async () => {
    const { refitter, parserRefitter } = await strippedA();
    const bytes = new Uint8Array(await readFile(ctx.fixtures.path('convbn', 'convbn_a_ext.onnx')));
    // Without a model path the sidecar resolves against the working directory, where it is not.
    expect(await parserRefitter.refitFromBytes(bytes)).toBe(false);
    expect(parserRefitter.getNbErrors()).toBeGreaterThan(0);
    expect(errorsOf(parserRefitter)).toMatch(/convbn_a_ext\.weights|external/i);
    expect(refitter.getMissingWeights().length).toBeGreaterThan(0);
  });

  it('C3: loadModelProto + loadInitializer (from safetensors) + refitModelProto applies a fine-tune', async (t) => {
    const backend = await ctx.factory();
    if (!hasFeature(backend.tensorrtVersion, 'IParserRefitter.loadModelProto')) skipTest(t, `loadModelProto needs TensorRT 10.13; the backend is ${backend.tensorrtVersion}`);
    // A refittable (REFIT) engine of A, refitted with B's weights that come from a checkpoint, not from an ONNX file.
    const engine = await deserialize(backend, await buildFromOnnx(backend, a(), [BuilderFlag.REFIT]));
    const refitter = backend.createRefitter(engine);
    const parserRefitter = backend.createParserRefitter(refitter);
    expect(await parserRefitter.loadModelProto(await ctx.fixtures.bytes('convbn', 'convbn_a.onnx'))).toBe(true);
    const checkpoint = await ctx.fixtures.safetensors('convbn', 'convbn_b.safetensors');
    let loaded = 0;
    for (const [name, t] of checkpoint) {
      if (t.dtype !== 'F32') continue;
      if (parserRefitter.loadInitializer(name, t.data)) loaded++;
    }
    expect(loaded).toBeGreaterThanOrEqual(13);
    expect(parserRefitter.loadInitializer('no.such.initializer', new Uint8Array(4))).toBe(false);
    expect(await parserRefitter.refitModelProto(), errorsOf(parserRefitter)).toBe(true);
    expect(await refitter.refitCudaEngine()).toBe(true);
    if (ctx.caps.execution) await expectLogits(ctx, await runConvbn(ctx, engine), 'convbn', 'logits_b.npy');
  });

  it('C3: a second loadModelProto without refitting is an error', async (t) => {
    const { backend, parserRefitter } = await strippedA();
    if (!hasFeature(backend.tensorrtVersion, 'IParserRefitter.loadModelProto')) skipTest(t, `loadModelProto needs TensorRT 10.13; the backend is ${backend.tensorrtVersion}`);
    const bytes = await ctx.fixtures.bytes('convbn', 'convbn_a.onnx');
    expect(await parserRefitter.loadModelProto(bytes)).toBe(true);
    expect(await parserRefitter.loadModelProto(bytes)).toBe(false);
    expect(parserRefitter.getNbErrors()).toBeGreaterThan(0);
  });

  it('C4: a model that is not the one the engine was built from is refused with the names that differ', async () => {
    const { refitter, parserRefitter } = await strippedA();
    expect(await parserRefitter.refitFromFile(ctx.fixtures.path('tinyxf', 'tinyxf_a.onnx'))).toBe(false);
    const errors = errorsOf(parserRefitter);
    expect(errors).toMatch(/c1\.weight|c2\.weight|fc\.weight/);
    expect(refitter.getMissingWeights().length).toBeGreaterThan(0);
    expect(await refitter.refitCudaEngine()).toBe(false);
  });

  it('C4: on a stripped REFIT_IDENTICAL engine, weights whose content differs from the build are refused by name', async (t) => {
    if (!ctx.caps.contentHashCheck) skipTest(t, 'the backend does not check REFIT_IDENTICAL refits against the build-time weights (capability contentHashCheck)');
    const { refitter, parserRefitter, logger } = await strippedA();
    // B has the same graph, names and shapes as A but other values for c1.weight, b1.running_mean and fc.*.
    const ok = await parserRefitter.refitFromFile(ctx.fixtures.path('convbn', 'convbn_b.onnx'));
    const refitted = ok && (await refitter.refitCudaEngine());
    expect(refitted).toBe(false);
    const recorder = refitter.getErrorRecorder();
    const text = [errorsOf(parserRefitter), ...logger.errors(), ...(recorder ? Array.from({ length: recorder.getNbErrors() }, (_, i) => recorder.getErrorDesc(i)) : [])].join('\n');
    expect(text).toMatch(/c1\.weight/);
    expect(text).toMatch(/fc\.weight/);
  });
}
