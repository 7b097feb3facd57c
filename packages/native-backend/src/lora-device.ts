import { DataType, InvalidStateError, DisposedError, type Weights } from '@trt-refit/core';
import type { LoraFactor, LoraLayout as OnnxLoraLayout, LoraMergeSpec } from '@trt-refit/onnx';
import type { NativeCudaModule, NativeLoraStatus } from './binding.js';
import { NativeCudaStream, NativeDeviceBuffer, type NativeDeviceApi } from './device.js';
import { callNative, callNativeAsync } from './native-errors.js';
import { expectSize, expectString, expectView, rangeError, typeError } from './validate.js';

/** The weight types the device merge writes: the engine's type of the weight (FP32, FP16 or BF16). */
export type LoraWeightType = typeof DataType.FLOAT | typeof DataType.HALF | typeof DataType.BF16;

/** How W [rows, cols] is stored: `@trt-refit/onnx`'s {@link OnnxLoraLayout} (the CPU merge's), the same values. */
export type LoraLayout = OnnxLoraLayout;

/**
 * One adapter of a weight, on the device: `a` FP32 row-major [rank, cols] (`lora_A` / `lora_down`, a conv's viewed
 * [rank, in·kh·kw]), `b` FP32 row-major [rows, rank] (`lora_B` / `lora_up`, a conv's [out, rank, 1, 1] viewed
 * [out, rank]); it adds `scale · B · A`, where `scale` is the user's scale × alpha / rank ({@link loraScale}).
 */
export interface DeviceLoraFactor {
  readonly a: NativeDeviceBuffer;
  readonly b: NativeDeviceBuffer;
  readonly rank: number;
  readonly scale: number;
}

/** The same adapter in host memory ({@link concatLoraFactors}, {@link DeviceLoraMerger.merge}): `@trt-refit/onnx`'s factor. */
export type HostLoraFactor = LoraFactor;

/** The argument of {@link NativeDeviceApi.loraMerge}. */
export interface DeviceLoraMergeOptions {
  /** The base weight W, in `type`, rows · cols elements; only read (unless it is `out`). */
  readonly base: NativeDeviceBuffer;
  /** Receives W' (same size as `base`); may be `base` itself for an in-place merge. */
  readonly out: NativeDeviceBuffer;
  readonly type: LoraWeightType;
  readonly rows: number;
  readonly cols: number;
  /** Default `'rows-cols'`. */
  readonly layout?: LoraLayout;
  /** The adapters, summed in FP32 before one rounding to `type`; none: `out` becomes a copy of `base`. */
  readonly factors: readonly DeviceLoraFactor[];
  /** Where the work is enqueued; every buffer must belong to its device. */
  readonly stream: NativeCudaStream;
  /**
   * HALF / BF16 only: at least rows · cols · 4 bytes of scratch for the FP32 update, reused across merges on one
   * stream. Without it one is allocated for the call and freed once the merge completes.
   */
  readonly workspace?: NativeDeviceBuffer;
}

const TYPE_NUMBER: Record<LoraWeightType, number> = { FLOAT: 0, HALF: 1, BF16: 2 };
const INT32_MAX = 2147483647;

/** Bytes per element of a {@link LoraWeightType}. */
export function loraElementSize(type: LoraWeightType): number {
  return type === DataType.FLOAT ? 4 : 2;
}

/** The factor an adapter's product is multiplied by: `userScale · alpha / rank` (PEFT's `scaling`, kohya's `alpha / dim`). */
export function loraScale(userScale: number, alpha: number, rank: number): number {
  for (const [v, p] of [[userScale, 'userScale'], [alpha, 'alpha']] as const) {
    if (typeof v !== 'number' || !Number.isFinite(v)) throw typeError(p, 'a finite number', v);
  }
  const r = expectSize(rank, 'rank');
  if (r === 0) throw rangeError('rank', 'a positive integer', rank);
  return (userScale * alpha) / r;
}

function expectType(type: unknown, parameter: string): LoraWeightType {
  if (type !== DataType.FLOAT && type !== DataType.HALF && type !== DataType.BF16) throw rangeError(parameter, "'FLOAT', 'HALF' or 'BF16'", type);
  return type;
}

function expectDim(v: unknown, parameter: string): number {
  const n = expectSize(v, parameter);
  if (n > INT32_MAX) throw rangeError(parameter, `at most ${INT32_MAX} (cuBLAS takes int dimensions)`, n);
  return n;
}

function expectLayout(v: unknown, parameter: string): LoraLayout {
  if (v === undefined) return 'rows-cols';
  if (v !== 'rows-cols' && v !== 'cols-rows') throw rangeError(parameter, "'rows-cols' or 'cols-rows'", v);
  return v;
}

/** The `{ type, rows, cols, layout }` of a merge or a base weight, each checked (`what`: the parameter's name). */
function expectMatrix(v: { type?: unknown; rows?: unknown; cols?: unknown; layout?: unknown }, what: string): { type: LoraWeightType; rows: number; cols: number; layout: LoraLayout } {
  return { type: expectType(v.type, `${what}.type`), rows: expectDim(v.rows, `${what}.rows`), cols: expectDim(v.cols, `${what}.cols`), layout: expectLayout(v.layout, `${what}.layout`) };
}

function expectScale(v: unknown, parameter: string): number {
  if (typeof v !== 'number') throw typeError(parameter, 'a finite number', v);
  if (!Number.isFinite(v)) throw rangeError(parameter, 'a finite number', v);
  return v;
}

function expectBuffer(v: unknown, parameter: string): NativeDeviceBuffer {
  if (!(v instanceof NativeDeviceBuffer)) throw typeError(parameter, "a DeviceBuffer of this backend's device.allocate()", v);
  if (v.disposed) throw new DisposedError(`DeviceBuffer (${parameter})`);
  return v;
}

function expectBytes(buffer: NativeDeviceBuffer, parameter: string, bytes: number, what: string, atLeast = false): void {
  if (atLeast ? buffer.byteLength < bytes : buffer.byteLength !== bytes) {
    throw rangeError(`${parameter}.byteLength`, `${atLeast ? 'at least ' : ''}${bytes} (${what})`, buffer.byteLength);
  }
}

function expectStream(v: unknown, parameter: string): NativeCudaStream {
  if (!(v instanceof NativeCudaStream)) throw typeError(parameter, "a CudaStream from this backend's device.createStream()", v);
  if (v.disposed) throw new DisposedError(`CudaStream (${parameter})`);
  return v;
}

/**
 * Validates `options` (every problem a TypeError / RangeError naming the parameter, before anything is enqueued)
 * and enqueues the merge. The implementation of {@link NativeDeviceApi.loraMerge}.
 * @internal
 */
export function loraMergeOnDevice(device: NativeDeviceApi, cuda: NativeCudaModule, options: DeviceLoraMergeOptions): Promise<void> {
  return callNativeAsync(() => {
    if (options === null || typeof options !== 'object') throw typeError('options', 'an object ({ base, out, type, rows, cols, factors, stream })', options);
    const { type, rows, cols, layout } = expectMatrix(options, 'options');
    const stream = expectStream(options.stream, 'options.stream');
    const base = expectBuffer(options.base, 'options.base');
    const out = expectBuffer(options.out, 'options.out');
    const count = rows * cols;
    const bytes = count * loraElementSize(type);
    if (!Number.isSafeInteger(bytes)) throw rangeError('options.rows * options.cols', 'a weight whose byte length is a safe integer', count);
    const shape = `${rows} × ${cols} ${type}`;
    expectBytes(base, 'options.base', bytes, shape);
    expectBytes(out, 'options.out', bytes, shape);
    if (!Array.isArray(options.factors)) throw typeError('options.factors', 'an array of { a, b, rank, scale }', options.factors);
    const all: [NativeDeviceBuffer, string][] = [
      [base, 'options.base'],
      [out, 'options.out'],
    ];
    const factors = options.factors.map((f: unknown, i) => {
      const p = `options.factors[${i}]`;
      if (f === null || typeof f !== 'object') throw typeError(p, 'an object ({ a, b, rank, scale })', f);
      const { a: av, b: bv, rank: rv, scale: sv } = f as DeviceLoraFactor;
      const rank = expectDim(rv, `${p}.rank`);
      const scale = expectScale(sv, `${p}.scale`);
      const a = expectBuffer(av, `${p}.a`);
      const b = expectBuffer(bv, `${p}.b`);
      expectBytes(a, `${p}.a`, rank * cols * 4, `FP32 [rank ${rank}, cols ${cols}]`);
      expectBytes(b, `${p}.b`, rows * rank * 4, `FP32 [rows ${rows}, rank ${rank}]`);
      for (const [x, q] of [
        [a, `${p}.a`],
        [b, `${p}.b`],
      ] as const) {
        if (x === base || x === out) throw rangeError(q, 'a buffer other than options.base and options.out', x === base ? 'options.base' : 'options.out');
        all.push([x, q]);
      }
      return { a, b, rank, alpha: scale };
    });
    const needsWorkspace = type !== DataType.FLOAT && count > 0 && factors.some((f) => f.rank > 0);
    let workspace: NativeDeviceBuffer | undefined;
    if (options.workspace !== undefined) {
      workspace = expectBuffer(options.workspace, 'options.workspace');
      for (const [x, q] of all) if (x === workspace) throw rangeError('options.workspace', `a buffer other than ${q}`, q);
      if (needsWorkspace) expectBytes(workspace, 'options.workspace', count * 4, `rows · cols FP32 values`, true);
    }
    for (const [x, q] of all) {
      if (x.deviceId !== stream.deviceId) throw rangeError(q, `a buffer of the stream's device ${stream.deviceId}`, `a buffer of device ${x.deviceId}`);
    }
    let temporary: NativeDeviceBuffer | undefined;
    if (needsWorkspace && workspace === undefined) {
      temporary = device.allocate(count * 4, { device: stream.deviceId });
      workspace = temporary;
    }
    try {
      return cuda.loraMerge({
        out: out.live(),
        base: base.live(),
        type: TYPE_NUMBER[type],
        rows,
        cols,
        transposed: layout === 'cols-rows',
        factors: factors.map((f) => ({ a: f.a.live(), b: f.b.live(), rank: f.rank, alpha: f.alpha })),
        workspace: needsWorkspace ? workspace!.live() : null,
        stream: stream.live(),
      });
    } finally {
      // The addon holds the buffer until the merge completes: its memory is freed only then.
      temporary?.dispose();
    }
  });
}

/**
 * Several adapters of one weight as one: A_cat FP32 [Σ rank, cols] (the A's one after the other) and B_cat FP32
 * [rows, Σ rank] (the B's side by side, each block's columns multiplied by its `scale`), so that
 * `B_cat · A_cat = Σ scaleᵢ · Bᵢ · Aᵢ` is one GEMM and one upload. The result's `scale` is 1.
 */
export function concatLoraFactors(factors: readonly HostLoraFactor[], rows: number, cols: number): HostLoraFactor {
  if (!Array.isArray(factors)) throw typeError('factors', 'an array of { a, b, rank, scale }', factors);
  const r = expectDim(rows, 'rows');
  const c = expectDim(cols, 'cols');
  let total = 0;
  const checked = factors.map((f: unknown, i) => {
    const p = `factors[${i}]`;
    if (f === null || typeof f !== 'object') throw typeError(p, 'an object ({ a, b, rank, scale })', f);
    const { a, b, rank: rv, scale: sv } = f as HostLoraFactor;
    const rank = expectDim(rv, `${p}.rank`);
    const scale = expectScale(sv, `${p}.scale`);
    if (!(a instanceof Float32Array)) throw typeError(`${p}.a`, 'a Float32Array', a);
    if (!(b instanceof Float32Array)) throw typeError(`${p}.b`, 'a Float32Array', b);
    if (a.length !== rank * c) throw rangeError(`${p}.a.length`, `${rank * c} (FP32 [rank ${rank}, cols ${c}])`, a.length);
    if (b.length !== r * rank) throw rangeError(`${p}.b.length`, `${r * rank} (FP32 [rows ${r}, rank ${rank}])`, b.length);
    total += rank;
    return { a, b, rank, scale };
  });
  const a = new Float32Array(total * c);
  const b = new Float32Array(r * total);
  let at = 0;
  for (const f of checked) {
    a.set(f.a, at * c);
    const s = Math.fround(f.scale);
    for (let i = 0; i < r; i++) {
      const from = i * f.rank;
      const to = i * total + at;
      for (let k = 0; k < f.rank; k++) b[to + k] = Math.fround(s * f.b[from + k]!);
    }
    at += f.rank;
  }
  return { a, b, rank: total, scale: 1 };
}

/** What {@link NativeDeviceApi.loraStatus} reports: whether the device merge can run here. */
export type LoraDeviceStatus = NativeLoraStatus;

/** @internal */
export function loraStatusOf(cuda: NativeCudaModule): LoraDeviceStatus {
  return callNative(() => cuda.loraStatus());
}


/** A base weight for {@link DeviceLoraMerger.setBase}. */
export interface LoraBaseWeight {
  readonly type: LoraWeightType;
  readonly rows: number;
  readonly cols: number;
  /** Default `'rows-cols'`. */
  readonly layout?: LoraLayout;
  /** rows · cols elements of `type`, as stored (FP16 / BF16 as their 16-bit patterns, e.g. a Uint16Array). */
  readonly values: ArrayBufferView;
}

/** DEVICE weights of {@link DeviceLoraMerger}: ready for `refitter.setNamedWeights(name, w, TensorLocation.DEVICE)`. */
export interface DeviceLoraWeights extends Weights {
  readonly type: LoraWeightType;
  readonly values: NativeDeviceBuffer;
  readonly count: number;
}

interface Entry {
  readonly type: LoraWeightType;
  readonly rows: number;
  readonly cols: number;
  readonly layout: LoraLayout;
  readonly base: NativeDeviceBuffer;
  out?: NativeDeviceBuffer;
  a?: NativeDeviceBuffer;
  b?: NativeDeviceBuffer;
  busy: boolean;
}

/**
 * Keeps base weights resident on one device, by name (uploaded once, never modified), and merges LoRA adapters into
 * an output buffer per weight (allocated once, reused), so a swap of adapters costs uploads of the small factors and
 * one merge per weight on the device:
 *
 * ```ts
 * const merger = new DeviceLoraMerger(backend.device);
 * merger.setBase('fc.weight', { type: DataType.HALF, rows: 4096, cols: 2048, values: fp16Bits });
 * const w = await merger.merge('fc.weight', [{ a, b, rank: 16, scale: loraScale(1, 32, 16) }], stream);
 * refitter.setNamedWeights('fc.weight', w, TensorLocation.DEVICE);
 * await refitter.refitCudaEngineAsync(stream);
 * refitter.setNamedWeights('fc.weight', merger.base('fc.weight'), TensorLocation.DEVICE); // back to the base
 * ```
 *
 * The weights {@link DeviceLoraMerger.merge} returns are overwritten by the next merge of the same name: refit
 * before merging that name again. Merges of one name run one at a time (InvalidStateError otherwise); HALF / BF16
 * merges share one FP32 workspace per stream.
 */
export class DeviceLoraMerger {
  readonly #device: NativeDeviceApi;
  readonly #deviceId: number | undefined;
  readonly #entries = new Map<string, Entry>();
  readonly #workspaces = new Map<NativeCudaStream, NativeDeviceBuffer>();
  #disposed = false;

  /** `options.device`: the CUDA device the weights live on (default: the current device). */
  constructor(device: NativeDeviceApi, options?: { readonly device?: number }) {
    if (device === null || typeof device !== 'object' || typeof (device as NativeDeviceApi).allocate !== 'function') {
      throw typeError('device', "this backend's device (backend.device or loadNativeDevice())", device);
    }
    this.#device = device;
    this.#deviceId = device.deviceOption(options);
  }

  #live(): void {
    if (this.#disposed) throw new DisposedError('DeviceLoraMerger');
  }

  #entry(name: unknown): Entry {
    this.#live();
    const n = expectString(name, 'name');
    const e = this.#entries.get(n);
    if (!e) throw rangeError('name', `a weight given to setBase (${this.#entries.size} known)`, n);
    return e;
  }

  #allocate(bytes: number): NativeDeviceBuffer {
    return this.#device.allocate(bytes, this.#deviceId === undefined ? undefined : { device: this.#deviceId });
  }

  /** The names given to {@link DeviceLoraMerger.setBase}. */
  names(): string[] {
    return [...this.#entries.keys()];
  }

  /**
   * Uploads the base weight `name` (synchronously, once); a later call for the same name replaces it and frees the
   * old buffers. The values are validated against type, rows and cols.
   */
  setBase(name: string, weight: LoraBaseWeight): void {
    this.#live();
    const n = expectString(name, 'name');
    if (weight === null || typeof weight !== 'object') throw typeError('weight', 'an object ({ type, rows, cols, values })', weight);
    const { type, rows, cols, layout } = expectMatrix(weight, 'weight');
    const values = expectView(weight.values, 'weight.values');
    const bytes = rows * cols * loraElementSize(type);
    if (values.byteLength !== bytes) throw rangeError('weight.values.byteLength', `${bytes} (${rows} × ${cols} ${type})`, values.byteLength);
    const old = this.#entries.get(n);
    if (old?.busy) throw new InvalidStateError(`DeviceLoraMerger.setBase(${JSON.stringify(n)}): a merge of this weight is in flight`);
    const base = this.#allocate(bytes);
    try {
      base.upload(values);
    } catch (e) {
      base.dispose();
      throw e;
    }
    if (old) disposeEntry(old);
    this.#entries.set(n, { type, rows, cols, layout, base, busy: false });
  }

  /** The base weight `name` as DEVICE weights: set it on the refitter to swap the adapters out (never modified). */
  base(name: string): DeviceLoraWeights {
    const e = this.#entry(name);
    return { type: e.type, values: e.base, count: e.rows * e.cols };
  }

  /**
   * Merges host adapters into `name`'s output buffer: they are concatenated and pre-scaled on the host
   * ({@link concatLoraFactors}), uploaded on `stream` into buffers kept for this weight, and merged after them on the
   * same stream. Resolves with the merged DEVICE weights once the merge completed.
   */
  merge(name: string, factors: readonly HostLoraFactor[], stream: NativeCudaStream): Promise<DeviceLoraWeights> {
    return callNativeAsync(async () => {
      const e = this.#entry(name);
      const s = expectStream(stream, 'stream');
      const cat = concatLoraFactors(factors, e.rows, e.cols);
      this.#claim(e, name);
      try {
        if (cat.rank === 0) return await this.#run(e, [], s);
        if (!e.a || e.a.byteLength !== cat.a.byteLength) {
          e.a?.dispose();
          e.a = undefined;
          e.a = this.#allocate(cat.a.byteLength);
        }
        if (!e.b || e.b.byteLength !== cat.b.byteLength) {
          e.b?.dispose();
          e.b = undefined;
          e.b = this.#allocate(cat.b.byteLength);
        }
        const uploads = [e.a.uploadAsync(cat.a, s), e.b.uploadAsync(cat.b, s)];
        const merged = this.#run(e, [{ a: e.a, b: e.b, rank: cat.rank, scale: 1 }], s);
        await Promise.all(uploads);
        return await merged;
      } finally {
        e.busy = false;
      }
    });
  }

  /** Merges adapters already on the device (each its own GEMM, summed in FP32 before one rounding) into `name`'s output buffer. */
  mergeDevice(name: string, factors: readonly DeviceLoraFactor[], stream: NativeCudaStream): Promise<DeviceLoraWeights> {
    return callNativeAsync(async () => {
      const e = this.#entry(name);
      const s = expectStream(stream, 'stream');
      this.#claim(e, name);
      try {
        return await this.#run(e, factors, s);
      } finally {
        e.busy = false;
      }
    });
  }

  #claim(e: Entry, name: string): void {
    if (e.busy) throw new InvalidStateError(`DeviceLoraMerger: a merge of ${JSON.stringify(name)} is in flight (its output buffer is reused); await it first`);
    e.busy = true;
  }

  async #run(e: Entry, factors: readonly DeviceLoraFactor[], stream: NativeCudaStream): Promise<DeviceLoraWeights> {
    const count = e.rows * e.cols;
    e.out ??= this.#allocate(e.base.byteLength);
    let workspace: NativeDeviceBuffer | undefined;
    if (e.type !== DataType.FLOAT && factors.length > 0) {
      workspace = this.#workspaces.get(stream);
      if (!workspace || workspace.byteLength < count * 4) {
        workspace?.dispose(); // freed once the merges in flight on it complete
        workspace = this.#allocate(count * 4);
        this.#workspaces.set(stream, workspace);
      }
    }
    await this.#device.loraMerge({ base: e.base, out: e.out, type: e.type, rows: e.rows, cols: e.cols, layout: e.layout, factors, stream, ...(workspace ? { workspace } : {}) });
    return { type: e.type, values: e.out, count };
  }

  /**
   * The `merge` option of `@trt-refit/onnx`'s `LoraRefitter`, merging on this device: a weight's base is uploaded
   * the first time its name is seen (from the bytes the refitter read from the model) and stays resident; a merge
   * runs on `stream` and gives DEVICE weights; a restore (no factors) gives the resident base. The refitter refits
   * before it merges a name again, as the reused output buffers require.
   *
   * @example
   * ```ts
   * const merger = new DeviceLoraMerger(backend.device);
   * const lora = await LoraRefitter.open(backend, engine, 'base.onnx', { merge: merger.forLoraRefitter(stream) });
   * ```
   */
  forLoraRefitter(stream: NativeCudaStream): (weight: string, base: Uint8Array, spec: LoraMergeSpec) => Promise<{ weights: DeviceLoraWeights; location: 'DEVICE' }> {
    this.#live();
    const s = expectStream(stream, 'stream');
    return async (weight, base, spec) => {
      if (!this.#entries.has(weight)) {
        const type = expectType(spec.type, 'spec.type');
        const values = expectView(base, 'base');
        if (spec.factors.length) this.setBase(weight, { type, rows: spec.rows, cols: spec.cols, layout: spec.layout, values });
        else {
          // A restore of a weight never merged here: its base as it is (a vector, a Conv of any shape).
          const count = values.byteLength / loraElementSize(type);
          this.setBase(weight, { type, rows: 1, cols: count, values });
        }
      }
      const weights = spec.factors.length ? await this.merge(weight, spec.factors, s) : this.base(weight);
      return { weights, location: 'DEVICE' as const };
    };
  }

  /** Frees every buffer (base, output, factor and workspace buffers; frees deferred while merges are in flight). Idempotent. */
  dispose(): void {
    if (this.#disposed) return;
    this.#disposed = true;
    for (const e of this.#entries.values()) disposeEntry(e);
    this.#entries.clear();
    for (const w of this.#workspaces.values()) w.dispose();
    this.#workspaces.clear();
  }
}

function disposeEntry(e: Entry): void {
  for (const b of [e.base, e.out, e.a, e.b]) b?.dispose();
}
