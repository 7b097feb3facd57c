import { describe, expect, it } from 'vitest';
import { BuilderFlag, DataType, EngineStat, SerializationFlag, TrtRefitErrorCode } from '@trt-refit/core';
import { parseEngineLayers } from '../src/index.js';
import { outputTensor } from '../src/execution-context.js';
import { buildEngine, setup } from './helpers.js';

describe('NativeCudaEngine, serialization config, execution (fake addon)', () => {
  it('serialization flags by name; the default config of a stripped engine excludes weights', async () => {
    const s = setup();
    const engine = await buildEngine(s, [BuilderFlag.STRIP_PLAN]);
    const config = engine.createSerializationConfig();
    expect(config.getFlags()).toEqual([SerializationFlag.EXCLUDE_WEIGHTS]);
    expect(config.clearFlag(SerializationFlag.EXCLUDE_WEIGHTS)).toBe(true);
    expect(config.setFlag(SerializationFlag.INCLUDE_REFIT)).toBe(true);
    expect(config.getFlag(SerializationFlag.INCLUDE_REFIT)).toBe(true);
    const plan = engine.serializeWithConfig(config);
    expect(JSON.parse(new TextDecoder().decode(plan)).serializationFlags).toBe(1 << 2);
    expect(config.setFlags([SerializationFlag.EXCLUDE_LEAN_RUNTIME])).toBe(true);
    expect(config.getFlags()).toEqual([SerializationFlag.EXCLUDE_LEAN_RUNTIME]);
    expect(() => config.setFlag('NOPE' as SerializationFlag)).toThrow(/flag must be a SerializationFlag/);
    expect(() => engine.serializeWithConfig({} as never)).toThrow(/config must be a SerializationConfig/);
  });

  it('INCLUDE_REFIT and getEngineStat are refused on TensorRT older than 10.14', async () => {
    const s = setup({ version: '10.13.2' });
    const engine = await buildEngine(s, [BuilderFlag.STRIP_PLAN]);
    expect(() => engine.createSerializationConfig().setFlag(SerializationFlag.INCLUDE_REFIT)).toThrow(expect.objectContaining({ code: TrtRefitErrorCode.UNSUPPORTED_FEATURE }));
    expect(() => engine.getEngineStat(EngineStat.TOTAL_WEIGHTS_SIZE)).toThrow(/needs TensorRT 10\.14/);
  });

  it('getEngineStat maps the stat names', async () => {
    const s = setup();
    const full = await buildEngine(s, [BuilderFlag.REFIT]);
    const stripped = await buildEngine(s, [BuilderFlag.STRIP_PLAN]);
    expect(full.getEngineStat(EngineStat.STRIPPED_WEIGHTS_SIZE)).toBe(-1);
    expect(stripped.getEngineStat(EngineStat.STRIPPED_WEIGHTS_SIZE)).toBe(900);
    expect(stripped.getEngineStat(EngineStat.TOTAL_WEIGHTS_SIZE)).toBe(1000);
    expect(() => full.getEngineStat('BYTES' as EngineStat)).toThrow(TypeError);
  });

  it('I/O tensors and layers from the engine inspector', async () => {
    const s = setup();
    const engine = await buildEngine(s, [BuilderFlag.REFIT]);
    expect(engine.getIOTensors()).toEqual([
      { name: 'input', mode: 'INPUT', dtype: DataType.FLOAT, dims: [-1, 3, 16, 16] },
      { name: 'logits', mode: 'OUTPUT', dtype: DataType.FLOAT, dims: [-1, 10] },
    ]);
    expect(engine.getLayers().map((l) => l.fusedFrom)).toEqual([['/c1/Conv', '/b1/BatchNormalization', '/Relu'], ['/fc/Gemm']]);
  });

  it('parses the detailed inspector JSON (names of ONNX nodes from Metadata) and tolerates junk', () => {
    const json = JSON.stringify({
      Layers: [
        {
          Name: '/c1/Conv + /b1/BatchNormalization + /Relu',
          LayerType: 'CaskConvolution',
          Inputs: [{ Name: 'input', Dimensions: [2, 3, 16, 16] }],
          Outputs: [{ Name: '/Relu_output_0' }],
          Weights: { Type: 'Float', Count: 216 },
          Bias: { Type: 'Float', Count: 8 },
          Metadata: '[ONNX Layer: /c1/Conv]\u001e[ONNX Layer: /b1/BatchNormalization]\u001e[ONNX Layer: /Relu]',
        },
        { Name: 'Reformatting CopyNode for Output Tensor 0', LayerType: 'Reformat', Inputs: [], Outputs: [] },
      ],
      Bindings: ['input', 'logits'],
    });
    const layers = parseEngineLayers(json);
    expect(layers[0]).toEqual({
      name: '/c1/Conv + /b1/BatchNormalization + /Relu',
      type: 'CaskConvolution',
      fusedFrom: ['/c1/Conv', '/b1/BatchNormalization', '/Relu'],
      inputs: ['input'],
      outputs: ['/Relu_output_0'],
      weights: ['weights', 'bias'],
    });
    expect(layers[1]!.type).toBe('Reformat');
    expect(parseEngineLayers('not json')).toEqual([]);
    expect(parseEngineLayers('{"Layers": 3}')).toEqual([]);
  });

  it('execute checks inputs against the engine before crossing, and types the outputs', async () => {
    const s = setup();
    const engine = await buildEngine(s, [BuilderFlag.REFIT]);
    const context = engine.createExecutionContext();
    const input = { data: new Float32Array(2 * 3 * 16 * 16), dims: [2, 3, 16, 16] };
    const out = await context.execute({ input });
    expect(out.logits!.data).toBeInstanceOf(Float32Array);
    expect(out.logits!.dims).toEqual([2, 10]);
    await expect(context.execute({ input, extra: input })).rejects.toThrow(/inputs\["extra"\] must be one of the engine's inputs \(input\)/);
    await expect(context.execute({})).rejects.toThrow(/missing: input/);
    await expect(context.execute({ input: { data: new Int32Array(1536), dims: [2, 3, 16, 16] } })).rejects.toThrow(/a Float32Array for a FLOAT input/);
    await expect(context.execute({ input: { data: new Float32Array(10), dims: [2, 3, 16, 16] } })).rejects.toThrow(/6144 bytes for FLOAT \[2, 3, 16, 16\]/);
    await expect(context.execute({ input: { data: input.data, dims: [2, -3, 16, 16] } })).rejects.toThrow(/dims must be an array of non-negative integers/);
    await expect(context.execute({ input }, {} as never)).rejects.toThrow(/stream must be a CudaStream/);
    // Raw bytes are accepted for any type when their length fits.
    await context.execute({ input: { data: new Uint8Array(6144), dims: [2, 3, 16, 16] } });
    expect(s.binding.state.calls.filter((c) => c === 'execute')).toHaveLength(2);
    context.dispose();
    await expect(context.execute({ input })).rejects.toMatchObject({ code: TrtRefitErrorCode.DISPOSED });
  });

  it('disposing an engine disposes its contexts', async () => {
    const s = setup();
    const engine = await buildEngine(s, [BuilderFlag.REFIT]);
    const context = engine.createExecutionContext();
    engine.dispose();
    engine.dispose();
    expect(context.disposed).toBe(true);
    expect(() => engine.createExecutionContext()).toThrow(expect.objectContaining({ code: TrtRefitErrorCode.DISPOSED }));
  });

  it('HALF and BF16 outputs are widened to Float32Array; INT64 stays BigInt64Array', () => {
    const half = new Uint16Array([0x3c00, 0xc000, 0x0000, 0x7c00]).buffer;
    expect(Array.from(outputTensor({ name: 'h', dtype: 1, dims: [4], data: half }).data as Float32Array)).toEqual([1, -2, 0, Infinity]);
    const bf16 = new Uint16Array([0x3f80, 0x4049]).buffer;
    expect((outputTensor({ name: 'b', dtype: 7, dims: [2], data: bf16 }).data as Float32Array)[0]).toBe(1);
    expect(outputTensor({ name: 'i', dtype: 8, dims: [1], data: new BigInt64Array([5n]).buffer }).data).toEqual(new BigInt64Array([5n]));
  });
});
