import { describe, expect, it } from 'vitest';
import { TrtRefitErrorCode } from '@trt-refit/core';
import { NativeDeviceApi, NativeDeviceBuffer, loadNativeDevice } from '../src/index.js';
import { fakeBinding, fakeCuda, type FakeDeviceBuffer } from './fake-binding.js';

const api = () => {
  const cuda = fakeCuda();
  return { cuda, device: new NativeDeviceApi(cuda) };
};

describe('NativeDeviceApi and NativeDeviceBuffer (fake addon)', () => {
  it('allocates, uploads at an offset and downloads into a new or given array', () => {
    const { device } = api();
    const buf = device.allocate(16);
    expect(buf).toBeInstanceOf(NativeDeviceBuffer);
    expect(buf.byteLength).toBe(16);
    buf.upload(new Uint8Array([1, 2, 3, 4]), 4);
    expect(Array.from(buf.download())).toEqual([0, 0, 0, 0, 1, 2, 3, 4, 0, 0, 0, 0, 0, 0, 0, 0]);
    const dst = new Float32Array(1);
    const view = buf.download(dst, 4);
    expect(view.buffer).toBe(dst.buffer);
    expect(Array.from(view)).toEqual([1, 2, 3, 4]);
    expect(Array.from(buf.download(undefined, 12))).toEqual([0, 0, 0, 0]);
  });

  it('fromHost allocates exactly the source size and copies it', () => {
    const { device, cuda } = api();
    const src = new Float32Array([1.5, -2]);
    const buf = device.fromHost(src);
    expect(buf.byteLength).toBe(8);
    expect(new Float32Array(buf.download().buffer)).toEqual(src);
    expect(cuda.allocated).toHaveLength(1);
  });

  it('refuses bad arguments before the native call, naming the parameter, the expectation and the value', () => {
    const { device, cuda } = api();
    expect(() => device.allocate(-1)).toThrow(RangeError);
    expect(() => device.allocate(1.5)).toThrow(/byteLength must be a non-negative safe integer, received number 1.5/);
    expect(() => device.allocate('8' as unknown as number)).toThrow(TypeError);
    expect(cuda.allocated).toHaveLength(0);
    const buf = device.allocate(8);
    expect(() => buf.upload([1, 2] as unknown as Uint8Array)).toThrow(/src must be an ArrayBufferView.*received an array of length 2/);
    expect(() => buf.upload(new Uint8Array(4), 5)).toThrow(RangeError);
    expect(() => buf.upload(new Uint8Array(9))).toThrow(/at most the buffer's 8 bytes/);
    expect(() => buf.download(new Uint8Array(2), 7)).toThrow(RangeError);
    expect(() => buf.upload(new Uint8Array(1), -1)).toThrow(/offset/);
  });

  it('async copies take only streams of this backend and reject instead of throwing', async () => {
    const { device } = api();
    const buf = device.allocate(8);
    const stream = device.createStream();
    await buf.uploadAsync(new Uint8Array([9, 8, 7, 6, 5, 4, 3, 2]), stream);
    expect(Array.from(await buf.downloadAsync(stream, undefined, 6))).toEqual([3, 2]);
    const out = new Uint8Array(8);
    expect(await buf.downloadAsync(stream, out)).toEqual(out);
    expect(out[0]).toBe(9);
    await expect(buf.uploadAsync(new Uint8Array(8), {} as never)).rejects.toThrow(/stream must be a CudaStream from this backend/);
    await expect(buf.uploadAsync(new Uint8Array(9), stream)).rejects.toThrow(RangeError);
    await stream.synchronize();
  });

  it('dispose is idempotent and any later use throws the DISPOSED error', async () => {
    const { device, cuda } = api();
    const buf = device.allocate(8);
    const stream = device.createStream();
    buf.dispose();
    buf.dispose();
    expect(buf.disposed).toBe(true);
    expect((cuda.allocated[0] as FakeDeviceBuffer).disposed).toBe(true);
    expect(() => buf.upload(new Uint8Array(8))).toThrow(expect.objectContaining({ code: TrtRefitErrorCode.DISPOSED }));
    expect(() => buf.download()).toThrow(expect.objectContaining({ code: TrtRefitErrorCode.DISPOSED }));
    expect(() => buf.address).toThrow(expect.objectContaining({ code: TrtRefitErrorCode.DISPOSED }));
    await expect(buf.uploadAsync(new Uint8Array(8), stream)).rejects.toMatchObject({ code: TrtRefitErrorCode.DISPOSED });
    stream.dispose();
    stream.dispose();
    await expect(stream.synchronize()).rejects.toMatchObject({ code: TrtRefitErrorCode.DISPOSED });
    await expect(buf.downloadAsync(stream)).rejects.toMatchObject({ code: TrtRefitErrorCode.DISPOSED });
  });

  it('a native error with a code becomes a typed error', () => {
    const cuda = fakeCuda();
    cuda.allocate = () => {
      throw Object.assign(new Error('cudaMalloc of 64 bytes on device 0 failed: cudaErrorMemoryAllocation'), { code: 'ERR_TRT_REFIT_DEVICE' });
    };
    const device = new NativeDeviceApi(cuda);
    expect(() => device.allocate(64)).toThrow(expect.objectContaining({ code: TrtRefitErrorCode.DEVICE, name: 'TrtRefitError' }));
  });

  it('events record on streams and time them', () => {
    const { device } = api();
    const stream = device.createStream();
    const a = stream.recordEvent(true);
    const b = device.createEvent(true);
    b.record(stream);
    expect(b.elapsedTime(a)).toBe(0.5);
    stream.waitEvent(a);
    expect(() => stream.waitEvent({} as never)).toThrow(TypeError);
    a.dispose();
    expect(() => a.query()).toThrow(expect.objectContaining({ code: TrtRefitErrorCode.DISPOSED }));
  });

  it('loadNativeDevice needs CUDA and a device, and says what is missing', () => {
    expect(loadNativeDevice({ binding: fakeBinding() })).toBeInstanceOf(NativeDeviceApi);
    expect(() => loadNativeDevice({ binding: fakeBinding({ cuda: { deviceCount: 0, deviceError: 'cudaErrorNoDevice' } }) })).toThrow(/no usable CUDA device: cudaErrorNoDevice/);
    expect(() => loadNativeDevice({ binding: fakeBinding({ cuda: { loaded: false, loadErrors: ['libcudart.so.13: not found'] } }) })).toThrow(/libcudart.so.13: not found/);
  });
});
