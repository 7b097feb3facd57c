import { DisposedError, type CudaStream, type DeviceApi, type DeviceBuffer } from '@trt-refit/core';
import type {
  NativeCudaEvent as RawEvent,
  NativeCudaModule,
  NativeCudaStream as RawStream,
  NativeDeviceBuffer as RawBuffer,
  NativeDeviceProperties,
} from './binding.js';
import { callNative, callNativeAsync } from './native-errors.js';
import { expectSize, expectView, rangeError, typeError } from './validate.js';

function offsetArg(offset: unknown): number {
  return offset === undefined ? 0 : expectSize(offset, 'offset');
}

function checkRange(what: string, offset: number, length: number, size: number): void {
  if (offset > size || length > size - offset) {
    throw rangeError(`${what}: offset + length`, `at most the buffer's ${size} bytes`, offset + length);
  }
}

function bytesOf(view: ArrayBufferView): Uint8Array {
  return view instanceof Uint8Array ? view : new Uint8Array(view.buffer, view.byteOffset, view.byteLength);
}

/**
 * A CUDA stream (`cudaStreamCreateWithFlags(cudaStreamNonBlocking)`). Copies and refits enqueued on it run in the
 * order of the calls; `synchronize()` resolves when they are done without blocking the event loop.
 */
export class NativeCudaStream implements CudaStream {
  #disposed = false;
  /** @internal */
  constructor(
    readonly native: RawStream,
    private readonly cuda: NativeCudaModule,
  ) {}

  /** True once {@link NativeCudaStream.dispose} was called. */
  get disposed(): boolean {
    return this.#disposed;
  }

  /** The raw `cudaStream_t`, for interop with other CUDA libraries. */
  get handle(): bigint {
    return this.live().handle;
  }

  /** @internal The native stream; throws DisposedError after dispose(). */
  live(): RawStream {
    if (this.#disposed) throw new DisposedError('CudaStream');
    return this.native;
  }

  /**
   * CudaStream::synchronize: see {@link CudaStream.synchronize}. Here: the addon records an event on the stream and
   * its completion thread polls it, so neither the JS thread nor a libuv worker blocks.
   */
  synchronize(): Promise<void> {
    return callNativeAsync(() => this.live().synchronize());
  }

  /** True when all work enqueued so far has completed (`cudaStreamQuery`). */
  query(): boolean {
    return callNative(() => this.live().query());
  }

  /** Records an event on this stream; `timing` enables `elapsedTime`. */
  recordEvent(timing = false): NativeCudaEvent {
    this.live();
    const event = new NativeCudaEvent(callNative(() => this.cuda.createEvent(timing)));
    event.record(this);
    return event;
  }

  /** Makes later work on this stream wait for `event` (`cudaStreamWaitEvent`). */
  waitEvent(event: NativeCudaEvent): void {
    if (!(event instanceof NativeCudaEvent)) throw typeError('event', 'a CudaEvent of this backend', event);
    callNative(() => this.live().waitEvent(event.live()));
  }

  /**
   * CudaStream::dispose: see {@link CudaStream.dispose}. Here: `cudaStreamDestroy`; work already enqueued still
   * completes. Idempotent.
   */
  dispose(): void {
    if (this.#disposed) return;
    this.#disposed = true;
    this.native.dispose();
  }
}

/** A CUDA event, to order work across streams and to time it. */
export class NativeCudaEvent {
  #disposed = false;
  /** @internal */
  constructor(readonly native: RawEvent) {}

  /** True once {@link NativeCudaEvent.dispose} was called. */
  get disposed(): boolean {
    return this.#disposed;
  }

  /** @internal */
  live(): RawEvent {
    if (this.#disposed) throw new DisposedError('CudaEvent');
    return this.native;
  }

  /** Records the event on `stream` (`cudaEventRecord`); `stream` must come from this backend. */
  record(stream: CudaStream): void {
    if (!(stream instanceof NativeCudaStream)) throw typeError('stream', 'a CudaStream of this backend', stream);
    callNative(() => this.live().record(stream.live()));
  }

  /** Resolves once the work before the last `record` completed. */
  synchronize(): Promise<void> {
    return callNativeAsync(() => this.live().synchronize());
  }

  /** True when the work before the last `record` has completed (`cudaEventQuery`). */
  query(): boolean {
    return callNative(() => this.live().query());
  }

  /** Milliseconds between `start` and this event (both created with timing). */
  elapsedTime(start: NativeCudaEvent): number {
    if (!(start instanceof NativeCudaEvent)) throw typeError('start', 'a CudaEvent of this backend', start);
    return callNative(() => this.live().elapsedTime(start.live()));
  }

  /** Destroys the event (`cudaEventDestroy`, deferred while a `synchronize()` is pending). Idempotent. */
  dispose(): void {
    if (this.#disposed) return;
    this.#disposed = true;
    this.native.dispose();
  }
}

/**
 * Device memory (`cudaMalloc`), reported to the garbage collector. Synchronous copies use `cudaMemcpy`; async
 * ones are enqueued on a stream at call time (so they are ordered with the refits and executions enqueued after
 * them) and resolve when done. A pageable source of an async upload may be changed as soon as the call returns
 * (it is staged through pinned memory); the destination of an async download must not be touched before the
 * Promise resolves.
 */
export class NativeDeviceBuffer implements DeviceBuffer {
  #disposed = false;
  readonly byteLength: number;
  readonly deviceId: number;

  /** @internal */
  constructor(readonly native: RawBuffer) {
    this.byteLength = native.byteLength;
    this.deviceId = native.deviceId;
  }

  /** True once {@link NativeDeviceBuffer.dispose} was called. */
  get disposed(): boolean {
    return this.#disposed;
  }

  /** The device pointer, for interop with other CUDA libraries. */
  get address(): bigint {
    return this.live().address;
  }

  /** @internal */
  live(): RawBuffer {
    if (this.#disposed) throw new DisposedError('DeviceBuffer');
    return this.native;
  }

  upload(src: ArrayBufferView, offset?: number): void {
    const n = this.live();
    const view = expectView(src, 'src');
    const at = offsetArg(offset);
    checkRange('upload', at, view.byteLength, this.byteLength);
    callNative(() => n.upload(view, at));
  }

  /**
   * DeviceBuffer::uploadAsync: see {@link DeviceBuffer.uploadAsync}. Here: validated in TS, then `cudaMemcpyAsync`
   * is enqueued on `stream` before this returns; a pageable `src` of up to 64 MiB is staged through pooled pinned
   * memory and may be changed at once, a pinned one must stay unchanged until the Promise resolves.
   */
  uploadAsync(src: ArrayBufferView, stream: CudaStream, offset?: number): Promise<void> {
    return callNativeAsync(() => {
      const n = this.live();
      const view = expectView(src, 'src');
      const s = streamArg(stream);
      const at = offsetArg(offset);
      checkRange('uploadAsync', at, view.byteLength, this.byteLength);
      return n.uploadAsync(view, s, at);
    });
  }

  download(dst?: ArrayBufferView, offset?: number): Uint8Array {
    const n = this.live();
    const at = offsetArg(offset);
    const target = dst === undefined ? new Uint8Array(Math.max(0, this.byteLength - at)) : expectView(dst, 'dst');
    checkRange('download', at, target.byteLength, this.byteLength);
    callNative(() => n.download(target, at));
    return bytesOf(target);
  }

  /**
   * DeviceBuffer::downloadAsync: see {@link DeviceBuffer.downloadAsync}. Here: validated in TS, then
   * `cudaMemcpyAsync` is enqueued on `stream` before this returns; `dst` (or a new array of the rest of the buffer
   * from `offset`) holds the data once the Promise resolves and must not be touched before.
   */
  downloadAsync(stream: CudaStream, dst?: ArrayBufferView, offset?: number): Promise<Uint8Array> {
    return callNativeAsync(() => {
      const n = this.live();
      const s = streamArg(stream);
      const at = offsetArg(offset);
      const target = dst === undefined ? new Uint8Array(Math.max(0, this.byteLength - at)) : expectView(dst, 'dst');
      checkRange('downloadAsync', at, target.byteLength, this.byteLength);
      return n.downloadAsync(target, s, at).then(() => bytesOf(target));
    });
  }

  /** Frees the memory (deferred until async copies in flight complete). Idempotent. */
  dispose(): void {
    if (this.#disposed) return;
    this.#disposed = true;
    this.native.dispose();
  }
}

function streamArg(stream: unknown): RawStream {
  if (!(stream instanceof NativeCudaStream)) throw typeError('stream', "a CudaStream from this backend's device.createStream()", stream);
  return stream.live();
}

/** The native device buffer behind `values`, when it is one of this package's buffers. */
export function nativeBufferOf(values: unknown): RawBuffer | undefined {
  return values instanceof NativeDeviceBuffer ? values.live() : undefined;
}

/** The native stream behind `stream`, or a TypeError naming the parameter. */
export function nativeStreamOf(stream: unknown, parameter = 'stream'): RawStream {
  if (!(stream instanceof NativeCudaStream)) throw typeError(parameter, "a CudaStream from this backend's device.createStream()", stream);
  return stream.live();
}

/**
 * The native backend's `backend.device`: real CUDA memory, streams and events on the current device. Also usable
 * without TensorRT (`loadNativeDevice()`), e.g. to stage weights for another process.
 */
export class NativeDeviceApi implements DeviceApi {
  /** @internal */
  constructor(readonly cuda: NativeCudaModule) {}

  /**
   * DeviceApi::allocate: see {@link DeviceApi.allocate}. Here: `cudaMalloc` on the current device; throws a
   * `TrtRefitError` with code ERR_TRT_REFIT_DEVICE (free and total memory in its message) when CUDA cannot allocate.
   */
  allocate(byteLength: number): NativeDeviceBuffer {
    const n = expectSize(byteLength, 'byteLength');
    return new NativeDeviceBuffer(callNative(() => this.cuda.allocate(n)));
  }

  /** DeviceApi::createStream: see {@link DeviceApi.createStream}. Here: a non-blocking CUDA stream on the current device. */
  createStream(): NativeCudaStream {
    return new NativeCudaStream(callNative(() => this.cuda.createStream()), this.cuda);
  }

  fromHost(src: ArrayBufferView): NativeDeviceBuffer {
    const view = expectView(src, 'src');
    const buffer = this.allocate(view.byteLength);
    try {
      buffer.upload(view);
    } catch (e) {
      buffer.dispose();
      throw e;
    }
    return buffer;
  }

  /** A CUDA event; `timing` enables `elapsedTime`. */
  createEvent(timing = false): NativeCudaEvent {
    return new NativeCudaEvent(callNative(() => this.cuda.createEvent(timing)));
  }

  /**
   * Page-locked host memory (`cudaHostAlloc`), freed when the returned array is garbage-collected. Copies from and
   * into it skip staging and are fully asynchronous.
   */
  allocatePinned(byteLength: number): Uint8Array {
    const n = expectSize(byteLength, 'byteLength');
    return new Uint8Array(callNative(() => this.cuda.allocatePinned(n)));
  }

  /** True when `view` lies in page-locked memory. */
  isPinned(view: ArrayBufferView): boolean {
    return callNative(() => this.cuda.isPinned(expectView(view, 'view')));
  }

  /** `cudaMemGetInfo` of the current device. */
  memoryInfo(): { free: number; total: number } {
    return callNative(() => this.cuda.memGetInfo());
  }

  /** The number of CUDA devices (`cudaGetDeviceCount`). */
  deviceCount(): number {
    return callNative(() => this.cuda.deviceCount());
  }

  /** `cudaGetDeviceProperties` of `deviceId`, by default the current device (`cudaGetDevice`). */
  deviceProperties(deviceId?: number): NativeDeviceProperties {
    const id = deviceId === undefined ? callNative(() => this.cuda.getDevice()) : expectSize(deviceId, 'deviceId');
    return callNative(() => this.cuda.deviceProperties(id));
  }

  /** Waits for all work on the device, off the JS thread. */
  synchronize(): Promise<void> {
    return callNativeAsync(() => this.cuda.synchronizeDevice());
  }
}

export type { NativeDeviceProperties };
