import { expect, it } from 'vitest';
import { byteLengthFor, DataType } from '../data-type.js';
import { BuilderFlag, TensorLocation } from '../enums.js';
import { TrtRefitErrorCode } from '../errors.js';
import { isDeviceValues, type Weights } from '../weights.js';
import {
  buildFromOnnx,
  CONVBN_BN,
  CONVBN_DIRECT,
  deserialize,
  expectLogits,
  ownCopy,
  refitFromOnnx,
  refitterWithLogs,
  runConvbn,
  skipTest,
  type ConformanceContext,
} from './context.js';

export function refitScenarios(ctx: ConformanceContext): void {
  const a = () => ctx.fixtures.path('convbn', 'convbn_a.onnx');
  const b = () => ctx.fixtures.path('convbn', 'convbn_b.onnx');
  const refittableA = async () => {
    const backend = await ctx.factory();
    const engine = await deserialize(backend, await buildFromOnnx(backend, a(), [BuilderFlag.REFIT]));
    return { backend, engine };
  };

  it('A1: a REFIT engine is refittable and a refitter can be created', async () => {
    const { backend, engine } = await refittableA();
    expect(engine.isRefittable()).toBe(true);
    const refitter = backend.createRefitter(engine);
    expect(refitter.getAllWeights().length).toBeGreaterThan(0);
    refitter.dispose();
    engine.dispose();
  });

  it('A1: an engine built without a refit flag is not refittable and createRefitter fails clearly', async () => {
    const backend = await ctx.factory();
    const engine = await deserialize(backend, await buildFromOnnx(backend, a(), []));
    expect(engine.isRefittable()).toBe(false);
    let error: unknown;
    try {
      backend.createRefitter(engine);
    } catch (e) {
      error = e;
    }
    expect((error as { code?: string })?.code).toBe(TrtRefitErrorCode.NOT_REFITTABLE);
    expect(String((error as Error).message)).toMatch(/refittable/i);
  });

  it('A2: setNamedWeights accepts the prototype and refuses unknown names, other counts and other dtypes, with reasons', async () => {
    const { backend, engine } = await refittableA();
    const { refitter, logger, recorder } = refitterWithLogs(backend, engine);
    const proto = refitter.getWeightsPrototype('c1.weight');
    expect(proto.type).toBe(DataType.FLOAT);
    expect(proto.count).toBeGreaterThan(0);
    expect(refitter.getWeightsPrototype('no.such.weight').count).toBe(-1);

    const good: Weights = { type: proto.type, values: new Float32Array(proto.count), count: proto.count };
    expect(refitter.setNamedWeights('c1.weight', good)).toBe(true);

    const errorsBefore = recorder.getNbErrors();
    const logsBefore = logger.errors().length;
    expect(refitter.setNamedWeights('no.such.weight', good)).toBe(false);
    expect(recorder.getNbErrors()).toBe(errorsBefore + 1);
    expect(logger.errors().slice(logsBefore).join('\n')).toMatch(/no\.such\.weight/);

    const shorter: Weights = { type: proto.type, values: new Float32Array(proto.count - 1), count: proto.count - 1 };
    expect(refitter.setNamedWeights('c1.weight', shorter)).toBe(false);
    expect(recorder.getNbErrors()).toBe(errorsBefore + 2);
    expect(logger.errors().slice(logsBefore).join('\n')).toMatch(/count/i);

    const half: Weights = { type: DataType.HALF, values: new Uint16Array(proto.count), count: proto.count };
    expect(refitter.setNamedWeights('c1.weight', half)).toBe(false);
    expect(recorder.getNbErrors()).toBe(errorsBefore + 3);
    expect(logger.errors().slice(logsBefore).join('\n')).toMatch(/type/i);
    // The refused calls left the good weights in place.
    expect(refitter.getNamedWeights('c1.weight').values).toBe(good.values);
  });

  it('A3: setting one weight of a Conv+BN fusion group reports exactly the rest of that group missing; the set is complete', async () => {
    const { backend, engine } = await refittableA();
    const refitter = backend.createRefitter(engine);
    const all = refitter.getAllWeights();
    for (const n of CONVBN_DIRECT) expect(all).toContain(n);
    const proto = refitter.getWeightsPrototype('c1.weight');
    expect(refitter.setNamedWeights('c1.weight', { type: proto.type, values: new Float32Array(proto.count), count: proto.count })).toBe(true);
    const missing = refitter.getMissingWeights();
    expect(missing).toContain('c1.bias');
    expect(missing).not.toContain('c1.weight');
    // Only weights combined with c1.weight: nothing of the second conv or the classifier.
    for (const other of ['c2.weight', 'fc.weight', 'fc.bias']) expect(missing).not.toContain(other);
    // The folded BatchNormalization (parser-generated names) is part of the group.
    expect(missing.some((n) => !CONVBN_DIRECT.includes(n as (typeof CONVBN_DIRECT)[number]))).toBe(true);
    expect(await refitter.refitCudaEngine()).toBe(false);

    // Supply exactly the missing set, in reverse order: nothing more goes missing.
    for (const name of [...missing].reverse()) {
      const p = refitter.getWeightsPrototype(name);
      expect(p.count).toBeGreaterThanOrEqual(0);
      const bytes = new Uint8Array(byteLengthFor(p.type, p.count));
      expect(refitter.setNamedWeights(name, { type: p.type, values: bytes, count: p.count })).toBe(true);
    }
    expect(refitter.getMissingWeights()).toEqual([]);
    expect(await refitter.refitCudaEngine()).toBe(true);
  });

  it('A3: an engine built from convbn_a, refitted with convbn_b, gives logits_b', async (t) => {
    if (!ctx.caps.execution) skipTest(t, 'numerical check: this backend does not execute engines');
    const { backend, engine } = await refittableA();
    await expectLogits(ctx, await runConvbn(ctx, engine), 'convbn', 'logits_a.npy');
    const refitter = backend.createRefitter(engine);
    await refitFromOnnx(backend, refitter, b());
    expect(await refitter.refitCudaEngine()).toBe(true);
    await expectLogits(ctx, await runConvbn(ctx, engine), 'convbn', 'logits_b.npy');
  });

  it('A4: device weights mix with host weights; location and getNamedWeights report what was set', async () => {
    const { backend, engine } = await refittableA();
    const refitter = backend.createRefitter(engine);
    await refitFromOnnx(backend, refitter, b());
    // Move every weight of B that is in the Conv1 group to the device; keep the others on the host.
    const device = new Map<string, ReturnType<Backend['device']['fromHost']>>();
    for (const name of refitter.getAllWeights().filter((n) => n.startsWith('c1.') || n.startsWith('fc.'))) {
      const w = refitter.getNamedWeights(name);
      expect(w.values).not.toBeNull();
      const buf = backend.device.fromHost(w.values as ArrayBufferView);
      device.set(name, buf);
      expect(refitter.setNamedWeights(name, { type: w.type, values: buf, count: w.count }, TensorLocation.DEVICE)).toBe(true);
      expect(refitter.getWeightsLocation(name)).toBe(TensorLocation.DEVICE);
      const back = refitter.getNamedWeights(name);
      expect(back.values).toBe(buf);
      expect(isDeviceValues(back.values)).toBe(true);
    }
    expect(device.size).toBeGreaterThanOrEqual(3);
    expect(refitter.getWeightsLocation('c2.weight')).toBe(TensorLocation.HOST);
    expect(await refitter.refitCudaEngine()).toBe(true);
    if (ctx.caps.execution) await expectLogits(ctx, await runConvbn(ctx, engine), 'convbn', 'logits_b.npy');
    for (const name of device.keys()) expect(refitter.unsetNamedWeights(name)).toBe(true);
    for (const buf of device.values()) buf.dispose();
  });

  it('A5: refitCudaEngineAsync on a stream, then synchronize, gives the same result', async () => {
    const { backend, engine } = await refittableA();
    const refitter = backend.createRefitter(engine);
    await refitFromOnnx(backend, refitter, b());
    const stream = backend.device.createStream();
    expect(await refitter.refitCudaEngineAsync(stream)).toBe(true);
    await stream.synchronize();
    if (ctx.caps.execution) await expectLogits(ctx, await runConvbn(ctx, engine), 'convbn', 'logits_b.npy');
    stream.dispose();
    stream.dispose(); // idempotent
  });

  it('A6: updating a set buffer in place is picked up by the next refit; unset makes a weight unused', async () => {
    const { backend, engine } = await refittableA();
    const refitter = backend.createRefitter(engine);
    await refitFromOnnx(backend, refitter, a());
    const fcBias = refitter.getNamedWeights('fc.bias');
    const owned = new Float32Array(ownCopy(fcBias.values as ArrayBufferView).buffer);
    expect(refitter.setNamedWeights('fc.bias', { type: fcBias.type, values: owned, count: fcBias.count })).toBe(true);
    expect(await refitter.refitCudaEngine()).toBe(true);
    const before = ctx.caps.execution ? await runConvbn(ctx, engine) : undefined;
    owned[0] = owned[0]! + 1; // the Gemm bias adds straight onto logits[:, 0]
    expect(await refitter.refitCudaEngine()).toBe(true);
    if (before) {
      const after = await runConvbn(ctx, engine);
      const classes = owned.length;
      for (let i = 0; i < after.length; i++) {
        const delta = i % classes === 0 ? 1 : 0;
        expect(Math.abs(after[i]! - before[i]! - delta)).toBeLessThanOrEqual(1e-5);
      }
    }
    expect(refitter.unsetNamedWeights('fc.bias')).toBe(true);
    expect(refitter.unsetNamedWeights('fc.bias')).toBe(false); // no longer set
    expect(refitter.getMissingWeights()).toContain('fc.bias'); // fc.weight is still set and fused with it
  });

  it('A6: unsetNamedWeights is false for a weight that was never set', async () => {
    const { backend, engine } = await refittableA();
    const { refitter } = refitterWithLogs(backend, engine);
    expect(refitter.unsetNamedWeights('c2.weight')).toBe(false);
    expect(refitter.unsetNamedWeights('no.such.weight')).toBe(false);
  });

  it('A7: getAllWeights lists every refittable weight, not the folded BatchNormalization parameters', async () => {
    const { backend, engine } = await refittableA();
    const refitter = backend.createRefitter(engine);
    const all = refitter.getAllWeights();
    expect(new Set(all).size).toBe(all.length);
    for (const n of CONVBN_DIRECT) expect(all).toContain(n);
    for (const n of CONVBN_BN) expect(all).not.toContain(n);
    for (const n of all) expect(refitter.getWeightsPrototype(n).count).toBeGreaterThanOrEqual(0);
  });

  it('A7: an execution context created before a refit keeps working and sees the new weights', async (t) => {
    if (!ctx.caps.execution) skipTest(t, 'numerical check: this backend does not execute engines');
    const { backend, engine } = await refittableA();
    const input = await ctx.fixtures.npy('convbn', 'input.npy');
    const context = engine.createExecutionContext();
    const first = Object.values(await context.execute({ input }))[0]!.data as Float32Array;
    await expectLogits(ctx, first, 'convbn', 'logits_a.npy');
    const refitter = backend.createRefitter(engine);
    await refitFromOnnx(backend, refitter, b());
    expect(await refitter.refitCudaEngine()).toBe(true);
    const second = Object.values(await context.execute({ input }))[0]!.data as Float32Array;
    await expectLogits(ctx, second, 'convbn', 'logits_b.npy');
    context.dispose();
  });
}

type Backend = import('../interfaces.js').Backend;
