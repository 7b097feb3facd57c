import { describe, expect, it } from 'vitest';
import {
  BuilderFlag,
  CollectingErrorRecorder,
  DataType,
  ErrorCode,
  MemoryLogger,
  NULL_WEIGHTS,
  TensorLocation,
  TrtRefitErrorCode,
  WeightsRole,
} from '@trt-refit/core';
import { fakeAddress, type FakeDeviceBuffer } from './fake-binding.js';
import { buildEngine, foreignDeviceBuffer, setup, tick } from './helpers.js';

async function refittable(version?: string) {
  const s = setup(version ? { version } : {});
  const engine = await buildEngine(s, [BuilderFlag.REFIT]);
  const logger = new MemoryLogger();
  const recorder = new CollectingErrorRecorder();
  const refitter = s.backend.createRefitter(engine, logger);
  refitter.setErrorRecorder(recorder);
  const fake = s.binding.state.refitters.at(-1)!;
  return { ...s, engine, refitter, logger, recorder, fake };
}

const f32 = (n: number) => ({ type: DataType.FLOAT, values: new Float32Array(n), count: n });

describe('NativeRefitter (fake addon)', () => {
  it('createRefitter refuses an engine that is not refittable with NotRefittableError', async () => {
    const s = setup();
    const engine = await buildEngine(s, []);
    expect(() => s.backend.createRefitter(engine)).toThrow(expect.objectContaining({ code: TrtRefitErrorCode.NOT_REFITTABLE }));
    expect(() => s.backend.createRefitter({} as never)).toThrow(/engine must be an engine of the native backend/);
  });

  it('passes well-formed weights across and holds them: getNamedWeights returns the same object', async () => {
    const { refitter, fake } = await refittable();
    const w = f32(216);
    expect(refitter.setNamedWeights('c1.weight', w)).toBe(true);
    expect(fake.set.get('c1.weight')!.values).toBe(w.values); // a view, never a copy
    expect(fake.set.get('c1.weight')!.location).toBe(1);
    expect(refitter.getNamedWeights('c1.weight')).toBe(w);
    expect(refitter.getWeightsLocation('c1.weight')).toBe(TensorLocation.HOST);
    expect(refitter.heldNames()).toEqual(['c1.weight']);
    expect(refitter.getMissingWeights()).toEqual(['c1.bias']);
    expect(refitter.unsetNamedWeights('c1.weight')).toBe(true);
    expect(refitter.heldNames()).toEqual([]);
    expect(refitter.unsetNamedWeights('c1.weight')).toBe(false);
    expect(refitter.getNamedWeights('c1.weight')).toBe(NULL_WEIGHTS);
  });

  it('TensorRT\'s own refusals come back as false with the reason in the logger and the recorder', async () => {
    const { refitter, logger, recorder } = await refittable();
    expect(refitter.setNamedWeights('no.such', f32(4))).toBe(false);
    expect(refitter.setNamedWeights('c1.weight', f32(215))).toBe(false);
    await tick();
    expect(logger.errors().join('\n')).toMatch(/no\.such is not a refittable weight[\s\S]*count 215/);
    expect(recorder.errors.map((e) => e.code)).toEqual([ErrorCode.INVALID_ARGUMENT, ErrorCode.INVALID_ARGUMENT]);
    expect(refitter.heldNames()).toEqual([]);
  });

  it('malformed weights are refused before the native call, with the reason logged and recorded', async () => {
    const { refitter, logger, recorder, binding } = await refittable();
    const before = binding.state.calls.length;
    // count disagrees with the buffer: TensorRT would read past its end
    expect(refitter.setNamedWeights('c1.weight', { type: DataType.FLOAT, values: new Float32Array(1), count: 216 })).toBe(false);
    expect(refitter.setNamedWeights('', f32(216))).toBe(false);
    expect(refitter.setNamedWeights('a\0b', f32(216))).toBe(false);
    expect(refitter.setNamedWeights('x'.repeat(4096), f32(216))).toBe(false);
    expect(refitter.setNamedWeights('c1.weight', f32(216), TensorLocation.DEVICE)).toBe(false);
    expect(binding.state.calls.length).toBe(before);
    expect(recorder.getNbErrors()).toBe(5);
    expect(logger.errors()[0]).toMatch(/need 864 bytes, but values has 4 bytes/);
    expect(logger.errors()[4]).toMatch(/location is DEVICE but the values are host memory/);
    // not a DataType at all: a programming error, the same TypeError on every backend (core's argument checks)
    expect(() => refitter.setNamedWeights('c1.weight', { type: 'FLOAT64' as DataType, values: new Float32Array(1), count: 1 })).toThrow(/weights\.type must be a DataType, received "FLOAT64"/);
    expect(() => refitter.setNamedWeights(7 as unknown as string, f32(1))).toThrow(/name must be a string, received number 7/);
    expect(() => refitter.setNamedWeights('c1.weight', f32(216), 'GPU' as TensorLocation)).toThrow(/location must be TensorLocation/);
  });

  it('device weights: only this backend\'s buffers, location inferred, disposed buffers refused', async () => {
    const { backend, refitter, fake, logger } = await refittable();
    const buf = backend.device.allocate(216 * 4);
    const w = { type: DataType.FLOAT, values: buf, count: 216 };
    expect(refitter.setNamedWeights('c1.weight', w)).toBe(true);
    expect(fake.set.get('c1.weight')!.location).toBe(0);
    expect(fake.set.get('c1.weight')!.values).toBe(buf.native);
    expect(refitter.getWeightsLocation('c1.weight')).toBe(TensorLocation.DEVICE);
    expect(refitter.getNamedWeights('c1.weight')).toBe(w);
    expect(refitter.setNamedWeights('c1.bias', { type: DataType.FLOAT, values: backend.device.allocate(32), count: 8 }, TensorLocation.HOST)).toBe(false);
    expect(refitter.setNamedWeights('c1.bias', { type: DataType.FLOAT, values: foreignDeviceBuffer(32), count: 8 })).toBe(false);
    expect(logger.errors().join('\n')).toMatch(/location is HOST[\s\S]*not allocated by this backend/);
    const gone = backend.device.allocate(32);
    gone.dispose();
    expect(refitter.setNamedWeights('c1.bias', { type: DataType.FLOAT, values: gone, count: 8 })).toBe(false);
    expect(logger.errors().at(-1)).toMatch(/DeviceBuffer that was disposed/);
  });

  it('refuses to refit when a held buffer was disposed or detached since it was set', async () => {
    const { backend, refitter, logger, binding, recorder } = await refittable();
    const buf = backend.device.allocate(216 * 4);
    expect(refitter.setNamedWeights('c1.weight', { type: DataType.FLOAT, values: buf, count: 216 })).toBe(true);
    const bias = new Float32Array(8);
    expect(refitter.setNamedWeights('c1.bias', { type: DataType.FLOAT, values: bias, count: 8 })).toBe(true);
    buf.dispose();
    structuredClone(bias.buffer, { transfer: [bias.buffer] });
    expect(await refitter.refitCudaEngine()).toBe(false);
    expect(binding.state.calls).not.toContain('refit');
    expect(logger.errors().join('\n')).toMatch(/c1\.weight.*DeviceBuffer was disposed[\s\S]*c1\.bias.*detached/);
    expect(recorder.errors.at(-1)!.code).toBe(ErrorCode.INVALID_STATE);
  });

  it('refits run one at a time per engine; synchronous calls meanwhile are InvalidStateError; executions wait', async () => {
    const { backend, binding, engine, refitter } = await refittable();
    for (const [n, c] of [['c1.weight', 216], ['c1.bias', 8], ['fc.weight', 80], ['fc.bias', 10]] as const) {
      expect(refitter.setNamedWeights(n, f32(c))).toBe(true);
    }
    const other = backend.createRefitter(engine);
    binding.state.gate.closed = true;
    const a = refitter.refitCudaEngine();
    const b = other.refitCudaEngine();
    const stream = backend.device.createStream();
    const c = refitter.refitCudaEngineAsync(stream);
    const context = engine.createExecutionContext();
    const run = context.execute({ input: { data: new Float32Array(2 * 3 * 16 * 16), dims: [2, 3, 16, 16] } });
    await tick();
    expect(() => refitter.setNamedWeights('c1.weight', f32(216))).toThrow(expect.objectContaining({ code: TrtRefitErrorCode.INVALID_STATE }));
    expect(() => refitter.getMissingWeights()).toThrow(/busy/);
    // One operation on the engine at a time: the execution (queued first, synchronously) holds it, the refits wait.
    expect(binding.state.calls.filter((x) => x === 'refit' || x === 'execute')).toEqual(['execute']);
    binding.state.gate.open();
    expect(await a).toBe(true);
    expect(await b).toBe(true); // a REFIT engine that was not stripped misses nothing
    expect(await c).toBe(true);
    await run;
    expect(binding.state.maxConcurrentRefits).toBe(1);
    expect(binding.state.calls.filter((x) => x === 'refit' || x === 'execute')).toEqual(['execute', 'refit', 'refit', 'refit']);
    expect(refitter.getMissingWeights()).toEqual([]);
  });

  it('refitCudaEngineAsync takes only this backend\'s streams', async () => {
    const { refitter } = await refittable();
    await expect(refitter.refitCudaEngineAsync({ synchronize: async () => {} } as never)).rejects.toThrow(/stream must be a CudaStream from this backend/);
  });

  it('dispose during a refit keeps the buffers until the refit is done, then releases them; later use is DISPOSED', async () => {
    const { refitter, binding, fake } = await refittable();
    const w = f32(216);
    refitter.setNamedWeights('c1.weight', w);
    refitter.setNamedWeights('c1.bias', f32(8));
    binding.state.gate.closed = true;
    const pending = refitter.refitCudaEngine();
    await tick();
    refitter.dispose();
    expect(refitter.heldNames()).toEqual(['c1.weight', 'c1.bias']);
    binding.state.gate.open();
    await pending;
    await tick();
    expect(refitter.heldNames()).toEqual([]);
    expect(fake.disposed).toBe(true);
    refitter.dispose();
    expect(() => refitter.getAllWeights()).toThrow(expect.objectContaining({ code: TrtRefitErrorCode.DISPOSED }));
    await expect(refitter.refitCudaEngine()).rejects.toMatchObject({ code: TrtRefitErrorCode.DISPOSED });
  });

  it('a refit of a disposed engine is refused', async () => {
    const { refitter, engine } = await refittable();
    engine.dispose();
    await expect(refitter.refitCudaEngine()).rejects.toMatchObject({ code: TrtRefitErrorCode.DISPOSED });
  });

  it('prototype, lists, thread count, validation, legacy layer + role API', async () => {
    const { refitter, logger } = await refittable();
    expect(refitter.getAllWeights()).toEqual(['c1.weight', 'c1.bias', 'fc.weight', 'fc.bias']);
    expect(refitter.getWeightsPrototype('fc.bias')).toEqual({ type: DataType.FLOAT, count: 10 });
    expect(refitter.getWeightsPrototype('nope').count).toBe(-1);
    expect(refitter.setMaxThreads(0)).toBe(false);
    expect(refitter.setMaxThreads(4)).toBe(true);
    expect(refitter.getMaxThreads()).toBe(4);
    expect(() => refitter.setMaxThreads(1.5)).toThrow(RangeError);
    refitter.setWeightsValidation(false);
    expect(refitter.getWeightsValidation()).toBe(false);
    expect(refitter.getLogger()).toBe(logger);
    expect(refitter.getAll()[0]).toEqual({ layerName: 'c1.weight', role: WeightsRole.KERNEL });
    expect(() => refitter.setWeights('l', 'WEIGHT' as WeightsRole, f32(1))).toThrow(/role must be a WeightsRole/);
    expect(refitter.setWeights('conv', WeightsRole.KERNEL, f32(3))).toBe(false);
  });

  it('setErrorRecorder(null) detaches; a recorder that is not one is a TypeError', async () => {
    const { refitter, recorder } = await refittable();
    expect(refitter.getErrorRecorder()).toBe(recorder);
    refitter.setErrorRecorder(null);
    expect(refitter.getErrorRecorder()).toBeNull();
    expect(refitter.setNamedWeights('nope', f32(1))).toBe(false);
    await tick();
    expect(recorder.getNbErrors()).toBe(0);
    expect(() => refitter.setErrorRecorder({} as never)).toThrow(/recorder must be an ErrorRecorder or null/);
  });

  it('getNamedWeights of weights TensorRT holds that JS did not give returns a copy', async () => {
    const { refitter, fake } = await refittable();
    const native = new Float32Array([1, 2, 3, 4, 5, 6, 7, 8]);
    fake.set.set('c1.bias', { type: 0, values: native, count: 8, location: 1 });
    const w = refitter.getNamedWeights('c1.bias');
    expect(w.type).toBe(DataType.FLOAT);
    expect(w.count).toBe(8);
    expect(new Float32Array((w.values as Uint8Array).slice().buffer)).toEqual(native);
    expect((w.values as Uint8Array).buffer).not.toBe(native.buffer);
    expect(fakeAddress(native)).not.toBe(fakeAddress(w.values as Uint8Array));
  });

  it('the device buffer handed to TensorRT is this backend\'s native one', async () => {
    const { backend, refitter, fake } = await refittable();
    const buf = backend.device.fromHost(new Float32Array(8).fill(3));
    refitter.setNamedWeights('c1.bias', { type: DataType.FLOAT, values: buf, count: 8 });
    expect(new Float32Array((fake.set.get('c1.bias')!.values as FakeDeviceBuffer).memory.buffer)[0]).toBe(3);
  });
});
