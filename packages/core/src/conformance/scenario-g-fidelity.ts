import { expect, it } from 'vitest';
import { BuilderFlag } from '../enums.js';
import { onnxParserRules } from '../parser-rules.js';
import { buildFromOnnx, deserialize, refitterWithLogs, skipTest, type ConformanceContext } from './context.js';

/**
 * G. The TensorRT behaviours docs/fidelity.md lists that hold on real TensorRT too: generated weight names of the
 * backend's version, one model per parser refitter, and what a failed refit does and does not promise. A backend
 * that passes these names and refits weights as TensorRT of its version does.
 */
export function fidelityScenarios(ctx: ConformanceContext): void {
  const errorsOf = (p: { getNbErrors(): number; getError(i: number): { desc: string } | undefined }) =>
    Array.from({ length: p.getNbErrors() }, (_, i) => p.getError(i)?.desc ?? '').join('\n');

  it('G1: folded BatchNormalization weights carry the generated names of the backend\'s TensorRT version', async () => {
    const backend = await ctx.factory();
    const base = onnxParserRules(backend.tensorrtVersion).refittableTempBase;
    const engine = await deserialize(backend, await buildFromOnnx(backend, ctx.fixtures.path('convbn', 'convbn_a.onnx'), [BuilderFlag.REFIT]));
    const names = backend.createRefitter(engine).getAllWeights();
    expect(names.filter((n) => n.startsWith('tmp_')).sort()).toEqual([base, `${base}_0`, `${base}_1`, `${base}_2`].sort());
  });

  it('G2: a leading ConstantOfShape takes a generated name from 10.14 (its value is refittable), shifting the fold names', async () => {
    const backend = await ctx.factory();
    const rules = onnxParserRules(backend.tensorrtVersion);
    const engine = await deserialize(backend, await buildFromOnnx(backend, ctx.fixtures.path('cosconvbn', 'cosconvbn_a.onnx'), [BuilderFlag.REFIT]));
    const names = backend.createRefitter(engine).getAllWeights().filter((n) => n.startsWith('tmp_'));
    const base = rules.refittableTempBase;
    expect(names.sort()).toEqual((rules.constantOfShapeWeights ? [base, `${base}_0`, `${base}_1`] : [base, `${base}_0`]).sort());
  });

  it('G3: one parser refitter refits one model: a second refitFromFile returns false ("A model was previously parsed!")', async (t) => {
    const backend = await ctx.factory();
    if (!onnxParserRules(backend.tensorrtVersion).oneModelPerParserRefitter) skipTest(t, `TensorRT ${backend.tensorrtVersion} takes a second model (rule P-ONE-MODEL)`);
    const engine = await deserialize(backend, await buildFromOnnx(backend, ctx.fixtures.path('convbn', 'convbn_a.onnx'), [BuilderFlag.STRIP_PLAN]));
    const { refitter } = refitterWithLogs(backend, engine);
    const parserRefitter = backend.createParserRefitter(refitter);
    expect(await parserRefitter.refitFromFile(ctx.fixtures.path('convbn', 'convbn_a.onnx')), errorsOf(parserRefitter)).toBe(true);
    expect(await parserRefitter.refitFromFile(ctx.fixtures.path('convbn', 'convbn_a.onnx'))).toBe(false);
    expect(errorsOf(parserRefitter)).toMatch(/A model was previously parsed!/);
    // a new parser refitter on the same refitter takes the next model
    expect(await backend.createParserRefitter(refitter).refitFromFile(ctx.fixtures.path('convbn', 'convbn_a.onnx'))).toBe(true);
    expect(await refitter.refitCudaEngine()).toBe(true);
  });

  it('G4: a refit with weights missing returns false; TensorRT promises nothing about the weights then, but a complete refit afterwards succeeds', async () => {
    const backend = await ctx.factory();
    const engine = await deserialize(backend, await buildFromOnnx(backend, ctx.fixtures.path('convbn', 'convbn_a.onnx'), [BuilderFlag.REFIT]));
    const { refitter } = refitterWithLogs(backend, engine);
    const p = refitter.getWeightsPrototype('fc.weight');
    expect(refitter.setNamedWeights('fc.weight', { type: p.type, values: new Float32Array(p.count), count: p.count })).toBe(true);
    expect(refitter.getMissingWeights()).toEqual(['fc.bias']);
    expect(await refitter.refitCudaEngine()).toBe(false);
    // No assertion on the engine's weights here: "If false is returned, a subset of weights may have been refitted".
    const q = refitter.getWeightsPrototype('fc.bias');
    expect(refitter.setNamedWeights('fc.bias', { type: q.type, values: new Float32Array(q.count), count: q.count })).toBe(true);
    expect(await refitter.refitCudaEngine()).toBe(true);
  });

  it('G5: the parser refitter stops at the first weight that does not fit, naming it', async () => {
    const backend = await ctx.factory();
    const engine = await deserialize(backend, await buildFromOnnx(backend, ctx.fixtures.path('convbn', 'convbn_a.onnx'), [BuilderFlag.STRIP_PLAN]));
    const { refitter } = refitterWithLogs(backend, engine);
    const parserRefitter = backend.createParserRefitter(refitter);
    expect(await parserRefitter.refitFromFile(ctx.fixtures.path('cosconvbn', 'cosconvbn_a.onnx'))).toBe(false);
    expect(parserRefitter.getNbErrors()).toBeGreaterThan(0);
    expect(refitter.getMissingWeights().length).toBeGreaterThan(0);
  });
}
