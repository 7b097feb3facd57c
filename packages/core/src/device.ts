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
  /**
   * Copies `src` into the buffer at `offset`, enqueued on `stream` (`cudaMemcpyAsync`): ordered with the copies and
   * refits enqueued on that stream; resolves when done. Keep `src` unchanged until then.
   */
  uploadAsync(src: ArrayBufferView, stream: CudaStream, offset?: number): Promise<void>;
  /** Copies the buffer (or a range of it) into `dst`, or into a new Uint8Array. */
  download(dst?: ArrayBufferView, offset?: number): Uint8Array;
  /**
   * Copies the buffer from `offset` into `dst`, or into a new Uint8Array of the rest of the buffer, enqueued on
   * `stream`; resolves to the bytes once done. Do not touch `dst` before.
   */
  downloadAsync(stream: CudaStream, dst?: ArrayBufferView, offset?: number): Promise<Uint8Array>;
  /**
   * Frees the memory (the native backend waits for async copies in flight). Idempotent. Weights set from this
   * buffer and not unset make the next refit fail.
   */
  dispose(): void;
}

/** A CUDA stream: work enqueued on it runs in order. */
export interface CudaStream {
  readonly disposed: boolean;
  /** Resolves when all work enqueued so far has completed (`cudaStreamSynchronize`, off the JS thread). */
  synchronize(): Promise<void>;
  /** Destroys the stream; work already enqueued still completes. Idempotent; later use throws `DisposedError`. */
  dispose(): void;
}

/** Device memory and streams of a backend (`backend.device`). */
export interface DeviceApi {
  /**
   * Allocates `byteLength` bytes of device memory (`cudaMalloc`; the contents are undefined on a real device).
   * Throws when the memory cannot be allocated.
   */
  allocate(byteLength: number): DeviceBuffer;
  /** A new stream, for async copies, refits (`refitCudaEngineAsync`) and executions. */
  createStream(): CudaStream;
  /** Allocates a buffer of `src.byteLength` bytes and uploads `src` into it. */
  fromHost(src: ArrayBufferView): DeviceBuffer;
}
