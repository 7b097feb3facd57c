import { describe, expect, it } from 'vitest';
import { BuilderFlag, DataType, TensorLocation, TrtRefitErrorCode } from '@trt-refit/core';
import { DeviceWeightsStreamer, NativeDeviceApi, NativeDeviceBuffer } from '../src/index.js';
import { fakeCuda, type FakeDeviceBuffer } from './fake-binding.js';
import { buildEngine, setup } from './helpers.js';

describe('DeviceWeightsStreamer (fake addon)', () => {
  it('uploads each weight to its own device buffer and returns DEVICE weights; reuses a buffer for the same name and size', async () => {
    const cuda = fakeCuda();
    const streamer = new DeviceWeightsStreamer(new NativeDeviceApi(cuda));
    const host = new Float32Array([1, 2, 3]);
    const r = await streamer.streamTo('a', { type: DataType.FLOAT, values: host, count: 3 });
    expect(r.location).toBe(TensorLocation.DEVICE);
    expect(r.weights.values).toBeInstanceOf(NativeDeviceBuffer);
    expect(new Float32Array((r.weights.values as NativeDeviceBuffer).download().buffer)).toEqual(host);
    host.fill(0); // the host copy may go: the device holds the values
    const again = await streamer.streamTo('a', { type: DataType.FLOAT, values: new Float32Array([4, 5, 6]), count: 3 });
    expect(again.weights.values).toBe(r.weights.values);
    expect(streamer.bytes).toBe(12);
    await streamer.streamTo('a', { type: DataType.FLOAT, values: new Float32Array(4), count: 4 });
    expect((r.weights.values as NativeDeviceBuffer).disposed).toBe(true); // resized: the old buffer is freed
    streamer.dispose();
    streamer.dispose();
    expect(cuda.allocated.every((b: FakeDeviceBuffer) => b.disposed)).toBe(true);
    await expect(streamer.streamTo('b', { type: DataType.FLOAT, values: new Float32Array(1), count: 1 })).rejects.toThrow(expect.objectContaining({ code: TrtRefitErrorCode.DISPOSED }));
  });

  it('refuses malformed or non-host weights', async () => {
    const device = new NativeDeviceApi(fakeCuda());
    const streamer = new DeviceWeightsStreamer(device);
    await expect(streamer.streamTo('a', { type: DataType.FLOAT, values: new Float32Array(2), count: 3 })).rejects.toThrow(/need 12 bytes/);
    await expect(streamer.streamTo('a', { type: DataType.FLOAT, values: device.allocate(4), count: 1 })).rejects.toThrow(/host memory/);
    expect(() => new DeviceWeightsStreamer(device, { stream: {} as never })).toThrow(/options\.stream/);
  });

  it('what it returns is accepted by the native refitter as device weights', async () => {
    const s = setup();
    const engine = await buildEngine(s, [BuilderFlag.STRIP_PLAN]);
    const refitter = s.backend.createRefitter(engine);
    const streamer = new DeviceWeightsStreamer(s.backend.device);
    for (const name of refitter.getAllWeights()) {
      const p = refitter.getWeightsPrototype(name);
      const { weights, location } = await streamer.streamTo(name, { type: p.type, values: new Float32Array(p.count), count: p.count });
      expect(refitter.setNamedWeights(name, weights, location)).toBe(true);
      expect(refitter.getWeightsLocation(name)).toBe(TensorLocation.DEVICE);
    }
    expect(refitter.getMissingWeights()).toEqual([]);
    expect(await refitter.refitCudaEngine()).toBe(true);
    streamer.dispose();
  });
});
