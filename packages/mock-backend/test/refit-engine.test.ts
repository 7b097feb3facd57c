// refitEngine: the one-call refit (names resolved, everything set, completeness checked, refit, a report), and the
// lifetimes of the public objects (dispose, Symbol.dispose, DisposedError).
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { BuilderFlag, TrtRefitErrorCode, maxRelativeError, readNpy, type Backend } from '@trt-refit/core';
import { RefitEngineError, openOnnxModel, refitEngine, refitRecipe, writeRecipeWeights } from '@trt-refit/onnx';
import { createMockBackend } from '@trt-refit/mock-backend';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const fixture = (p: string) => fileURLToPath(new URL(`../../../fixtures/${p}`, import.meta.url));
const input = readNpy(readFileSync(fixture('convbn/input.npy')));
const logits = (name: string) => readNpy(readFileSync(fixture(`convbn/${name}`))).data as Float32Array;

async function engineOf(backend: Backend, flags: BuilderFlag[]) {
  const builder = backend.createBuilder();
  const network = builder.createNetwork();
  await backend.createOnnxParser(network).parseFromFile(fixture('convbn/convbn_a.onnx'));
  const config = builder.createBuilderConfig();
  config.setFlags(flags);
  return backend.createRuntime().deserializeCudaEngine(await builder.buildSerializedNetwork(network, config));
}
const run = async (engine: Awaited<ReturnType<typeof engineOf>>) => (await engine.createExecutionContext().execute({ input })).logits!.data as Float32Array;

describe('refitEngine', () => {
  it('from an ONNX model: a stripped engine refitted in one call', async () => {
    const backend = createMockBackend();
    const engine = await engineOf(backend, [BuilderFlag.STRIP_PLAN]);
    const report = await refitEngine(backend, engine, { onnx: fixture('convbn/convbn_a.onnx') });
    expect(report).toMatchObject({ weights: 9, fromCheckpoint: 0 }); // REFIT_IDENTICAL: the GELU scalars are folded, not refittable
    expect(maxRelativeError(await run(engine), logits('logits_a.npy'))).toBeLessThanOrEqual(1e-5);
  });

  it('from a checkpoint on the ONNX structure: names matched, unmatched reported both ways, the fine-tune applied', async () => {
    const backend = createMockBackend();
    const engine = await engineOf(backend, [BuilderFlag.REFIT]);
    const report = await refitEngine(backend, engine, { onnx: fixture('convbn/convbn_a.onnx'), safetensors: fixture('convbn/convbn_b.safetensors') });
    expect(report.fromCheckpoint).toBe(13);
    expect(report.matched.every((m) => m.how === 'name')).toBe(true);
    expect(report.unmatchedCheckpoint).toEqual([]);
    expect(maxRelativeError(await run(engine), logits('logits_b.npy'))).toBeLessThanOrEqual(1e-5);
  });

  it('from a recipe and its weights file, with no ONNX model', async () => {
    const backend = createMockBackend();
    const engine = await engineOf(backend, [BuilderFlag.STRIP_PLAN]);
    const model = await openOnnxModel(fixture('convbn/convbn_a.onnx'));
    const recipe = await refitRecipe(model);
    const weights = join(mkdtempSync(join(tmpdir(), 'trt-refit-re-')), 'w.safetensors');
    await writeRecipeWeights(model, recipe, weights);
    expect((await refitEngine(backend, engine, { recipe, safetensors: weights })).fromCheckpoint).toBe(9);
    expect(maxRelativeError(await run(engine), logits('logits_a.npy'))).toBeLessThanOrEqual(1e-5);
  });

  it('a model that does not fit: RefitEngineError with every reason, and the engine is not refitted', async () => {
    const backend = createMockBackend();
    const engine = await engineOf(backend, [BuilderFlag.STRIP_PLAN]);
    const err = await refitEngine(backend, engine, { onnx: fixture('tinyxf/tinyxf_a.onnx') }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RefitEngineError);
    expect((err as RefitEngineError).code).toBe(TrtRefitErrorCode.REFIT_FAILED);
    expect((err as RefitEngineError).reasons.join('\n')).toMatch(/c1\.weight|Only successfully refitted/);
    expect(Array.from(await run(engine)).every((v) => v === 0)).toBe(true); // still stripped: zeros
  });
});

describe('lifetimes of the public objects', () => {
  it('dispose is idempotent, Symbol.dispose disposes, and use after dispose is a DisposedError on every object', async () => {
    const backend = createMockBackend();
    const engine = await engineOf(backend, [BuilderFlag.REFIT]);
    {
      using refitter = backend.createRefitter(engine);
      expect(refitter.getAllWeights().length).toBeGreaterThan(0);
      var kept = refitter; // eslint-disable-line no-var
    }
    expect(kept.disposed).toBe(true);
    expect(() => kept.getAllWeights()).toThrow(expect.objectContaining({ code: TrtRefitErrorCode.DISPOSED }));
    kept.dispose(); // idempotent
    const builder = backend.createBuilder();
    builder[Symbol.dispose]();
    expect(() => builder.createNetwork()).toThrow(expect.objectContaining({ code: TrtRefitErrorCode.DISPOSED }));
    const runtime = backend.createRuntime();
    await runtime[Symbol.asyncDispose]();
    engine.dispose();
    expect(() => engine.isRefittable()).toThrow(expect.objectContaining({ code: TrtRefitErrorCode.DISPOSED }));
  });
});
