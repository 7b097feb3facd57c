import { DisposedError, InvalidArgumentError, type CudaStream, type DeviceApi, type DeviceBuffer } from '@trt-refit/core';

/** A stream of the emulated device: work enqueued on it runs in order; `synchronize()` waits for all of it. */
export class EmulatedStream implements CudaStream {
  private tail: Promise<void> = Promise.resolve();
  private _disposed = false;
  /** True once {@link EmulatedStream.dispose} was called. */
  get disposed(): boolean {
    return this._disposed;
  }
  /** Enqueues `work` after everything enqueued before; resolves with its result. */
  enqueue<T>(work: () => T | Promise<T>): Promise<T> {
    if (this._disposed) throw new DisposedError('CudaStream');
    const run = this.tail.then(() => new Promise<void>((r) => setImmediate(r))).then(work);
    this.tail = run.then(
      () => undefined,
      () => undefined,
    );
    return run;
  }
  async synchronize(): Promise<void> {
    if (this._disposed) throw new DisposedError('CudaStream');
    await this.tail;
  }
  /**
   * CudaStream::dispose: see {@link CudaStream.dispose}. Here: later `enqueue` and `synchronize` calls throw
   * DisposedError; work already enqueued still runs. Idempotent.
   */
  dispose(): void {
    this._disposed = true;
  }
}

function bytesOf(v: ArrayBufferView): Uint8Array {
  return new Uint8Array(v.buffer, v.byteOffset, v.byteLength);
}

/** Device memory of the mock backend: host memory behind the {@link DeviceBuffer} interface (deviceId -1). */
export class EmulatedDeviceBuffer implements DeviceBuffer {
  readonly deviceId = -1;
  private memory: Uint8Array | null;
  constructor(readonly byteLength: number) {
    if (!Number.isSafeInteger(byteLength) || byteLength < 0) throw new InvalidArgumentError(`allocate: byteLength must be a non-negative integer, received ${String(byteLength)}`);
    this.memory = new Uint8Array(byteLength);
  }
  /** True once {@link EmulatedDeviceBuffer.dispose} was called. */
  get disposed(): boolean {
    return this.memory === null;
  }
  /** The emulated device memory (the mock's engine reads device weights through it). */
  view(): Uint8Array {
    if (!this.memory) throw new DisposedError('DeviceBuffer');
    return this.memory;
  }
  private range(what: string, length: number, offset: number): void {
    if (!Number.isSafeInteger(offset) || offset < 0 || offset + length > this.byteLength) {
      throw new InvalidArgumentError(`${what}: ${length} bytes at offset ${offset} do not fit in a ${this.byteLength}-byte device buffer`);
    }
  }
  upload(src: ArrayBufferView, offset = 0): void {
    const mem = this.view();
    if (!ArrayBuffer.isView(src)) throw new InvalidArgumentError('upload: src must be an ArrayBufferView');
    this.range('upload', src.byteLength, offset);
    mem.set(bytesOf(src), offset);
  }
  /**
   * DeviceBuffer::uploadAsync: see {@link DeviceBuffer.uploadAsync}. Here: an {@link EmulatedDeviceBuffer.upload}
   * enqueued on `stream` (which must be an {@link EmulatedStream}); `src` is read when the copy runs, so it must not
   * change until the Promise resolves.
   */
  uploadAsync(src: ArrayBufferView, stream: CudaStream, offset = 0): Promise<void> {
    this.view();
    return asEmulated(stream).enqueue(() => this.upload(src, offset));
  }
  download(dst?: ArrayBufferView, offset = 0): Uint8Array {
    const mem = this.view();
    const out = dst ? bytesOf(dst) : new Uint8Array(this.byteLength - offset);
    this.range('download', out.byteLength, offset);
    out.set(mem.subarray(offset, offset + out.byteLength));
    return out;
  }
  /**
   * DeviceBuffer::downloadAsync: see {@link DeviceBuffer.downloadAsync}. Here: an {@link EmulatedDeviceBuffer.download}
   * enqueued on `stream` (which must be an {@link EmulatedStream}); resolves with the bytes once it ran.
   */
  downloadAsync(stream: CudaStream, dst?: ArrayBufferView, offset = 0): Promise<Uint8Array> {
    this.view();
    return asEmulated(stream).enqueue(() => this.download(dst, offset));
  }
  /** Releases the emulated memory (to the garbage collector); later use throws DisposedError. Idempotent. */
  dispose(): void {
    this.memory = null;
  }
}

/** The stream as the mock's own kind, or a clear error for a stream of another backend. */
export function asEmulated(stream: CudaStream): EmulatedStream {
  if (!(stream instanceof EmulatedStream)) throw new InvalidArgumentError('stream must come from this backend (backend.device.createStream())');
  return stream;
}

/** `backend.device` of the mock backend. */
export const emulatedDevice: DeviceApi = {
  allocate: (byteLength) => new EmulatedDeviceBuffer(byteLength),
  createStream: () => new EmulatedStream(),
  fromHost: (src) => {
    const b = new EmulatedDeviceBuffer(src.byteLength);
    b.upload(src);
    return b;
  },
};
