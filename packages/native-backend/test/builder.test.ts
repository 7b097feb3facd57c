import { describe, expect, it } from 'vitest';
import { BuilderFlag, DataType, Severity, TrtRefitErrorCode, WeightsRole } from '@trt-refit/core';
import { loadNativeBackend, NativeNetworkDefinition } from '../src/index.js';
import { CONVBN, fakeBinding, modelBytes } from './fake-binding.js';
import { MODEL_PATH, buildEngine, setup } from './helpers.js';

async function parsed(s: ReturnType<typeof setup>) {
  const builder = s.backend.createBuilder();
  const network = builder.createNetwork();
  expect(await s.backend.createOnnxParser(network).parseFromFile(MODEL_PATH)).toBe(true);
  return { builder, network, config: builder.createBuilderConfig() };
}

describe('NativeBuilder / NativeBuilderConfig (fake addon)', () => {
  it('maps flag names to the loaded major\'s bit numbers (10.x and 11.x differ)', async () => {
    for (const [version, bits] of [
      ['10.16.1', { STRIP_PLAN: 19, REFIT_IDENTICAL: 20 }],
      ['11.1.0', { STRIP_PLAN: 18, REFIT_IDENTICAL: 19 }],
    ] as const) {
      const s = setup({ version });
      const { builder, network, config } = await parsed(s);
      config.setFlags([BuilderFlag.STRIP_PLAN, BuilderFlag.REFIT_IDENTICAL]);
      expect(config.getFlags().sort()).toEqual([BuilderFlag.REFIT_IDENTICAL, BuilderFlag.STRIP_PLAN]);
      await builder.buildSerializedNetwork(network, config);
      const mask = s.binding.state.builds[0]!.mask;
      expect((mask >>> bits.STRIP_PLAN) & 1).toBe(1);
      expect((mask >>> bits.REFIT_IDENTICAL) & 1).toBe(1);
    }
  });

  it('setFlags replaces the modelled flags but keeps TensorRT defaults in other bits; setFlag/clearFlag/getFlag work bit by bit', async () => {
    const s = setup();
    const { builder, network, config } = await parsed(s);
    config.setFlags([BuilderFlag.REFIT]);
    config.setFlag(BuilderFlag.STRIP_PLAN);
    expect(config.getFlag(BuilderFlag.STRIP_PLAN)).toBe(true);
    config.clearFlag(BuilderFlag.REFIT);
    expect(config.getFlag(BuilderFlag.REFIT)).toBe(false);
    expect(config.getFlags()).toEqual([BuilderFlag.STRIP_PLAN]);
    await builder.buildSerializedNetwork(network, config);
    expect(s.binding.state.builds[0]!.mask).toBe(((1 << 30) | (1 << 19)) >>> 0);
  });

  it('unknown flags are TypeErrors; flags the loaded version lacks are UNSUPPORTED_FEATURE', () => {
    const s = setup({ version: '10.1.0' });
    const config = s.backend.createBuilder().createBuilderConfig();
    expect(() => config.setFlag('FP16' as BuilderFlag)).toThrow(/flag must be a BuilderFlag/);
    expect(() => config.setFlags([BuilderFlag.REFIT, 'NOPE' as BuilderFlag])).toThrow(/flags\[1\] must be a BuilderFlag/);
    expect(() => config.setFlag(BuilderFlag.REFIT_INDIVIDUAL)).toThrow(expect.objectContaining({ code: TrtRefitErrorCode.UNSUPPORTED_FEATURE }));
    expect(() => config.setFlags(7 as unknown as BuilderFlag[])).toThrow(/flags must be an iterable/);
  });

  it('REFIT_INDIVIDUAL with REFIT is refused with the rule named, before TensorRT is called', async () => {
    const s = setup();
    const { builder, network, config } = await parsed(s);
    config.setFlags([BuilderFlag.REFIT_INDIVIDUAL, BuilderFlag.REFIT]);
    await expect(builder.buildSerializedNetwork(network, config)).rejects.toMatchObject({ code: TrtRefitErrorCode.INVALID_FLAGS, message: expect.stringMatching(/REFIT_INDIVIDUAL.*REFIT/) });
    expect(s.binding.state.calls).not.toContain('buildSerializedNetwork');
  });

  it('EXCLUDE_LEAN_RUNTIME without VERSION_COMPATIBLE builds, with a warning logged', async () => {
    const s = setup();
    const { builder, network, config } = await parsed(s);
    config.setFlags([BuilderFlag.EXCLUDE_LEAN_RUNTIME, BuilderFlag.REFIT]);
    await builder.buildSerializedNetwork(network, config);
    expect(s.logger.messages).toContainEqual({ severity: Severity.WARNING, message: expect.stringMatching(/EXCLUDE_LEAN_RUNTIME is ignored/) });
  });

  it('adds one optimization profile for dynamic inputs from dynamicDims, or the one the config names', async () => {
    const s = setup();
    const { builder, network, config } = await parsed(s);
    await builder.buildSerializedNetwork(network, config);
    expect(s.binding.state.builds[0]!.profiles).toEqual([[{ name: 'input', min: [1, 3, 16, 16], opt: [8, 3, 16, 16], max: [64, 3, 16, 16] }]]);

    const binding = fakeBinding();
    binding.files.set(MODEL_PATH, CONVBN);
    const backend = loadNativeBackend({ binding, env: {}, dynamicDims: { min: 2, opt: 2, max: 4 } });
    const b2 = backend.createBuilder();
    const n2 = b2.createNetwork();
    await backend.createOnnxParser(n2).parseFromFile(MODEL_PATH);
    const c2 = b2.createBuilderConfig();
    c2.setOptimizationProfile('input', { min: [1, 3, 16, 16], opt: [4, 3, 16, 16], max: [16, 3, 16, 16] });
    expect(() => c2.setOptimizationProfile('input', { min: [1], opt: [-1], max: [1] })).toThrow(/dims\.opt\[0\]/);
    await b2.buildSerializedNetwork(n2, c2);
    expect(binding.state.builds[0]!.profiles[0]![0]!.opt).toEqual([4, 3, 16, 16]);
  });

  it('networks: parsed ones read inputs back from TensorRT and forward marking; hand-built layers cannot join them', async () => {
    const s = setup();
    const { builder, network, config } = await parsed(s);
    expect(network).toBeInstanceOf(NativeNetworkDefinition);
    expect(network.inputs).toEqual([{ name: 'input', dtype: DataType.FLOAT, dims: [-1, 3, 16, 16] }]);
    expect(network.markWeightsRefittable('c1.weight')).toBe(true);
    expect(network.areWeightsMarkedRefittable('c1.weight')).toBe(true);
    expect(network.markWeightsRefittable('no.such')).toBe(false);
    expect(network.unmarkWeightsRefittable('c1.weight')).toBe(true);
    const w = { type: DataType.FLOAT, values: new Float32Array(2), count: 2 };
    expect(network.setWeightsName(w, 'x')).toBe(false);

    network.addConstant('extra', w, [2]); // hand-built layers on a parsed network cannot reach TensorRT
    await expect(builder.buildSerializedNetwork(network, config)).rejects.toMatchObject({ code: TrtRefitErrorCode.UNSUPPORTED_FEATURE, message: expect.stringMatching(/network of their own/) });
    const empty = builder.createNetwork();
    await expect(builder.buildSerializedNetwork(empty, config)).rejects.toMatchObject({ code: TrtRefitErrorCode.BUILD_FAILED, message: expect.stringMatching(/empty/) });
  });

  it('hand-built networks reach TensorRT as ONNX through its parser: same weight names, marks forwarded', async () => {
    const s = setup();
    const builder = s.backend.createBuilder();
    const network = builder.createNetwork();
    const kernel = { type: DataType.FLOAT, values: new Float32Array(4 * 2 * 9).fill(0.5), count: 72 };
    const bias = { type: DataType.FLOAT, values: new Float32Array(4), count: 4 };
    network.addInput('x', DataType.FLOAT, ['N', 2, 5, 5]);
    network.addLayer({ name: 'conv', type: 'Conv', inputs: ['x'], outputs: ['c'], attributes: { kernel_shape: [3, 3], pads: [1, 1, 1, 1] }, weights: [
      { role: WeightsRole.KERNEL, weights: kernel, dims: [4, 2, 3, 3] },
      { role: WeightsRole.BIAS, weights: bias, dims: [4] },
    ] });
    network.addConstant('half', { type: DataType.FLOAT, values: new Float32Array([0.5]), count: 1 }, []);
    network.addLayer({ name: 'mul', type: 'Mul', inputs: ['c', 'half'], outputs: ['y'] });
    network.markOutput('y', DataType.FLOAT, ['N', 4, 5, 5]);
    expect(network.setWeightsName(kernel, 'conv.kernel')).toBe(true);
    expect(network.markWeightsRefittable('conv.kernel')).toBe(true);
    const config = builder.createBuilderConfig();
    config.setFlags([BuilderFlag.REFIT_INDIVIDUAL]);
    const plan = JSON.parse(new TextDecoder().decode(await builder.buildSerializedNetwork(network, config))) as { model: { weights: { name: string; count: number }[]; inputs: { name: string; dims: number[] }[] }; marked: string[] };
    expect(plan.model.weights.map((w) => [w.name, w.count]).sort()).toEqual([['conv.kernel', 72], ['conv_bias', 4], ['half_constant', 1]]);
    expect(plan.marked).toEqual(['conv.kernel']);
    expect(plan.model.inputs).toEqual([{ name: 'x', dtype: 0, dims: [-1, 2, 5, 5] }]);
    // after the build the network is TensorRT's: marks are forwarded, the same layers build again, new ones are refused
    expect(network.lowered).toBe(true);
    expect(network.areWeightsMarkedRefittable('conv.kernel')).toBe(true);
    expect(network.markWeightsRefittable('conv_bias')).toBe(true);
    const again = JSON.parse(new TextDecoder().decode(await builder.buildSerializedNetwork(network, config))) as { marked: string[] };
    expect(again.marked.sort()).toEqual(['conv.kernel', 'conv_bias']);
    network.addLayer({ name: 'relu', type: 'Relu', inputs: ['y'], outputs: ['z'] });
    await expect(builder.buildSerializedNetwork(network, config)).rejects.toMatchObject({ code: TrtRefitErrorCode.UNSUPPORTED_FEATURE, message: expect.stringMatching(/layers were added after/) });

    // layers ONNX cannot carry under the same names are refused before TensorRT sees anything
    const scale = builder.createNetwork();
    scale.addInput('x', DataType.FLOAT, [1, 2, 2, 2]);
    scale.addLayer({ name: 'bn', type: 'Scale', inputs: ['x'], outputs: ['y'], weights: [{ role: WeightsRole.SCALE, weights: bias, dims: [4] }] });
    scale.markOutput('y');
    await expect(builder.buildSerializedNetwork(scale, config)).rejects.toMatchObject({ code: TrtRefitErrorCode.UNSUPPORTED_FEATURE, message: expect.stringMatching(/layer bn \(Scale\)/) });
  });

  it('networks and configs of another builder are TypeErrors', async () => {
    const s = setup();
    const a = await parsed(s);
    const b = await parsed(s);
    await expect(a.builder.buildSerializedNetwork(b.network, a.config)).rejects.toThrow(/network must be a network created by this builder/);
    await expect(a.builder.buildSerializedNetwork(a.network, b.config)).rejects.toThrow(/config must be a config created by this builder/);
  });

  it('parse: bytes (made-up models are refused with parser errors), modelPath made absolute; errors mapped', async () => {
    const s = setup();
    const builder = s.backend.createBuilder();
    const network = builder.createNetwork();
    const parser = s.backend.createOnnxParser(network);
    expect(await parser.parse(new Uint8Array([0xff, 0x00]))).toBe(false);
    expect(parser.getNbErrors()).toBe(1);
    expect(parser.getError(0)).toMatchObject({ code: 'MODEL_DESERIALIZE_FAILED', desc: expect.stringMatching(/could not read/) });
    expect(parser.getError(5)).toBeUndefined();
    parser.clearErrors();
    expect(await parser.parse(modelBytes(CONVBN), 'relative/model.onnx')).toBe(true);
    expect(network.parsed).toBe(true);
    await expect(parser.parse('x' as unknown as Uint8Array)).rejects.toThrow(/bytes must be a Uint8Array/);
    expect(() => s.backend.createOnnxParser({} as never)).toThrow(/network must be a network from a native builder/);
  });

  it('a build failure carries TensorRT\'s logged errors; dispose releases networks and configs', async () => {
    const s = setup();
    const builder = s.backend.createBuilder();
    const network = builder.createNetwork();
    const parser = s.backend.createOnnxParser(network);
    await parser.parseFromFile(MODEL_PATH);
    (network.native as unknown as { model: undefined }).model = undefined;
    const config = builder.createBuilderConfig();
    const raw = network.native as unknown as { getNbLayers(): number };
    raw.getNbLayers = () => 3;
    await expect(builder.buildSerializedNetwork(network, config)).rejects.toMatchObject({
      code: TrtRefitErrorCode.BUILD_FAILED,
      message: expect.stringMatching(/could not build the network.*network has no layers/),
    });
    builder.dispose();
    builder.dispose();
    expect(network.disposed).toBe(true);
    expect(config.disposed).toBe(true);
    expect(() => builder.createNetwork()).toThrow(expect.objectContaining({ code: TrtRefitErrorCode.DISPOSED }));
    expect(() => config.getFlags()).toThrow(expect.objectContaining({ code: TrtRefitErrorCode.DISPOSED }));
  });

  it('a built plan deserializes; a foreign plan is INVALID_PLAN with TensorRT\'s reason and the hints', async () => {
    const s = setup();
    const engine = await buildEngine(s, [BuilderFlag.REFIT]);
    expect(engine.isRefittable()).toBe(true);
    const runtime = s.backend.createRuntime();
    await expect(runtime.deserializeCudaEngine(new Uint8Array([1, 2, 3]))).rejects.toMatchObject({
      code: TrtRefitErrorCode.INVALID_PLAN,
      message: expect.stringMatching(/magic tag mismatch.*setEngineHostCodeAllowed\(true\).*loadRuntime/),
    });
    await expect(runtime.deserializeCudaEngine(new Uint8Array(0))).rejects.toThrow(RangeError);
    expect(() => runtime.setEngineHostCodeAllowed('yes' as unknown as boolean)).toThrow(/allowed must be a boolean/);
    runtime.setEngineHostCodeAllowed(true);
    expect(runtime.getEngineHostCodeAllowed()).toBe(true);
  });
});
