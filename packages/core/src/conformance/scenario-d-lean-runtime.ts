import { expect, it } from 'vitest';
import { BuilderFlag } from '../enums.js';
import { buildFromOnnx, expectLogits, refitFromOnnx, runConvbn, skipTest, type ConformanceContext } from './context.js';

export function leanRuntimeScenarios(ctx: ConformanceContext): void {
  const a = () => ctx.fixtures.path('convbn', 'convbn_a.onnx');

  it('D1: a VERSION_COMPATIBLE + EXCLUDE_LEAN_RUNTIME + STRIP_PLAN plan loads only through loadRuntime, then refits as in B', async (t) => {
    if (!ctx.leanRuntimePath) skipTest(t, 'no lean runtime library was given to the suite (leanRuntimePath)');
    const backend = await ctx.factory();
    const plan = await buildFromOnnx(backend, a(), [BuilderFlag.VERSION_COMPATIBLE, BuilderFlag.EXCLUDE_LEAN_RUNTIME, BuilderFlag.STRIP_PLAN]);
    const plain = backend.createRuntime();
    plain.setEngineHostCodeAllowed(true);
    await expect(plain.deserializeCudaEngine(plan)).rejects.toThrow(/lean runtime|loadRuntime/i);
    const lean = await plain.loadRuntime(await ctx.leanRuntimePath());
    const engine = await lean.deserializeCudaEngine(plan);
    expect(engine.isRefittable()).toBe(true);
    const refitter = backend.createRefitter(engine);
    await refitFromOnnx(backend, refitter, a());
    expect(await refitter.refitCudaEngine()).toBe(true);
    if (ctx.caps.execution) await expectLogits(ctx, await runConvbn(ctx, engine), 'convbn', 'logits_a.npy');
  });

  it('D1: loadRuntime of a file that is not a lean runtime fails clearly', async () => {
    const backend = await ctx.factory();
    await expect(backend.createRuntime().loadRuntime(ctx.fixtures.path('convbn', 'input.npy'))).rejects.toThrow();
  });

  it('D2: EXCLUDE_LEAN_RUNTIME without VERSION_COMPATIBLE is ignored', async () => {
    const backend = await ctx.factory();
    const plan = await buildFromOnnx(backend, a(), [BuilderFlag.EXCLUDE_LEAN_RUNTIME, BuilderFlag.REFIT]);
    const engine = await backend.createRuntime().deserializeCudaEngine(plan);
    expect(engine.isRefittable()).toBe(true);
    if (ctx.caps.execution) await expectLogits(ctx, await runConvbn(ctx, engine), 'convbn', 'logits_a.npy');
  });

  it('D2: a version-compatible plan that embeds the lean runtime needs setEngineHostCodeAllowed(true)', async () => {
    const backend = await ctx.factory();
    const plan = await buildFromOnnx(backend, a(), [BuilderFlag.VERSION_COMPATIBLE, BuilderFlag.REFIT]);
    const runtime = backend.createRuntime();
    expect(runtime.getEngineHostCodeAllowed()).toBe(false);
    await expect(runtime.deserializeCudaEngine(plan)).rejects.toThrow(/host code|setEngineHostCodeAllowed/i);
    runtime.setEngineHostCodeAllowed(true);
    const engine = await runtime.deserializeCudaEngine(plan);
    expect(engine.isRefittable()).toBe(true);
    if (ctx.caps.execution) await expectLogits(ctx, await runConvbn(ctx, engine), 'convbn', 'logits_a.npy');
  });
}
