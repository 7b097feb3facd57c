import { DisposedError, type CudaStream, type DeviceApi, type DeviceBuffer } from '@trt-refit/core';
import type {
  NativeCudaEvent as RawEvent,
  NativeCudaModule,
  NativeCudaStream as RawStream,
  NativeDeviceBuffer as RawBuffer,
  NativeDeviceProperties,
} from './binding.js';
import { loraMergeOnDevice, loraStatusOf, type DeviceLoraMergeOptions, type LoraDeviceStatus } from './lora-device.js';
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

/** Where a buffer, stream or event goes: `device` is a CUDA device ordinal (default: the current device). */
export interface DeviceOptions {
  /** The CUDA device ordinal, 0 to `deviceCount() - 1`; default the calling thread's current device. */
  readonly device?: number;
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

  /** The CUDA device the stream belongs to (copies of buffers of that device only). */
  get deviceId(): number {
    return this.native.deviceId;
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
      checkStreamDevice('uploadAsync', s, this.deviceId);
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
      checkStreamDevice('downloadAsync', s, this.deviceId);
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

function checkStreamDevice(what: string, stream: RawStream, device: number): void {
  if (stream.deviceId !== device) throw rangeError(`${what}: stream`, `a stream of the buffer's device ${device}`, `a stream of device ${stream.deviceId}`);
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
 * The native backend's `backend.device`: real CUDA memory, streams and events, on the current device or on the
 * device each call names (`{ device }`). Every operation of a buffer, stream or event runs with its own device
 * current and restores the caller's current device, so work for several GPUs can be mixed freely on one thread.
 * Also usable without TensorRT (`loadNativeDevice()`), e.g. to stage weights for another process.
 */
export class NativeDeviceApi implements DeviceApi {
  /** @internal */
  constructor(readonly cuda: NativeCudaModule) {}

  /** @internal A device ordinal from `options.device` (undefined: the current device), checked against the count. */
  deviceOption(options: unknown, parameter = 'options'): number | undefined {
    if (options === undefined) return undefined;
    if (options === null || typeof options !== 'object') throw typeError(parameter, 'an object ({ device })', options);
    return this.deviceArg((options as DeviceOptions).device, `${parameter}.device`);
  }

  /** @internal A device ordinal (undefined passes through), a RangeError when this machine has no such device. */
  deviceArg(device: unknown, parameter: string): number | undefined {
    if (device === undefined) return undefined;
    const d = expectSize(device, parameter);
    const count = this.deviceCount();
    if (d >= count) throw rangeError(parameter, `a CUDA device ordinal below ${count} (the devices of this machine)`, d);
    return d;
  }

  /**
   * DeviceApi::allocate: see {@link DeviceApi.allocate}. Here: `cudaMalloc` on `options.device` (default the current
   * device); throws a `TrtRefitError` with code ERR_TRT_REFIT_DEVICE (free and total memory in its message) when
   * CUDA cannot allocate, a RangeError for a device this machine does not have.
   */
  allocate(byteLength: number, options?: DeviceOptions): NativeDeviceBuffer {
    const n = expectSize(byteLength, 'byteLength');
    const device = this.deviceOption(options);
    return new NativeDeviceBuffer(callNative(() => (device === undefined ? this.cuda.allocate(n) : this.cuda.allocate(n, device))));
  }

  /**
   * DeviceApi::createStream: see {@link DeviceApi.createStream}. Here: a non-blocking CUDA stream on
   * `options.device` (default the current device); async copies of a buffer need a stream of the buffer's device.
   */
  createStream(options?: DeviceOptions): NativeCudaStream {
    const device = this.deviceOption(options);
    return new NativeCudaStream(callNative(() => (device === undefined ? this.cuda.createStream() : this.cuda.createStream(device))), this.cuda);
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

  /** A CUDA event on `options.device` (default the current device); `timing` enables `elapsedTime`. */
  createEvent(timing = false, options?: DeviceOptions): NativeCudaEvent {
    const device = this.deviceOption(options);
    return new NativeCudaEvent(callNative(() => (device === undefined ? this.cuda.createEvent(timing) : this.cuda.createEvent(timing, device))));
  }

  /**
   * Page-locked host memory (`cudaHostAlloc`, portable: pinned for every device), freed by
   * {@link NativeDeviceApi.freePinned} or else when the returned array is garbage-collected. Copies from and into it
   * skip staging and are fully asynchronous.
   */
  allocatePinned(byteLength: number): Uint8Array {
    const n = expectSize(byteLength, 'byteLength');
    return new Uint8Array(callNative(() => this.cuda.allocatePinned(n)));
  }

  /**
   * Frees page-locked memory of {@link NativeDeviceApi.allocatePinned} now instead of at garbage collection
   * (`cudaFreeHost`); the array and every view of its buffer become empty (detached). False when it was already
   * freed; TypeError for an array that `allocatePinned` did not return. No copy from or into it may be in flight.
   */
  freePinned(array: Uint8Array): boolean {
    if (!(array instanceof Uint8Array) || !(array.buffer instanceof ArrayBuffer)) throw typeError('array', 'a Uint8Array returned by allocatePinned', array);
    if (array.byteOffset !== 0 || array.byteLength !== array.buffer.byteLength) throw typeError('array', 'the whole Uint8Array returned by allocatePinned, not a view of part of it', array);
    return callNative(() => this.cuda.freePinned(array.buffer as ArrayBuffer));
  }

  /** True when `view` lies in page-locked memory. */
  isPinned(view: ArrayBufferView): boolean {
    return callNative(() => this.cuda.isPinned(expectView(view, 'view')));
  }

  /** `cudaMemGetInfo` of `deviceId` (default the current device). */
  memoryInfo(deviceId?: number): { free: number; total: number } {
    const d = this.deviceArg(deviceId, 'deviceId');
    return callNative(() => (d === undefined ? this.cuda.memGetInfo() : this.cuda.memGetInfo(d)));
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

  /**
   * The LoRA merge on the device: `out = round(base + Σ scaleᵢ · Bᵢ · Aᵢ)` to `options.type`, the update computed in
   * FP32 by cuBLAS (opened at run time; pedantic FP32, no TF32) and, for HALF / BF16, added to the base read in its type
   * and rounded once by a kernel. Enqueued on `options.stream` before this returns; resolves once it completed.
   * `base` is never modified (unless it is `out`). Arguments are validated first (ArgumentTypeError /
   * ArgumentRangeError naming the parameter: buffer sizes against rows · cols, the buffers' device against the
   * stream's); without cuBLAS it rejects with ERR_TRT_REFIT_BACKEND_UNAVAILABLE listing what was tried.
   * Several adapters in host memory are best merged as one ({@link concatLoraFactors}); {@link DeviceLoraMerger}
   * keeps base weights resident by name.
   */
  loraMerge(options: DeviceLoraMergeOptions): Promise<void> {
    return loraMergeOnDevice(this, this.cuda, options);
  }

  /** Whether {@link NativeDeviceApi.loraMerge} can run here: cuBLAS loaded (tried on this call) and the runtime's kernel functions present. Never throws for a missing cuBLAS. */
  loraStatus(): LoraDeviceStatus {
    return loraStatusOf(this.cuda);
  }

  /** Waits for all work on `deviceId` (default the current device), off the JS thread. */
  synchronize(deviceId?: number): Promise<void> {
    return callNativeAsync(() => {
      const d = this.deviceArg(deviceId, 'deviceId');
      return d === undefined ? this.cuda.synchronizeDevice() : this.cuda.synchronizeDevice(d);
    });
  }
}

export type { NativeDeviceProperties };
