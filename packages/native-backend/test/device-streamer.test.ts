import { describe, expect, it } from 'vitest';
import { BuilderFlag, DataType, TensorLocation, TrtRefitErrorCode } from '@trt-refit/core';
import { DeviceWeightsStreamer, NativeDeviceApi, NativeDeviceBuffer, dim0Shards } from '../src/index.js';
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

describe('DeviceWeightsStreamer: pinned staging for OnnxParserRefitter (fake addon)', () => {
  it('lends pinned buffers, reuses them across refits, grows them when a refit needs more, frees them on dispose', async () => {
    const cuda = fakeCuda();
    const streamer = new DeviceWeightsStreamer(new NativeDeviceApi(cuda));
    const [a, b] = streamer.staging(16, 2);
    expect(a!.byteLength).toBe(16);
    expect(cuda.pinned.has(a!.buffer as ArrayBuffer) && cuda.pinned.has(b!.buffer as ArrayBuffer)).toBe(true);
    expect(streamer.staging(8, 2)).toEqual([a, b]); // smaller: the same buffers
    expect(streamer.stagingBytes).toBe(32);
    // A weight read into staging is copied from there (no other host copy) and counted as such.
    new Float32Array(a!.buffer, 0, 4).set([1, 2, 3, 4]);
    const r = await streamer.streamTo('w', { type: DataType.FLOAT, values: new Float32Array(a!.buffer, 0, 4), count: 4 });
    const dev = cuda.allocated[0]!;
    expect(dev.uploads[0]!.buffer).toBe(a!.buffer);
    expect(new Float32Array((r.weights.values as NativeDeviceBuffer).download().buffer)).toEqual(new Float32Array([1, 2, 3, 4]));
    await streamer.streamTo('v', { type: DataType.FLOAT, values: new Float32Array(1), count: 1 });
    expect(streamer.stats).toEqual({ tensors: 2, bytes: 20, fromStaging: 1 });
    const grown = streamer.staging(64, 3);
    expect(grown.length).toBe(3);
    expect(grown.every((g) => g.byteLength === 64)).toBe(true);
    expect(a!.byteLength).toBe(0); // the small ones were freed (detached)
    expect(cuda.pinned.size).toBe(3);
    expect(() => streamer.staging(-1, 2)).toThrow(RangeError);
    expect(() => streamer.staging(8, 0)).toThrow(RangeError);
    expect(() => streamer.staging('8' as never, 1)).toThrow(TypeError);
    streamer.dispose();
    expect(cuda.pinned.size).toBe(0);
    expect(() => streamer.staging(8, 1)).toThrow(expect.objectContaining({ code: TrtRefitErrorCode.DISPOSED }));
  });
});

describe('DeviceWeightsStreamer over several GPUs (fake addon with 2 devices)', () => {
  it('copies each weight once read to every device (replicas), on one stream per device', async () => {
    const cuda = fakeCuda({ deviceCount: 2 });
    const streamer = new DeviceWeightsStreamer(new NativeDeviceApi(cuda), { devices: [1, 0] });
    expect(streamer.devices).toEqual([1, 0]);
    expect(cuda.streams.map((s) => s.deviceId)).toEqual([1, 0]);
    const r = await streamer.streamTo('w', { type: DataType.FLOAT, values: new Float32Array([5, 6]), count: 2 });
    expect((r.weights.values as NativeDeviceBuffer).deviceId).toBe(1);
    for (const d of [0, 1]) {
      const b = streamer.buffer('w', d)!;
      expect(b.deviceId).toBe(d);
      expect(new Float32Array(b.download().buffer)).toEqual(new Float32Array([5, 6]));
      expect(streamer.weightsFor('w', d)).toEqual({ type: DataType.FLOAT, values: b, count: 2 });
    }
    expect(streamer.buffer('w')).toBe(streamer.buffer('w', 1));
    expect(streamer.names()).toEqual(['w']);
    expect(streamer.bytes).toBe(16);
    expect(streamer.stats.bytes).toBe(8);
    expect(() => streamer.buffer('w', 2)).toThrow(RangeError);
    expect(streamer.weightsFor('nope', 0)).toBeUndefined();
    streamer.dispose();
    expect(cuda.allocated.every((b) => b.disposed) && cuda.streams.every((s) => s.disposed)).toBe(true);
  });

  it('tensor parallelism: dim0Shards gives each rank its contiguous rows; weights not split are replicated', async () => {
    const cuda = fakeCuda({ deviceCount: 2 });
    const dims = new Map([['fc.weight', [4, 3]]]);
    const streamer = new DeviceWeightsStreamer(new NativeDeviceApi(cuda), {
      devices: [0, 1],
      shard: (name, w, n) => (dims.has(name) ? dim0Shards(dims.get(name)!, w, n) : undefined),
    });
    const weight = Float32Array.from({ length: 12 }, (_, i) => i);
    const r = await streamer.streamTo('fc.weight', { type: DataType.FLOAT, values: weight, count: 12 });
    expect(r.weights.count).toBe(6);
    expect([...new Float32Array(streamer.buffer('fc.weight', 0)!.download().buffer)]).toEqual([0, 1, 2, 3, 4, 5]);
    expect([...new Float32Array(streamer.buffer('fc.weight', 1)!.download().buffer)]).toEqual([6, 7, 8, 9, 10, 11]);
    expect(streamer.weightsFor('fc.weight', 1)!.count).toBe(6);
    await streamer.streamTo('fc.bias', { type: DataType.FLOAT, values: new Float32Array([1, 2]), count: 2 });
    expect(streamer.weightsFor('fc.bias', 1)!.count).toBe(2);
    streamer.dispose();
  });

  it('dim0Shards and shard results are checked', async () => {
    const w = { type: DataType.FLOAT, values: new Float32Array(6), count: 6 };
    expect(dim0Shards([3, 2], w, 3)).toEqual([0, 1, 2].map((k) => ({ byteOffset: k * 8, byteLength: 8, count: 2 })));
    expect(() => dim0Shards([3, 2], w, 2)).toThrow(/dims\[0\]/);
    expect(() => dim0Shards([4, 2], w, 2)).toThrow(RangeError);
    expect(() => dim0Shards([], w, 2)).toThrow(TypeError);
    expect(() => dim0Shards([6], w, 0)).toThrow(RangeError);
    const device = new NativeDeviceApi(fakeCuda({ deviceCount: 2 }));
    const bad = new DeviceWeightsStreamer(device, { devices: [0, 1], shard: () => [{ byteOffset: 0, byteLength: 24, count: 6 }] });
    await expect(bad.streamTo('w', w)).rejects.toThrow(TypeError);
    const outside = new DeviceWeightsStreamer(device, { devices: [0, 1], shard: () => [0, 1].map(() => ({ byteOffset: 16, byteLength: 16, count: 4 })) });
    await expect(outside.streamTo('w', w)).rejects.toThrow(RangeError);
  });

  it('refuses devices that do not exist, repeats, and a stream of another device', () => {
    const device = new NativeDeviceApi(fakeCuda({ deviceCount: 2 }));
    expect(() => new DeviceWeightsStreamer(device, { devices: [0, 2] })).toThrow(RangeError);
    expect(() => new DeviceWeightsStreamer(device, { devices: [1, 1] })).toThrow(/distinct/);
    expect(() => new DeviceWeightsStreamer(device, { devices: [] })).toThrow(TypeError);
    expect(() => new DeviceWeightsStreamer(device, { shard: 5 as never })).toThrow(TypeError);
    const s1 = device.createStream({ device: 1 });
    expect(() => new DeviceWeightsStreamer(device, { stream: s1, devices: [0] })).toThrow(RangeError);
    expect(new DeviceWeightsStreamer(device, { stream: s1 }).devices).toEqual([1]);
  });
});

describe('NativeDeviceApi: a device per buffer and stream (fake addon with 2 devices)', () => {
  it('allocates and creates streams and events on the device named, and refuses copies across devices', async () => {
    const cuda = fakeCuda({ deviceCount: 2 });
    const device = new NativeDeviceApi(cuda);
    const b1 = device.allocate(8, { device: 1 });
    expect(b1.deviceId).toBe(1);
    expect(device.allocate(8).deviceId).toBe(0);
    const s0 = device.createStream();
    const s1 = device.createStream({ device: 1 });
    expect([s0.deviceId, s1.deviceId]).toEqual([0, 1]);
    await b1.uploadAsync(new Uint8Array(8).fill(3), s1);
    await expect(b1.uploadAsync(new Uint8Array(8), s0)).rejects.toThrow(RangeError);
    await expect(b1.downloadAsync(s0)).rejects.toThrow(/device 1/);
    expect([...(await b1.downloadAsync(s1))]).toEqual(Array(8).fill(3));
    expect(() => device.allocate(8, { device: 2 })).toThrow(RangeError);
    expect(() => device.allocate(8, { device: -1 })).toThrow(RangeError);
    expect(() => device.allocate(8, 1 as never)).toThrow(TypeError);
    expect(() => device.createStream({ device: 7 })).toThrow(RangeError);
    expect(() => device.createEvent(false, { device: 2 })).toThrow(RangeError);
    expect(() => device.memoryInfo(3)).toThrow(RangeError);
    await expect(device.synchronize(3)).rejects.toThrow(RangeError);
  });

  it('freePinned frees pinned memory now and detaches it; refuses other arrays', () => {
    const cuda = fakeCuda();
    const device = new NativeDeviceApi(cuda);
    const p = device.allocatePinned(32);
    expect(device.isPinned(p)).toBe(true);
    expect(() => device.freePinned(p.subarray(4))).toThrow(TypeError);
    expect(device.freePinned(p)).toBe(true);
    expect(p.byteLength).toBe(0);
    expect(device.freePinned(p)).toBe(false);
    expect(() => device.freePinned(new Uint8Array(4))).toThrow(TypeError);
    expect(() => device.freePinned(new Float32Array(4) as never)).toThrow(TypeError);
  });
});
