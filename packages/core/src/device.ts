/**
 * Device memory (`cudaMalloc`). The mock backend emulates it in host memory; the native backend holds real CUDA
 * memory. Explicit lifetime: `dispose()` is idempotent and any use afterwards throws `DisposedError`.
 */
export interface DeviceBuffer {
  readonly byteLength: number;
  /** CUDA device ordinal, or -1 for an emulated device. */
  readonly deviceId: number;
  readonly disposed: boolean;
  /** Copies `src` into the buffer at `offset` (synchronous `cudaMemcpy`, or ordered on `stream`). */
  upload(src: ArrayBufferView, offset?: number): void;
  uploadAsync(src: ArrayBufferView, stream: CudaStream, offset?: number): Promise<void>;
  /** Copies the buffer (or a range of it) into `dst`, or into a new Uint8Array. */
  download(dst?: ArrayBufferView, offset?: number): Uint8Array;
  downloadAsync(stream: CudaStream, dst?: ArrayBufferView, offset?: number): Promise<Uint8Array>;
  dispose(): void;
}

/** A CUDA stream: work enqueued on it runs in order. */
export interface CudaStream {
  readonly disposed: boolean;
  /** Resolves when all work enqueued so far has completed (`cudaStreamSynchronize`, off the JS thread). */
  synchronize(): Promise<void>;
  dispose(): void;
}

/** Device memory and streams of a backend (`backend.device`). */
export interface DeviceApi {
  allocate(byteLength: number): DeviceBuffer;
  createStream(): CudaStream;
  /** Allocates a buffer of `src.byteLength` bytes and uploads `src` into it. */
  fromHost(src: ArrayBufferView): DeviceBuffer;
}
