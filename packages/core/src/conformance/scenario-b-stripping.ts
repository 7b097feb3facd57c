import { expect, it } from 'vitest';
import { BuilderFlag, EngineStat, SerializationFlag } from '../enums.js';
import { hasFeature } from '../version.js';
import { buildFromOnnx, deserialize, expectLogits, refitFromOnnx, runConvbn, skipTest, type ConformanceContext } from './context.js';

export function strippingScenarios(ctx: ConformanceContext): void {
  const a = () => ctx.fixtures.path('convbn', 'convbn_a.onnx');

  for (const [label, flags] of [
    ['STRIP_PLAN (REFIT_IDENTICAL implied)', [BuilderFlag.STRIP_PLAN]],
    ['STRIP_PLAN + REFIT', [BuilderFlag.STRIP_PLAN, BuilderFlag.REFIT]],
  ] as const) {
    it(`B1: a ${label} plan holds no refittable weight data; getEngineStat reports the sizes`, async () => {
      const backend = await ctx.factory();
      const full = await buildFromOnnx(backend, a(), (flags as readonly BuilderFlag[]).includes(BuilderFlag.REFIT) ? [BuilderFlag.REFIT] : [BuilderFlag.REFIT_IDENTICAL]);
      const stripped = await buildFromOnnx(backend, a(), flags);
      const engine = await deserialize(backend, stripped);
      const refitter = backend.createRefitter(engine);
      const all = refitter.getAllWeights();
      const refittableBytes = all.reduce((sum, n) => {
        const p = refitter.getWeightsPrototype(n);
        return sum + p.count * 4;
      }, 0);
      expect(refittableBytes).toBeGreaterThan(4000);
      expect(stripped.byteLength).toBeLessThanOrEqual(full.byteLength - 0.9 * refittableBytes);
      if (hasFeature(backend.tensorrtVersion, 'ICudaEngine.getEngineStat')) {
        const total = engine.getEngineStat(EngineStat.TOTAL_WEIGHTS_SIZE);
        const strippedSize = engine.getEngineStat(EngineStat.STRIPPED_WEIGHTS_SIZE);
        expect(strippedSize).toBeGreaterThanOrEqual(0.9 * refittableBytes);
        expect(total).toBeGreaterThanOrEqual(strippedSize);
        const fullEngine = await deserialize(backend, full);
        expect(fullEngine.getEngineStat(EngineStat.STRIPPED_WEIGHTS_SIZE)).toBe(-1);
      }
    });
  }

  it('B2: a stripped engine is refittable, outputs zeros before refit, and the original outputs after', async () => {
    const backend = await ctx.factory();
    const engine = await deserialize(backend, await buildFromOnnx(backend, a(), [BuilderFlag.STRIP_PLAN]));
    expect(engine.isRefittable()).toBe(true);
    if (ctx.caps.execution) {
      const zeros = await runConvbn(ctx, engine);
      expect(Array.from(zeros).every((v) => v === 0)).toBe(true);
    }
    const refitter = backend.createRefitter(engine);
    const all = refitter.getAllWeights();
    expect(refitter.getMissingWeights().sort()).toEqual([...all].sort()); // every stripped weight is missing
    expect(await refitter.refitCudaEngine()).toBe(false);
    await refitFromOnnx(backend, refitter, a());
    expect(await refitter.refitCudaEngine()).toBe(true);
    if (ctx.caps.execution) await expectLogits(ctx, await runConvbn(ctx, engine), 'convbn', 'logits_a.npy');
  });

  it('B3: the default serialization config of a stripped engine excludes weights', async () => {
    const backend = await ctx.factory();
    const engine = await deserialize(backend, await buildFromOnnx(backend, a(), [BuilderFlag.STRIP_PLAN]));
    expect(engine.createSerializationConfig().getFlag(SerializationFlag.EXCLUDE_WEIGHTS)).toBe(true);
    const notStripped = await deserialize(backend, await buildFromOnnx(backend, a(), [BuilderFlag.REFIT]));
    expect(notStripped.createSerializationConfig().getFlag(SerializationFlag.EXCLUDE_WEIGHTS)).toBe(false);
  });

  it('B3: serializing a refitted stripped engine without EXCLUDE_WEIGHTS gives a full plan that runs with no refit and is not refittable', async () => {
    const backend = await ctx.factory();
    const engine = await deserialize(backend, await buildFromOnnx(backend, a(), [BuilderFlag.STRIP_PLAN]));
    const refitter = backend.createRefitter(engine);
    await refitFromOnnx(backend, refitter, a());
    expect(await refitter.refitCudaEngine()).toBe(true);
    const config = engine.createSerializationConfig();
    expect(config.clearFlag(SerializationFlag.EXCLUDE_WEIGHTS)).toBe(true);
    const fullPlan = engine.serializeWithConfig(config);
    const full = await deserialize(backend, fullPlan);
    expect(full.isRefittable()).toBe(false);
    if (ctx.caps.execution) await expectLogits(ctx, await runConvbn(ctx, full), 'convbn', 'logits_a.npy');
  });

  it('B3: with INCLUDE_REFIT (10.14+) the full plan stays refittable', async (t) => {
    const backend = await ctx.factory();
    if (!hasFeature(backend.tensorrtVersion, 'SerializationFlag.INCLUDE_REFIT')) skipTest(t, `INCLUDE_REFIT needs TensorRT 10.14; the backend is ${backend.tensorrtVersion}`);
    const engine = await deserialize(backend, await buildFromOnnx(backend, a(), [BuilderFlag.STRIP_PLAN]));
    const refitter = backend.createRefitter(engine);
    await refitFromOnnx(backend, refitter, a());
    expect(await refitter.refitCudaEngine()).toBe(true);
    const config = engine.createSerializationConfig();
    config.clearFlag(SerializationFlag.EXCLUDE_WEIGHTS);
    expect(config.setFlag(SerializationFlag.INCLUDE_REFIT)).toBe(true);
    const full = await deserialize(backend, engine.serializeWithConfig(config));
    expect(full.isRefittable()).toBe(true);
    if (ctx.caps.execution) await expectLogits(ctx, await runConvbn(ctx, full), 'convbn', 'logits_a.npy');
    // It needs no refit to run, and can be refitted again.
    const again = backend.createRefitter(full);
    expect(again.getMissingWeights()).toEqual([]);
    await refitFromOnnx(backend, again, ctx.fixtures.path('convbn', 'convbn_a.onnx'));
    expect(await again.refitCudaEngine()).toBe(true);
  });
}
