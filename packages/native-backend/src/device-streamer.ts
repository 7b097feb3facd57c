import { DisposedError, TensorLocation, weightsProblem, type Weights } from '@trt-refit/core';
import { NativeCudaStream, type NativeDeviceApi, type NativeDeviceBuffer } from './device.js';
import { callNative } from './native-errors.js';
import { expectSize, rangeError, typeError } from './validate.js';

/** The part of a weight that goes to one device: `byteLength` bytes from `byteOffset`, holding `count` elements. */
export interface ShardRange {
  readonly byteOffset: number;
  readonly byteLength: number;
  readonly count: number;
}

/** Options of {@link DeviceWeightsStreamer}. */
export interface DeviceWeightsStreamerOptions {
  /** The stream to copy on (one device: the stream's); by default the streamer makes one stream per device. */
  readonly stream?: NativeCudaStream;
  /**
   * The devices every weight goes to (CUDA ordinals, no repeats), e.g. `[0, 1]` for the GPUs of two ranks; default:
   * the current device. Each weight is read once and copied from the same host bytes to every device, on one
   * stream per device: replicas, or with {@link DeviceWeightsStreamerOptions.shard} each device's part.
   */
  readonly devices?: readonly number[];
  /**
   * Tensor parallelism: the byte range of `weights` that each device gets, one range per device in the order of
   * `devices`, or `undefined` to copy the whole weight to every device (replicas, e.g. norms and biases that are not
   * split). {@link dim0Shards} gives the ranges of a split along dimension 0 (contiguous rows).
   */
  readonly shard?: (name: string, weights: Weights, devices: number) => readonly ShardRange[] | undefined;
}

/** What a {@link DeviceWeightsStreamer} has streamed, for checking that the pipeline took the intended path. */
export interface DeviceStreamerStats {
  /** Weights streamed. */
  readonly tensors: number;
  /** Host bytes streamed (each counted once, however many devices received them). */
  readonly bytes: number;
  /** Of those weights, the ones whose bytes lay in the streamer's pinned staging ({@link DeviceWeightsStreamer.staging}), copied to the devices without another host copy. */
  readonly fromStaging: number;
}

function isSafeCount(n: unknown): n is number {
  return typeof n === 'number' && Number.isSafeInteger(n) && n >= 0;
}

/**
 * The byte ranges of a split along dimension 0 into `ranks` equal parts (tensor parallelism over rows: each rank's
 * part is contiguous). `dims` are the weight's dimensions; `dims[0]` must be divisible by `ranks`. A split along
 * another dimension is not contiguous (each rank's part is a strided set of rows): it needs a 2-D copy
 * (`cudaMemcpy2DAsync`), which this package does not do yet; transpose such weights in the checkpoint instead.
 */
export function dim0Shards(dims: readonly number[], weights: Weights, ranks: number): ShardRange[] {
  if (!Array.isArray(dims) || dims.length === 0 || !dims.every(isSafeCount)) throw typeError('dims', 'a non-empty array of non-negative integers', dims);
  const count = dims.reduce((a, b) => a * b, 1);
  if (count !== weights.count) throw rangeError('dims', `dimensions whose product is the weights' count ${weights.count}`, `[${dims.join(', ')}]`);
  if (!Number.isSafeInteger(ranks) || ranks < 1) throw rangeError('ranks', 'a positive integer', ranks);
  const rows = dims[0]!;
  if (rows % ranks !== 0) throw rangeError('dims[0]', `a multiple of the ${ranks} ranks`, rows);
  const values = weights.values;
  if (values !== null && !ArrayBuffer.isView(values)) throw typeError('weights.values', 'host memory (an ArrayBufferView)', values);
  const bytes = values?.byteLength ?? 0;
  if (rows > 0 && bytes % rows !== 0) throw rangeError('weights.values.byteLength', `a multiple of the ${rows} rows`, bytes);
  const partBytes = rows === 0 ? 0 : (bytes / rows) * (rows / ranks);
  return Array.from({ length: ranks }, (_, k) => ({ byteOffset: k * partBytes, byteLength: partBytes, count: count / ranks }));
}

/**
 * Uploads weights to device memory one tensor at a time, for the streaming refit of huge models: pass
 * `streamer.streamTo` as the `streamTo` option of `@trt-refit/onnx`'s `OnnxParserRefitter` over a native
 * refitter, and each tensor read from the file is uploaded and set as DEVICE weights, so host memory holds only
 * the tensors in flight however large the model. With `staging: streamer.staging` too, the parser refitter reads
 * each tensor straight into page-locked buffers that the streamer lends (two by default: one is read while the
 * other is copied) and `streamTo` copies from there with `cudaMemcpyAsync`, without another host copy.
 *
 * Several GPUs (`devices: [0, 1, …]`): each tensor is read once and copied to every device, whole (replicas) or
 * the part that `shard` gives each device (tensor-parallel ranks). `streamTo` returns the first device's weights
 * (give the parser refitter the refitter of that device's engine); {@link DeviceWeightsStreamer.weightsFor} gives
 * every other device's, to set on its own refitter.
 *
 * Buffers are kept by weight name (and reused when the same name is streamed again with the same size, e.g. for the
 * next fine-tune), as is the pinned staging; dispose the streamer after the refit.
 *
 * @example
 * ```ts
 * const streamer = new DeviceWeightsStreamer(backend.device);
 * const parserRefitter = new OnnxParserRefitter(refitter, silentLogger, { streamTo: streamer.streamTo, staging: streamer.staging });
 * if (await parserRefitter.refitFromFile('huge.onnx')) await refitter.refitCudaEngine();
 * streamer.dispose();
 * ```
 */
export class DeviceWeightsStreamer {
  readonly #buffers = new Map<string, { type: Weights['type']; counts: number[]; buffers: NativeDeviceBuffer[] }>();
  readonly #devices: readonly number[];
  readonly #streams: NativeCudaStream[];
  readonly #ownStreams: boolean;
  readonly #shard: DeviceWeightsStreamerOptions['shard'];
  readonly #staging: Uint8Array[] = [];
  readonly #inflight = new Set<Promise<unknown>>();
  #stats = { tensors: 0, bytes: 0, fromStaging: 0 };
  #disposed = false;

  constructor(
    private readonly device: NativeDeviceApi,
    options: DeviceWeightsStreamerOptions = {},
  ) {
    if (options === null || typeof options !== 'object') throw typeError('options', 'an object', options);
    const { stream, devices, shard } = options;
    if (stream !== undefined && !(stream instanceof NativeCudaStream)) throw typeError('options.stream', 'a CudaStream of the native backend', stream);
    if (shard !== undefined && typeof shard !== 'function') throw typeError('options.shard', 'a function (name, weights, devices) => ranges | undefined', shard);
    let list: number[];
    if (devices === undefined) {
      list = [stream ? stream.deviceId : callNative(() => device.cuda.getDevice())];
    } else {
      if (!Array.isArray(devices) || devices.length === 0) throw typeError('options.devices', 'a non-empty array of CUDA device ordinals', devices);
      list = devices.map((d, i) => device.deviceArg(d, `options.devices[${i}]`)!);
      if (new Set(list).size !== list.length) throw rangeError('options.devices', 'distinct devices', `[${list.join(', ')}]`);
    }
    if (stream && (list.length !== 1 || list[0] !== stream.deviceId)) {
      throw rangeError('options.stream', `a stream of the one device streamed to (devices: [${list.join(', ')}])`, `a stream of device ${stream.deviceId}`);
    }
    this.#devices = Object.freeze(list);
    this.#shard = shard;
    this.#ownStreams = stream === undefined;
    this.#streams = stream ? [stream] : [];
    try {
      if (!stream) for (const d of list) this.#streams.push(device.createStream({ device: d }));
    } catch (e) {
      for (const s of this.#streams) s.dispose();
      throw e;
    }
  }

  /** The devices weights go to, in the order of {@link DeviceWeightsStreamerOptions.devices}. */
  get devices(): readonly number[] {
    return this.#devices;
  }

  /** What was streamed so far. */
  get stats(): DeviceStreamerStats {
    return { ...this.#stats };
  }

  /**
   * For `OnnxParserRefitter`'s `staging` option: `count` page-locked host buffers of at least `byteLength` bytes,
   * which the parser refitter reads tensors into. They are pinned once (`cudaHostAlloc`, portable to every device),
   * kept for later refits (reallocated only when a refit needs larger or more), and freed by
   * {@link DeviceWeightsStreamer.dispose}. A weight in one of them is copied to the devices straight from it.
   */
  readonly staging = (byteLength: number, count: number): readonly Uint8Array[] => {
    if (this.#disposed) throw new DisposedError('DeviceWeightsStreamer');
    const size = expectSize(byteLength, 'byteLength');
    const n = expectSize(count, 'count');
    if (n < 1) throw rangeError('count', 'at least 1', n);
    const idle = this.#inflight.size === 0;
    for (let i = this.#staging.length - 1; i >= 0; i--) {
      const b = this.#staging[i]!;
      if (b.byteLength >= size) continue;
      this.#staging.splice(i, 1);
      // Too small: freed now, unless a copy from it might still run (then its ArrayBuffer's finalizer frees it).
      if (idle) this.device.freePinned(b);
    }
    while (this.#staging.length < n) this.#staging.push(this.device.allocatePinned(size));
    return this.#staging.slice(0, n);
  };

  /** Bytes of pinned staging held. */
  get stagingBytes(): number {
    return this.#staging.reduce((a, b) => a + b.byteLength, 0);
  }

  #inStaging(view: ArrayBufferView): boolean {
    return this.#staging.some((b) => b.buffer === view.buffer);
  }

  #ranges(name: string, weights: Weights, bytes: number): readonly ShardRange[] | undefined {
    if (!this.#shard) return undefined;
    const ranges = this.#shard(name, weights, this.#devices.length);
    if (ranges === undefined) return undefined;
    const what = `shard(${JSON.stringify(name)})`;
    if (!Array.isArray(ranges) || ranges.length !== this.#devices.length) throw typeError(what, `undefined or an array of ${this.#devices.length} ranges, one per device`, ranges);
    ranges.forEach((r: ShardRange, i) => {
      if (!r || !isSafeCount(r.byteOffset) || !isSafeCount(r.byteLength) || !isSafeCount(r.count)) throw typeError(`${what}[${i}]`, '{ byteOffset, byteLength, count } of non-negative integers', r);
      if (r.byteOffset + r.byteLength > bytes) throw rangeError(`${what}[${i}]`, `a range inside the weight's ${bytes} bytes`, `${r.byteLength} bytes at ${r.byteOffset}`);
    });
    return ranges;
  }

  /**
   * Uploads host weights to every device (whole, or each device's shard) and resolves, once the copies are complete,
   * to the first device's weights in device memory. Bytes in the streamer's pinned staging are copied from there
   * directly (`cudaMemcpyAsync`, fully asynchronous); other host memory is staged by the addon.
   */
  readonly streamTo = async (name: string, weights: Weights): Promise<{ weights: Weights; location: 'DEVICE' }> => {
    if (this.#disposed) throw new DisposedError('DeviceWeightsStreamer');
    if (typeof name !== 'string') throw typeError('name', 'a string', name);
    const problem = weightsProblem(weights);
    if (problem) throw new TypeError(`streamTo(${JSON.stringify(name)}): ${problem}`);
    const values = weights.values;
    if (values !== null && !ArrayBuffer.isView(values)) throw typeError(`streamTo(${JSON.stringify(name)}): weights.values`, 'host memory (an ArrayBufferView)', values);
    const bytes = values?.byteLength ?? 0;
    const ranges = this.#ranges(name, weights, bytes);
    const entry = this.#buffers.get(name) ?? { type: weights.type, counts: [], buffers: [] };
    entry.type = weights.type;
    this.#devices.forEach((d, k) => {
      const size = ranges ? ranges[k]!.byteLength : bytes;
      const old = entry.buffers[k];
      if (!old || old.disposed || old.byteLength !== size) {
        old?.dispose();
        entry.buffers[k] = this.device.allocate(size, { device: d });
      }
      entry.counts[k] = ranges ? ranges[k]!.count : weights.count;
    });
    this.#buffers.set(name, entry);
    if (values) {
      const src = new Uint8Array(values.buffer, values.byteOffset, values.byteLength);
      const staged = this.#inStaging(src);
      const copies = Promise.all(
        entry.buffers.map((b, k) => {
          const part = ranges ? src.subarray(ranges[k]!.byteOffset, ranges[k]!.byteOffset + ranges[k]!.byteLength) : src;
          return part.byteLength ? b.uploadAsync(part, this.#streams[k]!) : undefined;
        }),
      );
      this.#inflight.add(copies);
      try {
        await copies;
      } finally {
        this.#inflight.delete(copies);
      }
      if (staged) this.#stats.fromStaging++;
    }
    this.#stats.tensors++;
    this.#stats.bytes += bytes;
    return { weights: { type: weights.type, values: entry.buffers[0]!, count: entry.counts[0]! }, location: TensorLocation.DEVICE };
  };

  /** Device bytes held, on all devices. */
  get bytes(): number {
    let n = 0;
    for (const e of this.#buffers.values()) for (const b of e.buffers) n += b.byteLength;
    return n;
  }

  #index(device: number | undefined): number {
    if (device === undefined) return 0;
    const k = this.#devices.indexOf(device);
    if (k < 0) throw rangeError('device', `one of the streamer's devices [${this.#devices.join(', ')}]`, device);
    return k;
  }

  /** The device buffer holding a weight on `device` (default the first device), if it was streamed. */
  buffer(name: string, device?: number): NativeDeviceBuffer | undefined {
    return this.#buffers.get(name)?.buffers[this.#index(device)];
  }

  /**
   * A streamed weight as DEVICE weights of `device` (its shard's count under tensor parallelism), ready for that
   * device's refitter: `refitter.setNamedWeights(name, streamer.weightsFor(name, 1)!, TensorLocation.DEVICE)`.
   */
  weightsFor(name: string, device?: number): Weights | undefined {
    const k = this.#index(device);
    const e = this.#buffers.get(name);
    return e ? { type: e.type, values: e.buffers[k]!, count: e.counts[k]! } : undefined;
  }

  /** The names of the weights streamed, in the order they were first streamed. */
  names(): string[] {
    return [...this.#buffers.keys()];
  }

  /** Frees every buffer: only once the refit that uses them is done (or the weights are unset). Idempotent. */
  dispose(): void {
    if (this.#disposed) return;
    this.#disposed = true;
    for (const e of this.#buffers.values()) for (const b of e.buffers) b.dispose();
    this.#buffers.clear();
    if (this.#ownStreams) for (const s of this.#streams) s.dispose();
    const staging = this.#staging.splice(0);
    const free = () => {
      for (const b of staging) this.device.freePinned(b);
    };
    // Pinned staging is freed once no copy from it can be running.
    if (this.#inflight.size === 0) free();
    else void Promise.allSettled([...this.#inflight]).then(free);
  }
}
