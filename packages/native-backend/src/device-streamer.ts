import { DisposedError, TensorLocation, weightsProblem, type Weights } from '@trt-refit/core';
import { NativeCudaStream, type NativeDeviceApi, type NativeDeviceBuffer } from './device.js';
import { typeError } from './validate.js';

/**
 * Uploads weights to device memory one tensor at a time, for the streaming refit of huge models: pass
 * `streamer.streamTo` as the `streamTo` option of `@trt-refit/onnx`'s `OnnxParserRefitter` over a native
 * refitter, and each external tensor is read, uploaded, and set as DEVICE weights before the next is read, so host
 * memory holds one tensor however large the model. Buffers are kept by weight name (and reused when the same name
 * is streamed again with the same size, e.g. for the next fine-tune); dispose the streamer after the refit.
 *
 * @example
 * ```ts
 * const streamer = new DeviceWeightsStreamer(backend.device);
 * const parserRefitter = new OnnxParserRefitter(refitter, silentLogger, { streamTo: streamer.streamTo });
 * if (await parserRefitter.refitFromFile('huge.onnx')) await refitter.refitCudaEngine();
 * streamer.dispose();
 * ```
 */
export class DeviceWeightsStreamer {
  readonly #buffers = new Map<string, NativeDeviceBuffer>();
  readonly #stream: NativeCudaStream;
  readonly #ownStream: boolean;
  #disposed = false;

  constructor(
    private readonly device: NativeDeviceApi,
    options: { stream?: NativeCudaStream } = {},
  ) {
    if (options.stream !== undefined && !(options.stream instanceof NativeCudaStream)) throw typeError('options.stream', 'a CudaStream of the native backend', options.stream);
    this.#ownStream = options.stream === undefined;
    this.#stream = options.stream ?? device.createStream();
  }

  /** Uploads host weights and resolves, once the copy is complete, to the same weights in device memory. */
  readonly streamTo = async (name: string, weights: Weights): Promise<{ weights: Weights; location: 'DEVICE' }> => {
    if (this.#disposed) throw new DisposedError('DeviceWeightsStreamer');
    if (typeof name !== 'string') throw typeError('name', 'a string', name);
    const problem = weightsProblem(weights);
    if (problem) throw new TypeError(`streamTo(${JSON.stringify(name)}): ${problem}`);
    const values = weights.values;
    if (values !== null && !ArrayBuffer.isView(values)) throw typeError(`streamTo(${JSON.stringify(name)}): weights.values`, 'host memory (an ArrayBufferView)', values);
    const bytes = values?.byteLength ?? 0;
    let buffer = this.#buffers.get(name);
    if (!buffer || buffer.disposed || buffer.byteLength !== bytes) {
      buffer?.dispose();
      buffer = this.device.allocate(bytes);
      this.#buffers.set(name, buffer);
    }
    if (values) await buffer.uploadAsync(values, this.#stream);
    return { weights: { type: weights.type, values: buffer, count: weights.count }, location: TensorLocation.DEVICE };
  };

  /** Device bytes held. */
  get bytes(): number {
    let n = 0;
    for (const b of this.#buffers.values()) n += b.byteLength;
    return n;
  }

  /** The device buffer holding a weight, if it was streamed. */
  buffer(name: string): NativeDeviceBuffer | undefined {
    return this.#buffers.get(name);
  }

  /** Frees every buffer: only once the refit that uses them is done (or the weights are unset). Idempotent. */
  dispose(): void {
    if (this.#disposed) return;
    this.#disposed = true;
    for (const b of this.#buffers.values()) b.dispose();
    this.#buffers.clear();
    if (this.#ownStream) this.#stream.dispose();
  }
}
