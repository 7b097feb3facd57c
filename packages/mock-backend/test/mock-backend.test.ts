import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { BuilderFlag, CollectingErrorRecorder, DataType, EngineStat, MemoryLogger, SerializationFlag, TensorLocation, TrtRefitErrorCode, type Backend } from '@trt-refit/core';
import { createMockBackend } from '@trt-refit/mock-backend';

const model = fileURLToPath(new URL('../../../fixtures/convbn/convbn_a.onnx', import.meta.url));
async function build(backend: Backend, flags: BuilderFlag[]) {
  const builder = backend.createBuilder();
  const network = builder.createNetwork();
  expect(await backend.createOnnxParser(network).parseFromFile(model)).toBe(true);
  const config = builder.createBuilderConfig();
  config.setFlags(flags);
  return builder.buildSerializedNetwork(network, config);
}

describe('emulated TensorRT versions', () => {
  it('defaults to the newest known 10.x and refuses versions outside 10.0..11.x', () => {
    expect(createMockBackend().tensorrtVersion).toBe('10.16');
    expect(() => createMockBackend({ tensorrtVersion: '9.3' })).toThrow(/emulates TensorRT 10\.0 to 11\.x/);
    expect(() => createMockBackend({ tensorrtVersion: 'x' })).toThrow(expect.objectContaining({ code: TrtRefitErrorCode.INVALID_ARGUMENT }));
  });
  it('REFIT_INDIVIDUAL is refused before 10.2, with the rule named', async () => {
    await expect(build(createMockBackend({ tensorrtVersion: '10.1' }), [BuilderFlag.REFIT_INDIVIDUAL])).rejects.toMatchObject({ code: TrtRefitErrorCode.INVALID_FLAGS, message: expect.stringMatching(/flag-version.*REFIT_INDIVIDUAL.*10\.2/) });
    const n = createMockBackend({ tensorrtVersion: '10.1' }).createBuilder().createNetwork();
    expect(() => n.markWeightsRefittable('x')).toThrow(expect.objectContaining({ code: TrtRefitErrorCode.UNSUPPORTED_FEATURE }));
  });
  it('INCLUDE_REFIT and getEngineStat are refused on 10.13; loadModelProto on 10.12', async () => {
    const b = createMockBackend({ tensorrtVersion: '10.13' });
    const engine = await b.createRuntime().deserializeCudaEngine(await build(b, [BuilderFlag.STRIP_PLAN]));
    expect(() => engine.createSerializationConfig().setFlag(SerializationFlag.INCLUDE_REFIT)).toThrow(expect.objectContaining({ code: TrtRefitErrorCode.UNSUPPORTED_FEATURE }));
    expect(() => engine.getEngineStat(EngineStat.TOTAL_WEIGHTS_SIZE)).toThrow(/needs TensorRT 10\.14/);
    expect(await b.createParserRefitter(b.createRefitter(engine)).loadModelProto(new Uint8Array())).toBe(false);
    const old = createMockBackend({ tensorrtVersion: '10.12' });
    const e2 = await old.createRuntime().deserializeCudaEngine(await build(old, [BuilderFlag.STRIP_PLAN]));
    expect(() => old.createParserRefitter(old.createRefitter(e2)).loadModelProto(new Uint8Array())).toThrow(/loadModelProto needs TensorRT 10\.13/);
  });
  it('loadRuntime refuses, without reading it whole, a file too large to be a lean runtime, and a FIFO', async () => {
    const { mkdtempSync, writeFileSync } = await import('node:fs');
    const { execFileSync } = await import('node:child_process');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const dir = mkdtempSync(join(tmpdir(), 'trt-refit-lean-'));
    writeFileSync(join(dir, 'big.so'), new Uint8Array(1 << 20));
    execFileSync('mkfifo', [join(dir, 'fifo')]);
    const runtime = createMockBackend().createRuntime();
    await expect(runtime.loadRuntime(join(dir, 'big.so'))).rejects.toMatchObject({ code: TrtRefitErrorCode.INVALID_ARGUMENT, message: expect.stringMatching(/over the 65536-byte limit/) });
    await expect(runtime.loadRuntime(join(dir, 'fifo'))).rejects.toMatchObject({ code: TrtRefitErrorCode.INVALID_ARGUMENT, message: expect.stringMatching(/a FIFO/) });
  });
  it('a plan of another version is refused unless it was built version-compatible', async () => {
    const plan = await build(createMockBackend({ tensorrtVersion: '10.14' }), [BuilderFlag.REFIT]);
    await expect(createMockBackend({ tensorrtVersion: '10.16' }).createRuntime().deserializeCudaEngine(plan)).rejects.toMatchObject({ code: TrtRefitErrorCode.PLAN_VERSION });
    const vc = await build(createMockBackend({ tensorrtVersion: '10.14' }), [BuilderFlag.REFIT, BuilderFlag.VERSION_COMPATIBLE]);
    const rt = createMockBackend({ tensorrtVersion: '10.16' }).createRuntime();
    rt.setEngineHostCodeAllowed(true);
    expect((await rt.deserializeCudaEngine(vc)).isRefittable()).toBe(true);
    const older = createMockBackend({ tensorrtVersion: '10.13' }).createRuntime();
    older.setEngineHostCodeAllowed(true);
    await expect(older.deserializeCudaEngine(vc)).rejects.toThrow(/newer than this runtime/);
  });
});

describe('mock refitter details', () => {
  it('refits on one engine run one at a time; a failed refit leaves the recorder saying why and the next can succeed', async () => {
    const b = createMockBackend();
    const engine = await b.createRuntime().deserializeCudaEngine(await build(b, [BuilderFlag.REFIT]));
    const logger = new MemoryLogger();
    const r = b.createRefitter(engine, logger);
    const recorder = new CollectingErrorRecorder();
    r.setErrorRecorder(recorder);
    const p = r.getWeightsPrototype('fc.weight');
    r.setNamedWeights('fc.weight', { type: DataType.FLOAT, values: new Float32Array(p.count), count: p.count });
    expect(await r.refitCudaEngine()).toBe(false);
    expect(recorder.getErrorDesc(0)).toMatch(/missing: fc\.bias/);
    const q = r.getWeightsPrototype('fc.bias');
    r.setNamedWeights('fc.bias', { type: DataType.FLOAT, values: new Float32Array(q.count), count: q.count });
    const results = await Promise.all([r.refitCudaEngine(), r.refitCudaEngine(), r.refitCudaEngineAsync(b.device.createStream())]);
    expect(results).toEqual([true, true, true]);
  });
  it('concurrent refits and executions on one engine never interleave: each output is wholly A or wholly B, in call order', async () => {
    const { readNpy } = await import('@trt-refit/core');
    const { readFileSync } = await import('node:fs');
    const { OnnxParserRefitter } = await import('@trt-refit/onnx');
    const b = createMockBackend();
    const engine = await b.createRuntime().deserializeCudaEngine(await build(b, [BuilderFlag.REFIT]));
    const input = readNpy(readFileSync(fileURLToPath(new URL('../../../fixtures/convbn/input.npy', import.meta.url))));
    const modelB = fileURLToPath(new URL('../../../fixtures/convbn/convbn_b.onnx', import.meta.url));
    // Two refitters holding A's and B's weights (set once); refits alternate between them, unawaited.
    const ra = b.createRefitter(engine);
    const rb = b.createRefitter(engine);
    expect(await new OnnxParserRefitter(ra).refitFromFile(model)).toBe(true);
    expect(await new OnnxParserRefitter(rb).refitFromFile(modelB)).toBe(true);
    const ctx = engine.createExecutionContext();
    const run = async () => Buffer.from(((await ctx.execute({ input })).logits!.data as Float32Array).buffer).toString('hex');
    const outA = await run();
    expect(await rb.refitCudaEngine()).toBe(true);
    const outB = await run();
    expect(outB).not.toBe(outA);
    const expected: string[] = [];
    const pending: Promise<string | boolean>[] = [];
    let current = outB;
    for (let i = 0; i < 24; i++) {
      if (i % 3 === 0) {
        const useA = i % 2 === 0;
        pending.push(useA ? ra.refitCudaEngine() : rb.refitCudaEngine());
        current = useA ? outA : outB;
        expected.push('refit');
      } else {
        pending.push(run());
        expected.push(current);
      }
    }
    const got = await Promise.all(pending);
    expect(got.map((g) => (g === true ? 'refit' : g))).toEqual(expected);
  });

  it('device weights are read from the emulated device at refit time (in-place device updates are picked up)', async () => {
    const b = createMockBackend();
    const engine = await b.createRuntime().deserializeCudaEngine(await build(b, [BuilderFlag.REFIT]));
    const r = b.createRefitter(engine);
    const p = r.getWeightsPrototype('fc.bias');
    const buf = b.device.allocate(p.count * 4);
    expect(r.setNamedWeights('fc.bias', { type: DataType.FLOAT, values: buf, count: p.count }, TensorLocation.DEVICE)).toBe(true);
    const w = r.getWeightsPrototype('fc.weight');
    r.setNamedWeights('fc.weight', { type: DataType.FLOAT, values: new Float32Array(w.count), count: w.count });
    const stream = b.device.createStream();
    await buf.uploadAsync(new Float32Array(p.count).fill(2), stream);
    expect(await r.refitCudaEngineAsync(stream)).toBe(true);
    await stream.synchronize();
    const config = engine.createSerializationConfig();
    const plan = engine.serializeWithConfig(config);
    const { readPlan } = await import('@trt-refit/mock-backend');
    const fcBias = readPlan(plan).weights.find((x) => x.name === 'fc.bias')!;
    expect(Array.from(new Float32Array(fcBias.data!.slice().buffer))).toEqual(new Array(p.count).fill(2));
  });
  it('refits copy into the engine: the plan bytes given to deserialize are never written, repeated refits take effect', async () => {
    const b = createMockBackend();
    const plan = await build(b, [BuilderFlag.REFIT]);
    const before = plan.slice();
    const engine = await b.createRuntime().deserializeCudaEngine(plan);
    const r = b.createRefitter(engine);
    const p = r.getWeightsPrototype('fc.bias');
    const w = r.getWeightsPrototype('fc.weight');
    const { readPlan } = await import('@trt-refit/mock-backend');
    const fcBias = () => Array.from(new Float32Array(readPlan(engine.serialize()).weights.find((x) => x.name === 'fc.bias')!.data!.slice().buffer));
    for (const v of [3, -1, 7]) {
      const values = new Float32Array(p.count).fill(v);
      expect(r.setNamedWeights('fc.bias', { type: DataType.FLOAT, values, count: p.count })).toBe(true);
      expect(r.setNamedWeights('fc.weight', { type: DataType.FLOAT, values: new Float32Array(w.count), count: w.count })).toBe(true);
      expect(await r.refitCudaEngine()).toBe(true);
      values.fill(100); // the caller's buffer is theirs again after the refit: the engine holds its own copy
      expect(fcBias()).toEqual(new Array(p.count).fill(v));
    }
    expect(Buffer.from(plan).equals(Buffer.from(before))).toBe(true);
  });

  it('serializeToFile writes exactly what serializeWithConfig returns, and nothing at the path when it fails', async () => {
    const { mkdtempSync, readFileSync, readdirSync, existsSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const { MockEngine } = await import('@trt-refit/mock-backend');
    const b = createMockBackend();
    const engine = await b.createRuntime().deserializeCudaEngine(await build(b, [BuilderFlag.STRIP_PLAN]));
    const r = b.createRefitter(engine);
    expect(await b.createParserRefitter(r).refitFromFile(model)).toBe(true);
    expect(await r.refitCudaEngine()).toBe(true);
    const dir = mkdtempSync(join(tmpdir(), 'trt-refit-plan-'));
    for (const flags of [[], [SerializationFlag.EXCLUDE_WEIGHTS]] as SerializationFlag[][]) {
      const config = engine.createSerializationConfig();
      config.setFlags(flags);
      const size = await (engine as InstanceType<typeof MockEngine>).serializeToFile(join(dir, 'p.plan'), config);
      const inMemory = engine.serializeWithConfig(config);
      expect(size).toBe(inMemory.byteLength);
      expect(readFileSync(join(dir, 'p.plan')).equals(Buffer.from(inMemory))).toBe(true);
    }
    expect(readdirSync(dir)).toEqual(['p.plan']); // no temporary file left behind
    await expect((engine as InstanceType<typeof MockEngine>).serializeToFile(join(dir, 'missing-folder', 'p.plan'))).rejects.toThrow(/ENOENT/);
    expect(existsSync(join(dir, 'missing-folder'))).toBe(false);
  });

  it('createRefitter refuses an engine of another backend and a disposed engine', async () => {
    const b = createMockBackend();
    expect(() => b.createRefitter({} as never)).toThrow(/must come from this backend/);
    const engine = await b.createRuntime().deserializeCudaEngine(await build(b, [BuilderFlag.REFIT]));
    engine.dispose();
    expect(() => b.createRefitter(engine)).toThrow(expect.objectContaining({ code: TrtRefitErrorCode.DISPOSED }));
  });
});
